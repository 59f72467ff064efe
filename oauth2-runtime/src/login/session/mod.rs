//! The login session: what is kept (the record), where (a cookie or a store),
//! timeouts; the refresh of its tokens (`refresh.rs`); the layer that writes cookies
//! back (`service.rs`); the extractors (`extract.rs`) and the `#[protect(session)]`
//! guard (`guard.rs`).

mod extract;
mod guard;
mod refresh;
mod service;

pub use extract::{LoginSession, Session, SessionRejection, SessionRejectionKind};
pub use guard::SessionProtected;
pub use service::{SessionLayer, SessionService};

use axum::http::HeaderMap;
use cookie::Cookie;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::login::tokens::Tokens;
use crate::login::{Login, LoginError};
use crate::session::StoreError;
use crate::util::now;

/// One session: the user and the tokens. In a cookie or a store, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Record {
    pub(crate) provider: String,
    pub(crate) claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub(crate) app: Value,
    pub(crate) tokens: Tokens,
    /// When it began and when it was last used, seconds since the epoch.
    pub(crate) created: u64,
    pub(crate) seen: u64,
    /// When it began, in milliseconds: a back-channel logout ends the sessions that
    /// began before it, not one begun in the same second after it.
    #[serde(default)]
    pub(crate) started_ms: u64,
}

/// What the cookie holds for a stateful session.
#[derive(Serialize, Deserialize)]
struct Id {
    id: String,
}

/// A loaded session and, for a stateful one, its id. The record is shared: the layer,
/// the extractors and the handler see one copy, and a change (a refresh, the idle
/// timestamp) copies it once.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) id: Option<String>,
    pub(crate) record: std::sync::Arc<Record>,
}

pub(crate) use crate::util::store_key;

fn random_id() -> Result<String, LoginError> {
    crate::util::random_token().map_err(|e| LoginError::server(e.to_string()))
}

fn store_error(e: StoreError) -> LoginError {
    LoginError::unavailable(e.to_string())
}

impl Login {
    fn remaining(&self, record: &Record) -> u64 {
        (record.created + self.inner.ttl.as_secs()).saturating_sub(now())
    }

    /// The session of a request, if it has a live one. Invalid cookies count as none.
    pub(crate) async fn load(&self, headers: &HeaderMap) -> Result<Option<Loaded>, LoginError> {
        let i = &self.inner;
        let loaded = match &i.store {
            None => match i.cookie.open::<Record>(headers) {
                Ok(Some(record)) => Loaded {
                    id: None,
                    record: record.into(),
                },
                Ok(None) => return Ok(None),
                Err(e) => {
                    tracing::debug!("session cookie refused: {e}");
                    return Ok(None);
                }
            },
            Some(store) => {
                let id = match i.cookie.open::<Id>(headers) {
                    Ok(Some(Id { id })) => id,
                    Ok(None) => return Ok(None),
                    Err(e) => {
                        tracing::debug!("session cookie refused: {e}");
                        return Ok(None);
                    }
                };
                let Some(json) = store.load(&store_key(&id)).await.map_err(store_error)? else {
                    return Ok(None);
                };
                let record: Record = serde_json::from_str(&json)
                    .map_err(|e| LoginError::server(format!("stored session is invalid: {e}")))?;
                Loaded {
                    id: Some(id),
                    record: record.into(),
                }
            }
        };
        let t = now();
        let r = &loaded.record;
        let timed_out = self.remaining(r) == 0 || t >= r.seen.saturating_add(i.idle.as_secs());
        if timed_out || self.ended_by_logout(r).await? {
            if let (Some(store), Some(id)) = (&i.store, &loaded.id) {
                store.delete(&store_key(id)).await.map_err(store_error)?;
            }
            return Ok(None);
        }
        Ok(Some(loaded))
    }

