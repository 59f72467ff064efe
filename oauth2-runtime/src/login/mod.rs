//! Browser login as an OpenID Connect relying party: the routes, the sessions, the
//! extractors.
//!
//! [`Login`] holds the login providers, the session settings and the `on_login` hook.
//! [`Login::router`] gives the routes, [`Login::layer`] lets handlers read the session:
//!
//! | Route | What it does |
//! |---|---|
//! | `GET {prefix}/{provider}/login?return_to=/path` | 303 to the provider with `state`, `nonce` and PKCE (S256); the transaction waits in an encrypted cookie named after its `state` |
//! | `GET {prefix}/{provider}/callback` | checks the transaction, exchanges the code, validates the ID token, reads userinfo, runs `on_login`, starts a new session, 303 to `return_to` |
//! | `GET` or `POST {prefix}/logout?return_to=/path` | ends the session, then 303 to the provider's end-session endpoint or to `return_to` |
//! | `GET {prefix}/userinfo` | the session's user as JSON; 401 without a session |
//! | `POST {prefix}/{provider}/device` | with [`LoginProviderBuilder::device_flow`]: RFC 8628 device authorization at the provider, with the app's client authentication |
//! | `POST {prefix}/{provider}/token` | with [`LoginProviderBuilder::token_endpoint`] or `device_flow`: the refresh, device code and (native clients) authorization code grants; returned ID tokens are validated; JSON, `Cache-Control: no-store` |
//! | `GET {prefix}/{provider}/login?redirect_uri=http://127.0.0.1:PORT/...` | with the token endpoint: a native or CLI client's login (RFC 8252) with its own PKCE challenge, `state` and `nonce`; loopback or [`LoginProviderBuilder::native_redirect_uri`] only |
//! | `POST {prefix}/{provider}/backchannel-logout` | with [`LoginProviderBuilder::backchannel_logout`]: OpenID Connect Back-Channel Logout; ends the sessions of the logout token's `sid` or `sub`, on every instance sharing the store, stateless cookies included |
//!
//! The prefix defaults to `/auth`. Errors are JSON `{"error", "error_description"}`
//! ([`LoginError`]): 400 for a bad callback, 403 when `on_login` refuses, 503 when the
//! provider cannot be reached. `return_to` must be a relative path or on an allowed
//! origin; anything else goes to the base URL (no open redirects).
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use oauth2::login::{Login, LoginProvider, Session};
//!
//! #[derive(oauth2::FromClaims)]
//! struct User { sub: String, email: Option<String> }
//!
//! async fn me(Session(user): Session<User>) -> String {
//!     format!("{} <{}>", user.sub, user.email.unwrap_or_default())
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let login = Login::builder()
//!     .base_url("https://app.example")
//!     .session_secret(std::env::var("SESSION_SECRET")?)
//!     .provider(
//!         LoginProvider::builder("corp")
//!             .issuer("https://login.corp.example")
//!             .client_id("my-app")
//!             .client_secret(std::env::var("CLIENT_SECRET")?),
//!     )
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/me", get(me)) // 401, or 303 to /auth/corp/login for browsers
//!     .merge(login.router())
//!     .layer(login.layer());
//! # Ok(()) }
//! ```
//!
//! Inside, the code follows the three roles: the relying party (`rp/`: the login a
//! browser goes through, its transaction, PAR, logout, back-channel logout), the app's
//! own endpoints for devices, CLIs and the broker (`endpoints/`), and the sessions
//! (`session/`); `router.rs` wires every route, `tokens.rs` talks to the provider's token
//! and userinfo endpoints.
//!
//! Sessions are stateless by default (the whole session in encrypted cookies, see
//! [`SessionCookie`]); with
//! [`LoginBuilder::session_store`] they live in a [`SessionStore`] and the cookie carries only a
//! random id.

mod app_token;
mod builder;
mod endpoints;
mod error;
mod error_page;
mod form;
mod id_token_algorithms;
mod provider;
mod redirect;
mod revocation;
mod router;
mod rp;
mod session;
mod token_client;
mod tokens;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::http::StatusCode;

use serde_json::Value;
use url::Url;

use self::tokens::printable;
use crate::claims::Authenticated;
use crate::jwks::KeyRegistry;
use crate::session::{BoxFuture, SessionCookie, SessionStore};
use crate::validation::Validator;

