//! JWT validation for one or more providers (RFC 7515, RFC 8725, RFC 9068).
//!
//! This core knows nothing of HTTP: it takes a token string and returns the validated
//! claims or a [`ValidationError`] with a [`ErrorKind`] and a message that says what was
//! wrong without echoing the token. In order, it checks:
//!
//! 1. the size limit (before any decoding) and the compact JWS form;
//! 2. the header: `alg` parsed and in the provider's allow-list (`none` never), `crit`
//!    empty (no extension is understood), `typ` when one is required; `jku`, `x5u`, `jwk`
//!    and `x5c` are never used;
//! 3. the provider, picked by the token's exact `iss`;
//! 4. the key: by `kid` (one refetch per cooldown when unknown), whose type and `alg` must
//!    fit the token's `alg`; without `kid`, the one key that fits;
//! 5. the signature;
//! 6. `exp` (required), `nbf` and `iat` (when present) against the leeway, and `aud`
//!    (any of the configured values).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{Provider, validation::{ErrorKind, Validator}};
//!
//! let provider = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience("api")
//!     .hmac_secret("an example secret of at least 32 bytes")
//!     .build()
//!     .unwrap();
//! let validator = Validator::new(vec![provider]).unwrap();
//!
//! let err = validator.validate("not-a-jwt").await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Malformed);
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::Value;

use crate::claims::Authenticated;
use crate::config::{ConfigError, KeySource, Provider, normalize_typ};
use crate::jwks::{KeyCache, KeyMiss, KeyStats};

/// The default limit on a token's length, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;

/// What kind of check a token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not a compact JWS, bad base64url or JSON, a non-object payload.
    Malformed,
    /// Longer than the size limit.
    TooLarge,
    /// `alg` is `none`, unknown, or not allowed for the provider.
    Algorithm,
    /// A `crit` header lists an extension this library does not understand.
    CriticalHeader,
    /// The `typ` header is not the required one.
    Type,
    /// The `iss` claim is missing or no configured provider has it.
    Issuer,
    /// No key for the token's `kid` (after a refetch, or during its cooldown).
    UnknownKey,
    /// The key named by `kid` does not fit `alg`, or no `kid` and no single fitting key.
    KeyMismatch,
    /// The signature does not verify.
    Signature,
    /// `exp` is in the past beyond the leeway.
    Expired,
    /// `nbf` is in the future beyond the leeway.
    NotYetValid,
    /// `iat` is in the future beyond the leeway.
    IssuedInFuture,
    /// `aud` holds none of the accepted audiences.
    Audience,
    /// A required claim is missing.
    MissingClaim,
    /// A claim has the wrong type.
    InvalidClaim,
    /// The provider's keys have not been loaded yet.
    KeysUnavailable,
}

/// A token that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    kind: ErrorKind,
    message: Cow<'static, str>,
    retry_after: Option<Duration>,
}

impl ValidationError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// What kind of check failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was wrong, for humans; never contains the token.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`ErrorKind::KeysUnavailable`]: when keys may be there.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}

/// The outcome of validating against the keys held now.
pub(crate) enum Cached {
    Invalid(ValidationError),
    /// The token's `kid` is not in key set `generation` of provider `provider`.
    UnknownKey {
        provider: usize,
        generation: u64,
    },
}

impl From<ValidationError> for Cached {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

struct ProviderState {
    config: Provider,
    keys: KeyCache,
}

/// Validates tokens of one or more providers; holds their key caches.
///
/// Building it starts each provider's background key loading, so it must happen
/// inside a Tokio runtime. Dropping it stops them.
pub struct Validator {
    providers: Vec<ProviderState>,
    max_token_size: usize,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field(
                "providers",
                &self.providers.iter().map(|p| &p.config).collect::<Vec<_>>(),
            )
            .field("max_token_size", &self.max_token_size)
            .finish()
    }
}

#[derive(Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow, default)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    typ: Option<Cow<'a, str>>,
    #[serde(default)]
    crit: Option<Vec<String>>,
}

fn malformed(message: &'static str) -> ValidationError {
    ValidationError::new(ErrorKind::Malformed, message)
}

