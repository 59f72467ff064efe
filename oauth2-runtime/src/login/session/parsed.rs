//! The parsed-session cache: a session read finds the record it parsed before instead
//! of decrypting and parsing the same bytes again on every request.
//!
//! - An entry is found by a key (the store key of a stateful session, the start of the
//!   sealed value of a cookie) and used only when the bytes read now are exactly the
//!   bytes it was parsed from. So it never serves another record than the one the
//!   request carries: a session changed by another instance, a tampered cookie, or a
//!   new login reads as it would without the cache.
//! - It changes nothing that is checked per read: the timeouts, the cookie's sealed
//!   expiry and back-channel logouts are checked on every hit.
//! - Bounded in bytes (quick_cache, weighed by what an entry holds); what does not fit
//!   is parsed again.

use std::sync::Arc;

use quick_cache::Weighter;
use quick_cache::sync::Cache;

use super::Record;

/// The default bound of the parsed-session cache, in bytes.
pub const DEFAULT_SESSION_CACHE_BYTES: usize = 16 << 20;

/// How many bytes of a sealed cookie find its entry. The sealed value starts with its
/// random nonce, so the start tells sessions apart; the whole value is then compared.
const COOKIE_KEY_LEN: usize = 32;

/// A record and the bytes it was parsed from.
struct Parsed {
    source: Box<str>,
    record: Arc<Record>,
    /// When a cookie's seal expires (seconds since the epoch); `u64::MAX` for a store.
    expires: u64,
}

/// Weighs an entry by the bytes it holds: the source, and the parsed record, which
/// takes about twice its JSON.
#[derive(Clone)]
struct Bytes;

impl Weighter<Box<str>, Arc<Parsed>> for Bytes {
    fn weight(&self, key: &Box<str>, parsed: &Arc<Parsed>) -> u64 {
        (key.len() + 3 * parsed.source.len() + 256) as u64
    }
}

/// The parsed sessions of one [`Login`](crate::login::Login).
pub(crate) struct SessionCache {
    entries: Cache<Box<str>, Arc<Parsed>, Bytes>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("entries", &self.entries.len())
            .field("bytes", &self.entries.weight())
            .finish()
    }
}

impl SessionCache {
    /// A cache of at most `bytes`; `None` for `0` (off).
    pub(crate) fn new(bytes: usize) -> Option<Self> {
        if bytes == 0 {
            return None;
        }
        // A login's record is a few kilobytes.
        let items = (bytes / 8192).max(16);
        Some(Self {
            entries: Cache::with_weighter(items, bytes as u64, Bytes),
        })
    }

    /// The record parsed from `source` under `key`, and when its seal expires.
    pub(crate) fn get(&self, key: &str, source: &str) -> Option<(Arc<Record>, u64)> {
        let parsed = self.entries.get(key)?;
        (*parsed.source == *source).then(|| (Arc::clone(&parsed.record), parsed.expires))
    }

    /// Remembers the record parsed from `source`.
    pub(crate) fn insert(&self, key: &str, source: &str, record: &Arc<Record>, expires: u64) {
        self.entries.insert(
            key.into(),
            Arc::new(Parsed {
                source: source.into(),
                record: Arc::clone(record),
                expires,
            }),
        );
    }

    /// Forgets the record under `key` (a deleted session).
    pub(crate) fn remove(&self, key: &str) {
        self.entries.remove(key);
    }

    /// The key of a sealed cookie value.
    pub(crate) fn cookie_key(sealed: &str) -> &str {
        sealed.get(..COOKIE_KEY_LEN).unwrap_or(sealed)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.entries.weight()
    }
}
