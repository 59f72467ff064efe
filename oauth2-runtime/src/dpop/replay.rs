//! Where the `jti`s of proofs seen are kept, so that a proof is good for one request:
//! [`ReplayCache`], in memory by default or in any session store every instance shares.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub use crate::util::BoxFuture;

pub use crate::defaults::DEFAULT_REPLAY_CACHE_SIZE;

/// A store failed to record a proof's `jti`.
#[derive(Debug, thiserror::Error)]
#[error("DPoP replay store: {0}")]
pub struct ReplayError(#[source] Box<dyn std::error::Error + Send + Sync>);

impl ReplayError {
    /// Wraps the store's own error.
    pub fn new(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        Self(error.into())
    }
}

/// Where the `jti`s of DPoP proofs are remembered, so that a proof is accepted once.
/// Every session store is one (with the `session` feature); share one between the
/// instances of an API behind a load balancer.
pub trait ReplayCache: Send + Sync + 'static {
    /// Records `key` for `ttl`: `true` the first time, `false` while it is recorded (a
    /// replay). Must be atomic: of two concurrent calls with one key, one gets `true`.
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, ReplayError>>;
}

/// The default [`ReplayCache`]: this process's memory, at most `capacity` entries. When
/// it is full of entries that have not expired, a new proof is not accepted (503) rather
/// than an old one forgotten.
#[derive(Debug)]
pub struct MemoryReplayCache {
    seen: Mutex<Seen>,
    capacity: usize,
}

/// The `jti` keys seen, until when, and when expired ones were last dropped.
#[derive(Debug, Default)]
struct Seen {
    until: HashMap<String, Instant>,
    pruned: Option<Instant>,
}

/// A full cache drops its expired entries at most this often (dropping walks them all).
const PRUNE_EVERY: Duration = Duration::from_secs(1);

impl MemoryReplayCache {
    /// A cache of at most `capacity` entries.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: Mutex::new(Seen::default()),
            capacity,
        }
    }

    fn record(&self, key: &str, ttl: Duration) -> Result<bool, ReplayError> {
        let now = Instant::now();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.until.get(key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        if seen.until.len() >= self.capacity {
            if seen
                .pruned
                .is_none_or(|at| now.duration_since(at) >= PRUNE_EVERY)
            {
                seen.until.retain(|_, until| *until > now);
                seen.pruned = Some(now);
            }
            if seen.until.len() >= self.capacity {
                return Err(ReplayError::new(format!(
                    "{} proofs seen within their lifetime: the in-memory cache is full",
                    seen.until.len()
                )));
            }
        }
        seen.until.insert(key.to_owned(), now + ttl);
        Ok(true)
    }
}

impl Default for MemoryReplayCache {
    fn default() -> Self {
        Self::new(DEFAULT_REPLAY_CACHE_SIZE)
    }
}

impl ReplayCache for MemoryReplayCache {
    fn first_use<'a>(
        &'a self,
        key: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, ReplayError>> {
        let recorded = self.record(key, ttl);
        Box::pin(async move { recorded })
    }
}
