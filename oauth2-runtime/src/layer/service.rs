//! The service behind [`AuthLayer`](super::AuthLayer).

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use super::ResponseFuture;
use crate::Authenticator;
use crate::error::AuthError;
use crate::http::{decision, is_cors_preflight, is_websocket_upgrade};
use crate::validation::{NotYet, Pending};

/// Requires a valid token on non-public paths; see [`AuthLayer`](super::AuthLayer).
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Authenticator,
}

impl<S> AuthService<S> {
    pub(crate) fn new(inner: S, auth: Authenticator) -> Self {
        Self { inner, auth }
    }
}

enum Outcome {
    Valid(crate::Authenticated),
    Invalid(AuthError),
    /// The token needs a request to the provider first (a key refetch for an
    /// unknown `kid`, or an opaque token's introspection), then validation.
    Pending {
        token: String,
        pending: Pending,
    },
}

impl<S> Service<Request> for AuthService<S>
where
    S: Service<Request, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let (mut parts, body) = request.into_parts();
        parts.extensions.insert(self.auth.clone());
        if is_cors_preflight(&parts) || self.auth.is_public(parts.uri.path()) {
            return ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)));
        }

        let started = decision::clock();
        let route = parts.uri.path();
        let outcome = match self.auth.token(&parts) {
            Err(e) => {
                decision::refused(route, None, self.auth.sole_provider(), &e, started);
                Outcome::Invalid(e)
            }
            Ok(token) => match self.auth.validator().validate_with_held_keys(&token) {
                Ok(auth) => {
                    decision::accepted(route, Some(&token), &auth, started);
                    Outcome::Valid(auth)
                }
                Err(NotYet::Invalid(e)) => {
                    let e = self.auth.reject(e.into());
                    decision::refused(route, Some(&token), self.auth.sole_provider(), &e, started);
                    Outcome::Invalid(e)
                }
                Err(NotYet::Pending(pending)) => Outcome::Pending {
                    token: token.into_owned(),
                    pending,
                },
            },
        };
        match outcome {
            Outcome::Valid(auth) => {
                parts.extensions.insert(auth);
                ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)))
            }
            Outcome::Invalid(e) => reject(parts, e),
            Outcome::Pending { token, pending } => {
                // The clone is ready to be called: `poll_ready` was called on `self.inner`.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let auth = self.auth.clone();
                ResponseFuture::boxed(async move {
                    let route = parts.uri.path().to_owned();
                    match auth.validator().finish(&token, pending).await {
                        Ok(valid) => {
                            decision::accepted(&route, Some(&token), &valid, started);
                            parts.extensions.insert(valid);
                            inner.oneshot(Request::from_parts(parts, body)).await
                        }
                        Err(e) => {
                            let e = auth.reject(e.into());
                            decision::refused(
                                &route,
                                Some(&token),
                                auth.sole_provider(),
                                &e,
                                started,
                            );
                            Ok(rejection(parts, e).await)
                        }
                    }
                })
            }
        }
    }
}

fn reject<F, E: Send + 'static>(parts: Parts, error: AuthError) -> ResponseFuture<F, E> {
    if is_websocket_upgrade(&parts) {
        ResponseFuture::boxed(async move { Ok(rejection(parts, error).await) })
    } else {
        ResponseFuture::ready(error.into_response())
    }
}

/// The response to a rejected request: RFC 6750, or a WebSocket closed with 1008.
async fn rejection(parts: Parts, error: AuthError) -> Response {
    #[cfg(feature = "ws")]
    if is_websocket_upgrade(&parts) {
        return crate::ws::close_with_policy_violation(parts, error).await;
    }
    let _ = parts;
    error.into_response()
}
