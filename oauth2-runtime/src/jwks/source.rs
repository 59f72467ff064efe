//! Where an issuer's verification keys come from, and how often they are fetched.

#[cfg(feature = "broker")]
use std::future::Future;
use std::path::PathBuf;
#[cfg(feature = "broker")]
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::DecodingKey;
use url::Url;

use super::KeySet;

/// Where a provider's verification keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// `{issuer}/.well-known/openid-configuration` → `jwks_uri`.
    Discovery,
    /// A JWKS URL fetched directly.
    Url(Url),
    /// A JWK set given inline; never refreshed.
    Static(Arc<KeySet>),
    /// A JWKS file, read at startup and again at each refresh.
    File(PathBuf),
    /// A shared HMAC secret (the only key; HS* algorithms only). Never in a registry.
    Secret(Arc<DecodingKey>),
    /// Keys an issuer in this process holds (the broker's): read, not fetched over
    /// HTTP, and refreshed like fetched ones.
    #[cfg(feature = "broker")]
    Local(LocalSource),
}

/// A JWKS document as bytes, or why there is none.
#[cfg(feature = "broker")]
pub(crate) type LocalJwks<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, String>> + Send + 'a>>;

/// An issuer in this process that publishes its own keys.
#[cfg(feature = "broker")]
pub(crate) trait LocalKeys: Send + Sync + 'static {
    /// Its JWKS document.
    fn jwks_json(&self) -> LocalJwks<'_>;
    /// How long the document may be kept before it is read again.
    fn max_age(&self) -> Duration;
}

/// A [`LocalKeys`] as a key source.
#[cfg(feature = "broker")]
#[derive(Clone)]
pub(crate) struct LocalSource(pub(crate) Arc<dyn LocalKeys>);

#[cfg(feature = "broker")]
impl std::fmt::Debug for LocalSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LocalSource")
    }
}

impl KeySource {
    /// Whether keys are fetched (and refreshed) rather than given.
    pub(crate) fn is_fetched(&self) -> bool {
        match self {
            Self::Discovery | Self::Url(_) | Self::File(_) => true,
            #[cfg(feature = "broker")]
            Self::Local(_) => true,
            Self::Static(_) | Self::Secret(_) => false,
        }
    }

    /// Whether two sources name the same keys.
    pub(crate) fn same_as(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Discovery, Self::Discovery) => true,
            (Self::Url(a), Self::Url(b)) => a == b,
            (Self::File(a), Self::File(b)) => a == b,
            (Self::Static(a), Self::Static(b)) => Arc::ptr_eq(a, b),
            #[cfg(feature = "broker")]
            (Self::Local(a), Self::Local(b)) => Arc::ptr_eq(&a.0, &b.0),
            _ => false,
        }
    }

    /// How the source reads in messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Discovery => "discovery".into(),
            Self::Url(url) => format!("the JWKS at {url}"),
            Self::Static(_) => "an inline JWKS".into(),
            Self::File(path) => format!("the JWKS file {}", path.display()),
            Self::Secret(_) => "an HMAC secret".into(),
            #[cfg(feature = "broker")]
            Self::Local(_) => "the keys this app publishes".into(),
        }
    }
}

use crate::defaults;
pub use crate::defaults::DEFAULT_UNKNOWN_KID_COOLDOWN;

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
            interval: defaults::DEFAULT_REFRESH_INTERVAL,
            min_interval: defaults::MIN_REFRESH_INTERVAL,
            max_interval: defaults::MAX_REFRESH_INTERVAL,
            unknown_kid_cooldown: DEFAULT_UNKNOWN_KID_COOLDOWN,
            fetch_timeout: defaults::DEFAULT_FETCH_TIMEOUT,
            backoff_initial: defaults::DEFAULT_RETRY_BACKOFF.0,
            backoff_max: defaults::DEFAULT_RETRY_BACKOFF.1,
        }
    }
}
