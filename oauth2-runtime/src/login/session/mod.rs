//! The login session: what is kept (the record), where (a cookie or a store),
//! timeouts; the refresh of its tokens (`refresh.rs`); the layer that writes cookies
//! back (`service.rs`); the extractors (`extract.rs`) and the `#[protect(session)]`
//! guard (`guard.rs`).

mod extract;
mod guard;
mod parsed;
mod refresh;
mod service;

pub use extract::{LoginSession, Session, SessionRejection, SessionRejectionKind};
pub use guard::SessionProtected;
pub use parsed::DEFAULT_SESSION_CACHE_BYTES;
pub(crate) use parsed::SessionCache;
use parsed::{OpenedId, cookie_key};
pub use service::{SessionLayer, SessionService};

use std::sync::Arc;

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
    pub(crate) claims: SessionClaims,
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

/// The user's claims, shared (not copied) with the [`Authenticated`] that the session
/// extractors hand out. Always a JSON object; reads as its map.
///
/// [`Authenticated`]: crate::claims::Authenticated
#[derive(Debug, Clone)]
pub(crate) struct SessionClaims(Arc<Value>);

impl SessionClaims {
    pub(crate) fn new(claims: Map<String, Value>) -> Self {
        Self(Arc::new(Value::Object(claims)))
    }

    pub(crate) fn shared(&self) -> Arc<Value> {
        Arc::clone(&self.0)
    }
}

impl std::ops::Deref for SessionClaims {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
        self.0.as_object().unwrap_or(&EMPTY)
    }
}

