//! The application's own signed JWT, issued after login (fastapi-oauth2's model): a
//! cookie the bearer layer's cookie source accepts, and helpers to create, encode and
//! decode such tokens with the app's key.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::config::{ConfigError, Provider, ProviderBuilder};
use crate::util::now;

/// Claims of the provider's ID token that do not belong in the app's token.
const NOT_COPIED: &[&str] = &[
    "iss",
    "aud",
    "exp",
    "iat",
    "nbf",
    "jti",
    "nonce",
    "at_hash",
    "c_hash",
    "azp",
    "auth_time",
    "sid",
    "acr",
    "amr",
];

/// The app's own HS256 tokens: issued by [`Login`](super::Login) after every login as a
/// cookie (default name `Authorization`, `HttpOnly`, `SameSite=Lax`, `Secure` on https),
/// and accepted by an [`Authenticator`](crate::Authenticator) configured with
/// [`provider`](Self::provider) and `.cookie(app_token.cookie_name())`.
///
/// ```
/// use oauth2::login::AppToken;
///
/// let app = AppToken::hs256("https://app.example", "app", b"0123456789abcdef0123456789abcdef")
///     .unwrap();
/// let claims = serde_json::json!({"sub": "alice", "email": "alice@example.com", "nonce": "x"});
/// let token = app.create(claims.as_object().unwrap()).unwrap();
/// let back: serde_json::Value = app.decode(&token).unwrap();
/// assert_eq!(back["sub"], "alice");
/// assert_eq!(back["iss"], "https://app.example");
/// assert!(back.get("nonce").is_none());
/// ```
#[derive(Clone)]
pub struct AppToken {
    issuer: String,
    audience: String,
    secret: Vec<u8>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
    cookie: String,
}

impl std::fmt::Debug for AppToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppToken")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("ttl", &self.ttl)
            .field("cookie", &self.cookie)
            .finish_non_exhaustive()
    }
}

impl AppToken {
    /// Tokens signed HS256 with `secret` (32 bytes or more), with this `iss` and `aud`.
    pub fn hs256(
        issuer: impl Into<String>,
        audience: impl Into<String>,
        secret: impl AsRef<[u8]>,
    ) -> Result<Self, ConfigError> {
        let secret = secret.as_ref().to_vec();
        if secret.len() < 32 {
            return Err(ConfigError::Setting {
                field: "app_token",
                problem: "secret is shorter than 32 bytes".into(),
            });
        }
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            secret,
            ttl: Duration::from_secs(3600),
            cookie: "Authorization".into(),
        })
    }

    /// How long a created token is valid; default 1 hour.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// The cookie's name; default `Authorization`.
    pub fn cookie_name(mut self, name: impl Into<String>) -> Self {
        self.cookie = name.into();
        self
    }

    /// The cookie's name.
    pub fn cookie(&self) -> &str {
        &self.cookie
    }

    /// How long a created token is valid.
    pub fn lifetime(&self) -> Duration {
        self.ttl
    }

    /// The bearer-token provider that accepts these tokens, named `name`.
    pub fn provider(&self, name: impl Into<String>) -> ProviderBuilder {
        Provider::builder(name)
            .issuer(&self.issuer)
            .audience(self.audience.as_str())
            .hmac_secret(&self.secret)
    }

    /// A token for a user: the user's claims (not the provider token's own, such as
    /// `nonce` or `aud`), with this app's `iss`, `aud`, `iat` and `exp`.
    pub fn create(&self, user: &Map<String, Value>) -> Result<String, jsonwebtoken::errors::Error> {
        let mut claims: Map<String, Value> = user
            .iter()
            .filter(|(k, _)| !NOT_COPIED.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let t = now();
        claims.insert("iss".into(), Value::String(self.issuer.clone()));
        claims.insert("aud".into(), Value::String(self.audience.clone()));
        claims.insert("iat".into(), t.into());
        claims.insert("exp".into(), t.saturating_add(self.ttl.as_secs()).into());
        self.encode(&claims)
    }

    /// Signs `claims` as they are (HS256, `typ: JWT`).
    pub fn encode<T: Serialize>(&self, claims: &T) -> Result<String, jsonwebtoken::errors::Error> {
        crate::util::crypto_backend();
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    /// Verifies a token of this app (HS256 only; `iss`, `aud`, `exp` with 60 s leeway)
    /// and reads its claims as `T`.
    pub fn decode<T: DeserializeOwned>(
        &self,
        token: &str,
    ) -> Result<T, jsonwebtoken::errors::Error> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        crate::util::crypto_backend();
        jsonwebtoken::decode::<T>(token, &self.decoding, &validation).map(|d| d.claims)
    }
}
impl super::Login {
    /// The app token's cookie: `HttpOnly`, `SameSite=Lax`, `Secure` like the session's.
    pub(super) fn app_token_cookie(
        &self,
        app: &AppToken,
        token: String,
        ttl: Duration,
    ) -> cookie::Cookie<'static> {
        let mut c = cookie::Cookie::new(app.cookie().to_owned(), token);
        c.set_http_only(true);
        c.set_secure(self.inner.sessions.cookie.is_secure());
        c.set_same_site(cookie::SameSite::Lax);
        c.set_path("/");
        c.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        c
    }
}
