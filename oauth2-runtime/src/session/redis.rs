//! Sessions in Redis or a Redis Cluster (feature `redis`).

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use super::store::{BoxFuture, SessionStore, StoreError};

/// Sessions in Redis, shared by every instance of the application: each session is one
/// string key with a Redis expiry (`SET ... PX`), under a prefix (default
/// `oauth2:session:`); a tag (for back-channel logout) is a set of session keys under
/// `{prefix}tag:`, expiring with its longest-lived session.
///
/// On a Redis Cluster (`redis+cluster://host:port,host:port`) every operation touches
/// one key, so keys spread over every node's slots and nothing needs a hash tag: a
/// session, a refresh lock, a seen logout `jti`, a broker key are single keys, and
/// ending the sessions of a tag deletes each one by its own command, then takes them
/// out of the tag's set.
///
/// Every command fails after [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT) (a session
/// request then gets 503). The connection reconnects by itself after failures; a store
/// made with [`connect`](Self::connect) also replaces its connection after a failure
/// (at most once a second), since one whose reconnection attempts all failed (say,
/// against a proxy with no Redis behind it) stays broken.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use oauth2::session::RedisStore;
/// let one = RedisStore::connect("redis://127.0.0.1:6379").await?;
/// let cluster = RedisStore::connect("redis+cluster://10.0.0.1:7000,10.0.0.2:7000").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    link: Arc<Link>,
    prefix: String,
}

/// A connection to one Redis (through a manager that reconnects) or to a cluster
/// (which follows its slots and reconnects to its nodes).
#[derive(Clone)]
enum Conn {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Conn {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Conn::Single(c) => c.req_packed_command(cmd),
            Conn::Cluster(c) => c.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Conn::Single(c) => c.req_packed_commands(cmd, offset, count),
            Conn::Cluster(c) => c.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Conn::Single(c) => c.get_db(),
            Conn::Cluster(c) => c.get_db(),
        }
    }
}

/// What a connection is built from, to build it again.
#[derive(Clone)]
enum Source {
    Single(redis::Client),
    Cluster(ClusterClient),
}

impl Source {
    /// `redis+cluster://a:1,b:2` (or `rediss+cluster://`) is a cluster of those nodes;
    /// anything else one Redis.
    fn parse(url: &str) -> Result<Self, StoreError> {
        let cluster = [
            ("redis+cluster://", "redis://"),
            ("rediss+cluster://", "rediss://"),
        ]
        .into_iter()
        .find_map(|(scheme, node)| url.strip_prefix(scheme).map(|rest| (rest, node)));
        let Some((rest, node_scheme)) = cluster else {
            return Ok(Source::Single(
                redis::Client::open(url).map_err(StoreError::new)?,
            ));
        };
        // `user:password@` and `/db` (a cluster has only db 0) apply to every node.
        let (auth, hosts) = match rest.rsplit_once('@') {
            Some((auth, hosts)) => (format!("{auth}@"), hosts),
            None => (String::new(), rest),
        };
        let hosts = hosts.trim_end_matches('/');
        let nodes: Vec<String> = hosts
            .split(',')
            .filter(|h| !h.is_empty())
            .map(|h| format!("{node_scheme}{auth}{h}"))
            .collect();
        if nodes.is_empty() {
            return Err(StoreError::new(format!("`{url}` names no cluster node")));
        }
        let client = ClusterClient::builder(nodes)
            .connection_timeout(crate::session::STORE_TIMEOUT)
            .response_timeout(crate::session::STORE_TIMEOUT)
            .build()
            .map_err(StoreError::new)?;
        Ok(Source::Cluster(client))
    }

    async fn connect(&self) -> Result<Conn, StoreError> {
        let conn = match self {
            Source::Single(client) => ConnectionManager::new_with_config(client.clone(), config())
                .await
                .map(Conn::Single),
            Source::Cluster(client) => client.get_async_connection().await.map(Conn::Cluster),
        };
        conn.map_err(StoreError::new)
    }
}

/// The connection, and what is needed to replace it.
struct Link {
    conn: RwLock<Conn>,
    /// What to build a new connection from; `None` for a manager given by the app.
    source: Option<Source>,
    /// Whether a replacement is being built, and when the last one started.
    healing: Mutex<(bool, Option<Instant>)>,
}

