//! Refreshing a session's tokens: one refresh at a time per session (in the process,
//! and through the store across instances), and none twice.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::Value;

use super::extract::{SessionRejection, SessionRejectionKind};
use super::service::SessionSlot;
use super::{Loaded, Record, store_error, store_key};
use crate::login::tokens::Tokens;
use crate::login::{Login, LoginError};
use crate::util::now;

/// How long the cross-instance refresh lock lives at most: longer than a refresh at
/// the provider takes (its HTTP timeout is 10 s by default).
const SHARED_LOCK_TTL: std::time::Duration = std::time::Duration::from_secs(15);

/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN: u64 = 60;

/// Whether the access token for `resource` (`None`: the login's own) is missing or
/// expires within [`REFRESH_MARGIN`].
fn expiring(tokens: &Tokens, resource: Option<&str>) -> bool {
    match tokens.access_for(resource) {
        None => true,
        Some((_, expires_at, _)) => {
            expires_at.is_some_and(|e| e <= now().saturating_add(REFRESH_MARGIN))
        }
    }
}

impl Login {
    /// The tokens of `loaded`, refreshed first if the access token for `resource`
    /// (`None`: the login's own) expires within a minute, or, for another resource, is
    /// not there yet. One refresh runs at a time per session; a failed refresh ends the
    /// session.
    pub(super) async fn fresh_tokens(
        &self,
        slot: &SessionSlot,
        loaded: Loaded,
        resource: Option<&str>,
    ) -> Result<Loaded, SessionRejection> {
        if !expiring(&loaded.record.tokens, resource) {
            return Ok(loaded);
        }
        if loaded.record.tokens.refresh_token.is_none() {
            return Err(SessionRejection::new(
                SessionRejectionKind::TokenExpired,
                match resource {
                    None => {
                        "the access token has expired and there is no refresh token: \
                             log in again"
                    }
                    Some(_) => {
                        "a token for another API comes from the refresh token, and \
                                this login has none (ask for offline_access)"
                    }
                },
            ));
        }
        let lock = self.refresh_lock(&loaded);
        let _guard = lock.lock().await;
        let shared = self.shared_refresh_lock(&loaded).await?;
        let result = self.refresh_locked(slot, loaded, resource).await;
        if let (Some(store), Some(key)) = (&self.inner.sessions.store, shared) {
            // Lost, it expires by itself.
            let _ = store.delete(&key).await;
        }
        result
    }

    /// The refresh, once this request holds the locks: another request (of any
    /// instance) may have refreshed meanwhile.
    async fn refresh_locked(
        &self,
        slot: &SessionSlot,
        loaded: Loaded,
        resource: Option<&str>,
    ) -> Result<Loaded, SessionRejection> {
        let loaded = self.latest(loaded).await?;
        if !expiring(&loaded.record.tokens, resource) {
            slot.set(loaded.clone());
            return Ok(loaded);
        }
        let refreshed = self.refresh_at_provider(&loaded, resource).await;
        self.finish_refresh(slot, loaded, refreshed).await
    }

