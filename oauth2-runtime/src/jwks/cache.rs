//! One issuer's keys, kept fresh in the background, and its discovery metadata, fetched
//! once and shared by key loading and login.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use sha2::Digest as _;
use tokio::sync::{OnceCell, watch};
use tracing::Instrument as _;
use url::Url;

use super::{JwksError, KeySet, KeySource, RefreshPolicy};
use crate::discovery::{self, DiscoveryError, ProviderMetadata};

/// Largest JWKS response accepted.
const MAX_JWKS_BYTES: usize = 1 << 20;

/// Observable state of one issuer's key cache (for tests and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStats {
    /// Fetches started (startup, periodic refresh and unknown-`kid` refetches).
    pub fetches: u64,
    /// Fetches that failed; the previous keys were kept.
    pub failures: u64,
    /// Fetches that found the keys unchanged (HTTP 304 to a conditional request, or the
    /// same document): the keys, and the tokens cached as verified by them, were kept.
    pub unchanged: u64,
    /// Fetches triggered by a token with an unknown `kid`.
    pub unknown_kid_refetches: u64,
    /// Discovery documents fetched (one, unless fetching it failed).
    pub discoveries: u64,
    /// When keys were last loaded successfully.
    pub last_success: Option<SystemTime>,
    /// The number of usable keys held now.
    pub keys: usize,
}

