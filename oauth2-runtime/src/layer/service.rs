//! The service behind [`AuthLayer`](super::AuthLayer).

use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use super::ResponseFuture;
use crate::Authenticator;
use crate::dpop::with_nonce;
use crate::error::AuthError;
use crate::http::Presented;
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
    /// The token needs a wait first: a request to the provider (a key refetch for an
    /// unknown `kid`, an opaque token's introspection), or the DPoP checks of a valid
    /// token (whose replay check may ask a store).
    Later {
        presented: Presented<'static>,
        step: Step,
    },
}

enum Step {
    Finish(Pending),
    Confirm(crate::Authenticated),
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
            // A DPoP request to a public path: the handler's extractors check its token,
            // and may leave a fresh server nonce for the response.
            if let Some(slot) = self.auth.nonce_slot(&parts) {
                parts.extensions.insert(slot.clone());
                let response = self.inner.call(Request::from_parts(parts, body));
                return ResponseFuture::boxed(async move {
                    Ok(with_nonce(response.await?, slot.get()))
                });
            }
            return ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)));
        }

        let started = decision::clock();
        let route = parts.uri.path();
        let outcome = match self.auth.token(&parts) {
            Err(e) => {
                decision::refused(route, None, self.auth.sole_provider(), &e, started);
                Outcome::Invalid(e)
            }
            Ok(presented) => {
                let token = &presented.token;
                match self.auth.validator().validate_with_held_keys(token) {
                    Ok(auth) if !self.auth.needs_confirmation(&presented, &auth) => {
                        decision::accepted(route, Some(token), &auth, started);
                        Outcome::Valid(auth)
                    }
                    Ok(auth) => Outcome::Later {
                        presented: presented.into_owned(),
                        step: Step::Confirm(auth),
                    },
                    Err(NotYet::Invalid(e)) => {
                        let e = self.auth.refuse_token(&presented, e.into());
                        let provider = self.auth.sole_provider();
                        decision::refused(route, Some(token), provider, &e, started);
                        Outcome::Invalid(e)
                    }
                    Err(NotYet::Pending(pending)) => Outcome::Later {
                        presented: presented.into_owned(),
                        step: Step::Finish(pending),
                    },
                }
            }
        };
        match outcome {
            Outcome::Valid(auth) => {
                parts.extensions.insert(auth);
                ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)))
            }
            Outcome::Invalid(e) => reject(parts, e),
            Outcome::Later { presented, step } => {
                // The clone is ready to be called: `poll_ready` was called on `self.inner`.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let auth = self.auth.clone();
                ResponseFuture::boxed(async move {
                    let route = parts.uri.path().to_owned();
                    let token = &presented.token;
                    let valid = match step {
                        Step::Confirm(valid) => Ok(valid),
                        Step::Finish(pending) => auth
                            .validator()
                            .finish(token, pending)
                            .await
                            .map_err(|e| auth.refuse_token(&presented, e.into())),
                    };
                    let checked = match valid {
                        Ok(valid) => auth
                            .confirm(&parts, &presented, &valid)
                            .await
                            .map(|fresh| (valid, fresh)),
                        Err(e) => Err(e),
                    };
                    match checked {
                        Ok((valid, fresh)) => {
                            decision::accepted(&route, Some(token), &valid, started);
                            parts.extensions.insert(valid);
                            let response = inner.oneshot(Request::from_parts(parts, body)).await?;
                            Ok(with_nonce(response, fresh.as_deref()))
                        }
                        Err(e) => {
                            let provider = auth.sole_provider();
                            decision::refused(&route, Some(token), provider, &e, started);
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
