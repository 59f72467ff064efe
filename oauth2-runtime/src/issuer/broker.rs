//! [`Broker`]: its settings, checked by the login's `build`, and the access tokens it
//! mints.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::Algorithm;

use super::key_ring::{KeyRing, KeyRingError};
use crate::config::{ConfigError, Provider, ProviderBuilder, check_duration};
use crate::jwks::{LocalJwks, LocalKeys, LocalSource};
use crate::session::{MemoryStore, SessionStore};
use crate::util::{now, random_token};

pub use crate::defaults::DEFAULT_REFRESH_TTL;
pub use crate::defaults::DEFAULT_ROTATE_EVERY;
pub use crate::defaults::DEFAULT_TOKEN_TTL;

/// The app as an issuer of its own access tokens. Made by the login's `build` from a
/// [`BrokerBuilder`] ([`LoginBuilder::broker`](crate::login::LoginBuilder::broker));
/// cheap to clone.
#[derive(Clone)]
pub struct Broker {
    inner: Arc<Inner>,
}

struct Inner {
    issuer: String,
    audience: String,
    token_ttl: Duration,
    refresh_ttl: Duration,
    rotate_every: Duration,
    claims: Vec<String>,
    trusted_issuers: Vec<String>,
    store: Arc<dyn SessionStore>,
    keys: KeyRing,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let i = &self.inner;
        f.debug_struct("Broker")
            .field("issuer", &i.issuer)
            .field("audience", &i.audience)
            .field("token_ttl", &i.token_ttl)
            .field("rotate_every", &i.rotate_every)
            .finish_non_exhaustive()
    }
}

/// An access token the broker issued.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// Its lifetime in seconds (`expires_in`).
    pub expires_in: u64,
}

/// The broker could not sign: its keys are not to be had.
#[derive(Debug, thiserror::Error)]
#[error("broker: {message}")]
pub struct BrokerError {
    message: String,
    unavailable: bool,
}

impl BrokerError {
    pub(crate) fn other(message: String) -> Self {
        Self {
            message,
            unavailable: false,
        }
    }

    /// Whether the store was unreachable (a 503 for clients), rather than holding a key
    /// this secret cannot open.
    pub fn is_unavailable(&self) -> bool {
        self.unavailable
    }
}

impl From<crate::session::StoreError> for BrokerError {
    fn from(e: crate::session::StoreError) -> Self {
        Self {
            message: e.to_string(),
            unavailable: true,
        }
    }
}

impl From<KeyRingError> for BrokerError {
    fn from(e: KeyRingError) -> Self {
        Self {
            unavailable: matches!(e, KeyRingError::Store(_)),
            message: e.to_string(),
        }
    }
}

impl Broker {
    /// Starts the configuration.
    pub fn builder() -> BrokerBuilder {
        BrokerBuilder {
            audience: None,
            store: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            refresh_ttl: DEFAULT_REFRESH_TTL,
            algorithm: Algorithm::ES256,
            rotate_every: DEFAULT_ROTATE_EVERY,
            claims: Vec::new(),
            trusted_issuers: Vec::new(),
        }
    }

    /// Where its keys and sessions live.
    pub(crate) fn store(&self) -> &Arc<dyn SessionStore> {
        &self.inner.store
    }

    /// Its issuer: `{base_url}{prefix}`.
    pub fn issuer(&self) -> &str {
        &self.inner.issuer
    }

    /// The `aud` of its access tokens.
    pub fn audience(&self) -> &str {
        &self.inner.audience
    }

    /// The lifetime of its access tokens.
    pub fn token_ttl(&self) -> Duration {
        self.inner.token_ttl
    }

    /// The lifetime of its refresh tokens.
    pub fn refresh_ttl(&self) -> Duration {
        self.inner.refresh_ttl
    }

    /// The issuers of other brokers whose tokens for this audience it accepts.
    pub fn trusted_issuers(&self) -> &[String] {
        &self.inner.trusted_issuers
    }