    /// For a stored session, the lock in the store that makes refreshes run one at a
    /// time across every instance sharing it (`save_new`: `SET NX PX` in Redis, an
    /// insert in PostgreSQL); its key. It expires after [`SHARED_LOCK_TTL`], so an
    /// instance that dies holding it blocks no one for long; waiting longer is a 503.
    async fn shared_refresh_lock(
        &self,
        loaded: &Loaded,
    ) -> Result<Option<String>, SessionRejection> {
        let (Some(store), Some(id)) = (&self.inner.sessions.store, &loaded.id) else {
            return Ok(None);
        };
        let key = format!("refresh-lock:{}", store_key(id));
        let deadline = tokio::time::Instant::now() + SHARED_LOCK_TTL + SHARED_LOCK_TTL / 2;
        let mut pause = std::time::Duration::from_millis(10);
        loop {
            let taken = store
                .save_new(&key, "1", SHARED_LOCK_TTL)
                .await
                .map_err(|e| SessionRejection::from(store_error(e)))?;
            if taken {
                return Ok(Some(key));
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(SessionRejection::from(LoginError::unavailable(
                    "another instance is refreshing this session's tokens: try again",
                )));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
    }

    /// The lock that makes refreshes of one session run one at a time in this process.
    /// Stateless sessions are told apart by who and when, which refreshes keep.
    fn refresh_lock(&self, loaded: &Loaded) -> Arc<tokio::sync::Mutex<()>> {
        let key = match &loaded.id {
            Some(id) => store_key(id),
            None => {
                let r = &loaded.record;
                let sub = r.claims.get("sub").and_then(Value::as_str).unwrap_or("");
                store_key(&format!("{}\n{sub}\n{}", r.provider, r.created))
            }
        };
        let mut map = self
            .inner
            .sessions
            .refreshing
            .lock()
            .expect("refresh lock map");
        map.retain(|_, w| w.strong_count() > 0);
        if let Some(lock) = map.get(&key).and_then(std::sync::Weak::upgrade) {
            return lock;
        }
        let lock = Arc::new(tokio::sync::Mutex::new(()));
        map.insert(key, Arc::downgrade(&lock));
        lock
    }

    /// The session as it is now: reread from the store, or, for a stateless one, the
    /// last of the refreshes this process made with the cookie's refresh token.
    async fn latest(&self, loaded: Loaded) -> Result<Loaded, SessionRejection> {
        let (Some(id), Some(store)) = (&loaded.id, &self.inner.sessions.store) else {
            let mut loaded = loaded;
            for _ in 0..16 {
                let used = loaded.record.tokens.refresh_token.as_deref().unwrap_or("");
                match self.recently_refreshed(&store_key(used)) {
                    Some(newer) => loaded = newer,
                    None => break,
                }
            }
            return Ok(loaded);
        };
        let stored = store
            .load(&store_key(id))
            .await
            .map_err(|e| SessionRejection::from(store_error(e)))?
            .and_then(|json| serde_json::from_str::<Record>(&json).ok());
        match stored {
            Some(record) => Ok(Loaded {
                id: Some(id.clone()),
                record: record.into(),
            }),
            None => Err(SessionRejection::missing(None)),
        }
    }

    /// The refresh token grant at the session's provider, for `resource` when given
    /// (see [`Login::refresh_upstream`]).
    /// In a span `oauth2.refresh` naming the provider.
    async fn refresh_at_provider(
        &self,
        loaded: &Loaded,
        resource: Option<&str>,
    ) -> Result<Tokens, LoginError> {
        let r = &loaded.record;
        let span = tracing::info_span!("oauth2.refresh", provider = %r.provider);
        let work = self.refresh_upstream(&r.provider, &r.tokens, r.claims.get("sub"), resource);
        crate::util::traced(span, work, |result| {
            match result {
                Ok(_) => tracing::info!("session tokens refreshed"),
                Err(e) => tracing::info!(error = %e.description(), "session refresh failed"),
            }
            let outcome = result
                .as_ref()
                .map_or_else(|e| crate::metrics::outcome(e.status()), |_| "ok");
            crate::metrics::refresh(&r.provider, "session", outcome);
        })
        .await
    }

    /// Saves refreshed tokens, or ends the session when the provider refused (an
    /// unreachable provider ends nothing: 503).
    async fn finish_refresh(
        &self,
        slot: &SessionSlot,
        mut loaded: Loaded,
        refreshed: Result<Tokens, LoginError>,
    ) -> Result<Loaded, SessionRejection> {
        let used = store_key(loaded.record.tokens.refresh_token.as_deref().unwrap_or(""));
        match refreshed {
            Ok(tokens) => {
                std::sync::Arc::make_mut(&mut loaded.record).tokens = tokens;
                let saved = self.save_changed(&loaded).await;
                let Some(cookies) = saved.map_err(SessionRejection::from)? else {
                    // Logged out while the provider answered: the session stays ended.
                    slot.end();
                    return Err(SessionRejection::new(
                        SessionRejectionKind::LoginRequired,
                        "the session ended (a logout) while its tokens were refreshed",
                    ));
                };
                slot.push_cookies(cookies);
                if loaded.id.is_none() {
                    self.remember_refresh(used, loaded.clone());
                }
                slot.set(loaded.clone());
                Ok(loaded)
            }
            Err(e) if e.status() == StatusCode::SERVICE_UNAVAILABLE => Err(e.into()),
            Err(e) => {
                tracing::info!("refresh failed, the session ends: {}", e.description());
                if let (Some(store), Some(id)) = (&self.inner.sessions.store, &loaded.id) {
                    let _ = store.delete(&store_key(id)).await;
                }
                slot.end();
                Err(SessionRejection::new(
                    SessionRejectionKind::RefreshFailed,
                    format!(
                        "the session ended because the refresh failed: {}",
                        e.description()
                    ),
                ))
            }
        }
    }

    /// A stateless session refreshed by a request of this process in the last two
    /// minutes, by the hash of the refresh token that refresh used up. Concurrent
    /// requests carry the same cookie; all but the first take the first one's tokens
    /// rather than reuse a spent refresh token.
    fn recently_refreshed(&self, key: &str) -> Option<Loaded> {
        let map = self
            .inner
            .sessions
            .refreshed
            .lock()
            .expect("refreshed map lock");
        map.get(key)
            .filter(|(_, at)| now() < at + 120)
            .map(|(l, _)| l.clone())
    }

    fn remember_refresh(&self, key: String, loaded: Loaded) {
        let mut map = self
            .inner
            .sessions
            .refreshed
            .lock()
            .expect("refreshed map lock");
        let t = now();
        map.retain(|_, (_, at)| t < *at + 120);
        map.insert(key, (loaded, t));
    }
}