pub use self::app_token::AppToken;
pub use self::builder::LoginBuilder;
pub use self::error::{LoginError, LoginRejected};
pub use self::error_page::LoginFailure;
pub use self::provider::{
    ClientAuth, DEFAULT_SCOPES, LoginProvider, LoginProviderBuilder, Preset, PushedAuthorization,
    Userinfo,
};
pub use self::rp::transaction::{AuthorizationRequest, Transaction};
pub use self::session::{
    DEFAULT_SESSION_CACHE_BYTES, LoginSession, Session, SessionLayer, SessionProtected,
    SessionRejection, SessionRejectionKind, SessionService,
};
pub use self::tokens::Tokens;

pub use crate::defaults::DEFAULT_IDLE_TIMEOUT;
pub use crate::defaults::DEFAULT_PREFIX;
pub use crate::defaults::DEFAULT_SESSION_TTL;
pub use crate::defaults::TRANSACTION_TTL;

/// What the `on_login` hook receives after a successful login.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoginEvent {
    /// The provider's name and the user's claims: the validated ID token's, with the
    /// userinfo claims it lacks added.
    pub user: Authenticated,
    /// The userinfo response, when it was read.
    pub userinfo: Option<serde_json::Map<String, Value>>,
    /// The tokens the provider issued.
    pub tokens: Tokens,
}

type OnLogin =
    Arc<dyn Fn(LoginEvent) -> BoxFuture<'static, Result<Value, LoginRejected>> + Send + Sync>;

/// Browser login: providers, session settings, hook. Cheap to clone.
#[derive(Clone)]
pub struct Login {
    pub(crate) inner: Arc<LoginInner>,
}

pub(crate) struct LoginInner {
    pub(crate) upstream: Upstream,
    pub(crate) site: Site,
    pub(crate) sessions: Sessions,
    pub(crate) hooks: Hooks,
    /// The app as an issuer of its own tokens.
    #[cfg(feature = "broker")]
    pub(crate) broker: Option<crate::issuer::Broker>,
}

/// The providers the app logs in with, and how it reaches and checks them.
pub(crate) struct Upstream {
    pub(crate) providers: Vec<LoginProvider>,
    /// The ID-token validator of each OpenID Provider (audience = its client id), by
    /// name; providers without an issuer have none.
    pub(crate) id_tokens: Vec<(String, Validator)>,
    /// The issuers' key caches and discovery documents, shared with bearer validation.
    pub(crate) registry: KeyRegistry,
    pub(crate) http: reqwest::Client,
}

/// Where the app lives, and where it lets a browser go back to.
pub(crate) struct Site {
    /// The base URL without a trailing slash.
    pub(crate) base: String,
    pub(crate) prefix: String,
    /// Origins besides the base URL's that `return_to` and logout's `Origin` may name.
    pub(crate) origins: Vec<String>,
    /// Whether `GET {prefix}/logout` logs out (a cross-site link could then log users out).
    pub(crate) get_logout: bool,
}

/// The sessions: their cookie, store, lifetimes and caches.
pub(crate) struct Sessions {
    pub(crate) cookie: SessionCookie,
    pub(crate) store: Option<Arc<dyn SessionStore>>,
    /// What back-channel logouts remember: the `jti`s seen and, for sessions they
    /// cannot delete, which ended when.
    pub(crate) logout_store: Arc<dyn SessionStore>,
    pub(crate) ttl: Duration,
    pub(crate) idle: Duration,
    /// Sessions parsed before, by the bytes they were parsed from.
    pub(crate) parsed: Option<session::SessionCache>,
    /// One refresh at a time per session.
    pub(crate) refreshing: Mutex<HashMap<String, Weak<tokio::sync::Mutex<()>>>>,
    /// Stateless sessions refreshed lately, by refresh key, with when.
    pub(crate) refreshed: Mutex<HashMap<String, (session::Loaded, u64)>>,
}

