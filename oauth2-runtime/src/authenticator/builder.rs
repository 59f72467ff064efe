//! [`AuthenticatorBuilder`]: the providers and the HTTP-side options, checked at
//! [`build`](AuthenticatorBuilder::build).

use std::sync::Arc;
use std::time::Duration;

use axum::response::Response;

use super::{Authenticator, Inner};
use crate::claims::ScopeHierarchy;
use crate::config::{ConfigError, Provider, ProviderBuilder};
use crate::dpop::ReplayCache;
use crate::error::{AuthError, ErrorHandler};
use crate::jwks::KeyRegistry;
use crate::mcp::McpScopes;
use crate::resource::{Described, Resource};
use crate::validation::{
    DEFAULT_MAX_TOKEN_SIZE, DEFAULT_TOKEN_CACHE_MAX_AGE, DEFAULT_TOKEN_CACHE_SIZE, Validator,
};

/// Builds an [`Authenticator`].
#[must_use = "call `.build()`"]
pub struct AuthenticatorBuilder {
    providers: Vec<ProviderBuilder>,
    public_exact: Vec<String>,
    public_prefixes: Vec<String>,
    cookie: Option<String>,
    realm: String,
    challenge_missing: bool,
    websocket_query: bool,
    max_token_size: usize,
    token_cache: usize,
    token_cache_max_age: Duration,
    handler: Option<ErrorHandler>,
    http: Option<reqwest::Client>,
    registry: Option<KeyRegistry>,
    /// A provider [`map_provider`](Self::map_provider) was given that none has.
    unknown: Option<String>,
    dpop: crate::dpop::Options,
    resource: Option<String>,
    scopes_supported: Vec<String>,
    hierarchy: ScopeHierarchy,
    mcp: Option<McpScopes>,
}

impl AuthenticatorBuilder {
    /// Changes the provider named `name` (added before) with `change`: in a test, the
    /// declared provider pointed at a development issuer
    /// (`.map_provider("corp", |p| p.retarget(&idp))`, feature `test-kit`).
    /// [`build`](Self::build) fails when no provider has that name.
    pub fn map_provider(
        mut self,
        name: &str,
        change: impl FnOnce(ProviderBuilder) -> ProviderBuilder,
    ) -> Self {
        if !crate::util::map_named(&mut self.providers, name, ProviderBuilder::name, change) {
            self.unknown = Some(name.to_owned());
        }
        self
    }

    /// Adds a provider. Tokens are matched to providers by their exact `iss`.
    pub fn provider(mut self, provider: ProviderBuilder) -> Self {
        self.providers.push(provider);
        self
    }