    /// How long the JWKS may be cached: a tenth of a key generation, at most an hour
    /// (a key is published a whole generation before it signs).
    pub fn jwks_max_age(&self) -> Duration {
        (self.inner.rotate_every / 10).min(Duration::from_secs(3600))
    }

    /// The bearer provider that accepts this broker's access tokens, named `name` (e.g.
    /// `broker`), to give to
    /// [`AuthenticatorBuilder::provider`](crate::authenticator::AuthenticatorBuilder::provider):
    /// its issuer and audience, `typ` `at+jwt` required, and its keys read in
    /// process (not over HTTP), with the same cache and unknown-`kid` refetch as any
    /// provider's. Tokens of its trusted issuers pass too, for this audience, each
    /// verified with its own issuer's keys (from that issuer's discovery document).
    pub fn bearer_provider(&self, name: impl Into<String>) -> ProviderBuilder {
        Provider::builder(name)
            .issuer(self.issuer())
            .audience(self.audience())
            .required_typ("at+jwt")
            .refresh_interval(self.jwks_max_age())
            // A refetch reads the store: cheap enough to allow one a second.
            .unknown_kid_cooldown(Duration::from_secs(1))
            .local_keys(LocalSource(Arc::new(self.clone())))
            .trusted_issuers(self.inner.trusted_issuers.clone())
    }

    /// Its JWKS: the previous, current and next signing keys, public members only.
    pub async fn jwks(&self) -> Result<Value, BrokerError> {
        Ok(self.inner.keys.jwks().await?)
    }

    /// An access token (RFC 9068: `typ` `at+jwt`) for the user of `claims`: `iss`,
    /// `aud` the broker's audience, `sub` and the configured claims copied from
    /// `claims` (the provider's ID token or userinfo), `client_id` the audience, `iat`,
    /// `exp`, a fresh `jti`, and `scope` when given.
    pub async fn access_token(
        &self,
        claims: &Map<String, Value>,
        scope: Option<&str>,
    ) -> Result<IssuedToken, BrokerError> {
        let i = &self.inner;
        let key = i.keys.current().await?;
        let iat = now();
        let mut out = Map::new();
        for name in i.claims.iter().map(String::as_str).chain(["sub"]) {
            if let Some(value) = claims.get(name) {
                out.insert(name.to_owned(), value.clone());
            }
        }
        let jti = random_token()
            .map_err(|e| BrokerError::other(format!("no randomness for a jti: {e}")))?;
        out.insert("iss".into(), i.issuer.clone().into());
        out.insert("aud".into(), i.audience.clone().into());
        out.insert("client_id".into(), i.audience.clone().into());
        out.insert("iat".into(), iat.into());
        out.insert("exp".into(), (iat + i.token_ttl.as_secs()).into());
        out.insert("jti".into(), jti.into());
        if let Some(scope) = scope {
            out.insert("scope".into(), scope.into());
        }
        Ok(IssuedToken {
            token: key.jwt("at+jwt", &Value::Object(out)),
            expires_in: i.token_ttl.as_secs(),
        })
    }
}

impl LocalKeys for Broker {
    fn jwks_json(&self) -> LocalJwks<'_> {
        Box::pin(async move {
            let jwks = self.jwks().await.map_err(|e| e.to_string())?;
            Ok(jwks.to_string().into_bytes())
        })
    }

    fn max_age(&self) -> Duration {
        self.jwks_max_age()
    }
}

/// Builds a [`Broker`]; the login's `build` checks it.
#[must_use = "give it to `LoginBuilder::broker`"]
pub struct BrokerBuilder {
    audience: Option<String>,
    store: Option<Arc<dyn SessionStore>>,
    token_ttl: Duration,
    refresh_ttl: Duration,
    algorithm: Algorithm,
    rotate_every: Duration,
    claims: Vec<String>,
    trusted_issuers: Vec<String>,
}

impl std::fmt::Debug for BrokerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerBuilder")
            .field("audience", &self.audience)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

