//! Sessions in PostgreSQL (feature `postgres`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::PgPool;

use super::store::{BoxFuture, SessionStore, StoreError};

/// The tables the store creates: `oauth2_sessions`, one row per entry (a session, or
/// what logouts and refresh locks keep), expired rows ignored on read and deleted from
/// time to time; `oauth2_session_tags`, one row per session and tag (for back-channel
/// logout). Ship it as a migration instead if you prefer, and build the
/// store with [`PostgresStore::new`].
pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS oauth2_sessions (
    id text PRIMARY KEY,
    data text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth2_sessions_expires_at ON oauth2_sessions (expires_at);
CREATE TABLE IF NOT EXISTS oauth2_session_tags (
    tag text NOT NULL,
    id text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tag, id)
);
CREATE INDEX IF NOT EXISTS oauth2_session_tags_expires_at ON oauth2_session_tags (expires_at)";

/// Sessions in a PostgreSQL table (`oauth2_sessions`, see [`SCHEMA`]), shared by every
/// instance of the application.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = sqlx::PgPool::connect("postgres://127.0.0.1/app").await?;
/// let store = oauth2::session::PostgresStore::migrate(pool).await?; // creates the table
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PostgresStore {
    pool: PgPool,
    saves: Arc<AtomicU32>,
}

/// The advisory lock that serialises [`PostgresStore::migrate`] ("oauth2" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f61_7574_6832;

/// Expired rows are deleted on every this many saves.
const SWEEP_EVERY: u32 = 256;

impl PostgresStore {
    /// Connects to `url` and creates the table if it is not there. A request waits at
    /// most [`STORE_TIMEOUT`](crate::session::STORE_TIMEOUT) for a connection, so that
    /// while PostgreSQL is unreachable session requests fail (503) instead of hanging;
    /// give your own pool to [`migrate`](Self::migrate) for other settings.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(crate::session::STORE_TIMEOUT)
            .connect(url)
            .await
            .map_err(StoreError::new)?;
        Self::migrate(pool).await
    }

    /// Creates the tables if they are not there, then uses `pool`. Instances starting
    /// at once take turns (an advisory lock), since PostgreSQL's `CREATE TABLE IF NOT
    /// EXISTS` fails when two sessions create the same table at the same moment. When
    /// the tables are there, it runs no DDL: even `CREATE INDEX IF NOT EXISTS` locks the
    /// table first, so an instance starting during a back-channel logout (which locks
    /// both tables' rows) could otherwise deadlock with it.
    pub async fn migrate(pool: PgPool) -> Result<Self, StoreError> {
        // The last object SCHEMA creates.
        let present: bool =
            sqlx::query_scalar("SELECT to_regclass('oauth2_session_tags_expires_at') IS NOT NULL")
                .fetch_one(&pool)
                .await
                .map_err(StoreError::new)?;
        if present {
            return Ok(Self::new(pool));
        }
        let mut tx = pool.begin().await.map_err(StoreError::new)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(tx.as_mut())
            .await
            .map_err(StoreError::new)?;
        // One statement at a time (`raw_sql`'s future is not `Send` for every lifetime,
        // which made `connect` unusable in `tokio::spawn`).
        for statement in SCHEMA.split(';').filter(|s| !s.trim().is_empty()) {
            sqlx::query(statement)
                .execute(tx.as_mut())
                .await
                .map_err(StoreError::new)?;
        }
        tx.commit().await.map_err(StoreError::new)?;
        Ok(Self::new(pool))
    }

    /// Uses `pool`, whose database already has the table (see [`SCHEMA`]).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            saves: Arc::default(),
        }
    }

    /// Deletes expired rows now; returns how many sessions.
    pub async fn delete_expired(&self) -> Result<u64, StoreError> {
        sqlx::query("DELETE FROM oauth2_session_tags WHERE expires_at <= now()")
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
        sqlx::query("DELETE FROM oauth2_sessions WHERE expires_at <= now()")
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected())
            .map_err(StoreError::new)
    }
}

impl SessionStore for PostgresStore {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            sqlx::query_scalar(
                "SELECT data FROM oauth2_sessions WHERE id = $1 AND expires_at > now()",
            )
            .bind(key)
            .fetch_optional(&self.pool)
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
            sqlx::query(
                "INSERT INTO oauth2_sessions (id, data, expires_at)
                 VALUES ($1, $2, now() + make_interval(secs => $3))
                 ON CONFLICT (id) DO UPDATE
                 SET data = excluded.data, expires_at = excluded.expires_at",
            )
            .bind(key)
            .bind(value)
            .bind(ttl.as_secs_f64())
            .execute(&self.pool)
            .await
            .map_err(StoreError::new)?;
            if self.saves.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
                self.delete_expired().await?;
            }
            Ok(())
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            sqlx::query("DELETE FROM oauth2_sessions WHERE id = $1")
                .bind(key)
                .execute(&self.pool)
                .await
                .map(drop)
                .map_err(StoreError::new)
        })
    }

    fn save_existing<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE oauth2_sessions
                 SET data = $2, expires_at = now() + make_interval(secs => $3)
                 WHERE id = $1 AND expires_at > now()",
            )
            .bind(key)
            .bind(value)
            .bind(ttl.as_secs_f64())
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected() == 1)
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
            // Inserts, or replaces an expired row; a live row stays.
            sqlx::query(
                "INSERT INTO oauth2_sessions (id, data, expires_at)
                 VALUES ($1, $2, now() + make_interval(secs => $3))
                 ON CONFLICT (id) DO UPDATE
                 SET data = excluded.data, expires_at = excluded.expires_at
                 WHERE oauth2_sessions.expires_at <= now()",
            )
            .bind(key)
            .bind(value)
            .bind(ttl.as_secs_f64())
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected() == 1)
            .map_err(StoreError::new)
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
            sqlx::query(
                "INSERT INTO oauth2_session_tags (tag, id, expires_at)
                 SELECT tag, $2, now() + make_interval(secs => $3) FROM unnest($1::text[]) AS tag
                 ON CONFLICT (tag, id) DO UPDATE
                 SET expires_at = greatest(oauth2_session_tags.expires_at, excluded.expires_at)",
            )
            .bind(tags)
            .bind(key)
            .bind(ttl.as_secs_f64())
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(StoreError::new)
        })
    }

    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        Box::pin(async move {
            sqlx::query_scalar(
                "WITH filed AS (DELETE FROM oauth2_session_tags WHERE tag = $1 RETURNING id),
                 ended AS (DELETE FROM oauth2_sessions WHERE id IN (SELECT id FROM filed))
                 SELECT count(*) FROM filed",
            )
            .bind(tag)
            .fetch_one(&self.pool)
            .await
            .map(|n: i64| u64::try_from(n).unwrap_or(0))
            .map_err(StoreError::new)
        })
    }
}