impl Link {
    fn conn(&self) -> Conn {
        self.conn.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// After a failed command: builds a new connection in the background, unless one
    /// is being built or was started less than a second ago.
    fn heal(self: &Arc<Self>) {
        let Some(source) = self.source.clone() else {
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
            let built = tokio::time::timeout(crate::session::STORE_TIMEOUT, source.connect()).await;
            if let Ok(Ok(conn)) = built {
                *link.conn.write().unwrap_or_else(|e| e.into_inner()) = conn;
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
    /// Connects to `url`: one Redis (`redis://host:port/db`, `rediss://` for TLS) or a
    /// Redis Cluster (`redis+cluster://host:port,host:port`, `rediss+cluster://`; any
    /// of its nodes will do, the others are found from them). While Redis is
    /// unreachable, session requests fail (503) after
    /// [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT) instead of hanging, and work
    /// again when it is back.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let source = Source::parse(url)?;
        let conn = source.connect().await?;
        Ok(Self::with_link(conn, Some(source)))
    }

    /// Uses an existing connection manager (its own timeouts and reconnection apply; it
    /// is not replaced after failures).
    pub fn new(conn: ConnectionManager) -> Self {
        Self::with_link(Conn::Single(conn), None)
    }

    /// Uses an existing cluster connection (its own timeouts and reconnection apply).
    pub fn from_cluster(conn: ClusterConnection) -> Self {
        Self::with_link(Conn::Cluster(conn), None)
    }

    fn with_link(conn: Conn, source: Option<Source>) -> Self {
        Self {
            link: Arc::new(Link {
                conn: RwLock::new(conn),
                source,
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
    /// (while the connection reconnects, commands wait for it, and a request must not);
    /// a failure starts a repair of the connection.
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

    /// `SET key value {condition} PX ttl` (`NX`: only if absent, `XX`: only if there):
    /// whether it was set.
    async fn set_if(
        &self,
        key: &str,
        value: &str,
        ttl: Duration,
        condition: &str,
    ) -> Result<bool, StoreError> {
        let mut conn = self.link.conn();
        let set: Option<String> = self
            .run(
                redis::cmd("SET")
                    .arg(self.key(key))
                    .arg(value)
                    .arg(condition)
                    .arg("PX")
                    .arg(millis(ttl))
                    .query_async(&mut conn),
            )
            .await?;
        Ok(set.is_some())
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

fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl SessionStore for RedisStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            let mut conn = self.link.conn();
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
            let mut conn = self.link.conn();
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
            let mut conn = self.link.conn();
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
        Box::pin(self.set_if(key, value, ttl, "XX"))
    }

    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(self.set_if(key, value, ttl, "NX"))
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
            let mut conn = self.link.conn();
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
            let mut conn = self.link.conn();
            let tag_key = self.tag_key(tag);
            let members: Vec<String> = self
                .run(redis::cmd("SMEMBERS").arg(&tag_key).query_async(&mut conn))
                .await?;
            // One key per command, so that on a cluster each goes to its own slot. The
            // members leave the set only once their sessions are gone: a failure halfway
            // leaves the rest for the provider's retry, and a session tagged meanwhile
            // stays in the set.
            for member in &members {
                self.run(
                    redis::cmd("DEL")
                        .arg(self.key(member))
                        .query_async::<()>(&mut conn),
                )
                .await?;
            }
            if !members.is_empty() {
                self.run(
                    redis::cmd("SREM")
                        .arg(&tag_key)
                        .arg(&members)
                        .query_async::<()>(&mut conn),
                )
                .await?;
            }
            Ok(members.len() as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Source;

    #[test]
    fn a_cluster_url_names_its_nodes_and_anything_else_is_one_redis() {
        let kind = |url| match Source::parse(url) {
            Ok(Source::Single(_)) => "single",
            Ok(Source::Cluster(_)) => "cluster",
            Err(_) => "error",
        };
        assert_eq!(kind("redis://127.0.0.1:6379/2"), "single");
        assert_eq!(kind("rediss://user:pw@cache.example:6380"), "single");
        assert_eq!(
            kind("redis+cluster://10.0.0.1:7000,10.0.0.2:7000"),
            "cluster"
        );
        assert_eq!(kind("rediss+cluster://user:pw@a:7000,b:7000/"), "cluster");
        assert_eq!(kind("redis+cluster://"), "error");
        assert_eq!(kind("redis+cluster://,"), "error");
        assert_eq!(kind("mysql://x"), "error");
    }
}
