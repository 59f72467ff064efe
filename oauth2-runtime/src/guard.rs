//! Route guards: what `#[protect(...)]` turns a handler's claims parameter into.
//!
//! `#[protect(provider = "google", claims = User, scopes = ["read"])]` declares a hidden
//! [`Guard`] type for the handler and replaces the `user: User` parameter with a
//! [`Protected`] extractor that runs before every other one. It accepts a request when
//! its token is valid, was issued by one of the guard's providers, carries the guard's
//! scopes, reads as the claims type, and passes the `require` condition:
//!
//! | check | failure |
//! |---|---|
//! | a token is present and well formed | 400 `invalid_request` |
//! | it validates (signature, `iss`, `aud`, `exp`, ...) | 401 `invalid_token` |
//! | its provider is one the route accepts | 401 `invalid_token` |
//! | its claims read as the claims type | 401 `invalid_token` naming the claim |
//! | its `acr` is one of `acr = [...]`, its `auth_time` within `max_age` (RFC 9470) | 401 `insufficient_user_authentication` with `acr_values` and `max_age` |
//! | it has every scope of `scopes = [...]` | 403 `insufficient_scope` |
//! | `require = <condition>` is true | 403 `access_denied` |
//!
//! `Option<Protected<G, T>>` (the `optional` flag) gives `None` for the first four and
//! still answers the last three: a caller without a token is anonymous, a caller whose
//! token lacks rights (or a strong enough login) is refused.
//!
//! The macro is the intended way in; the types can also be written by hand:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use axum::{routing::get, Router};
//! use oauth2::guard::{Guard, Protected};
//! use oauth2::{Authenticator, Authenticated, Provider};
//!
//! struct Admins;
//! impl Guard<Authenticated> for Admins {
//!     const PROVIDERS: &'static [&'static str] = &["corp"];
//!     const SCOPES: &'static [&'static str] = &["admin"];
//! }
//!
//! async fn admin(Protected(auth, _): Protected<Admins, Authenticated>) -> String {
//!     auth.subject().unwrap_or_default().to_owned()
//! }
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience("api"))
//!     .build()
//!     .unwrap();
//! let app: Router = Router::new().route("/admin", get(admin)).layer(auth.extension());
//! # }
//! ```

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use crate::Authenticator;
use crate::claims::{Authenticated, FromClaims};
use crate::error::{AuthError, AuthErrorKind};
use crate::extract::{is_absent_or_bad, reject};
use crate::http::decision;
use crate::util::now;
use crate::validation::{ErrorKind, StepUp, ValidationError};

/// The static rules of one protected route, for claims of type `T`; `#[protect]`
/// writes one per handler.
///
/// `T` is a parameter rather than an associated type so that a guard for a private
/// claims type is itself private, as the handler's own signature would be. The
/// extractor needs `T: FromClaims`.
pub trait Guard<T>: 'static {
    /// The providers whose tokens the route accepts.
    const PROVIDERS: &'static [&'static str];
    /// The scopes a token must all have.
    const SCOPES: &'static [&'static str] = &[];
    /// What the route asks of the user's authentication (`acr`, `max_age`).
    const STEP_UP: StepUp<'static> = StepUp::NONE;
    /// Only DPoP-bound tokens (RFC 9449), accepted with their proofs.
    const DPOP: bool = false;
    /// An extra condition on the claims; `false` answers 403.
    fn require(claims: &T) -> bool {
        let _ = claims;
        true
    }
}

/// An extractor that accepts a request only when [`Guard`] `G` does, and gives its
/// claims of type `T`. Runs before body extractors, so a refused request's body is never
/// read.
pub struct Protected<G, T>(pub T, pub PhantomData<fn() -> G>);

impl<G, T> Protected<G, T> {
    /// The claims.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<G, T: std::fmt::Debug> std::fmt::Debug for Protected<G, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Protected").field(&self.0).finish()
    }
}

