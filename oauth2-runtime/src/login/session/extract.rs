//! The session extractors and their rejection.

use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::Loaded;
use super::service::SessionSlot;
use crate::claims::{Authenticated, ClaimError, FromClaims};
use crate::login::{Login, LoginError};
use crate::validation::StepUpError;

/// Why a session extractor refused the request.
///
/// Without a session: 401 `login_required` as JSON, or, for a browser's `GET` that
/// accepts HTML, 303 to the login route (when there is one provider, or the guard names
/// one) with `return_to` set to the request's path.
#[derive(Debug)]
pub struct SessionRejection {
    pub(super) kind: SessionRejectionKind,
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
    /// The login is not strong or recent enough for the route (401
    /// `insufficient_user_authentication`, RFC 9470); a browser is sent to log in again
    /// with the route's `acr_values` and `max_age`.
    InsufficientUserAuthentication,
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
            | Self::InsufficientUserAuthentication
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
            Self::InsufficientUserAuthentication => "insufficient_user_authentication",
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
    pub(super) fn new(kind: SessionRejectionKind, description: impl Into<String>) -> Self {
        Self {
            kind,
            description: description.into(),
            login: None,
        }
    }

    pub(super) fn missing(login: Option<String>) -> Self {
        Self {
            login,
            ..Self::new(
                SessionRejectionKind::LoginRequired,
                "no session: log in first",
            )
        }
    }

