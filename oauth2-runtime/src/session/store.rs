//! Server-side session stores: the trait, and the in-memory store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use crate::util::BoxFuture;

/// A store failed (connection lost, query error, ...).
#[derive(Debug, thiserror::Error)]
#[error("session store: {0}")]
pub struct StoreError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl StoreError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Where stateful sessions live; the cookie then carries only a random session id.
///
/// Keys are derived from session ids (a hash, so a leaked store holds no usable id);
/// values are opaque strings. An entry must disappear, or stop being returned, once its
/// time to live is over. The login flow keeps absolute and idle timeouts itself and
/// calls [`save`](Self::save) again to extend an entry.
///
/// Implemented by [`MemoryStore`], `RedisStore` (feature `redis`) and `PostgresStore`
/// (feature `postgres`); implement it for any other database.
pub trait SessionStore: Send + Sync + 'static {
    /// The value under `key`, unless it is absent or expired.
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;
    /// Creates or replaces the value under `key`, to expire after `ttl`.
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    /// Removes `key`; removing an absent key is not an error.
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Saves `value` under `key` only if no live value is there; whether it did. Of
    /// several callers racing, in every process sharing the store, exactly one wins:
    /// the replay check of logout tokens and the refresh lock rely on it.
    ///
    /// The default loads, then saves: right for a store of one process only. A store
    /// shared by instances overrides it with one atomic operation (`SET NX`,
    /// `INSERT ... ON CONFLICT`), as the stores of this crate do.
    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(load_then_save(self, key, value, ttl, false))
    }

    /// Replaces the value under `key` only if a live value is there; whether it did. A
    /// session's refresh saves this way, so that a logout (or a back-channel logout on
    /// another instance) that deleted the session meanwhile is not undone.
    ///
    /// The default loads, then saves: right for a store of one process only. A store
    /// shared by instances overrides it with one atomic operation (`SET XX`, `UPDATE`),
    /// as the stores of this crate do.
    fn save_existing<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(load_then_save(self, key, value, ttl, true))
    }

    /// Whether the store implements [`tag`](Self::tag) and
    /// [`delete_tagged`](Self::delete_tagged). Back-channel logout then deletes the
    /// sessions it ends; without tags it records what ended and every session read
    /// checks that record.
    fn supports_tags(&self) -> bool {
        false
    }

    /// Files the entry under `key` under each of `tags` (a provider's `sid` or `sub`),
    /// for at least `ttl`, so that [`delete_tagged`](Self::delete_tagged) finds it.
    fn tag<'a>(
        &'a self,
        key: &'a str,
        tags: &'a [String],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let _ = (key, tags, ttl);
        Box::pin(std::future::ready(Ok(())))
    }

    /// Deletes every entry filed under `tag`, and the tag; how many entries were filed.
    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let _ = tag;
        Box::pin(std::future::ready(Ok(0)))
    }
}

/// The defaults of `save_new` (`live: false`) and `save_existing` (`live: true`): saves
/// only if a live value is there as `live` says; whether it saved. Not atomic.
/// Every session store remembers DPoP proofs too: an entry per `jti`, saved only if
/// absent ([`SessionStore::save_new`]).
impl<S: SessionStore> crate::dpop::ReplayCache for S {
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, crate::dpop::ReplayError>> {
        Box::pin(async move {
            self.save_new(key, "1", ttl)
                .await
                .map_err(crate::dpop::ReplayError::new)
        })
    }
}

async fn load_then_save<S: SessionStore + ?Sized>(
    store: &S,
    key: &str,
    value: &str,
    ttl: Duration,
    live: bool,
) -> Result<bool, StoreError> {
    if store.load(key).await?.is_some() != live {
        return Ok(false);
    }
    store.save(key, value, ttl).await?;
    Ok(true)
}

impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        (**self).load(key)
    }
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).save(key, value, ttl)
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).delete(key)
    }
    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).save_new(key, value, ttl)
    }

    fn save_existing<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        (**self).save_existing(key, value, ttl)
    }
    fn supports_tags(&self) -> bool {
        (**self).supports_tags()
    }
    fn tag<'a>(
        &'a self,
        key: &'a str,
        tags: &'a [String],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        (**self).tag(key, tags, ttl)
    }
    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        (**self).delete_tagged(tag)
    }
}

