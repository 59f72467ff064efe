//! JWK sets and the per-provider key cache.
//!
//! A [`KeySet`] is parsed once per fetch: every usable signing key becomes a ready
//! verifying key, so the request path never parses a JWK. Keys with `use: "enc"`,
//! symmetric (`oct`) keys and keys of unsupported types are skipped.
//!
//! The cache behind each provider loads keys in the background at startup (retrying
//! with capped backoff), refreshes them periodically (`Cache-Control: max-age` clamped to
//! [5 min, 24 h], else every hour), refetches at most once per cooldown when a token names
//! an unknown `kid` (concurrent requests share one fetch), and keeps its previous keys
//! when a fetch fails. Requests read the current set without taking a lock.
//!
//! ```
//! let jwks = r#"{"keys":[
//!   {"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
//!   {"kty":"RSA","use":"enc","kid":"enc-1","n":"AQAB","e":"AQAB"}
//! ]}"#;
//! let set = oauth2::jwks::KeySet::from_json(jwks.as_bytes()).unwrap();
//! assert_eq!(set.key_ids().collect::<Vec<_>>(), ["k1"]); // the encryption key is ignored
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwapOption;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use tokio::sync::watch;
use url::Url;

use crate::config::{KeySource, Provider, RefreshPolicy};
use crate::discovery::{self, DiscoveryError};

/// Largest JWKS response accepted.
const MAX_JWKS_BYTES: usize = 1 << 20;

/// Why a JWK set could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The text is not a JSON object with a `keys` array.
    #[error("is not a JWK set: {0}")]
    NotAJwkSet(String),
    /// The set holds no key that can verify signatures.
    #[error("contains no usable signing key ({skipped} skipped)")]
    NoUsableKey {
        /// Keys that were present but skipped (encryption keys, unsupported types).
        skipped: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn of(jwk: &Jwk) -> Option<Self> {
        match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Some(Self::Rsa),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Some(Self::P256),
                EllipticCurve::P384 => Some(Self::P384),
                _ => None,
            },
            AlgorithmParameters::OctetKeyPair(okp) => {
                (okp.curve == EllipticCurve::Ed25519).then_some(Self::Ed25519)
            }
            // Symmetric keys are never taken from a JWKS: HMAC needs an explicit secret.
            _ => None,
        }
    }

    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            Self::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            Self::P256 => alg == ES256,
            Self::P384 => alg == ES384,
            Self::Ed25519 => alg == EdDSA,
        }
    }
}

struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    kind: KeyKind,
    key: DecodingKey,
}

impl VerifyingKey {
    fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// Why no key was found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMiss {
    /// No key has the token's `kid`.
    UnknownKid,
    /// The key with that `kid` is of another type or algorithm.
    Mismatch,
    /// No `kid`, and several keys fit the algorithm.
    Ambiguous,
    /// No `kid`, and no key fits the algorithm.
    NoneFits,
}

/// A parsed JWK set: the verifying keys of one fetch.
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    generation: u64,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("generation", &self.generation)
            .finish()
    }
}

