//! Provider configuration: issuer, audience, where keys come from, algorithms, leeway.
//!
//! Everything is checked when [`ProviderBuilder::build`] runs, so a mistake fails at
//! startup with an error that names the provider and the field, never at the first request.
//!
//! ```
//! use std::time::Duration;
//! use oauth2::{Algorithm, Provider};
//!
//! let corp = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience(["api://corp", "corp-cli"])
//!     .jwks_url("https://login.corp.example/keys")
//!     .algorithms([Algorithm::RS256, Algorithm::ES256])
//!     .leeway(Duration::from_secs(30))
//!     .build()
//!     .unwrap();
//! assert_eq!(corp.name(), "corp");
//!
//! let err = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience(Vec::<String>::new())
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.to_string(), r#"provider "corp": audience is empty"#);
//! ```

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};
use url::Url;

use crate::jwks::KeySet;

/// Algorithms accepted when none are configured: every asymmetric JWS algorithm
/// that `jsonwebtoken` supports. Never `none`, never HMAC.
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

const HMAC_ALGORITHMS: [Algorithm; 3] = [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// Default clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// An invalid configuration, reported when the configuration is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// One field of one provider is wrong.
    #[error("provider \"{provider}\": {field} {problem}")]
    Field {
        /// The provider's name.
        provider: String,
        /// The configuration key, e.g. `audience`.
        field: &'static str,
        /// What is wrong with it, e.g. `is empty`.
        problem: String,
    },
    /// An app-wide setting (not a provider's) is wrong.
    #[error("{field} {problem}")]
    Setting {
        /// The setting, e.g. `session_secret`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A setting read from the environment is absent or invalid.
    #[error("environment variable {variable} ({}) {problem}", setting_name(.provider.as_deref(), .field))]
    Env {
        /// The variable's name.
        variable: String,
        /// The provider it configures, if it configures one.
        provider: Option<String>,
        /// The configuration key it gives, e.g. `issuer`.
        field: &'static str,
        /// What is wrong, e.g. `is not set`.
        problem: String,
    },
    /// Two providers have the same name.
    #[error("provider \"{0}\" is declared twice")]
    DuplicateProvider(String),
    /// Two providers have the same issuer, so a token's `iss` cannot pick one.
    #[error("providers \"{first}\" and \"{second}\" have the same issuer {issuer}")]
    DuplicateIssuer {
        /// The provider declared first.
        first: String,
        /// The provider declared second.
        second: String,
        /// The shared issuer.
        issuer: String,
    },
    /// An authenticator needs at least one provider.
    #[error("no provider is configured")]
    NoProvider,
    /// Key loading runs in the background on the Tokio runtime.
    #[error(
        "the authenticator must be built inside a Tokio runtime (it loads keys in the background)"
    )]
    NoRuntime,
}

impl ConfigError {
    /// The provider this error is about, if it is about one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Field { provider, .. } => Some(provider),
            Self::DuplicateProvider(p) => Some(p),
            Self::DuplicateIssuer { second, .. } => Some(second),
            Self::Env { provider, .. } => provider.as_deref(),
            Self::NoProvider | Self::NoRuntime | Self::Setting { .. } => None,
        }
    }

    /// The configuration key this error is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Field { field, .. } | Self::Env { field, .. } | Self::Setting { field, .. } => {
                Some(field)
            }
            Self::DuplicateIssuer { .. } => Some("issuer"),
            _ => None,
        }
    }
}

fn setting_name(provider: Option<&str>, field: &str) -> String {
    match provider {
        Some(provider) => format!("`{field}` of provider \"{provider}\""),
        None => format!("`{field}`"),
    }
}

/// The accepted audiences of a provider: one or many values.
///
/// Built from a string, an array or a vector of strings, so `.audience("api")` and
/// `.audience(["api", "cli"])` both work.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Audience(Vec<String>);

