//! The login session: what is kept, where (cookie or store), timeouts, refresh, the
//! layer that writes cookies back, and the extractors.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::Cookie;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tower::{Layer, Service};

use super::tokens::{Tokens, token_request};
use super::{Login, LoginError};
use crate::claims::{Authenticated, ClaimError, FromClaims};
use crate::session::{BoxFuture, StoreError};
use crate::util::now;

/// Refresh the access token when it has less than this left.
const REFRESH_MARGIN: u64 = 60;

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
}

/// What the cookie holds for a stateful session.
#[derive(Serialize, Deserialize)]
struct Id {
    id: String,
}

/// A loaded session and, for a stateful one, its id.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub(crate) id: Option<String>,
    pub(crate) record: Record,
}

/// The store key of a session id: its SHA-256, so the store holds no usable id.
fn store_key(id: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(id.as_bytes()))
}

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
                Ok(Some(record)) => Loaded { id: None, record },
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
                    record,
                }
            }
        };
        let t = now();
        let r = &loaded.record;
        if self.remaining(r) == 0 || t >= r.seen.saturating_add(i.idle.as_secs()) {
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
                let json = serde_json::to_string(&loaded.record)
                    .map_err(|e| LoginError::server(e.to_string()))?;
                store
                    .save(&store_key(id), &json, remaining.min(i.idle))
                    .await
                    .map_err(store_error)?;
                i.cookie.seal(&Id { id: id.clone() }, remaining)
            }
            _ => i.cookie.seal(&loaded.record, remaining),
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
        self.save(&Loaded { id, record }).await
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

    /// The access token of `loaded`, refreshed first if it expires within a minute.
    /// One refresh runs at a time per session; a failed refresh ends the session.
    async fn fresh_tokens(
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

    /// A layer for routes that read the session ([`Session`], [`LoginSession`]): it
    /// makes the session available and writes back cookies that change (idle timeout,
    /// refreshed tokens, ended sessions).
    pub fn layer(&self) -> SessionLayer {
        SessionLayer {
            login: self.clone(),
        }
    }
}

/// The per-request session state the layer shares with the extractors.
pub(crate) struct SessionSlot {
    login: Login,
    state: std::sync::Mutex<SlotState>,
    loading: tokio::sync::Mutex<()>,
}

#[derive(Default)]
struct SlotState {
    /// `None`: not loaded yet; `Some(None)`: no session.
    loaded: Option<Option<Loaded>>,
    cookies: Vec<Cookie<'static>>,
    /// The session ended during the request: clear the cookies.
    ended: bool,
}

impl SessionSlot {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().expect("session slot lock")
    }

    async fn get(&self, headers: &HeaderMap) -> Result<Option<Loaded>, LoginError> {
        let _loading = self.loading.lock().await;
        if let Some(loaded) = self.lock().loaded.clone() {
            return Ok(loaded);
        }
        let mut loaded = self.login.load(headers).await?;
        if let Some(l) = &mut loaded {
            // Extend the idle timeout, at most once a minute per session.
            let t = now();
            let every = (self.login.inner.idle.as_secs() / 8).clamp(1, 60);
            if t >= l.record.seen + every {
                l.record.seen = t;
                let cookies = self.login.save(l).await?;
                self.push_cookies(cookies);
            }
        }
        self.lock().loaded = Some(loaded.clone());
        Ok(loaded)
    }

    fn set(&self, loaded: Loaded) {
        self.lock().loaded = Some(Some(loaded));
    }

    fn push_cookies(&self, cookies: Vec<Cookie<'static>>) {
        let mut s = self.lock();
        let names: Vec<String> = cookies.iter().map(|c| c.name().to_owned()).collect();
        s.cookies.retain(|c| !names.iter().any(|n| n == c.name()));
        s.cookies.extend(cookies);
    }

    fn end(&self) {
        let mut s = self.lock();
        s.loaded = Some(None);
        s.ended = true;
    }
}

/// Makes the login session available to handlers; made by [`Login::layer`].
#[derive(Debug, Clone)]
pub struct SessionLayer {
    login: Login,
}

impl<S> Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            login: self.login.clone(),
        }
    }
}