impl Serialize for SessionClaims {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for SessionClaims {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(Self::new)
    }
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
    pub(crate) record: Arc<Record>,
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
        (record.created + self.inner.sessions.ttl.as_secs()).saturating_sub(now())
    }

    /// The session of a request, if it has a live one. Invalid cookies count as none.
    pub(crate) async fn load(&self, headers: &HeaderMap) -> Result<Option<Loaded>, LoginError> {
        let i = &self.inner;
        let refused = |e: crate::session::SessionError| {
            tracing::debug!("session cookie refused: {e}");
            Ok(None)
        };
        let loaded = match &i.sessions.store {
            None => match i.sessions.cookie.sealed(headers) {
                Ok(Some(sealed)) => match self.open_record(&sealed) {
                    Ok(record) => Loaded { id: None, record },
                    Err(e) => return refused(e),
                },
                Ok(None) => return Ok(None),
                Err(e) => return refused(e),
            },
            Some(store) => {
                let opened = match i.sessions.cookie.sealed(headers) {
                    Ok(Some(sealed)) => match self.open_id(&sealed) {
                        Ok(opened) => opened,
                        Err(e) => return refused(e),
                    },
                    Ok(None) => return Ok(None),
                    Err(e) => return refused(e),
                };
                let Some(json) = store.load(&opened.key).await.map_err(store_error)? else {
                    return Ok(None);
                };
                Loaded {
                    record: self.parse_record(&opened.key, &json)?,
                    id: Some(opened.id.clone()),
                }
            }
        };
        let t = now();
        let r = &loaded.record;
        let timed_out =
            self.remaining(r) == 0 || t >= r.seen.saturating_add(i.sessions.idle.as_secs());
        if timed_out || self.ended_by_logout(r).await? {
            if let (Some(store), Some(id)) = (&i.sessions.store, &loaded.id) {
                self.forget(&store_key(id));
                store.delete(&store_key(id)).await.map_err(store_error)?;
            }
            return Ok(None);
        }
        Ok(Some(loaded))
    }

    /// The record sealed in a cookie, from the parsed-session cache when it holds these
    /// bytes.
    fn open_record(&self, sealed: &str) -> Result<Arc<Record>, crate::session::SessionError> {
        let i = &self.inner;
        let key = cookie_key(sealed);
        if let Some((record, expires)) = i
            .sessions
            .parsed
            .as_ref()
            .and_then(|c| c.record(key, sealed))
        {
            if expires <= now() {
                return Err(crate::session::SessionError::Expired);
            }
            return Ok(record);
        }
        let (record, expires) = i.sessions.cookie.open_sealed::<Record>(sealed)?;
        let record = Arc::new(record);
        if let Some(cache) = &i.sessions.parsed {
            cache.insert_record(key, sealed, &record, expires);
        }
        Ok(record)
    }

    /// The id in a stateful session's cookie and its store key, from the parsed-session
    /// cache when it holds this cookie.
    fn open_id(&self, sealed: &str) -> Result<Arc<OpenedId>, crate::session::SessionError> {
        let i = &self.inner;
        if let Some((opened, expires)) = i.sessions.parsed.as_ref().and_then(|c| c.id(sealed)) {
            if expires <= now() {
                return Err(crate::session::SessionError::Expired);
            }
            return Ok(opened);
        }
        let (Id { id }, expires) = i.sessions.cookie.open_sealed::<Id>(sealed)?;
        let opened = Arc::new(OpenedId {
            key: store_key(&id),
            id,
        });
        if let Some(cache) = &i.sessions.parsed {
            cache.insert_id(sealed, &opened, expires);
        }
        Ok(opened)
    }

    /// The record stored as `json` under `key`, from the parsed-session cache when it
    /// holds this JSON.
    fn parse_record(&self, key: &str, json: &str) -> Result<Arc<Record>, LoginError> {
        let cache = self.inner.sessions.parsed.as_ref();
        if let Some((record, _)) = cache.and_then(|c| c.record(key, json)) {
            return Ok(record);
        }
        let record: Record = serde_json::from_str(json)
            .map_err(|e| LoginError::server(format!("stored session is invalid: {e}")))?;
        let record = Arc::new(record);
        if let Some(cache) = cache {
            cache.insert_record(key, json, &record, u64::MAX);
        }
        Ok(record)
    }

    /// Drops a deleted session from the parsed-session cache.
    fn forget(&self, key: &str) {
        if let Some(cache) = &self.inner.sessions.parsed {
            cache.remove(key);
        }
    }

    /// Saves `loaded` (a new session); returns the cookies to set.
    pub(crate) async fn save(&self, loaded: &Loaded) -> Result<Vec<Cookie<'static>>, LoginError> {
        let saved = self.write(loaded, false).await?;
        Ok(saved.expect("a save without condition always saves"))
    }

    /// Saves a changed session only if it still exists in the store (a logout during a
    /// refresh is not undone); `None` when it is gone. A stateless session has no
    /// store to ask: its new cookie is always returned.
    pub(crate) async fn save_changed(
        &self,
        loaded: &Loaded,
    ) -> Result<Option<Vec<Cookie<'static>>>, LoginError> {
        self.write(loaded, true).await
    }

    async fn write(
        &self,
        loaded: &Loaded,
        only_existing: bool,
    ) -> Result<Option<Vec<Cookie<'static>>>, LoginError> {
        let i = &self.inner;
        let remaining = std::time::Duration::from_secs(self.remaining(&loaded.record));
        let sealed = match (&i.sessions.store, &loaded.id) {
            (Some(store), Some(id)) => {
                let json = serde_json::to_string(&*loaded.record)
                    .map_err(|e| LoginError::server(e.to_string()))?;
                let key = store_key(id);
                let ttl = remaining.min(i.sessions.idle);
                if only_existing {
                    if !store
                        .save_existing(&key, &json, ttl)
                        .await
                        .map_err(store_error)?
                    {
                        self.forget(&key);
                        return Ok(None);
                    }
                } else {
                    store.save(&key, &json, ttl).await.map_err(store_error)?;
                }
                if let Some(cache) = &i.sessions.parsed {
                    cache.insert_record(&key, &json, &loaded.record, u64::MAX);
                }
                i.sessions.cookie.seal(&Id { id: id.clone() }, remaining)
            }
            _ => i.sessions.cookie.seal(&*loaded.record, remaining),
        };
        sealed
            .map(Some)
            .map_err(|e| LoginError::server(e.to_string()))
    }

    /// Starts a new session (a new id: no fixation), ending the request's old one.
    pub(crate) async fn start(
        &self,
        headers: &HeaderMap,
        record: Record,
    ) -> Result<Vec<Cookie<'static>>, LoginError> {
        let id = match &self.inner.sessions.store {
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
        if let (Some(store), Ok(Some(Id { id }))) =
            (&i.sessions.store, i.sessions.cookie.open::<Id>(headers))
        {
            self.forget(&store_key(&id));
            store.delete(&store_key(&id)).await.map_err(store_error)?;
        }
        Ok(i.sessions.cookie.clear(headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::login::{LoginBuilder, LoginProvider};
    use crate::session::cookie::tests::request;
    use crate::session::{MemoryStore, SessionStore};
    use std::time::Duration;

    fn login(store: bool) -> Login {
        login_with(store.then(MemoryStore::new), |b| {
            b.session_ttl(Duration::from_secs(3600))
                .idle_timeout(Duration::from_secs(600))
        })
    }

    fn record(age: u64, idle: u64) -> Record {
        let t = now();
        Record {
            provider: "plain".into(),
            claims: SessionClaims::new(
                serde_json::json!({"sub": "alice"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
            app: Value::Null,
            tokens: Tokens {
                access_token: "at".into(),
                refresh_token: None,
                id_token: None,
                expires_at: None,
                scope: None,
                dpop_bound: false,
                resources: Default::default(),
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
        let l = login_with(Some(store.clone()), |b| b);
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

    fn login_with(
        store: Option<MemoryStore>,
        configure: impl FnOnce(LoginBuilder) -> LoginBuilder,
    ) -> Login {
        let mut b = Login::builder()
            .base_url("https://app.example")
            .session_secret("a unit test secret of at least 32 bytes")
            .provider(
                LoginProvider::builder("plain")
                    .client_id("app")
                    .authorize_url("https://idp.example/authorize")
                    .token_url("https://idp.example/token")
                    .userinfo_url("https://idp.example/user"),
            );
        if let Some(store) = store {
            b = b.session_store(store);
        }
        configure(b).build().unwrap()
    }

    /// The cookies with a character in the middle of the sealed value changed: the same
    /// cache key (its start), other bytes.
    fn forge(cookies: &[Cookie<'static>]) -> Vec<Cookie<'static>> {
        let mut forged = cookies.to_vec();
        let mut value = forged[0].value().as_bytes().to_vec();
        let mid = value.len() / 2;
        assert!(mid > 40, "past the cache key");
        value[mid] = if value[mid] == b'A' { b'B' } else { b'A' };
        forged[0].set_value(String::from_utf8(value).unwrap());
        forged
    }

    fn subject(loaded: &Loaded) -> &str {
        loaded.record.claims["sub"].as_str().unwrap()
    }

    #[tokio::test]
    async fn a_parsed_session_is_reused_only_for_the_bytes_it_was_parsed_from() {
        // Stateful: another instance changes the stored record; the next read sees it.
        let store = MemoryStore::new();
        let l = login_with(Some(store.clone()), |b| b);
        let cookies = l.start(&HeaderMap::new(), record(0, 0)).await.unwrap();
        let headers = request(&cookies);
        let first = l.load(&headers).await.unwrap().unwrap();
        let again = l.load(&headers).await.unwrap().unwrap();
        assert!(
            Arc::ptr_eq(&first.record, &again.record),
            "read from the cache"
        );
        assert!(l.load(&request(&forge(&cookies))).await.unwrap().is_none());
        let key = store_key(first.id.as_deref().unwrap());
        let mut changed = (*first.record).clone();
        changed.claims = SessionClaims::new(
            serde_json::json!({"sub": "bob"})
                .as_object()
                .unwrap()
                .clone(),
        );
        let json = serde_json::to_string(&changed).unwrap();
        store
            .save(&key, &json, Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(subject(&l.load(&headers).await.unwrap().unwrap()), "bob");
        // Deleted elsewhere (a back-channel logout on another instance): gone here too.
        store.delete(&key).await.unwrap();
        assert!(l.load(&headers).await.unwrap().is_none());

        // Stateless: a cookie changed after its cached start is opened, and refused.
        let l = login_with(None, |b| b);
        let cookies = l.start(&HeaderMap::new(), record(0, 0)).await.unwrap();
        let headers = request(&cookies);
        assert_eq!(subject(&l.load(&headers).await.unwrap().unwrap()), "alice");
        assert!(l.load(&request(&forge(&cookies))).await.unwrap().is_none());
        assert_eq!(
            l.inner.sessions.parsed.as_ref().unwrap().len(),
            1,
            "nothing cached for it"
        );
        assert!(l.load(&headers).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_timeouts_are_checked_on_a_cached_read() {
        for stateful in [false, true] {
            let l = login_with(stateful.then(MemoryStore::new), |b| {
                b.idle_timeout(Duration::from_secs(1))
            });
            let headers = request(&l.start(&HeaderMap::new(), record(0, 0)).await.unwrap());
            assert!(l.load(&headers).await.unwrap().is_some());
            assert!(l.load(&headers).await.unwrap().is_some());
            tokio::time::sleep(Duration::from_millis(2100)).await;
            assert!(
                l.load(&headers).await.unwrap().is_none(),
                "idle timeout on a cached read, stateful={stateful}"
            );
        }
    }

    #[tokio::test]
    async fn the_parsed_session_cache_stays_within_its_bytes_or_is_off() {
        let l = login_with(Some(MemoryStore::new()), |b| b.session_cache(64 * 1024));
        for _ in 0..300 {
            let headers = request(&l.start(&HeaderMap::new(), record(0, 0)).await.unwrap());
            assert!(l.load(&headers).await.unwrap().is_some());
        }
        let cache = l.inner.sessions.parsed.as_ref().unwrap();
        assert!(cache.weight() <= 64 * 1024, "{} bytes", cache.weight());
        assert!(cache.len() > 10, "it still holds sessions: {}", cache.len());

        let off = login_with(None, |b| b.session_cache(0));
        assert!(off.inner.sessions.parsed.is_none());
        let headers = request(&off.start(&HeaderMap::new(), record(0, 0)).await.unwrap());
        let first = off.load(&headers).await.unwrap().unwrap();
        let again = off.load(&headers).await.unwrap().unwrap();
        assert!(
            !Arc::ptr_eq(&first.record, &again.record),
            "parsed each time"
        );
    }
}
