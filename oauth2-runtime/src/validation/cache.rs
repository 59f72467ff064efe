//! The verified-token cache: an access token whose signature and claims were checked
//! once is known by the SHA-256 of the whole token, so a client that sends the same
//! token for an hour pays for one signature check.
//!
//! - An entry holds the validated claims (shared, not copied per hit), the provider, and
//!   the generation of the key set that verified it. A hit needs the same generation:
//!   when the issuer's keys change (rotation, a refetch), the token is verified again.
//! - The time checks (`exp`, `nbf`, `iat` with the leeway) run on every hit, so a hit
//!   never outlives the token; an entry is also dropped after the configured maximum
//!   age.
//! - Only successes are cached. The cache (quick_cache) is bounded in entries and
//!   resists scans: a flood of distinct tokens seen once stays in its cold queue and
//!   does not push out the tokens that are used again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quick_cache::sync::Cache;
use quick_cache::{DefaultHashBuilder, Lifecycle, UnitWeighter};
use sha2::{Digest, Sha256};

use crate::claims::Authenticated;
use crate::util::now;

pub use crate::defaults::DEFAULT_TOKEN_CACHE_SIZE;

pub use crate::defaults::DEFAULT_TOKEN_CACHE_MAX_AGE;

/// A token verified once.
#[derive(Clone)]
pub(super) struct Verified {
    pub(super) auth: Authenticated,
    /// Which provider of the validator verified it.
    pub(super) provider: usize,
    /// The key set generation that verified it (`0` for an HMAC secret); `None` for a
    /// token the provider's introspection endpoint called active (no key involved).
    pub(super) generation: Option<u64>,
    /// When it was cached, seconds since the epoch.
    cached_at: u64,
}

/// How the cache has done since the validator was built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenCacheStats {
    /// Requests answered from the cache.
    pub hits: u64,
    /// Requests that verified the token (not cached, or no longer usable).
    pub misses: u64,
    /// Entries pushed out to make room.
    pub evictions: u64,
    /// Entries held now.
    pub entries: usize,
    /// The most entries it holds.
    pub capacity: usize,
}

/// Counts evictions.
#[derive(Clone, Default)]
struct Evictions(Arc<AtomicU64>);

impl Lifecycle<[u8; 32], Verified> for Evictions {
    type RequestState = ();

    fn on_evict(&self, _: &mut (), _: [u8; 32], _: Verified) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// The cache of one validator.
pub(super) struct TokenCache {
    entries: Cache<[u8; 32], Verified, UnitWeighter, DefaultHashBuilder, Evictions>,
    evictions: Evictions,
    hits: AtomicU64,
    misses: AtomicU64,
    capacity: usize,
    max_age: u64,
}

/// The cache key of `token`: its SHA-256, so the cache holds no usable token and every
/// entry has the same size.
pub(super) fn digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl TokenCache {
    /// A cache of at most `capacity` tokens, each for at most `max_age`.
    pub(super) fn new(capacity: usize, max_age: Duration) -> Self {
        let evictions = Evictions::default();
        let entries = Cache::with(
            capacity,
            capacity as u64,
            UnitWeighter,
            DefaultHashBuilder::default(),
            evictions.clone(),
        );
        Self {
            entries,
            evictions,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            capacity,
            max_age: max_age.as_secs(),
        }
    }

    /// The entry of `key` if it is still usable: not older than the maximum age and
    /// verified by key set `generation` of its issuer (`current` gives the generation of
    /// the keys that would verify an entry now), or introspected. The caller still
    /// checks the times.
    pub(super) fn get(
        &self,
        key: &[u8; 32],
        current: impl Fn(&Verified) -> Option<u64>,
    ) -> Option<Verified> {
        let hit = self.entries.get(key).filter(|v| {
            now() < v.cached_at.saturating_add(self.max_age)
                && match v.generation {
                    Some(generation) => current(v) == Some(generation),
                    None => true,
                }
        });
        crate::metrics::token_cache(hit.is_some());
        match hit {
            Some(v) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Some(v)
            }
            None => {
                self.misses.fetch_add(1, Ordering::Relaxed);
                None
            }
        }
    }

    /// Drops the entry of `key` (its token no longer passes).
    pub(super) fn forget(&self, key: &[u8; 32]) {
        self.entries.remove(key);
    }

    /// Caches a token that was just verified (by key set `generation`) or introspected
    /// (`None`).
    pub(super) fn insert(
        &self,
        key: [u8; 32],
        auth: Authenticated,
        provider: usize,
        generation: Option<u64>,
    ) {
        self.entries.insert(
            key,
            Verified {
                auth,
                provider,
                generation,
                cached_at: now(),
            },
        );
    }

    pub(super) fn stats(&self) -> TokenCacheStats {
        TokenCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            evictions: self.evictions.0.load(Ordering::Relaxed),
            entries: self.entries.len(),
            capacity: self.capacity,
        }
    }
}
