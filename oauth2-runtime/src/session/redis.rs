//! Sessions in Redis (feature `redis`).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::store::{BoxFuture, SessionStore, StoreError};

/// Sessions in Redis, shared by every instance of the application: each session is one
/// string key with a Redis expiry (`SET ... PX`), under a prefix (default
/// `oauth2:session:`); a tag (for back-channel logout) is a set of session keys under
/// `{prefix}tag:`, expiring with its longest-lived session.
///
/// Every command fails after [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT) (a session
/// request then gets 503). The connection reconnects by itself after failures; a store
/// made with [`connect`](Self::connect) also replaces its connection manager after a
/// failure (at most once a second), since one whose reconnection attempts all failed
/// (say, against a proxy with no Redis behind it) stays broken.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let store = oauth2::session::RedisStore::connect("redis://127.0.0.1:6379").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    link: Arc<Link>,
    prefix: String,
}

/// The connection manager, and what is needed to replace it.
struct Link {
    manager: RwLock<ConnectionManager>,
    /// The client to build a new manager from; `None` for a manager given by the app.
    client: Option<redis::Client>,
    /// Whether a replacement is being built, and when the last one started.
    healing: Mutex<(bool, Option<Instant>)>,
}

impl Link {
    fn manager(&self) -> ConnectionManager {
        self.manager
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// After a failed command: builds a new manager in the background, unless one is
    /// being built or was started less than a second ago.
    fn heal(self: &Arc<Self>) {
        let Some(client) = self.client.clone() else {
            return;
        };
        {
            let mut healing = self.healing.lock().unwrap_or_else(|e| e.into_inner());
            let recent = healing
                .1
                .is_some_and(|t| t.elapsed() < Duration::from_secs(1));
            if healing.0 || recent {
                return;
            }
            *healing = (true, Some(Instant::now()));
        }
        let link = Arc::clone(self);
        tokio::spawn(async move {
            let built = tokio::time::timeout(
                crate::session::STORE_TIMEOUT,
                ConnectionManager::new_with_config(client, config()),
            )
            .await;
            if let Ok(Ok(manager)) = built {
                *link.manager.write().unwrap_or_else(|e| e.into_inner()) = manager;
                tracing::info!("Redis session store reconnected");
            }
            link.healing.lock().unwrap_or_else(|e| e.into_inner()).0 = false;
        });
    }

    /// `result`, after starting a repair if it is an error.
    fn checked<T>(self: &Arc<Self>, result: Result<T, StoreError>) -> Result<T, StoreError> {
        if result.is_err() {
            self.heal();
        }
        result
    }
}

/// Connecting and each command time out, so that no request waits on a dead Redis.
fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(crate::session::STORE_TIMEOUT)
        .set_response_timeout(crate::session::STORE_TIMEOUT)
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// Connects to `url` (`redis://host:port/db`, `rediss://` for TLS). While Redis is
    /// unreachable, session requests fail (503) after
    /// [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT) instead of hanging, and work
    /// again when it is back.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let client = redis::Client::open(url).map_err(StoreError::new)?;
        let conn = ConnectionManager::new_with_config(client.clone(), config())
            .await
            .map_err(StoreError::new)?;
        Ok(Self::with_link(conn, Some(client)))
    }

    /// Uses an existing connection manager (its own timeouts and reconnection apply; it
    /// is not replaced after failures).
    pub fn new(conn: ConnectionManager) -> Self {
        Self::with_link(conn, None)
    }

    fn with_link(conn: ConnectionManager, client: Option<redis::Client>) -> Self {
        Self {
            link: Arc::new(Link {
                manager: RwLock::new(conn),
                client,
                healing: Mutex::new((false, None)),
            }),
            prefix: "oauth2:session:".into(),
        }
    }

    /// Puts keys under `prefix` instead of `oauth2:session:` (e.g. one per application
    /// sharing a Redis).
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Runs one command, failing after [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT)
    /// (while the connection manager reconnects, commands wait for it, and a request
    /// must not); a failure starts a repair of the connection.
    async fn run<T>(
        &self,
        command: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        let limit = crate::session::STORE_TIMEOUT;
        let result = match tokio::time::timeout(limit, command).await {
            Ok(result) => result.map_err(StoreError::new),
            Err(_) => Err(StoreError::new(format!(
                "Redis did not answer within {limit:?}"
            ))),
        };
        self.link.checked(result)
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
            let mut conn = self.link.manager();
            self.run(redis::cmd("GET").arg(self.key(key)).query_async(&mut conn))
                .await
        })
    }

    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.manager();
            self.run(
                redis::cmd("SET")
                    .arg(self.key(key))
                    .arg(value)
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async::<()>(&mut conn),
            )
            .await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.manager();
            self.run(
                redis::cmd("DEL")
                    .arg(self.key(key))
                    .query_async::<()>(&mut conn),
            )
            .await
        })
    }

    fn save_existing<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.manager();
            let set: Option<String> = self
                .run(
                    redis::cmd("SET")
                        .arg(self.key(key))
                        .arg(value)
                        .arg("XX")
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async(&mut conn),
                )
                .await?;
            Ok(set.is_some())
        })
    }

    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.manager();
            let set: Option<String> = self
                .run(
                    redis::cmd("SET")
                        .arg(self.key(key))
                        .arg(value)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis(ttl))
                        .query_async(&mut conn),
                )
                .await?;
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
            let mut conn = self.link.manager();
            let script = redis::Script::new(TAG);
            for tag in tags {
                self.run(
                    script
                        .key(self.tag_key(tag))
                        .arg(key)
                        .arg(millis(ttl))
                        .invoke_async::<()>(&mut conn),
                )
                .await?;
            }
            Ok(())
        })
    }

    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.manager();
            self.run(
                redis::Script::new(DELETE_TAGGED)
                    .key(self.tag_key(tag))
                    .arg(&self.prefix)
                    .invoke_async(&mut conn),
            )
            .await
        })
    }
}