    /// A path the layer lets through without a token (exact match).
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.public_exact.push(path.into());
        self
    }

    /// A path prefix the layer lets through without a token. Matches whole segments:
    /// `/docs` covers `/docs` and `/docs/a`, not `/docsearch`.
    pub fn public_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.public_prefixes
            .push(prefix.trim_end_matches('/').to_owned());
        self
    }

    /// Also reads the token from this cookie when there is no `Authorization` header
    /// (a leading `Bearer ` in the value is accepted).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges; default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// Answers a request without any token as RFC 6750 §3.1 recommends: 401 with a bare
    /// `WWW-Authenticate: Bearer realm="..."` and no error code in the header (the JSON
    /// body still says what was missing). Without it: 400 `invalid_request` with an
    /// error description (what the Python libraries do, and clearer to a developer). A
    /// malformed `Authorization` header is a 400 either way.
    pub fn missing_token_challenge(mut self) -> Self {
        self.challenge_missing = true;
        self
    }

    /// Lets a WebSocket upgrade carry its token in the `access_token` query parameter
    /// (`wss://.../ws?access_token=...`); off by default. Browsers cannot set headers on
    /// a WebSocket, so the default source is `Sec-WebSocket-Protocol: access_token,
    /// <token>`; a URL with the token ends up in access logs and proxies' logs, where
    /// anyone who reads them can replay it until it expires.
    pub fn allow_websocket_query_token(mut self) -> Self {
        self.websocket_query = true;
        self
    }

    /// The limit on a token's length, checked before decoding; default 8 KiB.
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// How many verified access tokens to keep (default 10,000), so that a client that
    /// sends the same token again pays no signature check; `0` turns the cache off.
    /// A cached token is still checked for `exp`, `nbf` and `iat` on every request,
    /// and is verified again once its issuer's keys change.
    pub fn token_cache(mut self, entries: usize) -> Self {
        self.token_cache = entries;
        self
    }

    /// The longest a token stays cached (default an hour); its `exp` usually ends it
    /// sooner.
    pub fn token_cache_max_age(mut self, max_age: Duration) -> Self {
        self.token_cache_max_age = max_age;
        self
    }

    /// Replaces the response of every rejection (layer and extractors alike).
    /// [`AuthError::default_response`] gives the one it replaces.
    pub fn on_error<F>(mut self, handler: F) -> Self
    where
        F: Fn(&AuthError) -> Response + Send + Sync + 'static,
    {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// The HTTP client for discovery and JWKS requests of every provider that sets
    /// none of its own (when this builder makes its own registry).
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// The registry and HTTP client given to this builder, for [`App`](crate::App) to
    /// pick the app's one registry.
    pub(crate) fn shared(&self) -> (Option<&KeyRegistry>, Option<&reqwest::Client>) {
        (self.registry.as_ref(), self.http.as_ref())
    }

    /// Registers the providers' issuers in `registry`, sharing key caches and discovery
    /// with everything else registered there. An app with browser login too is built
    /// with [`App`](crate::App), which gives both sides one registry; without either,
    /// the authenticator has a registry of its own.
    pub fn registry(mut self, registry: KeyRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The API's public URL (`https://api.example.com`, with a path prefix if it has
    /// one), which DPoP proofs name in `htu` (RFC 9449 §4.3). Without it the URL is
    /// rebuilt from the `Host` header, with either scheme: behind a proxy that changes
    /// the host, or to pin `https`, set it.
    pub fn dpop_base_url(mut self, url: impl Into<String>) -> Self {
        self.dpop.base_url = Some(url.into());
        self
    }

    /// Where the `jti`s of DPoP proofs are remembered so that each proof is accepted
    /// once: a store every instance of the API shares (`RedisStore`, `PostgresStore`;
    /// any session store is one). Default: this process's memory (bounded).
    pub fn dpop_replay_store(mut self, store: impl ReplayCache) -> Self {
        self.dpop.replay = Some(Arc::new(store));
        self
    }

    /// How far a DPoP proof's `iat` may be from now, either way; default 60 s.
    pub fn dpop_proof_max_age(mut self, max_age: Duration) -> Self {
        self.dpop.max_age = max_age;
        self
    }

    /// Requires DPoP proofs to carry a nonce this server handed out (RFC 9449 §9): an
    /// HMAC of the current period (a minute, see
    /// [`dpop_nonce_period`](Self::dpop_nonce_period)) under `secret` (at least 32
    /// bytes; the same for every instance). A proof without a current nonce gets 401
    /// `use_dpop_nonce` with a fresh one in `DPoP-Nonce`, and the client signs its proof
    /// again. A proof with the previous period's nonce passes, and the response carries
    /// the current one in `DPoP-Nonce`, so a client that takes it never meets
    /// `use_dpop_nonce` again.
    pub fn dpop_nonce_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.dpop.nonce_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// How often a new DPoP server nonce is handed out, in whole seconds from 1 s to
    /// an hour; default a minute. A nonce is accepted in its period and the next, so
    /// a proof made in advance is useless after two periods at most.
    pub fn dpop_nonce_period(mut self, period: Duration) -> Self {
        self.dpop.nonce_period = Some(period);
        self
    }

    /// The API's resource identifier (RFC 8707, RFC 9728): its canonical URL, e.g.
    /// `https://mcp.example.com/mcp`. The authenticator then serves its protected
    /// resource metadata ([`router`](Authenticator::router)), names it in every 401 and
    /// 403 (`resource_metadata`), and [`build`](Self::build) fails unless some provider
    /// accepts it as an audience. See [`crate::resource`].
    pub fn resource(mut self, url: impl Into<String>) -> Self {
        self.resource = Some(url.into());
        self
    }

    /// Scopes the resource metadata lists in `scopes_supported` besides those of the
    /// MCP rules and of [`scope_implies`](Self::scope_implies): the scopes the API's
    /// routes use (`#[protect(scopes = ...)]`). Needs a [`resource`](Self::resource).
    pub fn scopes_supported<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes_supported
            .extend(scopes.into_iter().map(Into::into));
        self
    }

    /// A token granted `scope` passes every check that needs one of `implied`
    /// (transitively): `.scope_implies("mcp:admin", ["mcp:tools", "mcp:deploy"])`.
    /// Holds for `#[protect(scopes = ...)]`, [`RequireScopes`](crate::RequireScopes)
    /// and the [MCP rules](crate::mcp); see [`ScopeHierarchy`].
    pub fn scope_implies<I, S>(mut self, scope: impl Into<String>, implied: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.hierarchy = std::mem::take(&mut self.hierarchy).imply(scope, implied);
        self
    }

    /// The MCP mode, with the scopes each MCP operation needs (see [`crate::mcp`]):
    /// the [`resource`](Self::resource)'s path is the MCP endpoint, where every request
    /// needs a valid token from the `Authorization` header and each operation its
    /// scopes; a missing token gets 401. Needs a resource that every provider accepts
    /// as an audience, and no token cookie or WebSocket query token.
    pub fn mcp(mut self, scopes: McpScopes) -> Self {
        self.mcp = Some(scopes);
        self
    }

    /// Checks the configuration and starts loading keys in the background.
    /// Must be called inside a Tokio runtime.
    pub fn build(self) -> Result<Authenticator, ConfigError> {
        if let Some(name) = self.unknown {
            return Err(ConfigError::Field {
                provider: name,
                field: "map_provider",
                problem: "names no provider of this authenticator".into(),
            });
        }
        let providers = self
            .providers
            .into_iter()
            .map(ProviderBuilder::build)
            .collect::<Result<Vec<_>, _>>()?;
        let registry = match (self.registry, self.http) {
            (Some(registry), _) => registry,
            (None, Some(client)) => KeyRegistry::with_http_client(client),
            (None, None) => KeyRegistry::new(),
        };
        if let Some(mcp) = &self.mcp {
            check_mcp(
                self.resource.as_deref(),
                self.cookie.is_some(),
                self.websocket_query,
                &providers,
            )?;
            if mcp.max_body_len() == 0 {
                return Err(setting("mcp", "max_body is zero".into()));
            }
        }
        let dpop = self.dpop.build(&providers)?;
        let resource = match &self.resource {
            Some(url) => {
                let mut scopes = self.scopes_supported.clone();
                scopes.extend(self.hierarchy.scopes().map(str::to_owned));
                if let Some(mcp) = &self.mcp {
                    scopes.extend(mcp.scopes().map(str::to_owned));
                }
                let described = Described {
                    scopes,
                    websocket_query: self.websocket_query,
                    dpop: &dpop,
                };
                Some(Resource::new(url, &providers, described)?)
            }
            None if !self.scopes_supported.is_empty() => {
                return Err(setting(
                    "scopes_supported",
                    "is set without a resource: only the resource metadata lists them".into(),
                ));
            }
            None => None,
        };
        let mut public_exact = self.public_exact;
        public_exact.extend(resource.as_ref().map(|r| r.path.clone()));
        let validator = Validator::with_registry(providers, self.max_token_size, &registry)?
            .with_token_cache(self.token_cache, self.token_cache_max_age);
        Ok(Authenticator {
            inner: Arc::new(Inner {
                validator,
                public_exact,
                public_prefixes: self.public_prefixes,
                cookie: self.cookie,
                realm: self.realm.into(),
                challenge_missing: self.challenge_missing || self.mcp.is_some(),
                websocket_query: self.websocket_query,
                handler: self.handler,
                dpop,
                resource,
                hierarchy: self.hierarchy,
                mcp: self.mcp,
            }),
        })
    }
}