/// The service of [`SessionLayer`].
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    login: Login,
}

impl<S, B> Service<Request<B>> for SessionService<S>
where
    S: Service<Request<B>, Response = Response>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let slot = Arc::new(SessionSlot {
            login: self.login.clone(),
            state: std::sync::Mutex::default(),
            loading: tokio::sync::Mutex::new(()),
        });
        // Kept to remove the session's cookies if it ends during the request.
        let sent: HeaderMap = request
            .headers()
            .get_all(header::COOKIE)
            .iter()
            .map(|v| (header::COOKIE, v.clone()))
            .collect();
        request.extensions_mut().insert(Arc::clone(&slot));
        let future = self.inner.call(request);
        let login = self.login.clone();
        Box::pin(async move {
            let mut response = future.await?;
            let state = std::mem::take(&mut *slot.lock());
            let cookies = if state.ended {
                login.inner.cookie.clear(&sent)
            } else {
                state.cookies
            };
            for cookie in cookies {
                if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            Ok(response)
        })
    }
}

/// Why a session extractor refused the request.
///
/// Without a session: 401 `login_required` as JSON, or, for a browser's `GET` that
/// accepts HTML, 303 to the login route (when there is one provider, or the guard names
/// one) with `return_to` set to the request's path.
#[derive(Debug)]
pub struct SessionRejection {
    kind: SessionRejectionKind,
    description: String,
    login: Option<String>,
}

/// Why a session extractor refused the request; each has its status and `error` code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionRejectionKind {
    /// No session (401 `login_required`).
    LoginRequired,
    /// The session's claims do not fit the extractor's type (401 `invalid_session`).
    InvalidSession,
    /// The access token expired and there is no refresh token (401 `token_expired`).
    TokenExpired,
    /// Refreshing the access token failed, so the session ended (401 `refresh_failed`).
    RefreshFailed,
    /// The login did not grant a scope the route needs (403 `insufficient_scope`).
    InsufficientScope,
    /// The user does not meet the route's requirement (403 `access_denied`).
    AccessDenied,
    /// The session store or the provider cannot be reached (503
    /// `temporarily_unavailable`).
    Unavailable,
    /// The app is wired wrong or something failed on the server (500 `server_error`).
    Server,
}

