//! [`SessionProtected`]: what `#[protect(session, ...)]` extracts.

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;

use super::extract::{
    LoginSession, SessionRejection, SessionRejectionKind, extract, login_redirect, slot,
};
use crate::claims::FromClaims;

/// What `#[protect(session, provider = "...", claims = T)]` turns the claims parameter
/// into: the login session's user as `T`, if the session is from one of
/// [`Guard`](crate::guard::Guard) `G`'s providers, has `G`'s scopes (those granted with
/// the session's access token) and passes `G`'s condition.
///
/// | check | failure |
/// |---|---|
/// | a session of one of the providers | 401 `login_required`, or 303 to that provider's login for a browser |
/// | its claims read as `T` | 401 `invalid_session` naming the claim |
/// | its login's `acr` and `auth_time` pass `G::STEP_UP` (RFC 9470) | 401 `insufficient_user_authentication`, or 303 to a new login that asks for `acr_values`, `max_age` (and `prompt=login`) |
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
    parts: &Parts,
    session: &LoginSession,
    claims: &T,
) -> Result<(), SessionRejection> {
    if !G::STEP_UP.is_empty()
        && let Err(e) = G::STEP_UP.check(session.claims(), crate::util::now())
    {
        let redirect = login_redirect(
            &session.slot.login,
            parts,
            Some(session.provider()),
            Some(&e),
        );
        return Err(SessionRejection::step_up(&e, redirect));
    }
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
                allowed::<G, T>(parts, &session, &claims)?;
                Ok(Self(claims, std::marker::PhantomData))
            }
            Ok(None) => {
                let login = slot(parts)?.login.clone();
                // Send browsers to the first of the route's providers that logs in.
                let provider = G::PROVIDERS.iter().find(|p| login.provider(p).is_some());
                let redirect = provider.and_then(|p| login_redirect(&login, parts, Some(p), None));
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
                allowed::<G, T>(parts, &session, &claims)?;
                Ok(Some(Self(claims, std::marker::PhantomData)))
            }
            Ok(None) => Ok(None),
            Err(e) if e.kind == SessionRejectionKind::InvalidSession => Ok(None),
            Err(e) => Err(e),
        }
    }
}