impl Audience {
    /// The accepted values.
    pub fn values(&self) -> &[String] {
        &self.0
    }

    /// Whether `value` is one of them.
    pub fn contains(&self, value: &str) -> bool {
        self.0.iter().any(|v| v == value)
    }
}

/// Reads the `aud` claim: one string or an array of strings.
impl<'de> serde::Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => Self(vec![one]),
            OneOrMany::Many(many) => Self(many),
        })
    }
}

impl From<&str> for Audience {
    fn from(value: &str) -> Self {
        Self(vec![value.to_owned()])
    }
}

impl From<String> for Audience {
    fn from(value: String) -> Self {
        Self(vec![value])
    }
}

impl<S: Into<String>, const N: usize> From<[S; N]> for Audience {
    fn from(values: [S; N]) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String>> From<Vec<S>> for Audience {
    fn from(values: Vec<S>) -> Self {
        Self(values.into_iter().map(Into::into).collect())
    }
}

impl<S: Into<String> + Clone> From<&[S]> for Audience {
    fn from(values: &[S]) -> Self {
        Self(values.iter().cloned().map(Into::into).collect())
    }
}

/// Where a provider's verification keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
    Discovery(Url),
    /// A JWKS URL fetched directly.
    Url(Url),
    /// A JWK set given inline; never refreshed.
    Static(Arc<KeySet>),
    /// A JWKS file, read at startup and again at each refresh.
    File(PathBuf),
    /// A shared HMAC secret (the only key; HS* algorithms only).
    Secret(Arc<DecodingKey>),
}

/// Timing of the background key cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// Refresh period when the JWKS response has no `Cache-Control: max-age`.
    pub(crate) interval: Duration,
    /// Bounds applied to a `max-age` from the JWKS response.
    pub(crate) min_interval: Duration,
    pub(crate) max_interval: Duration,
    /// Minimum time between two refetches triggered by an unknown `kid`.
    pub(crate) unknown_kid_cooldown: Duration,
    /// Timeout of one discovery or JWKS request.
    pub(crate) fetch_timeout: Duration,
    /// First and largest delay between retries after a failed fetch.
    pub(crate) backoff_initial: Duration,
    pub(crate) backoff_max: Duration,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(3600),
            min_interval: Duration::from_secs(300),
            max_interval: Duration::from_secs(24 * 3600),
            unknown_kid_cooldown: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(5),
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(60),
        }
    }
}

/// The validated configuration of one identity provider.
///
/// Made by [`Provider::builder`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Provider {
    pub(crate) name: Arc<str>,
    pub(crate) issuer: String,
    /// `None`: any audience is accepted (see [`ProviderBuilder::danger_accept_any_audience`]).
    pub(crate) audience: Option<Audience>,
    pub(crate) keys: KeySource,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: Duration,
    pub(crate) required_typ: Option<String>,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) http: Option<reqwest::Client>,
}