/// What the app adds to a login: its hook, its own token, its error pages.
pub(crate) struct Hooks {
    pub(crate) on_login: Option<OnLogin>,
    pub(crate) app_token: Option<AppToken>,
    /// What browsers see when a login route fails.
    pub(crate) error_pages: error_page::ErrorPages,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("Login")
            .field(
                "providers",
                &i.upstream
                    .providers
                    .iter()
                    .map(LoginProvider::name)
                    .collect::<Vec<_>>(),
            )
            .field("base_url", &i.site.base)
            .field("prefix", &i.site.prefix)
            .field("cookie", &i.sessions.cookie)
            .field("stateful", &i.sessions.store.is_some())
            .field("ttl", &i.sessions.ttl)
            .field("idle", &i.sessions.idle)
            .field("origins", &i.site.origins)
            .finish_non_exhaustive()
    }
}

impl Login {
    /// The registry of the login providers' issuers (their key caches and discovery
    /// documents).
    pub fn registry(&self) -> &KeyRegistry {
        &self.inner.upstream.registry
    }

    /// The broker, when the app issues its own tokens (feature `broker`).
    #[cfg(feature = "broker")]
    pub fn broker(&self) -> Option<&crate::issuer::Broker> {
        self.inner.broker.as_ref()
    }

    /// The login providers.
    pub fn providers(&self) -> impl Iterator<Item = &LoginProvider> {
        self.inner.upstream.providers.iter()
    }

    pub(crate) fn provider(&self, name: &str) -> Option<&LoginProvider> {
        self.inner
            .upstream
            .providers
            .iter()
            .find(|p| p.name() == name)
    }

    /// The validator of `provider`'s ID tokens (and logout tokens); `None` for a plain
    /// OAuth 2.0 provider.
    pub(crate) fn id_token_validator(&self, provider: &str) -> Option<&Validator> {
        let validators = &self.inner.upstream.id_tokens;
        validators
            .iter()
            .find(|(n, _)| n == provider)
            .map(|(_, v)| v)
    }

    /// The declared provider of this name, or 404 `unknown_provider`.
    pub(crate) fn find(&self, provider: &str) -> Result<&LoginProvider, LoginError> {
        self.provider(provider).ok_or_else(|| {
            LoginError::new(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                format!("no login provider is named `{}`", printable(provider)),
            )
        })
    }

    /// `name` if it is a declared provider, else `unknown`: a metrics label, never the
    /// request's own text (which would make a label without bound).
    pub(crate) fn metrics_label(&self, name: &str) -> String {
        match self.provider(name) {
            Some(p) => p.name().to_owned(),
            None => crate::metrics::UNKNOWN_PROVIDER.to_owned(),
        }
    }