impl BrokerBuilder {
    /// The `aud` of the broker's tokens (required), e.g. `https://api.app.example`.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Where the signing keys (and, later, the broker's sessions) live. Default: the
    /// login's session store, else this process's memory. Every instance on one store
    /// acts as one broker.
    pub fn store(mut self, store: impl SessionStore) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The lifetime of its access tokens; default 10 minutes.
    pub fn token_ttl(mut self, ttl: Duration) -> Self {
        self.token_ttl = ttl;
        self
    }

    /// The lifetime of its refresh tokens; default 14 days.
    pub fn refresh_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_ttl = ttl;
        self
    }

    /// The signing algorithm: `ES256` (default), `RS256` or `EdDSA`; never HMAC.
    pub fn algorithm(mut self, algorithm: Algorithm) -> Self {
        self.algorithm = algorithm;
        self
    }

    /// How old a signing key gets before a new one signs; default 30 days. At least
    /// twice the access-token lifetime, so that a retired key stays published while
    /// its tokens live.
    pub fn rotate_every(mut self, every: Duration) -> Self {
        self.rotate_every = every;
        self
    }

    /// Claims of the provider's ID token or userinfo to copy into access tokens (e.g.
    /// `email`, `preferred_username`, `groups`); `sub` always is.
    pub fn claims<I, S>(mut self, claims: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.claims = claims.into_iter().map(Into::into).collect();
        self
    }

    /// The issuer of another broker whose tokens for this audience are accepted.
    pub fn trusted_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.trusted_issuers.push(issuer.into());
        self
    }

    /// The broker of the issuer `issuer`, sealing its keys with `secret`, in `store`
    /// unless one was given.
    pub(crate) fn build(
        self,
        issuer: String,
        secret: &[u8],
        store: Option<Arc<dyn SessionStore>>,
    ) -> Result<Broker, ConfigError> {
        let problem =
            |field: &'static str, problem: String| ConfigError::Setting { field, problem };
        let audience = self
            .audience
            .filter(|a| !a.trim().is_empty())
            .ok_or_else(|| problem("broker.audience", "is not set".into()))?;
        if !matches!(
            self.algorithm,
            Algorithm::ES256 | Algorithm::RS256 | Algorithm::EdDSA
        ) {
            return Err(problem(
                "broker.algorithm",
                format!(
                    "is {:?}: the broker signs with ES256, RS256 or EdDSA (never HMAC)",
                    self.algorithm
                ),
            ));
        }
        for (field, d) in [
            ("broker.token_ttl", self.token_ttl),
            ("broker.refresh_ttl", self.refresh_ttl),
            ("broker.rotate_every", self.rotate_every),
        ] {
            check_duration(d, true).map_err(|p| problem(field, p))?;
            if d.as_secs() == 0 {
                return Err(problem(field, "must be at least a second".into()));
            }
        }
        if self.rotate_every < self.token_ttl * 2 {
            return Err(problem(
                "broker.rotate_every",
                format!(
                    "is {:?}, under twice the token lifetime ({:?}): a retired key must stay published while its tokens live",
                    self.rotate_every, self.token_ttl
                ),
            ));
        }
        for t in &self.trusted_issuers {
            crate::util::url::check_url(t, crate::util::url::UrlUse::Issuer)
                .map_err(|p| problem("broker.trusted_issuers", p))?;
        }
        let store = self
            .store
            .or(store)
            .unwrap_or_else(|| Arc::new(MemoryStore::new()));
        let keys = KeyRing::new(
            Arc::clone(&store),
            secret,
            &issuer,
            self.algorithm.jwt(),
            self.rotate_every,
        );
        Ok(Broker {
            inner: Arc::new(Inner {
                issuer,
                audience,
                token_ttl: self.token_ttl,
                refresh_ttl: self.refresh_ttl,
                rotate_every: self.rotate_every,
                claims: self.claims,
                trusted_issuers: self.trusted_issuers,
                store,
                keys,
            }),
        })
    }
}