    /// The session's login does not pass the route's step-up check: 401, or for a
    /// browser a new login that asks for what would pass.
    pub(super) fn step_up(e: &StepUpError, login: Option<String>) -> Self {
        Self {
            login,
            ..Self::new(
                SessionRejectionKind::InsufficientUserAuthentication,
                e.description(),
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
    pub(super) slot: Arc<SessionSlot>,
    pub(super) loaded: Loaded,
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
        Authenticated::shared(
            self.loaded.record.provider.as_str(),
            self.loaded.record.claims.shared(),
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
        self.token(None).await
    }

    /// An access token of this login for another API, `resource` (RFC 8707): got with
    /// the refresh token and `resource` (§2.2) the first time, kept in the session, and
    /// refreshed so when it expires within a minute. One login, several APIs, each
    /// with a token whose audience is that API only. The provider must have granted the
    /// resource at login (most ask for it in the authorization request:
    /// [`authorize_param`](crate::login::LoginProviderBuilder::authorize_param)
    /// `("resource", ...)` for each, or their scopes), and issue refresh tokens.
    pub async fn access_token_for(&self, resource: &str) -> Result<String, SessionRejection> {
        self.token(Some(resource)).await
    }

    /// The access token for `resource` (`None`: the login's own), refreshed as needed.
    async fn token(&self, resource: Option<&str>) -> Result<String, SessionRejection> {
        let fresh = self.fresh(resource).await?;
        let (token, _, _) = fresh
            .record
            .tokens
            .access_for(resource)
            .ok_or_else(|| LoginError::server("the refresh gave no token for the resource"))?;
        Ok(token.to_owned())
    }

    /// The session as it is now, its tokens for `resource` fresh.
    async fn fresh(&self, resource: Option<&str>) -> Result<Loaded, SessionRejection> {
        let loaded = self.slot.lock().loaded.clone().flatten();
        let loaded = loaded.unwrap_or_else(|| self.loaded.clone());
        self.slot
            .login
            .fresh_tokens(&self.slot, loaded, resource)
            .await
    }

    /// The headers of a call to an API on the user's behalf with the session's access
    /// token (refreshed as [`access_token`](Self::access_token) does):
    /// `Authorization: Bearer <token>`, or, for a token DPoP-bound to the login's key
    /// ([`LoginProviderBuilder::dpop_key`](crate::login::LoginProviderBuilder::dpop_key)),
    /// `Authorization: DPoP <token>` and a `DPoP` proof for `method` and `url` (RFC
    /// 9449). Make them anew for each call: a proof is good for one.
    ///
    /// An API that wants server nonces answers 401 `use_dpop_nonce` with a
    /// `DPoP-Nonce` header: call it again with
    /// [`api_headers_with_nonce`](Self::api_headers_with_nonce) and that nonce.
    pub async fn api_headers(
        &self,
        method: &str,
        url: &str,
    ) -> Result<axum::http::HeaderMap, SessionRejection> {
        self.headers_for(None, method, url, None).await
    }

    /// [`api_headers`](Self::api_headers) with the token for another API, `resource`
    /// (see [`access_token_for`](Self::access_token_for)).
    pub async fn api_headers_for(
        &self,
        resource: &str,
        method: &str,
        url: &str,
    ) -> Result<axum::http::HeaderMap, SessionRejection> {
        self.headers_for(Some(resource), method, url, None).await
    }

    /// [`api_headers`](Self::api_headers) whose DPoP proof carries `nonce`, the API's
    /// `DPoP-Nonce` (from its 401 `use_dpop_nonce`, or from an earlier response). The
    /// nonce has no use with an unbound token: the headers are then the same.
    pub async fn api_headers_with_nonce(
        &self,
        method: &str,
        url: &str,
        nonce: &str,
    ) -> Result<axum::http::HeaderMap, SessionRejection> {
        self.headers_for(None, method, url, Some(nonce)).await
    }

    async fn headers_for(
        &self,
        resource: Option<&str>,
        method: &str,
        url: &str,
        nonce: Option<&str>,
    ) -> Result<axum::http::HeaderMap, SessionRejection> {
        let fresh = self.fresh(resource).await?;
        let (access_token, _, dpop_bound) = fresh
            .record
            .tokens
            .access_for(resource)
            .ok_or_else(|| LoginError::server("the refresh gave no token for the resource"))?;
        let value = |v: String| {
            axum::http::HeaderValue::try_from(v)
                .map_err(|_| LoginError::server("the access token is not a header value"))
        };
        let mut headers = axum::http::HeaderMap::new();
        if !dpop_bound {
            let bearer = value(format!("Bearer {access_token}"))?;
            headers.insert(header::AUTHORIZATION, bearer);
            return Ok(headers);
        }
        let key = self
            .slot
            .login
            .provider(&fresh.record.provider)
            .and_then(|p| p.inner.dpop.clone())
            .ok_or_else(|| {
                LoginError::server("the session's token is DPoP-bound, but no DPoP key is set")
            })?;
        let proof = key
            .proof(method, url, Some(access_token), nonce)
            .map_err(LoginError::server)?;
        let dpop = value(format!("DPoP {access_token}"))?;
        headers.insert(header::AUTHORIZATION, dpop);
        headers.insert("dpop", value(proof)?);
        Ok(headers)
    }
}

/// The login redirect for a browser's navigation, when the provider is known; after a
/// failed step-up check, it asks the provider for what would pass: the route's
/// `acr_values` and `max_age`, and `prompt=login` when the `acr` was refused (the
/// provider's own session may be the weak login).
pub(super) fn login_redirect(
    login: &Login,
    parts: &Parts,
    provider: Option<&str>,
    step_up: Option<&StepUpError>,
) -> Option<String> {
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
        None => match login.inner.upstream.providers.as_slice() {
            [only] => only.name(),
            _ => return None,
        },
    };
    let here = parts
        .uri
        .path_and_query()
        .map_or("/", axum::http::uri::PathAndQuery::as_str);
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("return_to", here);
    if let Some(e) = step_up {
        if let Some(acr_values) = e.acr_values() {
            query.append_pair("acr_values", acr_values);
        }
        if let Some(max_age) = e.max_age() {
            query.append_pair("max_age", &max_age.to_string());
        }
        if e.acr_refused() {
            query.append_pair("prompt", "login");
        }
    }
    let query = query.finish();
    Some(format!("{}?{query}", login.login_path(provider)))
}

pub(super) fn slot(parts: &Parts) -> Result<Arc<SessionSlot>, SessionRejection> {
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

pub(super) async fn extract(parts: &Parts) -> Result<Option<LoginSession>, SessionRejection> {
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
                    &login, parts, None, None,
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
