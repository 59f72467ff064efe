//! OpenID Connect Back-Channel Logout 1.0: `POST {prefix}/{provider}/backchannel-logout`
//! (opt-in per provider). The provider posts a logout token when a user logs out there;
//! the app validates it (§2.6, through the issuer's keys in the registry), refuses a
//! replayed `jti`, and ends the sessions it names: those of its `sid`, or else every
//! session of its `sub`.
//!
//! How sessions end depends on where they live:
//! - a store with tags (memory, Redis, PostgreSQL) files each session under its `sid`
//!   and `sub` when it starts, and the logout deletes what is filed: every instance
//!   sharing the store sees it at once;
//! - stateless cookies (and stores without tags) cannot be deleted, so the logout
//!   records what ended and when, for as long as a session lives, in the logout store
//!   ([`LoginBuilder::logout_store`](crate::login::LoginBuilder::logout_store)); every session
//!   read checks that record, and a session begun after the logout is not affected.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::Authenticated;
use crate::login::form::{bad, form, no_store, param};
use crate::login::session::{Record, store_key};
use crate::login::{Login, LoginError, LoginProvider};
use crate::session::StoreError;
use crate::util::{now, now_millis};
use crate::validation::{ErrorKind, Profile};

/// A logout token issued longer ago than this is refused, so that the `jti`s seen need
/// to be kept only this long.
pub(crate) const MAX_LOGOUT_TOKEN_AGE: Duration = Duration::from_secs(600);

/// The clock skew allowed between the provider and the app for `iat`.
const SKEW: u64 = 60;

/// The tag of the sessions of `provider` whose `kind` (`sid` or `sub`) is `value`.
fn tag(provider: &str, kind: &str, value: &str) -> String {
    store_key(&format!("{provider}\n{kind}\n{value}"))
}

/// The tags a session is filed under: its provider session (`sid`) when the ID token
/// named one, and its user (`sub`).
pub(crate) fn session_tags(provider: &str, claims: &Map<String, Value>) -> Vec<String> {
    ["sid", "sub"]
        .into_iter()
        .filter_map(|kind| {
            let value = claims.get(kind)?.as_str()?;
            Some(tag(provider, kind, value))
        })
        .collect()
}

fn ended_key(tag: &str) -> String {
    format!("ended:{tag}")
}

fn store_unavailable(e: StoreError) -> LoginError {
    LoginError::unavailable(e.to_string())
}

impl Login {
    /// Whether sessions of `provider` are filed by tag in the session store (else a
    /// logout records what ended).
    fn tags_sessions(&self, provider: &LoginProvider) -> bool {
        provider.inner.backchannel_logout
            && self
                .inner
                .sessions
                .store
                .as_ref()
                .is_some_and(|s| s.supports_tags())
    }

    /// Files a new stored session (by its store key) under its tags, for `ttl`.
    pub(crate) async fn tag_session(
        &self,
        key: &str,
        record: &Record,
        ttl: Duration,
    ) -> Result<(), LoginError> {
        let (Some(store), Some(p)) = (&self.inner.sessions.store, self.provider(&record.provider))
        else {
            return Ok(());
        };
        if !self.tags_sessions(p) {
            return Ok(());
        }
        let tags = session_tags(&record.provider, &record.claims);
        store.tag(key, &tags, ttl).await.map_err(store_unavailable)
    }

