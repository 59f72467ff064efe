//! Refreshing a session's tokens: one refresh at a time per session, and none twice.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::Value;

use super::extract::{SessionRejection, SessionRejectionKind};
use super::service::SessionSlot;
use super::{Loaded, Record, store_error, store_key};
use crate::login::tokens::{Tokens, token_request};
use crate::login::{Login, LoginError};
use crate::util::now;

/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN: u64 = 60;

impl Login {
    /// The access token of `loaded`, refreshed first if it expires within a minute.
    /// One refresh runs at a time per session; a failed refresh ends the session.
    pub(super) async fn fresh_tokens(
        &self,
        slot: &SessionSlot,
        loaded: Loaded,
    ) -> Result<Loaded, SessionRejection> {
        let expiring = |t: &Tokens| t.expires_at.is_some_and(|e| e <= now() + REFRESH_MARGIN);
        if !expiring(&loaded.record.tokens) {
            return Ok(loaded);
        }
        if loaded.record.tokens.refresh_token.is_none() {
            return Err(SessionRejection::new(
                SessionRejectionKind::TokenExpired,
                "the access token has expired and there is no refresh token: log in again",
            ));
        }
        // Stateless sessions are told apart by who and when, which refreshes keep.
        let key = match &loaded.id {
            Some(id) => store_key(id),
            None => {
                let r = &loaded.record;
                let sub = r.claims.get("sub").and_then(Value::as_str).unwrap_or("");
                store_key(&format!("{}\n{sub}\n{}", r.provider, r.created))
            }
        };
        let lock = {
            let mut map = self.inner.refreshing.lock().expect("refresh lock map");
            map.retain(|_, w| w.strong_count() > 0);
            match map.get(&key).and_then(std::sync::Weak::upgrade) {
                Some(lock) => lock,
                None => {
                    let lock = Arc::new(tokio::sync::Mutex::new(()));
                    map.insert(key.clone(), Arc::downgrade(&lock));
                    lock
                }
            }
        };
        let _guard = lock.lock().await;
        // Another request may have refreshed meanwhile.
        let mut loaded = match (&loaded.id, &self.inner.store) {
            (Some(id), Some(store)) => {
                let stored = store
                    .load(&store_key(id))
                    .await
                    .map_err(|e| SessionRejection::from(store_error(e)))?
                    .and_then(|json| serde_json::from_str::<Record>(&json).ok());
                match stored {
                    Some(record) => Loaded {
                        id: Some(id.clone()),
                        record,
                    },
                    None => return Err(SessionRejection::missing(None)),
                }
            }
            _ => {
                // Follow the chain of refreshes made with this cookie's refresh token.
                let mut loaded = loaded;
                for _ in 0..16 {
                    let used = loaded.record.tokens.refresh_token.as_deref().unwrap_or("");
                    match self.recently_refreshed(&store_key(used)) {
                        Some(newer) => loaded = newer,
                        None => break,
                    }
                }
                loaded
            }
        };
        if !expiring(&loaded.record.tokens) {
            slot.set(loaded.clone());
            return Ok(loaded);
        }
        let provider = self.provider(&loaded.record.provider).cloned();
        let refreshed = match provider {
            None => Err(LoginError::server(
                "the session's provider is no longer configured",
            )),
            Some(p) => match p.endpoints(&self.inner.registry).await {
                Err(e) => Err(LoginError::unavailable(e.to_string())),
                Ok(endpoints) => {
                    let token = loaded
                        .record
                        .tokens
                        .refresh_token
                        .clone()
                        .unwrap_or_default();
                    token_request(
                        &self.inner.http,
                        &p,
                        endpoints,
                        &[("grant_type", "refresh_token"), ("refresh_token", &token)],
                    )
                    .await
                }
            },
        };
        let used = store_key(loaded.record.tokens.refresh_token.as_deref().unwrap_or(""));
        match refreshed {
            Ok(mut tokens) => {
                let old = &loaded.record.tokens;
                if tokens.refresh_token.is_none() {
                    tokens.refresh_token.clone_from(&old.refresh_token);
                }
                if tokens.id_token.is_none() {
                    tokens.id_token.clone_from(&old.id_token);
                }
                loaded.record.tokens = tokens;
                let cookies = self.save(&loaded).await.map_err(SessionRejection::from)?;
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
                if let (Some(store), Some(id)) = (&self.inner.store, &loaded.id) {
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
        let map = self.inner.refreshed.lock().expect("refreshed map lock");
        map.get(key)
            .filter(|(_, at)| now() < at + 120)
            .map(|(l, _)| l.clone())
    }

    fn remember_refresh(&self, key: String, loaded: Loaded) {
        let mut map = self.inner.refreshed.lock().expect("refreshed map lock");
        let t = now();
        map.retain(|_, (_, at)| t < *at + 120);
        map.insert(key, (loaded, t));
    }
}