/// Why one fetch of the keys failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FetchError {
    #[error(transparent)]
    Discovery(#[from] DiscoveryError),
    #[error("JWKS request to {url} failed: {source}")]
    Http {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("JWKS at {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge { url: String },
    #[error("JWKS at {url} {source}")]
    Jwks {
        url: String,
        #[source]
        source: JwksError,
    },
    #[error("JWKS file {path}: {reason}")]
    File { path: String, reason: String },
    #[error("keys given in the configuration are not fetched")]
    NotFetched,
    #[cfg(feature = "broker")]
    #[error("this app's own keys: {0}")]
    Local(String),
}

/// The response validator and the digest of the document the keys were loaded from.
#[derive(Default)]
struct LoadedFrom {
    etag: Option<String>,
    digest: Option<[u8; 32]>,
}

/// What one fetch brought.
enum Fetched {
    /// A JWK set document, from where `origin` says.
    Document {
        body: Vec<u8>,
        max_age: Option<Duration>,
        etag: Option<String>,
        origin: Origin,
    },
    /// HTTP 304 from `url`: the keys have not changed since the `ETag` sent.
    NotModified {
        max_age: Option<Duration>,
        url: String,
    },
}

/// Where a document came from, for the error when it is not a usable JWK set.
enum Origin {
    Url(String),
    File(String),
    #[cfg(feature = "broker")]
    Local,
}

impl Origin {
    fn error(self, e: JwksError) -> FetchError {
        match self {
            Origin::Url(url) => FetchError::Jwks { url, source: e },
            Origin::File(path) => FetchError::File {
                path,
                reason: e.to_string(),
            },
            #[cfg(feature = "broker")]
            Origin::Local => FetchError::Local(e.to_string()),
        }
    }
}

/// The keys and discovery metadata of one issuer. Cheap to clone; every clone shares
/// one background task, one unknown-`kid` cooldown and one discovery.
#[derive(Clone)]
pub(crate) struct KeyCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    /// The name of the provider that registered the issuer first (for logs).
    provider: Arc<str>,
    issuer: String,
    source: KeySource,
    policy: RefreshPolicy,
    client: reqwest::Client,
    keys: ArcSwapOption<KeySet>,
    /// The issuer's discovery document, once fetched; a failed fetch is tried again.
    metadata: OnceCell<Arc<ProviderMetadata>>,
    /// Serializes unknown-`kid` refetches; holds when the last one started.
    refetch: tokio::sync::Mutex<Option<Instant>>,
    /// Bumped on every load that changed the keys; watchers wait for the first.
    generation: watch::Sender<u64>,
    /// Bumped after every fetch, whatever came of it.
    attempts: watch::Sender<u64>,
    /// What identifies the keys loaded last, to ask for and to recognise them again.
    loaded_from: Mutex<LoadedFrom>,
    fetches: AtomicU64,
    failures: AtomicU64,
    unchanged: AtomicU64,
    unknown_kid_refetches: AtomicU64,
    discoveries: AtomicU64,
    last_success_ms: AtomicU64,
    next_retry_ms: AtomicU64,
    task: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Drop for CacheInner {
    fn drop(&mut self) {
        if let Some(task) = self.task.get_mut().ok().and_then(Option::take) {
            task.abort();
        }
    }
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl KeyCache {
    /// Creates the cache of `issuer` and, for fetched keys, starts its background task.
    /// Must run inside a Tokio runtime when keys are fetched.
    pub(crate) fn start(
        provider: Arc<str>,
        issuer: String,
        source: KeySource,
        policy: RefreshPolicy,
        client: reqwest::Client,
    ) -> Self {
        let inner = Arc::new(CacheInner {
            provider,
            issuer,
            source,
            policy,
            client,
            keys: ArcSwapOption::empty(),
            metadata: OnceCell::new(),
            refetch: tokio::sync::Mutex::new(None),
            generation: watch::Sender::new(0),
            attempts: watch::Sender::new(0),
            loaded_from: Mutex::default(),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            unknown_kid_refetches: AtomicU64::new(0),
            discoveries: AtomicU64::new(0),
            last_success_ms: AtomicU64::new(0),
            next_retry_ms: AtomicU64::new(0),
            task: Mutex::new(None),
        });
        let cache = Self { inner };
        match &cache.inner.source {
            KeySource::Static(set) => {
                cache.inner.keys.store(Some(set.clone()));
                cache.inner.generation.send_replace(1);
            }
            KeySource::Secret(_) => {}
            _ => {
                let weak = Arc::downgrade(&cache.inner);
                let task = tokio::spawn(refresh_loop(weak));
                *cache.inner.task.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(task.abort_handle());
            }
        }
        cache
    }

    /// Whether both handles are the same cache.
    #[cfg(test)]
    pub(crate) fn is(&self, other: &KeyCache) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    pub(crate) fn source(&self) -> &KeySource {
        &self.inner.source
    }

    /// The issuer's discovery metadata: fetched once (with the configured timeout) and
    /// shared by key loading and login; concurrent callers share one request, and a
    /// failure is tried again by the next caller.
    pub(crate) async fn metadata(&self) -> Result<Arc<ProviderMetadata>, DiscoveryError> {
        let i = &self.inner;
        i.metadata
            .get_or_try_init(|| async {
                i.discoveries.fetch_add(1, Ordering::Relaxed);
                discovery::fetch_first(&i.client, &i.issuer, i.policy.fetch_timeout)
                    .await
                    .map(Arc::new)
            })
            .await
            .cloned()
    }

    /// The current keys, without taking a lock; `None` until the first load.
    pub(crate) fn current(&self) -> arc_swap::Guard<Option<Arc<KeySet>>> {
        self.inner.keys.load()
    }

    /// How long a client should wait before retrying while no keys are loaded.
    pub(crate) fn retry_after(&self) -> Duration {
        let next = self.inner.next_retry_ms.load(Ordering::Relaxed);
        let now = unix_ms(SystemTime::now());
        Duration::from_millis(next.saturating_sub(now)).max(Duration::from_secs(1))
    }

    /// The longest one discovery or JWKS request may take.
    pub(crate) fn fetch_timeout(&self) -> Duration {
        self.inner.policy.fetch_timeout
    }

    /// Whether the first load is still under way: no fetch has finished yet.
    pub(crate) fn loading_first(&self) -> bool {
        *self.inner.attempts.borrow() == 0
    }

    /// Waits until the first fetch has finished, with keys or without.
    pub(crate) async fn first_attempt(&self) {
        let mut rx = self.inner.attempts.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|n| *n > 0).await;
    }

    /// Waits until keys are loaded (or returns at once if they are).
    pub(crate) async fn ready(&self) {
        if matches!(self.inner.source, KeySource::Secret(_)) {
            return;
        }
        let mut rx = self.inner.generation.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|g| *g > 0).await;
    }

    pub(crate) fn stats(&self) -> KeyStats {
        let i = &self.inner;
        let last = i.last_success_ms.load(Ordering::Relaxed);
        KeyStats {
            fetches: i.fetches.load(Ordering::Relaxed),
            failures: i.failures.load(Ordering::Relaxed),
            unchanged: i.unchanged.load(Ordering::Relaxed),
            unknown_kid_refetches: i.unknown_kid_refetches.load(Ordering::Relaxed),
            discoveries: i.discoveries.load(Ordering::Relaxed),
            last_success: (last > 0).then(|| UNIX_EPOCH + Duration::from_millis(last)),
            keys: i.keys.load().as_ref().map_or(0, |k| k.len()),
        }
    }

    /// Called when a token names a `kid` that set `seen` does not have. Refetches unless
    /// another request already did (then its result is used) or the cooldown is running.
    /// Returns whether the keys changed since `seen`.
    pub(crate) async fn refetch_for_unknown_kid(&self, seen: u64) -> bool {
        if !self.inner.source.is_fetched() {
            return false;
        }
        let mut last = self.inner.refetch.lock().await;
        if *self.inner.generation.borrow() != seen {
            return true;
        }
        if last.is_some_and(|t| t.elapsed() < self.inner.policy.unknown_kid_cooldown) {
            return false;
        }
        *last = Some(Instant::now());
        self.inner
            .unknown_kid_refetches
            .fetch_add(1, Ordering::Relaxed);
        match self.fetch("unknown_kid").await {
            Ok(_) => *self.inner.generation.borrow() != seen,
            Err(e) => {
                self.warn(&e);
                false
            }
        }
    }

    fn warn(&self, e: &FetchError) {
        let held = self.inner.keys.load().as_ref().map_or(0, |k| k.len());
        tracing::warn!(provider = %self.inner.provider, issuer = %self.inner.issuer, error = %e, keys_kept = held, "fetching keys failed");
    }

    fn store(&self, mut set: KeySet) {
        let generation = *self.inner.generation.borrow() + 1;
        set.generation = generation;
        self.inner.keys.store(Some(Arc::new(set)));
        self.inner.generation.send_replace(generation);
        self.inner
            .last_success_ms
            .store(unix_ms(SystemTime::now()), Ordering::Relaxed);
    }

    /// Fetches the keys once and stores them if they changed. Returns the `max-age` of
    /// the response.
    ///
    /// In a span `oauth2.keys.fetch` with the provider, the issuer and why (`load`,
    /// `refresh`, `unknown_kid`).
    async fn fetch(&self, reason: &'static str) -> Result<Option<Duration>, FetchError> {
        let i = &self.inner;
        i.fetches.fetch_add(1, Ordering::Relaxed);
        let span = tracing::info_span!(
            "oauth2.keys.fetch",
            provider = %i.provider,
            issuer = %i.issuer,
            reason,
        );
        let result = match self.fetch_inner().instrument(span.clone()).await {
            Ok(fetched) => span.in_scope(|| self.load(fetched)),
            Err(e) => Err(e),
        };
        let found = match &result {
            Ok((_, found)) => found,
            Err(_) => {
                i.failures.fetch_add(1, Ordering::Relaxed);
                "failed"
            }
        };
        crate::metrics::key_fetch(&i.provider, reason, found);
        i.attempts.send_modify(|n| *n += 1);
        result.map(|(max_age, _)| max_age)
    }

    /// Stores what a fetch brought, unless it is the keys held already: then the set and
    /// its generation stay, and with them the tokens cached as verified by it. Returns
    /// the `max-age` and what the fetch found (`updated` or `unchanged`).
    fn load(&self, fetched: Fetched) -> Result<(Option<Duration>, &'static str), FetchError> {
        let i = &self.inner;
        let (body, max_age, etag, origin) = match fetched {
            // Only an answer to our conditional request, sent while keys are held.
            Fetched::NotModified { url, .. } if i.keys.load().is_none() => {
                return Err(FetchError::Status { url, status: 304 });
            }
            Fetched::NotModified { max_age, .. } => {
                self.unchanged(None);
                return Ok((max_age, "unchanged"));
            }
            Fetched::Document {
                body,
                max_age,
                etag,
                origin,
            } => (body, max_age, etag, origin),
        };
        let digest: [u8; 32] = sha2::Sha256::digest(&body).into();
        let held = i.keys.load().is_some();
        if held && self.loaded_from().digest == Some(digest) {
            self.unchanged(etag);
            return Ok((max_age, "unchanged"));
        }
        let set = KeySet::from_json(&body).map_err(|e| origin.error(e))?;
        tracing::debug!(provider = %i.provider, keys = set.len(), "keys loaded");
        self.store(set);
        *self.loaded_from() = LoadedFrom {
            etag,
            digest: Some(digest),
        };
        Ok((max_age, "updated"))
    }

    fn loaded_from(&self) -> std::sync::MutexGuard<'_, LoadedFrom> {
        self.inner
            .loaded_from
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Counts a fetch that found the keys unchanged; keeps a new `ETag` for them.
    fn unchanged(&self, etag: Option<String>) {
        let i = &self.inner;
        i.unchanged.fetch_add(1, Ordering::Relaxed);
        if etag.is_some() {
            self.loaded_from().etag = etag;
        }
        i.last_success_ms
            .store(unix_ms(SystemTime::now()), Ordering::Relaxed);
        tracing::debug!(provider = %i.provider, "keys unchanged");
    }

    async fn fetch_inner(&self) -> Result<Fetched, FetchError> {
        let i = &self.inner;
        let url = match &i.source {
            KeySource::Url(url) => url.clone(),
            KeySource::Discovery => {
                let meta = self.metadata().await?;
                // `discovery::fetch` checked that this parses.
                Url::parse(&meta.jwks_uri).map_err(|e| DiscoveryError::Invalid {
                    url: i.issuer.clone(),
                    reason: e.to_string(),
                })?
            }
            KeySource::File(path) => {
                let file_err = |reason: String| FetchError::File {
                    path: path.display().to_string(),
                    reason,
                };
                let body = tokio::fs::read(path)
                    .await
                    .map_err(|e| file_err(e.to_string()))?;
                return Ok(Fetched::Document {
                    body,
                    max_age: None,
                    etag: None,
                    origin: Origin::File(path.display().to_string()),
                });
            }
            #[cfg(feature = "broker")]
            KeySource::Local(local) => {
                let body = local.0.jwks_json().await.map_err(FetchError::Local)?;
                return Ok(Fetched::Document {
                    body,
                    max_age: Some(local.0.max_age()),
                    etag: None,
                    origin: Origin::Local,
                });
            }
            // Given keys are never fetched: no task runs and refetches return early.
            KeySource::Static(_) | KeySource::Secret(_) => return Err(FetchError::NotFetched),
        };
        let http = |source| FetchError::Http {
            url: url.to_string(),
            source,
        };
        let mut request = i.client.get(url.clone()).timeout(i.policy.fetch_timeout);
        // A conditional request once keys are held: an unchanged set costs a 304.
        let etag = self.loaded_from().etag.clone();
        if let (Some(etag), true) = (etag, i.keys.load().is_some()) {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let mut response = request.send().await.map_err(http)?;
        let max_age = response
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_max_age);
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(Fetched::NotModified {
                max_age,
                url: url.to_string(),
            });
        }
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let etag = response
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched::Document {
            body,
            max_age,
            etag,
            origin: Origin::Url(url.to_string()),
        })
    }

    fn next_interval(&self, max_age: Option<Duration>) -> Duration {
        let p = &self.inner.policy;
        match max_age {
            Some(age) => age.clamp(p.min_interval, p.max_interval),
            None => p.interval,
        }
    }
}