    /// Saves `loaded` (a new or changed session); returns the cookies to set.
    pub(crate) async fn save(&self, loaded: &Loaded) -> Result<Vec<Cookie<'static>>, LoginError> {
        let i = &self.inner;
        let remaining = std::time::Duration::from_secs(self.remaining(&loaded.record));
        let sealed = match (&i.store, &loaded.id) {
            (Some(store), Some(id)) => {
                let json = serde_json::to_string(&*loaded.record)
                    .map_err(|e| LoginError::server(e.to_string()))?;
                store
                    .save(&store_key(id), &json, remaining.min(i.idle))
                    .await
                    .map_err(store_error)?;
                i.cookie.seal(&Id { id: id.clone() }, remaining)
            }
            _ => i.cookie.seal(&*loaded.record, remaining),
        };
        sealed.map_err(|e| LoginError::server(e.to_string()))
    }

    /// Starts a new session (a new id: no fixation), ending the request's old one.
    pub(crate) async fn start(
        &self,
        headers: &HeaderMap,
        record: Record,
    ) -> Result<Vec<Cookie<'static>>, LoginError> {
        let id = match &self.inner.store {
            Some(_) => {
                self.end(headers).await?;
                Some(random_id()?)
            }
            None => None,
        };
        let loaded = Loaded {
            id,
            record: record.into(),
        };
        let cookies = self.save(&loaded).await?;
        if let Some(id) = &loaded.id {
            let ttl = std::time::Duration::from_secs(self.remaining(&loaded.record));
            self.tag_session(&store_key(id), &loaded.record, ttl)
                .await?;
        }
        Ok(cookies)
    }

    /// Ends the request's session in the store; returns the cookies that remove it.
    pub(crate) async fn end(
        &self,
        headers: &HeaderMap,
    ) -> Result<Vec<Cookie<'static>>, LoginError> {
        let i = &self.inner;
        if let (Some(store), Ok(Some(Id { id }))) = (&i.store, i.cookie.open::<Id>(headers)) {
            store.delete(&store_key(&id)).await.map_err(store_error)?;
        }
        Ok(i.cookie.clear(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login::LoginProvider;
    use crate::session::cookie::tests::request;
    use crate::session::{MemoryStore, SessionStore};
    use std::time::Duration;

    fn login(store: bool) -> Login {
        let mut b = Login::builder()
            .base_url("https://app.example")
            .session_secret("a unit test secret of at least 32 bytes")
            .session_ttl(Duration::from_secs(3600))
            .idle_timeout(Duration::from_secs(600))
            .provider(
                LoginProvider::builder("plain")
                    .client_id("app")
                    .authorize_url("https://idp.example/authorize")
                    .token_url("https://idp.example/token")
                    .userinfo_url("https://idp.example/user"),
            );
        if store {
            b = b.store(MemoryStore::new());
        }
        b.build().unwrap()
    }

    fn record(age: u64, idle: u64) -> Record {
        let t = now();
        Record {
            provider: "plain".into(),
            claims: serde_json::json!({"sub": "alice"})
                .as_object()
                .unwrap()
                .clone(),
            app: Value::Null,
            tokens: Tokens {
                access_token: "at".into(),
                refresh_token: None,
                id_token: None,
                expires_at: None,
                scope: None,
            },
            created: t - age,
            seen: t - idle,
            started_ms: (t - age) * 1000,
        }
    }

    async fn alive(login: &Login, age: u64, idle: u64) -> bool {
        // Sealed as a session that began `age` seconds ago, last used `idle` ago.
        let cookies = login
            .start(&HeaderMap::new(), record(age, idle))
            .await
            .unwrap();
        login.load(&request(&cookies)).await.unwrap().is_some()
    }

    #[tokio::test]
    async fn sessions_end_after_their_lifetime_or_when_idle() {
        for stateful in [false, true] {
            let l = login(stateful);
            assert!(alive(&l, 0, 0).await, "stateful={stateful}");
            assert!(alive(&l, 3500, 500).await, "stateful={stateful}");
            assert!(
                !alive(&l, 3601, 0).await,
                "absolute timeout, stateful={stateful}"
            );
            assert!(
                !alive(&l, 700, 601).await,
                "idle timeout, stateful={stateful}"
            );
        }
    }

    #[tokio::test]
    async fn a_stored_session_is_keyed_by_a_hash_and_gone_after_logout() {
        let store = MemoryStore::new();
        let l = Login::builder()
            .base_url("https://app.example")
            .session_secret("a unit test secret of at least 32 bytes")
            .store(store.clone())
            .provider(
                LoginProvider::builder("plain")
                    .client_id("app")
                    .authorize_url("https://idp.example/authorize")
                    .token_url("https://idp.example/token")
                    .userinfo_url("https://idp.example/user"),
            )
            .build()
            .unwrap();
        let cookies = l.start(&HeaderMap::new(), record(0, 0)).await.unwrap();
        let headers = request(&cookies);
        let id = l.load(&headers).await.unwrap().unwrap().id.unwrap();
        assert_eq!(store.len(), 1);
        assert!(
            store.load(&id).await.unwrap().is_none(),
            "the raw id is not a key"
        );
        assert!(store.load(&store_key(&id)).await.unwrap().is_some());
        // A new login in the same browser replaces the session: a new id, the old one gone.
        let again = l.start(&headers, record(0, 0)).await.unwrap();
        let new_id = l.load(&request(&again)).await.unwrap().unwrap().id.unwrap();
        assert_ne!(new_id, id);
        assert_eq!(store.len(), 1);
        l.end(&request(&again)).await.unwrap();
        assert!(store.is_empty());
        assert!(l.load(&request(&again)).await.unwrap().is_none());
    }
}