impl SessionRejectionKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            Self::LoginRequired
            | Self::InvalidSession
            | Self::TokenExpired
            | Self::RefreshFailed => StatusCode::UNAUTHORIZED,
            Self::InsufficientScope | Self::AccessDenied => StatusCode::FORBIDDEN,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Server => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error` code of the JSON body.
    pub fn code(self) -> &'static str {
        match self {
            Self::LoginRequired => "login_required",
            Self::InvalidSession => "invalid_session",
            Self::TokenExpired => "token_expired",
            Self::RefreshFailed => "refresh_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::AccessDenied => "access_denied",
            Self::Unavailable => "temporarily_unavailable",
            Self::Server => "server_error",
        }
    }
}

impl SessionRejection {
    fn new(kind: SessionRejectionKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            login: None,
        }
    }

    fn missing(login: Option<String>) -> Self {
        Self {
            login,
            ..Self::new(
                SessionRejectionKind::LoginRequired,
                "no session: log in first",
            )
        }
    }

    /// Why the request was refused.
    pub fn kind(&self) -> SessionRejectionKind {
        self.kind
    }

    /// The HTTP status (when not redirecting).
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// What was wrong.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl From<LoginError> for SessionRejection {
    fn from(e: LoginError) -> Self {
        let kind = match e.status() {
            StatusCode::SERVICE_UNAVAILABLE => SessionRejectionKind::Unavailable,
            _ => SessionRejectionKind::Server,
        };
        Self::new(kind, e.description())
    }
}

impl From<ClaimError> for SessionRejection {
    fn from(e: ClaimError) -> Self {
        Self::new(SessionRejectionKind::InvalidSession, e.to_string())
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        if let Some(login) = self.login {
            return Redirect::to(&login).into_response();
        }
        (
            self.kind.status(),
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({ "error": self.kind.code(), "error_description": self.description })),
        )
            .into_response()
    }
}

/// The request's login session: who, through which provider, the `on_login` data, and
/// the access token (refreshed when it is about to expire).
///
/// Needs [`Login::layer`] around the route. `Option<LoginSession>` is `None` without a
/// session.
#[derive(Clone)]
pub struct LoginSession {
    slot: Arc<SessionSlot>,
    loaded: Loaded,
}

impl std::fmt::Debug for LoginSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginSession")
            .field("provider", &self.loaded.record.provider)
            .field("sub", &self.subject())
            .finish_non_exhaustive()
    }
}

impl LoginSession {
    /// The provider the user logged in with.
    pub fn provider(&self) -> &str {
        &self.loaded.record.provider
    }

    /// The user's claims: the ID token's, plus the userinfo claims it lacked.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.loaded.record.claims
    }

    /// The `sub` claim.
    pub fn subject(&self) -> Option<&str> {
        self.loaded.record.claims.get("sub").and_then(Value::as_str)
    }

    /// The claims as [`Authenticated`], as the bearer extractors give them.
    pub fn user(&self) -> Authenticated {
        Authenticated::new(
            self.loaded.record.provider.clone(),
            Value::Object(self.loaded.record.claims.clone()),
        )
    }

    /// What `on_login` returned, as `T`.
    pub fn app<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&self.loaded.record.app)
    }

    /// The ID token, if the provider issued one.
    pub fn id_token(&self) -> Option<&str> {
        self.loaded.record.tokens.id_token.as_deref()
    }

    /// An access token for calls on the user's behalf, refreshed with the refresh token
    /// when it expires within a minute. A refresh that the provider refuses ends the
    /// session (401 `refresh_failed`).
    pub async fn access_token(&self) -> Result<String, SessionRejection> {
        let loaded = self.slot.lock().loaded.clone().flatten();
        let loaded = loaded.unwrap_or_else(|| self.loaded.clone());
        let fresh = self.slot.login.fresh_tokens(&self.slot, loaded).await?;
        Ok(fresh.record.tokens.access_token)
    }
}

/// The login redirect for a browser's navigation, when the provider is known.
fn login_redirect(login: &Login, parts: &Parts, provider: Option<&str>) -> Option<String> {
    let html = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/html"));
    if parts.method != Method::GET || !html {
        return None;
    }
    let provider = match provider {
        Some(p) => p,
        None => match login.inner.providers.as_slice() {
            [only] => only.name(),
            _ => return None,
        },
    };
    let here = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("return_to", here)
        .finish();
    Some(format!("{}?{query}", login.login_path(provider)))
}

fn slot(parts: &Parts) -> Result<Arc<SessionSlot>, SessionRejection> {
    parts
        .extensions
        .get::<Arc<SessionSlot>>()
        .cloned()
        .ok_or_else(|| {
            tracing::error!("a session extractor runs without `login.layer()` around its route");
            SessionRejection::new(
                SessionRejectionKind::Server,
                "login sessions are not set up for this route (add `login.layer()`)",
            )
        })
}

async fn extract(parts: &Parts) -> Result<Option<LoginSession>, SessionRejection> {
    let slot = slot(parts)?;
    let loaded = slot.get(&parts.headers).await?;
    Ok(loaded.map(|loaded| LoginSession { slot, loaded }))
}

impl<S: Send + Sync> FromRequestParts<S> for LoginSession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match extract(parts).await? {
            Some(session) => Ok(session),
            None => {
                let login = slot(parts)?.login.clone();
                Err(SessionRejection::missing(login_redirect(
                    &login, parts, None,
                )))
            }
        }
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for LoginSession {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        extract(parts).await
    }
}

/// The logged-in user, typed: `T` is read from the session's claims with
/// [`FromClaims`] (usually derived). Without a session: 401, or 303 to the login route
/// for a browser (see [`SessionRejection`]). `Option<Session<T>>` is `None` instead.
///
/// Needs [`Login::layer`] around the route.
#[derive(Debug, Clone)]
pub struct Session<T>(pub T);

impl<S: Send + Sync, T: FromClaims> FromRequestParts<S> for Session<T> {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let session =
            <LoginSession as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        Ok(Session(T::from_claims(&session.user())?))
    }
}

impl<S: Send + Sync, T: FromClaims> OptionalFromRequestParts<S> for Session<T> {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match extract(parts).await? {
            Some(session) => Ok(Some(Session(T::from_claims(&session.user())?))),
            None => Ok(None),
        }
    }
}

/// What `#[protect(session, provider = "...", claims = T)]` turns the claims parameter
/// into: the login session's user as `T`, if the session is from one of
/// [`Guard`](crate::guard::Guard) `G`'s providers, has `G`'s scopes (those granted with
/// the session's access token) and passes `G`'s condition.
///
/// | check | failure |
/// |---|---|
/// | a session of one of the providers | 401 `login_required`, or 303 to that provider's login for a browser |
/// | its claims read as `T` | 401 `invalid_session` naming the claim |
/// | the granted scopes include `G::SCOPES` | 403 `insufficient_scope` |
/// | `G::require` is true | 403 `access_denied` |
///
/// `Option<SessionProtected<G, T>>` gives `None` for the first two.
pub struct SessionProtected<G, T>(pub T, pub std::marker::PhantomData<fn() -> G>);