impl Authenticator {
    /// Starts the configuration.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            providers: Vec::new(),
            public_exact: Vec::new(),
            public_prefixes: Vec::new(),
            cookie: None,
            realm: crate::defaults::DEFAULT_REALM.into(),
            challenge_missing: false,
            websocket_query: false,
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            token_cache: DEFAULT_TOKEN_CACHE_SIZE,
            token_cache_max_age: DEFAULT_TOKEN_CACHE_MAX_AGE,
            handler: None,
            http: None,
            registry: None,
            unknown: None,
            dpop: crate::dpop::Options::default(),
            resource: None,
            scopes_supported: Vec::new(),
            hierarchy: ScopeHierarchy::default(),
            mcp: None,
        }
    }
}

fn setting(field: &'static str, problem: String) -> ConfigError {
    ConfigError::Setting { field, problem }
}

/// The MCP mode's rules: a resource, which every provider accepts as an audience
/// (RFC 8707: a token for another API is no token for this one), and tokens from the
/// `Authorization` header only.
fn check_mcp(
    resource: Option<&str>,
    cookie: bool,
    websocket_query: bool,
    providers: &[Provider],
) -> Result<(), ConfigError> {
    let Some(resource) = resource else {
        return Err(setting(
            "mcp",
            "needs a resource: the MCP endpoint's canonical URL, e.g. \
             `.resource(\"https://mcp.example.com/mcp\")`"
                .into(),
        ));
    };
    if cookie {
        return Err(setting(
            "cookie",
            "cannot be used with mcp: MCP clients send tokens in the Authorization header only"
                .into(),
        ));
    }
    if websocket_query {
        return Err(setting(
            "allow_websocket_query_token",
            "cannot be used with mcp: tokens in URLs are refused".into(),
        ));
    }
    for p in providers {
        if !p.audience().is_some_and(|aud| aud.contains(resource)) {
            return Err(ConfigError::Field {
                provider: p.name().to_owned(),
                field: "audience",
                problem: format!(
                    "must accept the MCP resource `{resource}`: with mcp, a token's audience \
                     must be the resource (RFC 8707)"
                ),
            });
        }
    }
    Ok(())
}