    /// The callback URL registered at the provider.
    pub(crate) fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}{}/{provider}/callback",
            self.inner.site.base, self.inner.site.prefix
        )
    }

    /// The route prefix, e.g. `/auth`.
    pub fn login_prefix(&self) -> &str {
        &self.inner.site.prefix
    }

    /// The name of the session cookie (its chunks are `{name}.1`, `{name}.2`, ...).
    pub fn session_cookie(&self) -> &str {
        self.inner.sessions.cookie.name()
    }

    /// The path of a provider's login route, e.g. `/auth/corp/login`.
    pub fn login_path(&self, provider: &str) -> String {
        format!("{}/{provider}/login", self.inner.site.prefix)
    }

    /// `return_to` if it is safe to redirect to: a path on this site (`/...`, not
    /// `//...`), or a URL on an allowed origin.
    pub fn safe_return_to(&self, return_to: &str) -> Option<String> {
        if return_to.chars().any(|c| c.is_control() || c == '\\') {
            return None;
        }
        if return_to.starts_with('/') {
            return (!return_to.starts_with("//")).then(|| return_to.to_owned());
        }
        let url = Url::parse(return_to).ok()?;
        let origin = url.origin().ascii_serialization();
        let allowed = origin == self.base_origin() || self.inner.site.origins.contains(&origin);
        (allowed && url.username().is_empty() && url.password().is_none()).then(|| url.to_string())
    }

    fn base_origin(&self) -> String {
        Url::parse(&self.inner.site.base)
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default()
    }

    /// An absolute URL for a safe `return_to` (or the base URL).
    pub(crate) fn absolute(&self, return_to: Option<&str>) -> String {
        match return_to {
            Some(path) if path.starts_with('/') => format!("{}{path}", self.inner.site.base),
            Some(url) => url.to_owned(),
            None => format!("{}/", self.inner.site.base),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, header};
    use tower::ServiceExt as _;

    const SECRET: &str = "a unit test secret of at least 32 bytes";

    /// A plain OAuth 2.0 provider: explicit endpoints, so nothing is fetched.
    fn plain() -> LoginProviderBuilder {
        LoginProvider::builder("plain")
            .client_id("app")
            .client_secret("s3cret")
            .scopes(["read:user"])
            .authorize_url("https://idp.example/authorize?tenant=t1")
            .token_url("https://idp.example/token")
            .userinfo_url("https://idp.example/user")
    }

    fn login(base: &str) -> Login {
        Login::builder()
            .base_url(base)
            .session_secret(SECRET)
            .allowed_origin("https://admin.example")
            .provider(plain())
            .build()
            .unwrap()
    }

    #[test]
    fn debug_output_never_shows_the_client_secret() {
        let builder = plain();
        assert!(!format!("{builder:?}").contains("s3cret"));
        let provider = builder.build().unwrap();
        let shown = format!("{provider:?}");
        assert!(
            !shown.contains("s3cret") && shown.contains("<redacted>"),
            "{shown}"
        );
    }

    #[test]
    fn return_to_is_a_local_path_or_an_allowed_origin() {
        let l = login("https://app.example");
        for ok in [
            "/",
            "/me?tab=1",
            "https://app.example/x",
            "https://admin.example/",
        ] {
            assert!(l.safe_return_to(ok).is_some(), "{ok}");
        }
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\tx",
            "https://evil.example/",
            "http://app.example/",
            "https://app.example:444/",
            "https://user@app.example/",
            "javascript:alert(1)",
            "evil.example",
            "",
        ] {
            assert_eq!(l.safe_return_to(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn login_redirects_with_pkce_and_a_secure_transaction_cookie() {
        let app = login("https://app.example/").router::<()>();
        let response = app
            .oneshot(
                Request::get("/auth/plain/login?return_to=/reports")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), 303);
        let to = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            to.starts_with("https://idp.example/authorize?tenant=t1&"),
            "{to}"
        );
        assert!(to.contains("redirect_uri=https%3A%2F%2Fapp.example%2Fauth%2Fplain%2Fcallback"));
        assert!(to.contains("scope=read%3Auser"));
        assert!(to.contains("code_challenge_method=S256"));
        let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(cookie.starts_with("oauth2_tx_"), "{cookie}");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/auth/plain/;"] {
            assert!(cookie.contains(attr), "{attr}: {cookie}");
        }
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    #[tokio::test]
    async fn abandoned_logins_do_not_pile_up_cookies() {
        let app = login("https://app.example").router::<()>();
        let request = |cookies: &str| {
            Request::get("/auth/plain/login")
                .header(header::COOKIE, cookies)
                .body(Body::empty())
                .unwrap()
        };
        let three = "oauth2_tx_a=1; oauth2_tx_b=2; session=x; oauth2_tx_c=3";
        let response = app.clone().oneshot(request(three)).await.unwrap();
        assert_eq!(
            response
                .headers()
                .get_all(header::SET_COOKIE)
                .iter()
                .count(),
            1
        );
        let four = format!("{three}; oauth2_tx_d=4");
        let response = app.oneshot(request(&four)).await.unwrap();
        let set: Vec<&str> = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap())
            .collect();
        assert_eq!(set.len(), 5, "{set:?}");
        for name in ["oauth2_tx_a", "oauth2_tx_b", "oauth2_tx_c", "oauth2_tx_d"] {
            assert!(
                set.iter()
                    .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
                "{name} removed: {set:?}"
            );
        }
        assert!(!set.iter().any(|c| c.starts_with("session=")));
    }

    #[tokio::test]
    async fn presets_fill_endpoints_scopes_and_claim_names() {
        let github = Login::builder()
            .base_url("https://app.example")
            .session_secret(SECRET)
            .provider(
                LoginProvider::builder("github")
                    .preset(Preset::GitHub)
                    .client_id("Iv1.x"),
            )
            .build()
            .unwrap();
        let response = github
            .router::<()>()
            .oneshot(
                Request::get("/auth/github/login")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        let to = response.headers()[header::LOCATION].to_str().unwrap();
        assert!(
            to.starts_with("https://github.com/login/oauth/authorize?"),
            "{to}"
        );
        assert!(to.contains("scope=read%3Auser+user%3Aemail"), "{to}");

        let google = LoginProvider::builder("google")
            .preset(Preset::Google)
            .client_id("x");
        assert_eq!(
            google.build().unwrap().issuer(),
            Some("https://accounts.google.com")
        );
        let own = LoginProvider::builder("gl")
            .preset(Preset::GitLab)
            .issuer("https://gitlab.corp.example")
            .client_id("x");
        assert_eq!(
            own.build().unwrap().issuer(),
            Some("https://gitlab.corp.example")
        );
        let okta = LoginProvider::builder("okta")
            .preset(Preset::Okta)
            .client_id("x");
        assert!(
            okta.build()
                .unwrap_err()
                .to_string()
                .contains("issuer is not set: preset Okta")
        );

        // The ID-token check accepts the `iss` values bearer validation of the preset
        // accepts (Google's bare host), and gathers Keycloak's roles.
        let login = Login::builder()
            .base_url("https://app.example")
            .session_secret(SECRET)
            .provider(
                LoginProvider::builder("google")
                    .preset(Preset::Google)
                    .client_id("x"),
            )
            .provider(
                LoginProvider::builder("kc")
                    .preset(Preset::Keycloak)
                    .issuer("https://sso.example/realms/staff")
                    .client_id("portal"),
            )
            .build()
            .unwrap();
        let google = login.id_token_validator("google").unwrap();
        let google = google.providers().next().unwrap();
        assert!(google.is_issuer("https://accounts.google.com"));
        assert!(google.is_issuer("accounts.google.com"));
        let kc = login.id_token_validator("kc").unwrap();
        let kc = kc.providers().next().unwrap();
        assert_eq!(kc.roles_from, Preset::Keycloak.info().roles_from);

        // An encrypted userinfo answer (a JWE, five parts) is refused for what it is.
        let p = login.provider("kc").unwrap();
        let e = rp::callback::signed_userinfo(&login, p, "h.k.iv.c.t")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "userinfo_failed");
        assert!(e.to_string().contains("encrypted (a JWE)"), "{e}");

        let mut claims = serde_json::json!({"sub": "1", "login": "octocat", "picture": "kept"})
            .as_object()
            .unwrap()
            .clone();
        rp::callback::map_claims(
            &mut claims,
            &[("login", "preferred_username"), ("avatar_url", "picture")],
        );
        assert_eq!(claims["preferred_username"], "octocat");
        assert_eq!(claims["picture"], "kept");
    }

    #[tokio::test]
    async fn configuration_errors_name_the_setting() {
        let err = |b: LoginBuilder| b.build().unwrap_err().to_string();
        let base = || Login::builder().session_secret(SECRET).provider(plain());
        assert_eq!(
            err(Login::builder().session_secret(SECRET)),
            "base_url is not set"
        );
        assert!(err(base().base_url("http://app.example")).contains("only https"));
        assert!(
            err(base().base_url("https://app.example").login_prefix("auth")).contains("prefix")
        );
        assert!(
            err(Login::builder()
                .base_url("https://a.example")
                .provider(plain()))
            .starts_with("session_secret")
        );
        assert!(
            err(base()
                .base_url("https://a.example")
                .allowed_origin("https://b.example/x"))
            .contains("origin")
        );
        let provider = |p: LoginProviderBuilder| {
            err(Login::builder()
                .base_url("https://a.example")
                .session_secret(SECRET)
                .provider(p))
        };
        assert_eq!(
            provider(LoginProvider::builder("x").issuer("https://idp.example")),
            "provider \"x\": client_id is not set"
        );
        assert!(
            provider(
                LoginProvider::builder("x")
                    .issuer("https://idp.example")
                    .client_id("a")
                    .scopes(["profile"])
            )
            .contains("`openid`")
        );
        assert!(provider(LoginProvider::builder("x").client_id("a")).contains("issuer is not set"));
        assert!(provider(LoginProvider::builder("a/b").client_id("a")).contains("name"));
        assert!(
            provider(
                LoginProvider::builder("x")
                    .client_id("a")
                    .authorize_url("https://idp.example/a")
                    .token_url("https://idp.example/t")
            )
            .contains("userinfo_url")
        );
        assert!(
            provider(
                LoginProvider::builder("x")
                    .issuer("https://idp.example")
                    .client_id("a")
                    .client_auth(ClientAuth::SecretBasic)
            )
            .contains("client_secret")
        );
    }
}
