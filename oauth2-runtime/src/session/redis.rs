//! Sessions in Redis (feature `redis`).

use std::time::Duration;

use redis::aio::ConnectionManager;

use super::store::{BoxFuture, SessionStore, StoreError};

/// Sessions in Redis, shared by every instance of the application: each session is one
/// string key with a Redis expiry (`SET ... PX`), under a prefix (default
/// `oauth2:session:`); a tag (for back-channel logout) is a set of session keys under
/// `{prefix}tag:`, expiring with its longest-lived session. The connection reconnects
/// by itself after failures.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = oauth2::session::RedisStore::connect("redis://127.0.0.1:6379").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::new)?;
        let conn = ConnectionManager::new(client)
            .await
            .map_err(StoreError::new)?;
        Ok(Self::new(conn))
    }

    /// Uses an existing connection manager.
    pub fn new(conn: ConnectionManager) -> Self {
        Self {
            conn,
            prefix: "oauth2:session:".into(),
        }
    }

    /// Puts keys under `prefix` instead of `oauth2:session:` (e.g. one per application
    /// sharing a Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}tag:{tag}", self.prefix)
    }
}

/// Adds `ARGV[1]` to the set `KEYS[1]` and extends the set's expiry to `ARGV[2]` ms if
/// it is shorter.
const TAG: &str = r"
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1";

/// Deletes the keys `ARGV[1] .. member` of the set `KEYS[1]` and the set, at once (a
/// session tagged meanwhile is not lost); how many members it had.
const DELETE_TAGGED: &str = r"
local members = redis.call('SMEMBERS', KEYS[1])
for _, member in ipairs(members) do
  redis.call('DEL', ARGV[1] .. member)
end
redis.call('DEL', KEYS[1])
return #members";

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("GET")
                .arg(self.key(key))
                .query_async(&mut conn)
                .await
                .map_err(StoreError::new)
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(value)
                .arg("PX")
                .arg(millis(ttl))
                .query_async::<()>(&mut conn)
                .await
                .map_err(StoreError::new)
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("DEL")
                .arg(self.key(key))
                .query_async::<()>(&mut conn)
                .await
                .map_err(StoreError::new)
        })
    }

    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let set: Option<String> = redis::cmd("SET")
                .arg(self.key(key))
                .arg(value)
                .arg("NX")
                .arg("PX")
                .arg(millis(ttl))
                .query_async(&mut conn)
                .await
                .map_err(StoreError::new)?;
            Ok(set.is_some())
        })
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
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let script = redis::Script::new(TAG);
            for tag in tags {
                script
                    .key(self.tag_key(tag))
                    .arg(key)
                    .arg(millis(ttl))
                    .invoke_async::<()>(&mut conn)
                    .await
                    .map_err(StoreError::new)?;
            }
            Ok(())
        })
    }

    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::Script::new(DELETE_TAGGED)
                .key(self.tag_key(tag))
                .arg(&self.prefix)
                .invoke_async(&mut conn)
                .await
                .map_err(StoreError::new)
        })
    }
}