/// Reads `max-age=N` from a `Cache-Control` value.
fn parse_max_age(value: &str) -> Option<Duration> {
    value.split(',').find_map(|directive| {
        let (name, secs) = directive.trim().split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("max-age") {
            return None;
        }
        secs.trim()
            .trim_matches('"')
            .parse()
            .ok()
            .map(Duration::from_secs)
    })
}

/// The delay after `previous` failed retries: doubling from the initial delay, capped,
/// and never overflowing.
fn backoff(policy: &RefreshPolicy, previous: Option<Duration>) -> Duration {
    previous.map_or(policy.backoff_initial, |d| {
        d.saturating_mul(2).min(policy.backoff_max)
    })
}

/// Loads, then refreshes, the keys of one issuer until the cache is dropped.
async fn refresh_loop(weak: Weak<CacheInner>) {
    let mut previous = None::<Duration>;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let cache = KeyCache { inner };
        let reason = if cache.inner.keys.load().is_some() {
            "refresh"
        } else {
            "load"
        };
        let wait = match cache.fetch(reason).await {
            Ok(max_age) => {
                previous = None;
                cache.next_interval(max_age)
            }
            Err(e) => {
                cache.warn(&e);
                let delay = backoff(&cache.inner.policy, previous);
                previous = Some(delay);
                let next = SystemTime::now()
                    .checked_add(delay)
                    .map_or(u64::MAX, unix_ms);
                cache.inner.next_retry_ms.store(next, Ordering::Relaxed);
                delay
            }
        };
        drop(cache);
        // tokio saturates a sleep that would overflow its clock.
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_age_parsing() {
        assert_eq!(
            parse_max_age("public, max-age=600"),
            Some(Duration::from_secs(600))
        );
        assert_eq!(parse_max_age("MAX-AGE=\"7\""), Some(Duration::from_secs(7)));
        assert_eq!(parse_max_age("no-cache"), None);
        assert_eq!(parse_max_age("max-age=abc"), None);
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_never_overflows() {
        let policy = RefreshPolicy {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::MAX,
            ..RefreshPolicy::default()
        };
        assert_eq!(backoff(&policy, None), Duration::from_secs(1));
        assert_eq!(
            backoff(&policy, Some(Duration::from_secs(4))),
            Duration::from_secs(8)
        );
        assert_eq!(backoff(&policy, Some(Duration::MAX)), Duration::MAX);
        let capped = RefreshPolicy {
            backoff_max: Duration::from_secs(5),
            ..policy
        };
        assert_eq!(
            backoff(&capped, Some(Duration::from_secs(4))),
            Duration::from_secs(5)
        );
    }
}
