//! [`KeyRegistry`]: one key cache and one discovery document per issuer.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use super::{KeyCache, KeySource, KeyStats, RefreshPolicy};

/// One key cache and one discovery document per issuer, shared by everything that
/// validates that issuer's tokens: bearer validation and the ID tokens of browser login
/// (and, as they come, logout tokens and peer brokers).
///
/// A provider used both for bearer tokens and for login then makes one discovery and
/// one JWKS request at start, runs one refresh task, and refetches once for an unknown
/// `kid` whichever path sees it first. [`App`](crate::App) (which `providers!` wraps)
/// builds both sides over one registry; give one to a builder yourself only to share
/// key caches with other parts of a program. Cheap to clone; the background tasks stop when the last
/// clone (and every validator using it) is dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), oauth2::ConfigError> {
/// use oauth2::{Authenticator, Provider, jwks::KeyRegistry};
///
/// let registry = KeyRegistry::new();
/// let auth = Authenticator::builder()
///     .registry(registry.clone())
///     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience("api"))
///     .build()?;
/// assert_eq!(registry.issuers(), ["https://login.corp.example"]);
/// # drop(auth); Ok(()) }
/// ```
///
/// The first registration of an issuer decides its key source, refresh policy and HTTP
/// client. A later one that uses discovery shares what is there; one that names other
/// keys (another JWKS URL, a file, an inline set) is a configuration error.
#[derive(Clone, Default)]
pub struct KeyRegistry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    http: Mutex<Option<reqwest::Client>>,
    issuers: Mutex<HashMap<String, KeyCache>>,
}

impl fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRegistry")
            .field("issuers", &self.issuers())
            .finish_non_exhaustive()
    }
}

/// Why an issuer could not be registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RegistryError {
    /// The issuer is registered with other keys.
    Conflict { existing: String, wanted: String },
    /// Fetched keys need a Tokio runtime for their background task.
    NoRuntime,
    /// The default HTTP client could not be built.
    HttpClient(String),
}

impl KeyRegistry {
    /// An empty registry; the default HTTP client (rustls, no redirects) is built when
    /// the first issuer needs one.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty registry whose issuers use `client` unless their provider sets its own.
    pub fn with_http_client(client: reqwest::Client) -> Self {
        let registry = Self::default();
        *lock(&registry.inner.http) = Some(client);
        registry
    }

    /// Whether `other` is this registry (a clone of it), not another one.
    pub(crate) fn same_as(&self, other: &KeyRegistry) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The registered issuers, sorted.
    pub fn issuers(&self) -> Vec<String> {
        let mut issuers: Vec<String> = lock(&self.inner.issuers).keys().cloned().collect();
        issuers.sort();
        issuers
    }

    /// The key cache state of `issuer`.
    pub fn key_stats(&self, issuer: &str) -> Option<KeyStats> {
        self.get(issuer).map(|cache| cache.stats())
    }

    /// The cache of `issuer`, if registered.
    pub(crate) fn get(&self, issuer: &str) -> Option<KeyCache> {
        lock(&self.inner.issuers).get(issuer).cloned()
    }

    /// The cache of `issuer`: the registered one, or a new one that loads `source`.
    pub(crate) fn register(
        &self,
        provider: &Arc<str>,
        issuer: &str,
        source: &KeySource,
        policy: RefreshPolicy,
        client: Option<&reqwest::Client>,
    ) -> Result<KeyCache, RegistryError> {
        let mut issuers = lock(&self.inner.issuers);
        if let Some(cache) = issuers.get(issuer) {
            let existing = cache.source();
            return if matches!(source, KeySource::Discovery) || existing.same_as(source) {
                Ok(cache.clone())
            } else {
                Err(RegistryError::Conflict {
                    existing: existing.describe(),
                    wanted: source.describe(),
                })
            };
        }
        if source.is_fetched() && tokio::runtime::Handle::try_current().is_err() {
            return Err(RegistryError::NoRuntime);
        }
        let client = match client {
            Some(client) => client.clone(),
            None => self.http_client()?,
        };
        let cache = KeyCache::start(
            provider.clone(),
            issuer.to_owned(),
            source.clone(),
            policy,
            client,
        );
        issuers.insert(issuer.to_owned(), cache.clone());
        Ok(cache)
    }

    /// The registry's HTTP client (built on first use).
    pub(crate) fn http_client(&self) -> Result<reqwest::Client, RegistryError> {
        let mut http = lock(&self.inner.http);
        if let Some(client) = &*http {
            return Ok(client.clone());
        }
        let client = default_http_client().map_err(RegistryError::HttpClient)?;
        *http = Some(client.clone());
        Ok(client)
    }
}

/// The client for discovery, JWKS and token requests when none is configured: rustls,
/// no redirects (a redirect could lead a key fetch elsewhere), this crate's user agent.
pub(crate) fn default_http_client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("oauth2-runtime/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

/// Locks a mutex whose data stays consistent even if a holder panicked.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::Url;

    fn name() -> Arc<str> {
        "p".into()
    }

    #[tokio::test]
    async fn one_cache_per_issuer_and_conflicting_keys_are_refused() {
        let registry = KeyRegistry::new();
        let url = KeySource::Url(Url::parse("https://idp.example/keys").unwrap());
        let policy = RefreshPolicy::default();
        let a = registry
            .register(&name(), "https://idp.example", &url, policy, None)
            .unwrap();
        let b = registry
            .register(
                &name(),
                "https://idp.example",
                &KeySource::Discovery,
                policy,
                None,
            )
            .unwrap();
        assert!(a.is(&b));
        let other = KeySource::Url(Url::parse("https://idp.example/other").unwrap());
        assert!(matches!(
            registry.register(&name(), "https://idp.example", &other, policy, None),
            Err(RegistryError::Conflict { .. })
        ));
        registry
            .register(
                &name(),
                "https://other.example",
                &KeySource::Discovery,
                policy,
                None,
            )
            .unwrap();
        assert_eq!(
            registry.issuers(),
            ["https://idp.example", "https://other.example"]
        );
    }

    #[test]
    fn fetched_keys_need_a_runtime() {
        let registry = KeyRegistry::new();
        assert_eq!(
            registry
                .register(
                    &name(),
                    "https://idp.example",
                    &KeySource::Discovery,
                    RefreshPolicy::default(),
                    None
                )
                .err(),
            Some(RegistryError::NoRuntime)
        );
    }
}