impl KeySet {
    /// Parses a JWK set, keeping the keys that can verify signatures.
    pub fn from_json(json: &[u8]) -> Result<Self, JwksError> {
        #[derive(Deserialize)]
        struct Raw {
            keys: Vec<serde_json::Value>,
        }
        let raw: Raw =
            serde_json::from_slice(json).map_err(|e| JwksError::NotAJwkSet(e.to_string()))?;
        let total = raw.keys.len();
        let keys: Vec<_> = raw.keys.into_iter().filter_map(parse_key).collect();
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey { skipped: total });
        }
        Ok(Self {
            keys,
            generation: 0,
        })
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key (never true for a set that was built).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid` of each usable key that has one.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The key to verify a token with this `kid` and `alg`.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&DecodingKey, KeyMiss> {
        match kid {
            Some(kid) => {
                let mut found = false;
                for key in self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)) {
                    found = true;
                    if key.fits(alg) {
                        return Ok(&key.key);
                    }
                }
                Err(if found {
                    KeyMiss::Mismatch
                } else {
                    KeyMiss::UnknownKid
                })
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(&key.key),
                    (Some(_), Some(_)) => Err(KeyMiss::Ambiguous),
                    (None, _) => Err(KeyMiss::NoneFits),
                }
            }
        }
    }
}

fn parse_key(value: serde_json::Value) -> Option<VerifyingKey> {
    let jwk: Jwk = match serde_json::from_value(value) {
        Ok(jwk) => jwk,
        Err(e) => {
            tracing::debug!(error = %e, "skipping a JWK that cannot be parsed");
            return None;
        }
    };
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let kind = KeyKind::of(&jwk)?;
    let alg = match jwk.common.key_algorithm {
        // A key declared for encryption (RSA-OAEP, ...) is no signing key.
        Some(ka) => Some(ka.to_string().parse::<Algorithm>().ok()?),
        None => None,
    };
    if alg.is_some_and(|a| !kind.fits(a)) {
        return None;
    }
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    Some(VerifyingKey {
        kid: jwk.common.key_id,
        alg,
        kind,
        key,
    })
}

/// Observable state of one provider's key cache (for tests and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeyStats {
    /// Fetches started (startup, periodic refresh and unknown-`kid` refetches).
    pub fetches: u64,
    /// Fetches that failed; the previous keys were kept.
    pub failures: u64,
    /// Fetches triggered by a token with an unknown `kid`.
    pub unknown_kid_refetches: u64,
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
}

/// The keys of one provider, kept fresh in the background.
#[derive(Clone)]
pub(crate) struct KeyCache {
    inner: Arc<CacheInner>,
}

struct CacheInner {
    provider: Arc<str>,
    issuer: String,
    source: KeySource,
    policy: RefreshPolicy,
    client: reqwest::Client,
    keys: ArcSwapOption<KeySet>,
    /// The `jwks_uri` found by discovery, once found.
    jwks_uri: Mutex<Option<Url>>,
    /// Serializes unknown-`kid` refetches; holds when the last one started.
    refetch: tokio::sync::Mutex<Option<Instant>>,
    /// Bumped on every successful load; watchers wait for the first.
    generation: watch::Sender<u64>,
    fetches: AtomicU64,
    failures: AtomicU64,
    unknown_kid_refetches: AtomicU64,
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
        .map_or(0, |d| d.as_millis() as u64)
}

impl KeyCache {
    /// Creates the cache and, for fetched keys, starts its background task.
    /// Must run inside a Tokio runtime when keys are fetched.
    pub(crate) fn start(provider: &Provider, client: reqwest::Client) -> Self {
        let inner = Arc::new(CacheInner {
            provider: provider.name.clone(),
            issuer: provider.issuer.clone(),
            source: provider.keys.clone(),
            policy: provider.refresh,
            client,
            keys: ArcSwapOption::empty(),
            jwks_uri: Mutex::new(None),
            refetch: tokio::sync::Mutex::new(None),
            generation: watch::Sender::new(0),
            fetches: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            unknown_kid_refetches: AtomicU64::new(0),
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
            KeySource::Discovery(_) | KeySource::Url(_) | KeySource::File(_) => {
                let weak = Arc::downgrade(&cache.inner);
                let task = tokio::spawn(refresh_loop(weak));
                *cache.inner.task.lock().expect("task lock") = Some(task.abort_handle());
            }
        }
        cache
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
            unknown_kid_refetches: i.unknown_kid_refetches.load(Ordering::Relaxed),
            last_success: (last > 0).then(|| UNIX_EPOCH + Duration::from_millis(last)),
            keys: i.keys.load().as_ref().map_or(0, |k| k.len()),
        }
    }

    /// Called when a token names a `kid` that set `seen` does not have. Refetches unless
    /// another request already did (then its result is used) or the cooldown is running.
    /// Returns whether the keys changed since `seen`.
    pub(crate) async fn refetch_for_unknown_kid(&self, seen: u64) -> bool {
        if matches!(
            self.inner.source,
            KeySource::Static(_) | KeySource::Secret(_)
        ) {
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
        match self.fetch().await {
            Ok(_) => *self.inner.generation.borrow() != seen,
            Err(e) => {
                self.warn(&e);
                false
            }
        }
    }

    fn warn(&self, e: &FetchError) {
        let held = self.inner.keys.load().as_ref().map_or(0, |k| k.len());
        tracing::warn!(provider = %self.inner.provider, error = %e, keys_kept = held, "fetching keys failed");
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

    /// Fetches and stores the keys once. Returns the `max-age` of the response.
    async fn fetch(&self) -> Result<Option<Duration>, FetchError> {
        let i = &self.inner;
        i.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch_inner().await;
        match &result {
            Ok((set, _)) => {
                tracing::debug!(provider = %i.provider, keys = set.len(), "keys loaded");
            }
            Err(_) => {
                i.failures.fetch_add(1, Ordering::Relaxed);
            }
        }
        result.map(|(set, max_age)| {
            self.store(set);
            max_age
        })
    }

    async fn fetch_inner(&self) -> Result<(KeySet, Option<Duration>), FetchError> {
        let i = &self.inner;
        let url = match &i.source {
            KeySource::Url(url) => url.clone(),
            KeySource::Discovery(meta_url) => {
                let known = i.jwks_uri.lock().expect("jwks_uri lock").clone();
                match known {
                    Some(url) => url,
                    None => {
                        let meta = discovery::fetch(
                            &i.client,
                            meta_url,
                            &i.issuer,
                            i.policy.fetch_timeout,
                        )
                        .await?;
                        // `discovery::fetch` checked that this parses.
                        let url =
                            Url::parse(&meta.jwks_uri).map_err(|e| DiscoveryError::Invalid {
                                url: meta_url.to_string(),
                                reason: e.to_string(),
                            })?;
                        *i.jwks_uri.lock().expect("jwks_uri lock") = Some(url.clone());
                        url
                    }
                }
            }
            KeySource::File(path) => {
                let file_err = |reason: String| FetchError::File {
                    path: path.display().to_string(),
                    reason,
                };
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| file_err(e.to_string()))?;
                let set = KeySet::from_json(&bytes).map_err(|e| file_err(e.to_string()))?;
                return Ok((set, None));
            }
            KeySource::Static(_) | KeySource::Secret(_) => {
                unreachable!("static keys are never fetched")
            }
        };
        let http = |source| FetchError::Http {
            url: url.to_string(),
            source,
        };
        let mut response = i
            .client
            .get(url.clone())
            .timeout(i.policy.fetch_timeout)
            .send()
            .await
            .map_err(http)?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        let max_age = response
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(parse_max_age);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(http)? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(FetchError::TooLarge {
                    url: url.to_string(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        let set = KeySet::from_json(&body).map_err(|source| FetchError::Jwks {
            url: url.to_string(),
            source,
        })?;
        Ok((set, max_age))
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

/// Loads, then refreshes, the keys of one provider until the cache is dropped.
async fn refresh_loop(weak: Weak<CacheInner>) {
    let mut backoff = None::<Duration>;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let cache = KeyCache { inner };
        let policy = cache.inner.policy;
        let wait = match cache.fetch().await {
            Ok(max_age) => {
                backoff = None;
                cache.next_interval(max_age)
            }
            Err(e) => {
                cache.warn(&e);
                let delay =
                    backoff.map_or(policy.backoff_initial, |d| (d * 2).min(policy.backoff_max));
                backoff = Some(delay);
                let next = SystemTime::now() + delay;
                cache
                    .inner
                    .next_retry_ms
                    .store(unix_ms(next), Ordering::Relaxed);
                delay
            }
        };
        drop(cache);
        tokio::time::sleep(wait).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ed(kid: &str, alg: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":kid,"x":ED_X});
        if let Some(a) = alg {
            v["alg"] = a.into();
        }
        v
    }

    fn ec(kid: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::json!({"kty":"EC","crv":"P-256","x":P256_X,"y":P256_Y});
        if let Some(k) = kid {
            v["kid"] = k.into();
        }
        v
    }

    fn set(keys: Vec<serde_json::Value>) -> Result<KeySet, JwksError> {
        KeySet::from_json(serde_json::json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn skips_encryption_symmetric_and_unknown_keys() {
        let s = set(vec![
            ed("sig", Some("EdDSA")),
            serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":ED_X}),
            serde_json::json!({"kty":"oct","kid":"hmac","k":"c2VjcmV0"}),
            serde_json::json!({"kty":"RSA","kid":"oaep","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}),
            serde_json::json!({"kty":"XYZ","kid":"weird"}),
            ed("wrong-alg", Some("ES256")),
        ])
        .unwrap();
        assert_eq!(s.key_ids().collect::<Vec<_>>(), ["sig"]);
    }

    #[test]
    fn rejects_non_sets_and_sets_without_usable_keys() {
        assert!(matches!(
            KeySet::from_json(b"<html>"),
            Err(JwksError::NotAJwkSet(_))
        ));
        assert!(matches!(
            KeySet::from_json(br#"{"no":"keys"}"#),
            Err(JwksError::NotAJwkSet(_))
        ));
        assert_eq!(
            set(vec![serde_json::json!({"kty":"oct","k":"c2VjcmV0"})]).unwrap_err(),
            JwksError::NoUsableKey { skipped: 1 }
        );
    }

    #[test]
    fn select_by_kid_checks_alg_and_type() {
        let s = set(vec![ed("a", Some("EdDSA")), ec(Some("b")), ed("c", None)]).unwrap();
        assert!(s.select(Some("a"), Algorithm::EdDSA).is_ok());
        assert_eq!(
            s.select(Some("a"), Algorithm::ES256).err(),
            Some(KeyMiss::Mismatch)
        );
        assert_eq!(
            s.select(Some("b"), Algorithm::RS256).err(),
            Some(KeyMiss::Mismatch)
        );
        assert!(s.select(Some("b"), Algorithm::ES256).is_ok());
        assert_eq!(
            s.select(Some("zz"), Algorithm::ES256).err(),
            Some(KeyMiss::UnknownKid)
        );
    }

    #[test]
    fn select_without_kid_needs_exactly_one_fitting_key() {
        let s = set(vec![ed("a", None), ec(None)]).unwrap();
        assert!(s.select(None, Algorithm::ES256).is_ok());
        assert_eq!(
            s.select(None, Algorithm::RS256).err(),
            Some(KeyMiss::NoneFits)
        );
        let two = set(vec![ed("a", None), ed("b", None)]).unwrap();
        assert_eq!(
            two.select(None, Algorithm::EdDSA).err(),
            Some(KeyMiss::Ambiguous)
        );
    }

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
}
