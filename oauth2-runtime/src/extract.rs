//! axum extractors: typed claims, raw claims, and optional authentication.
//!
//! - [`Claims<T>`]: the claims as any `T: DeserializeOwned`; a token whose claims do
//!   not fit `T` (a missing field, a wrong type) is rejected with 401 naming the claim.
//! - [`Authenticated`]: the provider's name and the claims as a JSON map.
//! - `Option<Claims<T>>`, `Option<Authenticated>`: `None` when there is no token or a
//!   bad one (optional authentication, e.g. on a public path).
//! - [`CallerToken`]: the validated access token itself, to exchange for a token to
//!   another API ([`TokenClient::exchange`](crate::client::TokenClient::exchange)).
//!
//! Under an [`AuthLayer`](crate::layer::AuthLayer) they read what the layer validated; on
//! public paths they validate the request's token themselves.
//!
//! ```
//! use axum::{routing::get, Json, Router};
//! use oauth2::{Authenticated, Claims};
//!
//! #[derive(serde::Deserialize)]
//! struct User { sub: String, email: Option<String> }
//!
//! async fn me(Claims(user): Claims<User>) -> String {
//!     format!("{} <{}>", user.sub, user.email.unwrap_or_default())
//! }
//! async fn raw(auth: Authenticated) -> Json<serde_json::Map<String, serde_json::Value>> {
//!     Json(auth.claims().clone())
//! }
//! async fn maybe(user: Option<Claims<User>>) -> String {
//!     user.map_or("anonymous".into(), |Claims(u)| u.sub)
//! }
//! let app: Router = Router::new()
//!     .route("/me", get(me))
//!     .route("/raw", get(raw))
//!     .route("/maybe", get(maybe));
//! ```

use std::ops::{Deref, DerefMut};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{AuthError, AuthErrorKind};
use crate::{Authenticated, Authenticator};

/// The validated claims of the request's token, deserialized into `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Claims<T>(pub T);

impl<T> Deref for Claims<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Claims<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

pub(crate) fn reject(parts: &Parts, error: AuthError) -> AuthError {
    match parts.extensions.get::<Authenticator>() {
        Some(auth) => auth.reject(error),
        None => error,
    }
}

/// Whether an optional extractor turns this error into `None`.
pub(crate) fn is_absent_or_bad(error: &AuthError) -> bool {
    matches!(
        error.kind(),
        AuthErrorKind::MissingToken
            | AuthErrorKind::InvalidRequest
            | AuthErrorKind::InvalidToken
            | AuthErrorKind::InvalidDpopProof
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Authenticated {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthError> {
        if let Some(auth) = parts.extensions.get::<Authenticated>() {
            return Ok(auth.clone());
        }
        let Some(authenticator) = parts.extensions.get::<Authenticator>().cloned() else {
            return Err(AuthError::misconfigured(
                "no authenticator for this route: add `.layer(providers.layer())` (or `.layer(authenticator.layer())`) to the router",
            ));
        };
        let auth = authenticator.authenticate(parts).await?;
        parts.extensions.insert(auth.clone());
        Ok(auth)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Authenticated {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AuthError> {
        match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(auth) => Ok(Some(auth)),
            Err(e) if is_absent_or_bad(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Claims<T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        let auth = <Authenticated as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        auth.deserialize_claims()
            .map(Claims)
            .map_err(|e| reject(parts, e.into()))
    }
}

impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequestParts<S> for Claims<T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AuthError> {
        match <Self as FromRequestParts<S>>::from_request_parts(parts, state).await {
            Ok(claims) => Ok(Some(claims)),
            Err(e) if is_absent_or_bad(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// The access token the request was authenticated with, for exchanging it for a token
/// to another API on the caller's behalf
/// ([`TokenClient::exchange`](crate::client::TokenClient::exchange)): forwarding it
/// would hand the next API a token that was not meant for it (RFC 9700 §2.3; the MCP
/// specification forbids it). The token is validated first, as [`Authenticated`] is;
/// `Debug` does not show it.
///
/// ```no_run
/// use axum::extract::State;
/// use oauth2::CallerToken;
/// use oauth2::client::{Target, TokenClient, TokenError};
///
/// async fn stock(
///     caller: CallerToken,
///     State(tokens): State<TokenClient>,
/// ) -> Result<String, TokenError> {
///     let target = Target::resource("https://inventory.example");
///     let token = tokens.exchange(caller.secret(), &target, &["read"]).await?;
///     let http = reqwest::Client::new();
///     let answer = token.authorize(http.get("https://inventory.example/stock"))?.send().await;
///     Ok(match answer {
///         Ok(response) => response.text().await.unwrap_or_default(),
///         Err(e) => format!("inventory is unreachable: {e}"),
///     })
/// }
/// ```
#[derive(Clone)]
pub struct CallerToken(String);

impl CallerToken {
    /// The token. Never log it, and never send it to another API.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for CallerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CallerToken(..)")
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CallerToken {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        <Authenticated as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let Some(authenticator) = parts.extensions.get::<Authenticator>() else {
            return Err(AuthError::misconfigured(
                "no authenticator for this route: add `.layer(providers.layer())` (or `.layer(authenticator.layer())`) to the router",
            ));
        };
        let presented = authenticator.token(parts)?;
        Ok(Self(presented.token.into_owned()))
    }
}
