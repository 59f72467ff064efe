//! The parsed-session cache: a session read finds the record it parsed before (and, for
//! a stateful session, the id its cookie holds) instead of decrypting and parsing the
//! same bytes again on every request.
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

pub use crate::defaults::DEFAULT_SESSION_CACHE_BYTES;

/// How many bytes of a sealed cookie find its entry. The sealed value starts with its
/// random nonce, so the start tells sessions apart; the whole value is then compared.
const COOKIE_KEY_LEN: usize = 32;

/// A value and the bytes it was parsed from.
struct Parsed<T> {
    source: Box<str>,
    value: T,
    /// When a cookie's seal expires (seconds since the epoch); `u64::MAX` for a store.
    expires: u64,
}

/// Weighs an entry by the bytes it holds: the source, and the parsed value, which takes
/// about twice its JSON.
#[derive(Clone)]
struct Bytes;

impl<T> Weighter<Box<str>, Arc<Parsed<T>>> for Bytes {
    fn weight(&self, key: &Box<str>, parsed: &Arc<Parsed<T>>) -> u64 {
        (key.len() + 3 * parsed.source.len() + 256) as u64
    }
}

/// Values by the bytes they were parsed from, bounded in bytes.
struct ByBytes<T> {
    entries: Cache<Box<str>, Arc<Parsed<T>>, Bytes>,
}

impl<T: Clone> ByBytes<T> {
    fn new(bytes: usize, per_entry: usize) -> Self {
        let items = (bytes / per_entry).max(16);
        Self {
            entries: Cache::with_weighter(items, bytes as u64, Bytes),
        }
    }

    fn get(&self, key: &str, source: &str) -> Option<(T, u64)> {
        let parsed = self.entries.get(key)?;
        (*parsed.source == *source).then(|| (parsed.value.clone(), parsed.expires))
    }

    fn insert(&self, key: &str, source: &str, value: T, expires: u64) {
        let parsed = Parsed {
            source: source.into(),
            value,
            expires,
        };
        self.entries.insert(key.into(), Arc::new(parsed));
    }
}

/// A stateful session's cookie, opened: the session id and its store key.
#[derive(Debug)]
pub(crate) struct OpenedId {
    pub(crate) id: String,
    pub(crate) key: String,
}

/// The parsed sessions of one [`Login`](crate::login::Login): records, and for
/// stateful sessions the ids their cookies hold.
pub(crate) struct SessionCache {
    records: ByBytes<Arc<Record>>,
    ids: ByBytes<Arc<OpenedId>>,
}

impl std::fmt::Debug for SessionCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCache")
            .field("records", &self.records.entries.len())
            .field("ids", &self.ids.entries.len())
            .finish()
    }
}

impl SessionCache {
    /// A cache of at most `bytes`; `None` for `0` (off).
    pub(crate) fn new(bytes: usize) -> Option<Self> {
        if bytes == 0 {
            return None;
        }
        // A record is a few kilobytes; an id cookie a few hundred bytes.
        Some(Self {
            records: ByBytes::new(bytes - bytes / 8, 8192),
            ids: ByBytes::new(bytes / 8, 1024),
        })
    }

    /// The record parsed from `source` under `key`, and when its seal expires.
    pub(crate) fn record(&self, key: &str, source: &str) -> Option<(Arc<Record>, u64)> {
        self.records.get(key, source)
    }

    /// Remembers the record parsed from `source`.
    pub(crate) fn insert_record(
        &self,
        key: &str,
        source: &str,
        record: &Arc<Record>,
        expires: u64,
    ) {
        self.records
            .insert(key, source, Arc::clone(record), expires);
    }

    /// The id opened from the sealed cookie value `sealed`, and when its seal expires.
    pub(crate) fn id(&self, sealed: &str) -> Option<(Arc<OpenedId>, u64)> {
        self.ids.get(cookie_key(sealed), sealed)
    }

    /// Remembers the id opened from `sealed`.
    pub(crate) fn insert_id(&self, sealed: &str, id: &Arc<OpenedId>, expires: u64) {
        self.ids
            .insert(cookie_key(sealed), sealed, Arc::clone(id), expires);
    }

    /// Forgets the record under `key` (a deleted session).
    pub(crate) fn remove(&self, key: &str) {
        self.records.entries.remove(key);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.records.entries.len()
    }

    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.records.entries.weight() + self.ids.entries.weight()
    }
}

/// The key of a sealed cookie value.
pub(crate) fn cookie_key(sealed: &str) -> &str {
    sealed.get(..COOKIE_KEY_LEN).unwrap_or(sealed)
}
