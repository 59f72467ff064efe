//! [`LoginBuilder`]: the configuration of browser login, checked by `build`.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::response::Response;
use serde::Serialize;

use super::error_page::{ErrorPages, LoginFailure};
use super::session::SessionCache;
use super::{
    AppToken, DEFAULT_IDLE_TIMEOUT, DEFAULT_PREFIX, DEFAULT_SESSION_CACHE_BYTES,
    DEFAULT_SESSION_TTL, Hooks, Login, LoginEvent, LoginInner, LoginProvider, LoginProviderBuilder,
    LoginRejected, OnLogin, Sessions, Site, Upstream,
};
use crate::config::{ConfigError, Provider, check_duration};
use crate::jwks::{KeyRegistry, default_http_client};
use crate::session::{MemoryStore, SessionCookie, SessionStore};
use crate::util::url::{UrlUse, check_url, is_loopback};
use crate::validation::{DEFAULT_MAX_TOKEN_SIZE, Validator};

impl Login {
    /// Starts the configuration.
    pub fn builder() -> LoginBuilder {
        LoginBuilder {
            providers: Vec::new(),
            base_url: None,
            prefix: DEFAULT_PREFIX.into(),
            secrets: Vec::new(),
            cookie_name: crate::defaults::DEFAULT_SESSION_COOKIE.into(),
            store: None,
            logout_store: None,
            #[cfg(feature = "broker")]
            broker: None,
            ttl: DEFAULT_SESSION_TTL,
            idle: DEFAULT_IDLE_TIMEOUT,
            session_cache: DEFAULT_SESSION_CACHE_BYTES,
            get_logout: false,
            origins: Vec::new(),
            on_login: None,
            app_token: None,
            error_pages: ErrorPages::Builtin,
            http: None,
            registry: None,
            unknown: None,
        }
    }
}

/// Builds a [`Login`]; [`build`](Self::build) checks the configuration.
#[must_use = "call `.build()`"]
pub struct LoginBuilder {
    providers: Vec<LoginProviderBuilder>,
    base_url: Option<String>,
    prefix: String,
    secrets: Vec<Vec<u8>>,
    cookie_name: String,
    store: Option<Arc<dyn SessionStore>>,
    logout_store: Option<Arc<dyn SessionStore>>,
    #[cfg(feature = "broker")]
    broker: Option<crate::issuer::BrokerBuilder>,
    ttl: Duration,
    idle: Duration,
    session_cache: usize,
    get_logout: bool,
    origins: Vec<String>,
    on_login: Option<OnLogin>,
    app_token: Option<AppToken>,
    error_pages: ErrorPages,
    http: Option<reqwest::Client>,
    registry: Option<KeyRegistry>,
    /// A provider [`map_provider`](Self::map_provider) was given that none has.
    unknown: Option<String>,
}