impl Provider {
    /// Starts the configuration of a provider named `name` (used in errors, logs and
    /// request extensions).
    pub fn builder(name: impl Into<String>) -> ProviderBuilder {
        ProviderBuilder {
            name: name.into(),
            issuer: None,
            audience: None,
            any_audience: false,
            keys: KeyChoice::Discovery,
            algorithms: None,
            hmac_secret: None,
            leeway: DEFAULT_LEEWAY,
            required_typ: None,
            refresh: RefreshPolicy::default(),
            http: None,
        }
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The exact issuer (`iss`) its tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The accepted audiences; `None` when any audience is accepted.
    pub fn audience(&self) -> Option<&Audience> {
        self.audience.as_ref()
    }

    /// The accepted signature algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The tolerated clock skew.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }
}

#[derive(Debug, Clone)]
enum KeyChoice {
    Discovery,
    Url(String),
    Json(String),
    File(PathBuf),
}

/// Builds a [`Provider`]; every setter takes literals or expressions, and
/// [`build`](Self::build) checks the whole configuration.
#[derive(Debug, Clone)]
#[must_use = "call `.build()` or pass the builder to `Authenticator::builder().provider(...)`"]
pub struct ProviderBuilder {
    name: String,
    issuer: Option<String>,
    audience: Option<Audience>,
    any_audience: bool,
    keys: KeyChoice,
    algorithms: Option<Vec<Algorithm>>,
    hmac_secret: Option<Vec<u8>>,
    leeway: Duration,
    required_typ: Option<String>,
    refresh: RefreshPolicy,
    http: Option<reqwest::Client>,
}

impl ProviderBuilder {
    /// The issuer URL: tokens must carry exactly this `iss`, and discovery reads
    /// `{issuer}/.well-known/openid-configuration`. Required; `https://` unless the
    /// host is loopback.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The accepted audiences (`aud` must contain at least one). Required.
    pub fn audience(mut self, audience: impl Into<Audience>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Accepts tokens for any audience, or none.
    ///
    /// Dangerous: a token issued for another application of the same provider is then
    /// accepted here. Only for providers whose tokens are all meant for this service.
    pub fn danger_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Keys from OIDC discovery on the issuer (the default).
    pub fn discovery(mut self) -> Self {
        self.keys = KeyChoice::Discovery;
        self
    }

    /// Keys from this JWKS URL instead of discovery.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.keys = KeyChoice::Url(url.into());
        self
    }

    /// Keys from this JWK set (JSON text); never refreshed.
    pub fn jwks_json(mut self, json: impl Into<String>) -> Self {
        self.keys = KeyChoice::Json(json.into());
        self
    }

    /// Keys from a JWKS file, read at startup and again at each refresh.
    pub fn jwks_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.keys = KeyChoice::File(path.into());
        self
    }