    /// Whether a back-channel logout recorded after `record` began has ended it (for
    /// sessions that a logout cannot delete).
    pub(crate) async fn ended_by_logout(&self, record: &Record) -> Result<bool, LoginError> {
        let Some(p) = self.provider(&record.provider) else {
            return Ok(false);
        };
        if !p.inner.backchannel_logout || self.tags_sessions(p) {
            return Ok(false);
        }
        let started = record.started_ms.max(record.created.saturating_mul(1000));
        for tag in session_tags(&record.provider, &record.claims) {
            let ended = self
                .inner
                .sessions
                .logout_store
                .load(&ended_key(&tag))
                .await
                .map_err(store_unavailable)?;
            if ended
                .and_then(|at| at.parse::<u64>().ok())
                .is_some_and(|at| started <= at)
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Ends the sessions of `tag`: deletes them from a store with tags, or records the
    /// end for as long as a session can live.
    async fn end_tagged(&self, p: &LoginProvider, tag: &str) -> Result<(), LoginError> {
        #[cfg(feature = "broker")]
        if let Some(broker) = self.broker() {
            let ended = broker
                .end_tagged(tag)
                .await
                .map_err(|e| LoginError::unavailable(e.to_string()))?;
            tracing::info!(
                provider = p.name(),
                ended,
                "back-channel logout of broker logins"
            );
        }
        if self.tags_sessions(p)
            && let Some(store) = &self.inner.sessions.store
        {
            let ended = store.delete_tagged(tag).await.map_err(store_unavailable)?;
            tracing::info!(provider = p.name(), ended, "back-channel logout");
            return Ok(());
        }
        let at = now_millis().to_string();
        self.inner
            .sessions
            .logout_store
            .save(&ended_key(tag), &at, self.inner.sessions.ttl)
            .await
            .map_err(store_unavailable)?;
        tracing::info!(provider = p.name(), "back-channel logout recorded");
        Ok(())
    }

    /// The logout token validated by §2.6 for provider `p`, its `jti` not seen before.
    async fn logout_token(
        &self,
        p: &LoginProvider,
        token: &str,
    ) -> Result<Authenticated, LoginError> {
        let invalid = |m: String| bad("invalid_request", m);
        let validator = self
            .id_token_validator(p.name())
            .ok_or_else(|| LoginError::server("back-channel logout without an issuer"))?;
        let auth = validator
            .validate_as(token, Profile::Logout)
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::KeysUnavailable => LoginError::unavailable(e.message().to_owned()),
                _ => invalid(format!("logout token: {}", e.message())),
            })?;
        let iat = auth.claim("iat").and_then(Value::as_u64).unwrap_or(0);
        if iat.saturating_add(MAX_LOGOUT_TOKEN_AGE.as_secs() + SKEW) < now() {
            return Err(invalid(format!(
                "the logout token was issued more than {} seconds ago (`iat`)",
                MAX_LOGOUT_TOKEN_AGE.as_secs()
            )));
        }
        let jti = auth.claim("jti").and_then(Value::as_str).unwrap_or("");
        let seen = format!("jti:{}", store_key(&format!("{}\n{jti}", p.name())));
        let keep = MAX_LOGOUT_TOKEN_AGE + Duration::from_secs(2 * SKEW);
        let first = self
            .inner
            .sessions
            .logout_store
            .save_new(&seen, "1", keep)
            .await
            .map_err(store_unavailable)?;
        if !first {
            return Err(invalid(
                "the logout token was already used (its `jti` was seen before)".into(),
            ));
        }
        Ok(auth)
    }
}

/// `POST {prefix}/{provider}/backchannel-logout` (form `logout_token`): 200 with
/// `Cache-Control: no-store` when the token is valid, whether or not a session matched;
/// 400 `invalid_request` with the reason (never the token) otherwise.
pub(crate) async fn backchannel_logout(
    login: State<Login>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let span = tracing::info_span!("oauth2.backchannel_logout", provider = %crate::login::tokens::printable(&name));
    let label = login.metrics_label(&name);
    let work = receive_logout(login, name, headers, body);
    crate::util::traced(span, work, |result| {
        let outcome = match result {
            Ok(_) => {
                tracing::info!("back-channel logout handled");
                "ok"
            }
            Err(e) => {
                tracing::info!(error = %e.description(), "back-channel logout refused");
                crate::metrics::outcome(e.status())
            }
        };
        crate::metrics::logout(&label, "back", outcome);
    })
    .await
}

async fn receive_logout(
    State(login): State<Login>,
    name: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let p = login.find(&name)?;
    if !p.inner.backchannel_logout {
        return Err(LoginError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!(
                "provider `{}` does not serve `backchannel-logout`",
                p.name()
            ),
        ));
    }
    let form = form(&headers, &body)?;
    let token = param(&form, "logout_token")?;
    let auth = login.logout_token(p, token).await?;
    // §2.7: with a `sid`, that provider session; with only a `sub`, all of the user's.
    let (kind, value) = match auth.claim("sid").and_then(Value::as_str) {
        Some(sid) => ("sid", sid),
        None => (
            "sub",
            auth.claim("sub").and_then(Value::as_str).unwrap_or(""),
        ),
    };
    login.end_tagged(p, &tag(p.name(), kind, value)).await?;
    Ok(no_store(StatusCode::OK, Value::Object(Map::new())))
}