/// `e` in the authenticator's form, recorded as the request's decision.
fn refuse(parts: &Parts, auth: &Authenticated, e: AuthError) -> AuthError {
    let e = reject(parts, e);
    decision::refused(parts.uri.path(), None, Some(auth.provider()), &e, None);
    e
}

/// Provider, then claims: the checks whose failure means "not authenticated here".
fn authenticate<G: Guard<T>, T: FromClaims + Send>(
    parts: &Parts,
    auth: &Authenticated,
) -> Result<T, AuthError> {
    if !G::PROVIDERS.contains(&auth.provider()) {
        let e = ValidationError::new(
            ErrorKind::Issuer,
            format!(
                "this route does not accept tokens from provider `{}`",
                auth.provider()
            ),
        );
        return Err(refuse(parts, auth, e.into()));
    }
    if G::DPOP && auth.dpop_jkt().is_none() {
        let e = ValidationError::new(
            ErrorKind::InvalidClaim,
            "this route accepts only DPoP-bound tokens: send one as `Authorization: DPoP \
             <token>` with a DPoP proof",
        );
        let e = match parts.extensions.get::<Authenticator>() {
            Some(authenticator) => authenticator.dpop_challenge(e.into()),
            None => e.into(),
        };
        return Err(refuse(parts, auth, e));
    }
    T::from_claims(auth).map_err(|e| refuse(parts, auth, e.into()))
}

/// Step-up, scopes, then the condition: the checks a valid token of the route's
/// providers can still fail.
fn authorize<G: Guard<T>, T: FromClaims + Send>(
    parts: &Parts,
    auth: &Authenticated,
    claims: &T,
) -> Result<(), AuthError> {
    // Most routes ask nothing of the login: do not read the clock for them.
    if !G::STEP_UP.is_empty()
        && let Err(e) = G::STEP_UP.check(auth.claims(), now())
    {
        let e = AuthError::insufficient_user_authentication(&e);
        return Err(refuse(parts, auth, e));
    }
    // Most routes require no scope: do not parse the token's scopes for them.
    if !G::SCOPES.is_empty() {
        let required = G::SCOPES.iter().copied();
        let missing = match parts.extensions.get::<Authenticator>() {
            Some(authenticator) => authenticator.missing_scopes(auth, required),
            None => auth.scopes().missing(required),
        };
        if !missing.is_empty() {
            let e = AuthError::insufficient_scope_of(G::SCOPES, &missing);
            return Err(refuse(parts, auth, e));
        }
    }
    if !G::require(claims) {
        return Err(refuse(
            parts,
            auth,
            AuthError::forbidden("the token does not meet this route's requirement"),
        ));
    }
    Ok(())
}

impl<S: Send + Sync, G: Guard<T>, T: FromClaims + Send> FromRequestParts<S> for Protected<G, T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AuthError> {
        let auth = <Authenticated as FromRequestParts<S>>::from_request_parts(parts, state).await?;
        let claims = authenticate::<G, T>(parts, &auth)?;
        authorize::<G, T>(parts, &auth, &claims)?;
        Ok(Self(claims, PhantomData))
    }
}

impl<S: Send + Sync, G: Guard<T>, T: FromClaims + Send> OptionalFromRequestParts<S>
    for Protected<G, T>
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, AuthError> {
        let auth =
            match <Authenticated as FromRequestParts<S>>::from_request_parts(parts, state).await {
                Ok(auth) => auth,
                Err(e) if is_absent_or_bad(&e) => return Ok(None),
                Err(e) => return Err(e),
            };
        let claims = match authenticate::<G, T>(parts, &auth) {
            Ok(claims) => claims,
            Err(e) if e.kind() == AuthErrorKind::InvalidToken => return Ok(None),
            Err(e) => return Err(e),
        };
        authorize::<G, T>(parts, &auth, &claims)?;
        Ok(Some(Self(claims, PhantomData)))
    }
}