    /// A shared HMAC secret (at least 32 bytes). The provider then accepts HS256, HS384
    /// and HS512 (or the HMAC subset given to [`algorithms`](Self::algorithms)) and
    /// nothing else.
    pub fn hmac_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.hmac_secret = Some(secret.as_ref().to_vec());
        self
    }

    /// The accepted signature algorithms; default [`DEFAULT_ALGORITHMS`].
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`; default 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires this JOSE `typ` header, e.g. `at+jwt` for RFC 9068 access tokens
    /// (compared case-insensitively; `application/` may be omitted on either side).
    pub fn required_typ(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Refresh period of the key set when the JWKS response has no
    /// `Cache-Control: max-age`; default 1 h.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh.interval = interval;
        self
    }

    /// Minimum time between two key refetches triggered by a token with an unknown
    /// `kid`; default 30 s.
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.refresh.unknown_kid_cooldown = cooldown;
        self
    }

    /// Timeout of one discovery or JWKS request; default 5 s.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.refresh.fetch_timeout = timeout;
        self
    }

    /// First and largest delay between retries after a failed key fetch;
    /// default 500 ms doubling up to 60 s.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.refresh.backoff_initial = initial;
        self.refresh.backoff_max = max;
        self
    }

    /// The HTTP client for discovery and JWKS requests (to set proxies or root
    /// certificates). Redirects should stay disabled, as in the default client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let name = self.name;
        let err = |field: &'static str, problem: String| ConfigError::Field {
            provider: name.clone(),
            field,
            problem,
        };
        if name.is_empty() {
            return Err(err("name", "is empty".into()));
        }

        let issuer = self
            .issuer
            .ok_or_else(|| err("issuer", "is missing".into()))?;
        let issuer_url = check_url(&issuer).map_err(|p| err("issuer", p))?;
        if issuer_url.query().is_some() {
            return Err(err("issuer", format!("`{issuer}` must not have a query")));
        }

        let audience = match (self.audience, self.any_audience) {
            (_, true) => None,
            (None, false) => {
                return Err(err(
                    "audience",
                    "is missing (or call danger_accept_any_audience)".into(),
                ));
            }
            (Some(aud), false) => {
                if aud.0.is_empty() {
                    return Err(err("audience", "is empty".into()));
                }
                if aud.0.iter().any(String::is_empty) {
                    return Err(err("audience", "contains an empty value".into()));
                }
                Some(aud)
            }
        };

        let (keys, algorithms) = if let Some(secret) = self.hmac_secret {
            if secret.len() < 32 {
                return Err(err(
                    "hmac_secret",
                    format!("is {} bytes; at least 32 are required", secret.len()),
                ));
            }
            if !matches!(self.keys, KeyChoice::Discovery) {
                return Err(err(
                    "hmac_secret",
                    "cannot be combined with jwks keys".into(),
                ));
            }
            let algorithms = self.algorithms.unwrap_or_else(|| HMAC_ALGORITHMS.to_vec());
            if let Some(alg) = algorithms.iter().find(|a| !HMAC_ALGORITHMS.contains(a)) {
                return Err(err(
                    "algorithms",
                    format!(
                        "contains {alg:?}, but a provider with an hmac_secret accepts only HS256, HS384, HS512"
                    ),
                ));
            }
            let key = KeySource::Secret(Arc::new(DecodingKey::from_secret(&secret)));
            (key, algorithms)
        } else {
            let algorithms = self
                .algorithms
                .unwrap_or_else(|| DEFAULT_ALGORITHMS.to_vec());
            if let Some(alg) = algorithms.iter().find(|a| HMAC_ALGORITHMS.contains(a)) {
                return Err(err(
                    "algorithms",
                    format!("contains {alg:?}, which needs an explicit hmac_secret"),
                ));
            }
            let keys = match self.keys {
                KeyChoice::Discovery => {
                    let url = crate::discovery::metadata_url(&issuer)
                        .map_err(|e| err("issuer", e.to_string()))?;
                    KeySource::Discovery(url)
                }
                KeyChoice::Url(url) => KeySource::Url(check_url(&url).map_err(|p| err("jwks", p))?),
                KeyChoice::Json(json) => {
                    let set = KeySet::from_json(json.as_bytes())
                        .map_err(|e| err("jwks", e.to_string()))?;
                    KeySource::Static(Arc::new(set))
                }
                KeyChoice::File(path) => {
                    let bytes = std::fs::read(&path).map_err(|e| {
                        err(
                            "jwks_file",
                            format!("`{}` cannot be read: {e}", path.display()),
                        )
                    })?;
                    KeySet::from_json(&bytes)
                        .map_err(|e| err("jwks_file", format!("`{}`: {e}", path.display())))?;
                    KeySource::File(path)
                }
            };
            (keys, algorithms)
        };
        if algorithms.is_empty() {
            return Err(err("algorithms", "is empty".into()));
        }

        let r = self.refresh;
        if r.interval.is_zero() || r.fetch_timeout.is_zero() || r.backoff_initial.is_zero() {
            return Err(err(
                "refresh",
                "intervals, timeouts and backoff must be greater than zero".into(),
            ));
        }
        if r.backoff_max < r.backoff_initial {
            return Err(err(
                "retry_backoff",
                "maximum is smaller than the initial delay".into(),
            ));
        }

        let required_typ = self.required_typ.map(|t| normalize_typ(&t).to_owned());
        Ok(Provider {
            name: name.as_str().into(),
            issuer,
            audience,
            keys,
            algorithms,
            leeway: self.leeway,
            required_typ,
            refresh: self.refresh,
            http: self.http,
        })
    }
}

/// Strips the optional `application/` prefix of a JOSE `typ` value (RFC 7515 §4.1.9),
/// lowercased for comparison.
pub(crate) fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}

/// Parses a URL that must be `https://`, or `http://` on a loopback host.
pub(crate) fn check_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("`{value}` must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{value}` must use https:// (http:// is allowed only on loopback hosts)"
        )),
        other => Err(format!(
            "`{value}` has scheme `{other}`; https:// is required"
        )),
    }
}

pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ProviderBuilder {
        Provider::builder("corp")
            .issuer("https://login.corp.example")
            .audience("api")
    }

    fn field_error(b: ProviderBuilder) -> (String, &'static str) {
        let e = b.build().unwrap_err();
        (e.to_string(), e.field().unwrap())
    }

    #[test]
    fn defaults() {
        let p = base().build().unwrap();
        assert_eq!(p.algorithms(), DEFAULT_ALGORITHMS);
        assert_eq!(p.leeway(), Duration::from_secs(60));
        assert!(matches!(&p.keys, KeySource::Discovery(u)
            if u.as_str() == "https://login.corp.example/.well-known/openid-configuration"));
        let p = base()
            .issuer("https://idp.example/realms/x/")
            .build()
            .unwrap();
        assert!(matches!(&p.keys, KeySource::Discovery(u)
            if u.as_str() == "https://idp.example/realms/x/.well-known/openid-configuration"));
    }

    #[test]
    fn errors_name_provider_and_field() {
        assert_eq!(
            field_error(Provider::builder("corp").audience("a")),
            (r#"provider "corp": issuer is missing"#.into(), "issuer")
        );
        let (msg, field) = field_error(base().issuer("http://login.corp.example"));
        assert_eq!(field, "issuer");
        assert!(msg.contains("must use https://"), "{msg}");
        let (msg, field) = field_error(base().jwks_url("ftp://x/keys"));
        assert_eq!(field, "jwks");
        assert!(msg.contains("scheme `ftp`"), "{msg}");
        let (_, field) = field_error(Provider::builder("c").issuer("https://x"));
        assert_eq!(field, "audience");
        let (msg, _) = field_error(base().audience(["a", ""]));
        assert!(msg.ends_with("audience contains an empty value"), "{msg}");
        let (msg, field) = field_error(base().jwks_json("{not json"));
        assert_eq!(field, "jwks");
        assert!(msg.contains("not a JWK set"), "{msg}");
        let (msg, field) = field_error(base().jwks_file("/nonexistent/keys.json"));
        assert_eq!(field, "jwks_file");
        assert!(msg.contains("cannot be read"), "{msg}");
    }

    #[test]
    fn loopback_http_is_allowed() {
        for issuer in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            base().issuer(issuer).build().unwrap();
        }
        assert!(
            base()
                .issuer("http://127.0.0.1.example.com")
                .build()
                .is_err()
        );
    }

    #[test]
    fn hmac_only_when_explicit_and_exclusive() {
        let (msg, field) = field_error(base().algorithms([Algorithm::HS256]));
        assert_eq!(field, "algorithms");
        assert!(msg.contains("needs an explicit hmac_secret"), "{msg}");
        let (msg, field) = field_error(base().hmac_secret("short"));
        assert_eq!(field, "hmac_secret");
        assert!(msg.contains("at least 32"), "{msg}");
        let secret = [7u8; 32];
        let (msg, _) = field_error(
            base()
                .hmac_secret(secret)
                .algorithms([Algorithm::HS256, Algorithm::RS256]),
        );
        assert!(msg.contains("accepts only HS256"), "{msg}");
        let p = base().hmac_secret(secret).build().unwrap();
        assert_eq!(p.algorithms(), HMAC_ALGORITHMS);
        assert!(matches!(p.keys, KeySource::Secret(_)));
        assert!(
            base()
                .hmac_secret(secret)
                .jwks_url("https://x/k")
                .build()
                .is_err()
        );
    }

    #[test]
    fn any_audience_is_explicit() {
        let p = Provider::builder("c")
            .issuer("https://x")
            .danger_accept_any_audience()
            .build()
            .unwrap();
        assert!(p.audience().is_none());
    }

    #[test]
    fn typ_normalization() {
        assert_eq!(normalize_typ("application/AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("at+jwt"), "at+jwt");
    }
}