impl std::fmt::Debug for LoginBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginBuilder")
            .field("providers", &self.providers)
            .field("base_url", &self.base_url)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl LoginBuilder {
    /// Adds a login provider.
    pub fn provider(mut self, provider: LoginProviderBuilder) -> Self {
        self.providers.push(provider);
        self
    }

    /// The application's public URL (required), e.g. `https://app.example`: callbacks
    /// are `{base_url}{prefix}/{provider}/callback`. Cookies are `Secure` unless it is
    /// `http://` on a loopback host.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The routes' prefix; default `/auth`.
    pub fn login_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Renamed [`login_prefix`](Self::login_prefix).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `login_prefix`, as `providers!` names it"
    )]
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.login_prefix(prefix)
    }

    /// The secret sessions and transactions are encrypted with (32 bytes or more).
    pub fn session_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.insert(0, secret.as_ref().to_vec());
        self
    }

    /// A previous secret that still decrypts, for rotation.
    pub fn old_session_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.push(secret.as_ref().to_vec());
        self
    }

    /// The session cookie's name; default `session`.
    pub fn session_cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie_name = name.into();
        self
    }

    /// Renamed [`session_cookie`](Self::session_cookie).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `session_cookie`, as `providers!` names it"
    )]
    pub fn cookie_name(self, name: impl Into<String>) -> Self {
        self.session_cookie(name)
    }

    /// Keeps sessions in `store`; the cookie then carries only a random id. Without
    /// it, the whole session is in encrypted cookies.
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Renamed [`session_store`](Self::session_store).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `session_store`, as `providers!` names it"
    )]
    pub fn store(self, store: impl SessionStore) -> Self {
        self.session_store(store)
    }

    /// Where back-channel logouts remember the logout tokens seen (replays are refused)
    /// and, for stateless cookie sessions, which provider sessions and users logged out
    /// when (checked on every session read). Default: the session [`store`](Self::store)
    /// if there is one, else this process's memory. Give a Redis or PostgreSQL store
    /// when several instances keep stateless sessions, so that a logout delivered to
    /// one ends the session on all.
    pub fn logout_store(mut self, store: impl SessionStore) -> Self {
        self.logout_store = Some(Arc::new(store));
        self
    }

    /// Broker mode (feature `broker`): the app issues its own access tokens as the
    /// issuer `{base_url}{prefix}`, and publishes its discovery document and JWKS under
    /// the prefix. Its keys are sealed with the session secret.
    #[cfg(feature = "broker")]
    pub fn broker(mut self, broker: crate::issuer::BrokerBuilder) -> Self {
        self.broker = Some(broker);
        self
    }

    /// The absolute session lifetime; default 8 hours.
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long a session lives without requests; default 1 hour.
    pub fn idle_timeout(mut self, idle: Duration) -> Self {
        self.idle = idle;
        self
    }

    /// How many bytes of parsed sessions to keep, so that a read of a session whose
    /// bytes have not changed since the last read skips decrypting and parsing it;
    /// default 16 MiB ([`DEFAULT_SESSION_CACHE_BYTES`]), `0` turns it off. A record is
    /// used only for the exact bytes it was parsed from, and the timeouts and
    /// back-channel logouts are checked on every read, cached or not.
    pub fn session_cache(mut self, bytes: usize) -> Self {
        self.session_cache = bytes;
        self
    }

    /// Makes `GET {prefix}/logout` log out too. Without it, logout is a `POST` (a form),
    /// refused when a browser says it comes from another site (`Sec-Fetch-Site` or
    /// `Origin`). `SameSite=Lax` cookies travel with a cross-site top-level `GET`, so
    /// with this on any page can log your users out with a link.
    pub fn allow_get_logout(mut self) -> Self {
        self.get_logout = true;
        self
    }

    /// An origin (`https://admin.example`) that `return_to` may point to, besides the
    /// base URL's.
    pub fn allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Runs after every successful login, before the session starts: provision the
    /// user, refuse the login with [`LoginRejected`] (403), or return data to keep in
    /// the session ([`LoginSession::app`](super::LoginSession::app)).
    pub fn on_login<F, Fut, A>(mut self, hook: F) -> Self
    where
        F: Fn(LoginEvent) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<A, LoginRejected>> + Send + 'static,
        A: Serialize,
    {
        let hook = Arc::new(hook);
        self.on_login = Some(Arc::new(move |event| {
            let hook = Arc::clone(&hook);
            Box::pin(async move {
                let data = hook(event).await?;
                serde_json::to_value(data).map_err(|e| {
                    LoginRejected::new(format!("on_login returned unserializable data: {e}"))
                })
            })
        }));
        self
    }

    /// Changes the login provider named `name` (added before) with `change`: in a
    /// test, the declared provider pointed at a development issuer
    /// (`.map_provider("corp", |p| p.retarget(&idp))`, feature `test-kit`).
    /// [`build`](Self::build) fails when no provider has that name.
    pub fn map_provider(
        mut self,
        name: &str,
        change: impl FnOnce(LoginProviderBuilder) -> LoginProviderBuilder,
    ) -> Self {
        let name_of = LoginProviderBuilder::name;
        if !crate::util::map_named(&mut self.providers, name, name_of, change) {
            self.unknown = Some(name.to_owned());
        }
        self
    }

    /// What a browser sees when a login route fails (the user cancelled at the provider,
    /// the login expired, the provider is down): the response `page` makes. Without it
    /// (and without [`error_redirect`](Self::error_redirect)) browsers get a plain page
    /// that says what happened and offers to try again. API clients get the JSON error
    /// either way.
    pub fn error_page<F>(mut self, page: F) -> Self
    where
        F: Fn(&LoginFailure<'_>) -> Response + Send + Sync + 'static,
    {
        self.error_pages = ErrorPages::Custom(Arc::new(page));
        self
    }

    /// Sends browsers whose login failed to `path` (of this app, say `/signin`) with
    /// `?error=CODE&provider=NAME`, instead of a page of the library's.
    pub fn error_redirect(mut self, path: impl Into<String>) -> Self {
        self.error_pages = ErrorPages::Redirect(path.into());
        self
    }

    /// Also issues the app's own JWT after each login, as a cookie the bearer layer can
    /// read (see [`AppToken`]); logout removes it.
    pub fn app_token(mut self, token: AppToken) -> Self {
        self.app_token = Some(token);
        self
    }

    /// The HTTP client for discovery, token and userinfo requests.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Whether the app issues its own tokens (for [`App`](crate::App), which then
    /// builds the login first).
    #[cfg(feature = "broker")]
    pub(crate) fn has_broker(&self) -> bool {
        self.broker.is_some()
    }

    /// The registry and HTTP client given to this builder, for [`App`](crate::App) to
    /// pick the app's one registry.
    pub(crate) fn shared(&self) -> (Option<&KeyRegistry>, Option<&reqwest::Client>) {
        (self.registry.as_ref(), self.http.as_ref())
    }

    /// Shares the issuers' key caches and discovery documents with everything else
    /// registered in `registry`. An app with bearer tokens too is built with
    /// [`App`](crate::App), which gives both sides one registry (so a provider used for
    /// both makes one discovery and one JWKS request); without either, the login has a
    /// registry of its own.
    pub fn registry(mut self, registry: KeyRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Checks the configuration and starts loading the providers' keys (so it must
    /// run inside a Tokio runtime).
    pub fn build(self) -> Result<Login, ConfigError> {
        if let Some(name) = self.unknown {
            return Err(ConfigError::Field {
                provider: name,
                field: "map_provider",
                problem: "names no login provider".into(),
            });
        }
        let (base, secure) = check_base_url(self.base_url.as_deref())?;
        let prefix = self.prefix.trim_end_matches('/').to_owned();
        if !prefix.starts_with('/') || prefix.contains(['?', '#', '{', '}']) {
            return Err(setting(
                "prefix",
                format!("`{prefix}` must be a path starting with `/`"),
            ));
        }
        let mut cookie = SessionCookie::builder(self.cookie_name)
            .secure(secure)
            .path("/");
        for s in &self.secrets {
            cookie = cookie.secret(s);
        }
        let cookie = cookie.build()?;
        check_duration(self.ttl, true).map_err(|p| setting("session_ttl", p))?;
        check_duration(self.idle, true).map_err(|p| setting("idle_timeout", p))?;
        let origins = self
            .origins
            .iter()
            .map(|o| check_origin(o))
            .collect::<Result<_, _>>()?;
        if let ErrorPages::Redirect(path) = &self.error_pages {
            let local = path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains(['\\', '#'])
                && !path.chars().any(char::is_control);
            if !local {
                return Err(setting(
                    "error_redirect",
                    format!("`{path}` must be a path of this app, starting with one `/`"),
                ));
            }
        }
        let providers = build_providers(self.providers)?;
        let http = match self.http {
            Some(c) => c,
            None => default_http_client().map_err(|p| setting("http_client", p))?,
        };
        let registry = self
            .registry
            .unwrap_or_else(|| KeyRegistry::with_http_client(http.clone()));
        let id_tokens = id_token_validators(&providers, &registry)?;
        #[cfg(feature = "broker")]
        let broker = match self.broker {
            Some(b) => Some(b.build(
                format!("{base}{prefix}"),
                self.secrets.first().map_or(&[][..], Vec::as_slice),
                self.store.clone(),
            )?),
            None => None,
        };
        Ok(Login {
            inner: Arc::new(LoginInner {
                upstream: Upstream {
                    providers,
                    id_tokens,
                    registry,
                    http,
                },
                site: Site {
                    base,
                    prefix,
                    origins,
                    get_logout: self.get_logout,
                },
                sessions: Sessions {
                    cookie,
                    logout_store: self
                        .logout_store
                        .or_else(|| self.store.clone())
                        .unwrap_or_else(|| Arc::new(MemoryStore::new())),
                    store: self.store,
                    ttl: self.ttl,
                    idle: self.idle,
                    parsed: SessionCache::new(self.session_cache),
                    refreshing: Mutex::default(),
                    refreshed: Mutex::default(),
                },
                hooks: Hooks {
                    on_login: self.on_login,
                    app_token: self.app_token,
                    error_pages: self.error_pages,
                },
                #[cfg(feature = "broker")]
                broker,
            }),
        })
    }
}

fn setting(field: &'static str, problem: String) -> ConfigError {
    ConfigError::Setting { field, problem }
}

/// The base URL without a trailing slash, and whether cookies are `Secure` (all but
/// `http://` on loopback).
fn check_base_url(base: Option<&str>) -> Result<(String, bool), ConfigError> {
    let base = base.ok_or_else(|| setting("base_url", "is not set".into()))?;
    let parsed = check_url(base, UrlUse::Base).map_err(|p| setting("base_url", p))?;
    let secure = !(parsed.scheme() == "http" && is_loopback(&parsed));
    Ok((base.trim_end_matches('/').to_owned(), secure))
}

/// An allowed origin for `return_to`: scheme, host and port, nothing more.
fn check_origin(origin: &str) -> Result<String, ConfigError> {
    let url = check_url(origin, UrlUse::Base).map_err(|p| setting("allowed_origins", p))?;
    if url.path() != "/" || url.query().is_some() {
        return Err(setting(
            "allowed_origins",
            format!("`{origin}` must be an origin (scheme, host, port), without a path"),
        ));
    }
    Ok(url.origin().ascii_serialization())
}

/// The providers, at least one, with distinct names.
fn build_providers(builders: Vec<LoginProviderBuilder>) -> Result<Vec<LoginProvider>, ConfigError> {
    if builders.is_empty() {
        return Err(ConfigError::NoProvider);
    }
    let providers = builders
        .into_iter()
        .map(LoginProviderBuilder::build)
        .collect::<Result<Vec<_>, _>>()?;
    for (i, p) in providers.iter().enumerate() {
        if providers[..i].iter().any(|q| q.name() == p.name()) {
            return Err(ConfigError::DuplicateProvider(p.name().to_owned()));
        }
    }
    Ok(providers)
}

/// One validator per OpenID Provider for its ID tokens (audience = its client id), by
/// provider name: two clients of one issuer (two apps of one Keycloak realm) each check
/// their own audience, through the issuer's one key cache in `registry`.
fn id_token_validators(
    providers: &[LoginProvider],
    registry: &KeyRegistry,
) -> Result<Vec<(String, Validator)>, ConfigError> {
    providers
        .iter()
        .filter_map(|p| {
            let issuer = p.issuer()?;
            let mut provider = Provider::builder(p.name())
                .issuer(issuer)
                .audience(p.inner.client_id.as_str())
                // This validator's tokens are ID tokens (and logout tokens).
                .accept_id_tokens()
                .roles_from(p.inner.roles_from);
            if let Some(alias) = p.inner.issuer_alias {
                provider = provider.issuer_alias(alias);
            }
            if let Some(algorithms) = &p.inner.id_token_algorithms {
                provider = provider.algorithms(algorithms.iter().copied());
                if let Some(secret) = &p.inner.client_secret {
                    provider = provider.client_secret_key(secret);
                }
            }
            let validator = provider.build().and_then(|provider| {
                Validator::with_registry(vec![provider], 2 * DEFAULT_MAX_TOKEN_SIZE, registry)
            });
            Some(validator.map(|v| (p.name().to_owned(), v)))
        })
        .collect()
}