impl<G, T: std::fmt::Debug> std::fmt::Debug for SessionProtected<G, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SessionProtected").field(&self.0).finish()
    }
}

/// The session's user as `T` if its provider is one of `G`'s: `Ok(None)` when there is
/// no such session.
async fn guarded<G: crate::guard::Guard<T>, T: FromClaims>(
    parts: &Parts,
) -> Result<Option<(LoginSession, T)>, SessionRejection> {
    let Some(session) = extract(parts).await? else {
        return Ok(None);
    };
    if !G::PROVIDERS.contains(&session.provider()) {
        return Ok(None);
    }
    let claims = T::from_claims(&session.user())?;
    Ok(Some((session, claims)))
}

fn allowed<G: crate::guard::Guard<T>, T>(
    session: &LoginSession,
    claims: &T,
) -> Result<(), SessionRejection> {
    if !G::SCOPES.is_empty() {
        let granted = crate::Scopes::parse(
            session
                .loaded
                .record
                .tokens
                .scope
                .as_deref()
                .unwrap_or_default(),
        );
        let missing = granted.missing(G::SCOPES.iter().copied());
        if !missing.is_empty() {
            return Err(SessionRejection::new(
                SessionRejectionKind::InsufficientScope,
                format!("the login did not grant the scope `{}`", missing.join(" ")),
            ));
        }
    }
    if !G::require(claims) {
        return Err(SessionRejection::new(
            SessionRejectionKind::AccessDenied,
            "the user does not meet this route's requirement",
        ));
    }
    Ok(())
}

impl<S, G, T> FromRequestParts<S> for SessionProtected<G, T>
where
    S: Send + Sync,
    G: crate::guard::Guard<T>,
    T: FromClaims + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match guarded::<G, T>(parts).await {
            Ok(Some((session, claims))) => {
                allowed::<G, T>(&session, &claims)?;
                Ok(Self(claims, std::marker::PhantomData))
            }
            Ok(None) => {
                let login = slot(parts)?.login.clone();
                // Send browsers to the first of the route's providers that logs in.
                let provider = G::PROVIDERS.iter().find(|p| login.provider(p).is_some());
                let redirect = provider.and_then(|p| login_redirect(&login, parts, Some(p)));
                Err(SessionRejection::missing(redirect))
            }
            Err(e) => Err(e),
        }
    }
}

impl<S, G, T> OptionalFromRequestParts<S> for SessionProtected<G, T>
where
    S: Send + Sync,
    G: crate::guard::Guard<T>,
    T: FromClaims + Send,
{
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        match guarded::<G, T>(parts).await {
            Ok(Some((session, claims))) => {
                allowed::<G, T>(&session, &claims)?;
                Ok(Some(Self(claims, std::marker::PhantomData)))
            }
            Ok(None) => Ok(None),
            Err(e) if e.kind == SessionRejectionKind::InvalidSession => Ok(None),
            Err(e) => Err(e),
        }
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