pub(crate) fn default_http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("oauth2-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

impl Validator {
    /// Builds a validator for these providers with the default size limit.
    pub fn new(providers: Vec<Provider>) -> Result<Self, ConfigError> {
        Self::with_options(providers, DEFAULT_MAX_TOKEN_SIZE, None)
    }

    pub(crate) fn with_options(
        providers: Vec<Provider>,
        max_token_size: usize,
        client: Option<reqwest::Client>,
    ) -> Result<Self, ConfigError> {
        if providers.is_empty() {
            return Err(ConfigError::NoProvider);
        }
        for (i, p) in providers.iter().enumerate() {
            if let Some(first) = providers[..i].iter().find(|q| q.name == p.name) {
                return Err(ConfigError::DuplicateProvider(first.name.to_string()));
            }
            if let Some(first) = providers[..i].iter().find(|q| q.issuer == p.issuer) {
                return Err(ConfigError::DuplicateIssuer {
                    first: first.name.to_string(),
                    second: p.name.to_string(),
                    issuer: p.issuer.clone(),
                });
            }
        }
        let fetches = providers
            .iter()
            .any(|p| !matches!(p.keys, KeySource::Static(_) | KeySource::Secret(_)));
        if fetches && tokio::runtime::Handle::try_current().is_err() {
            return Err(ConfigError::NoRuntime);
        }
        let shared = match client {
            Some(c) => c,
            None => default_http_client().map_err(|problem| ConfigError::Field {
                provider: providers[0].name.to_string(),
                field: "http_client",
                problem,
            })?,
        };
        let providers = providers
            .into_iter()
            .map(|config| {
                let client = config.http.clone().unwrap_or_else(|| shared.clone());
                let keys = KeyCache::start(&config, client);
                ProviderState { config, keys }
            })
            .collect();
        Ok(Self {
            providers,
            max_token_size,
        })
    }

    /// The configured providers.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter().map(|p| &p.config)
    }

    /// The key cache state of provider `name`.
    pub fn key_stats(&self, name: &str) -> Option<KeyStats> {
        self.state(name).map(|p| p.keys.stats())
    }

    /// Waits until every provider has keys. Requests before then get
    /// [`ErrorKind::KeysUnavailable`]; servers need not wait, tests often do.
    pub async fn ready(&self) {
        for p in &self.providers {
            p.keys.ready().await;
        }
    }

    fn state(&self, name: &str) -> Option<&ProviderState> {
        self.providers.iter().find(|p| &*p.config.name == name)
    }

    /// Validates a token; may wait for one key refetch when its `kid` is unknown.
    pub async fn validate(&self, token: &str) -> Result<Authenticated, ValidationError> {
        match self.validate_cached(token) {
            Ok(auth) => Ok(auth),
            Err(Cached::Invalid(e)) => Err(e),
            Err(Cached::UnknownKey {
                provider,
                generation,
            }) => self.refetch_and_validate(token, provider, generation).await,
        }
    }

    /// The slow path of [`validate`](Self::validate), after an unknown `kid`.
    pub(crate) async fn refetch_and_validate(
        &self,
        token: &str,
        provider: usize,
        generation: u64,
    ) -> Result<Authenticated, ValidationError> {
        let unknown =
            || ValidationError::new(ErrorKind::UnknownKey, "token signing key (kid) is unknown");
        if !self.providers[provider]
            .keys
            .refetch_for_unknown_kid(generation)
            .await
        {
            return Err(unknown());
        }
        match self.validate_cached(token) {
            Ok(auth) => Ok(auth),
            Err(Cached::Invalid(e)) => Err(e),
            Err(Cached::UnknownKey { .. }) => Err(unknown()),
        }
    }

    /// Validates a token against the keys held now, without waiting.
    pub(crate) fn validate_cached(&self, token: &str) -> Result<Authenticated, Cached> {
        if token.len() > self.max_token_size {
            return Err(ValidationError::new(
                ErrorKind::TooLarge,
                format!("token is longer than {} bytes", self.max_token_size),
            )
            .into());
        }
        let mut parts = token.split('.');
        let (Some(h64), Some(p64), Some(sig)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(
                malformed("token is not a JWT (expected three dot-separated parts)").into(),
            );
        };
        if parts.next().is_some() {
            return Err(malformed("encrypted tokens (JWE) are not supported").into());
        }

        let header_bytes = URL_SAFE_NO_PAD
            .decode(h64)
            .map_err(|_| malformed("token header is not base64url"))?;
        let header: JoseHeader<'_> = serde_json::from_slice(&header_bytes)
            .map_err(|_| malformed("token header is not a valid JOSE header"))?;
        let payload_bytes = URL_SAFE_NO_PAD
            .decode(p64)
            .map_err(|_| malformed("token payload is not base64url"))?;
        let payload: Value = serde_json::from_slice(&payload_bytes)
            .map_err(|_| malformed("token payload is not JSON"))?;
        let Value::Object(claims) = &payload else {
            return Err(malformed("token payload is not a JSON object").into());
        };

        let iss = match claims.get("iss") {
            Some(Value::String(iss)) => iss,
            Some(_) => {
                return Err(ValidationError::new(
                    ErrorKind::InvalidClaim,
                    "token `iss` claim is not a string",
                )
                .into());
            }
            None => {
                return Err(ValidationError::new(
                    ErrorKind::MissingClaim,
                    "token has no `iss` claim",
                )
                .into());
            }
        };
        let Some(index) = self.providers.iter().position(|p| p.config.issuer == *iss) else {
            return Err(
                ValidationError::new(ErrorKind::Issuer, "token issuer is not accepted").into(),
            );
        };
        let provider = &self.providers[index];
        let config = &provider.config;

        let alg = parse_alg(&header.alg, &config.algorithms)?;
        if let Some(crit) = &header.crit {
            return Err(ValidationError::new(
                ErrorKind::CriticalHeader,
                match crit.first() {
                    Some(name) => format!(
                        "critical header extension `{}` is not understood",
                        sanitize(name)
                    ),
                    None => "empty `crit` header is not allowed".to_owned(),
                },
            )
            .into());
        }
        if let Some(required) = &config.required_typ {
            let ok = header
                .typ
                .as_deref()
                .is_some_and(|t| normalize_typ(t) == *required);
            if !ok {
                return Err(ValidationError::new(
                    ErrorKind::Type,
                    format!("token type (typ) must be `{required}`"),
                )
                .into());
            }
        }

        let guard;
        let key: &DecodingKey = match &config.keys {
            KeySource::Secret(secret) => secret,
            _ => {
                guard = provider.keys.current();
                let Some(set) = guard.as_ref() else {
                    return Err(ValidationError::new(
                        ErrorKind::KeysUnavailable,
                        "the provider's signing keys are not loaded yet",
                    )
                    .with_retry_after(provider.keys.retry_after())
                    .into());
                };
                match set.select(header.kid.as_deref(), alg) {
                    Ok(key) => key,
                    Err(KeyMiss::UnknownKid) => {
                        return Err(Cached::UnknownKey {
                            provider: index,
                            generation: set.generation(),
                        });
                    }
                    Err(KeyMiss::Mismatch) => {
                        return Err(ValidationError::new(
                            ErrorKind::KeyMismatch,
                            format!("token signing key (kid) does not fit algorithm {alg:?}"),
                        )
                        .into());
                    }
                    Err(KeyMiss::Ambiguous) => {
                        return Err(ValidationError::new(
                            ErrorKind::KeyMismatch,
                            "token has no kid and several keys fit its algorithm",
                        )
                        .into());
                    }
                    Err(KeyMiss::NoneFits) => {
                        return Err(ValidationError::new(
                            ErrorKind::KeyMismatch,
                            format!("token has no kid and no key fits algorithm {alg:?}"),
                        )
                        .into());
                    }
                }
            }
        };

        let message = &token[..h64.len() + 1 + p64.len()];
        match jsonwebtoken::crypto::verify(sig, message.as_bytes(), key, alg) {
            Ok(true) => {}
            Ok(false) => {
                return Err(ValidationError::new(
                    ErrorKind::Signature,
                    "token signature is invalid",
                )
                .into());
            }
            Err(_) => {
                return Err(ValidationError::new(
                    ErrorKind::Signature,
                    "token signature cannot be verified",
                )
                .into());
            }
        }

        check_claims(config, claims, now())?;
        Ok(Authenticated::new(config.name.clone(), payload))
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

fn parse_alg(name: &str, allowed: &[Algorithm]) -> Result<Algorithm, ValidationError> {
    let err = |m: String| ValidationError::new(ErrorKind::Algorithm, m);
    if name.eq_ignore_ascii_case("none") {
        return Err(err("unsigned tokens (alg `none`) are not accepted".into()));
    }
    let alg: Algorithm = name.parse().map_err(|_| {
        err(format!(
            "token algorithm `{}` is not supported",
            sanitize(name)
        ))
    })?;
    if !allowed.contains(&alg) {
        return Err(err(format!(
            "token algorithm {alg:?} is not allowed for this provider"
        )));
    }
    Ok(alg)
}

/// Keeps a value from the token fit for a message: short, printable, no quotes.
fn sanitize(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic() && *c != '"' && *c != '\\')
        .take(40)
        .collect()
}

fn numeric(
    claims: &serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, ValidationError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| {
            ValidationError::new(
                ErrorKind::InvalidClaim,
                format!("token `{name}` claim is not a number"),
            )
        }),
    }
}