/// Sessions in this process's memory: for one instance and for tests. Sessions are
/// lost on restart and not shared between instances; use Redis or PostgreSQL for that.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Memory>>,
}

#[derive(Debug, Default)]
struct Memory {
    entries: HashMap<String, (String, Instant)>,
    /// Tag → the keys filed under it, each until when.
    tags: HashMap<String, HashMap<String, Instant>>,
}

impl Memory {
    fn live(&mut self, key: &str, now: Instant) -> Option<&String> {
        if self.entries.get(key).is_some_and(|(_, exp)| *exp <= now) {
            self.entries.remove(key);
        }
        self.entries.get(key).map(|(value, _)| value)
    }

    /// Inserts only if a live entry is there (`live`) or is not (`!live`), under the
    /// one lock: `save_existing` and `save_new`. Whether it inserted.
    fn insert_if(&mut self, key: &str, value: &str, ttl: Duration, live: bool) -> bool {
        let now = Instant::now();
        let fits = self.live(key, now).is_some() == live;
        if fits {
            self.insert(key, value, ttl, now);
        }
        fits
    }

    fn insert(&mut self, key: &str, value: &str, ttl: Duration, now: Instant) {
        // Expired entries go when new ones come, so the maps cannot grow without bound.
        if self.entries.len() >= 1024 && self.entries.len().is_power_of_two() {
            self.entries.retain(|_, (_, exp)| *exp > now);
            self.tags.retain(|_, keys| {
                keys.retain(|_, exp| *exp > now);
                !keys.is_empty()
            });
        }
        self.entries
            .insert(key.to_owned(), (value.to_owned(), now + ttl));
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.inner.lock().expect("memory store lock")
    }

    /// How many live entries (sessions, and what logouts remember) it holds.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        let memory = self.memory();
        memory
            .entries
            .values()
            .filter(|(_, exp)| *exp > now)
            .count()
    }

    /// Whether it holds no live entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, Result<T, StoreError>> {
    Box::pin(std::future::ready(Ok(value)))
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let value = self.memory().live(key, Instant::now()).cloned();
        ready(value)
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.memory().insert(key, value, ttl, Instant::now());
        ready(())
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.memory().entries.remove(key);
        ready(())
    }

    fn save_existing<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.memory().insert_if(key, value, ttl, true))
    }

    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        ready(self.memory().insert_if(key, value, ttl, false))
    }

    fn supports_tags(&self) -> bool {
        true
    }

    fn tag<'a>(
        &'a self,
        key: &'a str,
        tags: &'a [String],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let until = Instant::now() + ttl;
        let mut memory = self.memory();
        for tag in tags {
            let exp = memory
                .tags
                .entry(tag.clone())
                .or_default()
                .entry(key.to_owned())
                .or_insert(until);
            *exp = (*exp).max(until);
        }
        ready(())
    }

    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        let mut memory = self.memory();
        let keys = memory.tags.remove(tag).unwrap_or_default();
        for key in keys.keys() {
            memory.entries.remove(key);
        }
        ready(keys.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn save_new_saves_once_until_the_entry_expires() {
        let store = MemoryStore::new();
        let ttl = Duration::from_millis(50);
        assert!(store.save_new("jti", "1", ttl).await.unwrap());
        assert!(!store.save_new("jti", "2", ttl).await.unwrap());
        assert_eq!(store.load("jti").await.unwrap().as_deref(), Some("1"));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(store.save_new("jti", "3", ttl).await.unwrap(), "expired");
    }

    #[tokio::test]
    async fn delete_tagged_deletes_the_entries_of_that_tag_only() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(60);
        for key in ["a", "b", "c"] {
            store.save(key, "session", ttl).await.unwrap();
        }
        let sid = vec!["sid-1".to_owned(), "sub-alice".to_owned()];
        store.tag("a", &sid, ttl).await.unwrap();
        store.tag("b", &sid[1..], ttl).await.unwrap();
        assert_eq!(store.delete_tagged("sid-1").await.unwrap(), 1);
        assert!(store.load("a").await.unwrap().is_none());
        assert!(store.load("b").await.unwrap().is_some());
        assert_eq!(store.delete_tagged("sub-alice").await.unwrap(), 2);
        assert!(store.load("b").await.unwrap().is_none());
        assert!(store.load("c").await.unwrap().is_some(), "untagged");
        assert_eq!(store.delete_tagged("sub-alice").await.unwrap(), 0);
    }
}
