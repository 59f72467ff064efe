//! Server-side session stores: the trait, and the in-memory store.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A boxed, sendable future, as [`SessionStore`]'s methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

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
}

/// Sessions in this process's memory: for one instance and for tests. Sessions are
/// lost on restart and not shared between instances; use Redis or PostgreSQL for that.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    entries: Arc<Mutex<HashMap<String, (String, Instant)>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many live sessions it holds.
    pub fn len(&self) -> usize {
        let now = Instant::now();
        let entries = self.entries.lock().expect("memory store lock");
        entries.values().filter(|(_, exp)| *exp > now).count()
    }

    /// Whether it holds no live session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SessionStore for MemoryStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("memory store lock");
        let value = match entries.get(key) {
            Some((value, exp)) if *exp > now => Some(value.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        };
        Box::pin(std::future::ready(Ok(value)))
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("memory store lock");
        // Expired entries go when new ones come, so the map cannot grow without bound.
        if entries.len() >= 1024 && entries.len().is_power_of_two() {
            entries.retain(|_, (_, exp)| *exp > now);
        }
        entries.insert(key.to_owned(), (value.to_owned(), now + ttl));
        Box::pin(std::future::ready(Ok(())))
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.entries.lock().expect("memory store lock").remove(key);
        Box::pin(std::future::ready(Ok(())))
    }
}