fn check_claims(
    config: &Provider,
    claims: &serde_json::Map<String, Value>,
    now: f64,
) -> Result<(), ValidationError> {
    let leeway = config.leeway.as_secs_f64();
    let exp = numeric(claims, "exp")?
        .ok_or_else(|| ValidationError::new(ErrorKind::MissingClaim, "token has no `exp` claim"))?;
    if now > exp + leeway {
        return Err(ValidationError::new(
            ErrorKind::Expired,
            "token has expired",
        ));
    }
    if numeric(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(ValidationError::new(
            ErrorKind::NotYetValid,
            "token is not valid yet (nbf)",
        ));
    }
    if numeric(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err(ValidationError::new(
            ErrorKind::IssuedInFuture,
            "token was issued in the future (iat)",
        ));
    }
    if let Some(accepted) = &config.audience {
        let ok = |aud: &str| accepted.values().iter().any(|a| a == aud);
        let found = match claims.get("aud") {
            None => {
                return Err(ValidationError::new(
                    ErrorKind::MissingClaim,
                    "token has no `aud` claim",
                ));
            }
            Some(Value::String(aud)) => ok(aud),
            Some(Value::Array(auds)) => {
                if auds.iter().any(|a| !a.is_string()) {
                    return Err(ValidationError::new(
                        ErrorKind::InvalidClaim,
                        "token `aud` claim is not a string or an array of strings",
                    ));
                }
                auds.iter().filter_map(Value::as_str).any(ok)
            }
            Some(_) => {
                return Err(ValidationError::new(
                    ErrorKind::InvalidClaim,
                    "token `aud` claim is not a string or an array of strings",
                ));
            }
        };
        if !found {
            return Err(ValidationError::new(
                ErrorKind::Audience,
                "token audience is not accepted",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider() -> Provider {
        Provider::builder("p")
            .issuer("https://issuer.example")
            .audience(["api", "cli"])
            .leeway(Duration::from_secs(60))
            .hmac_secret([1u8; 32])
            .build()
            .unwrap()
    }

    fn check(claims: Value) -> Result<(), ErrorKind> {
        check_claims(&provider(), claims.as_object().unwrap(), 1_000_000.0).map_err(|e| e.kind())
    }

    #[test]
    fn time_claims_with_leeway() {
        assert_eq!(check(json!({"aud": "api"})), Err(ErrorKind::MissingClaim));
        assert_eq!(
            check(json!({"aud": "api", "exp": "soon"})),
            Err(ErrorKind::InvalidClaim)
        );
        assert_eq!(check(json!({"aud": "api", "exp": 999_945})), Ok(()));
        assert_eq!(check(json!({"aud": "api", "exp": 999_940.5})), Ok(()));
        assert_eq!(
            check(json!({"aud": "api", "exp": 999_939})),
            Err(ErrorKind::Expired)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "nbf": 1_000_059})),
            Ok(())
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "nbf": 1_000_061})),
            Err(ErrorKind::NotYetValid)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "iat": 1_000_061})),
            Err(ErrorKind::IssuedInFuture)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "iat": 999_000})),
            Ok(())
        );
    }

    #[test]
    fn audience_any_of() {
        assert_eq!(check(json!({"exp": 2e6, "aud": ["other", "cli"]})), Ok(()));
        assert_eq!(
            check(json!({"exp": 2e6, "aud": "other"})),
            Err(ErrorKind::Audience)
        );
        assert_eq!(
            check(json!({"exp": 2e6, "aud": []})),
            Err(ErrorKind::Audience)
        );
        assert_eq!(
            check(json!({"exp": 2e6, "aud": [1]})),
            Err(ErrorKind::InvalidClaim)
        );
        assert_eq!(check(json!({"exp": 2e6})), Err(ErrorKind::MissingClaim));
    }

    #[test]
    fn providers_must_be_told_apart() {
        let p = |name: &str, issuer: &str| {
            Provider::builder(name)
                .issuer(issuer)
                .audience("api")
                .hmac_secret([1u8; 32])
                .build()
                .unwrap()
        };
        assert_eq!(Validator::new(vec![]).unwrap_err(), ConfigError::NoProvider);
        let e = Validator::new(vec![p("a", "https://x"), p("a", "https://y")]).unwrap_err();
        assert_eq!(e.to_string(), r#"provider "a" is declared twice"#);
        let e = Validator::new(vec![p("a", "https://x"), p("b", "https://x")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"providers "a" and "b" have the same issuer https://x"#
        );
        assert_eq!(e.field(), Some("issuer"));
    }

    #[test]
    fn fetched_keys_need_a_runtime() {
        let p = Provider::builder("a")
            .issuer("https://x")
            .audience("api")
            .build()
            .unwrap();
        assert_eq!(Validator::new(vec![p]).unwrap_err(), ConfigError::NoRuntime);
    }

    #[test]
    fn alg_parsing() {
        let allowed = [Algorithm::RS256];
        assert_eq!(
            parse_alg("none", &allowed).unwrap_err().kind(),
            ErrorKind::Algorithm
        );
        assert_eq!(
            parse_alg("NoNe", &allowed).unwrap_err().kind(),
            ErrorKind::Algorithm
        );
        assert!(
            parse_alg("HS256", &allowed)
                .unwrap_err()
                .message()
                .contains("not allowed")
        );
        assert!(
            parse_alg("XX\"1", &allowed)
                .unwrap_err()
                .message()
                .contains("`XX1`")
        );
        assert_eq!(parse_alg("RS256", &allowed).unwrap(), Algorithm::RS256);
    }
}
