//! The service behind [`AuthLayer`](super::AuthLayer).

use std::task::{Context, Poll};

use axum::extract::{OriginalUri, Request};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use tower::{Service, ServiceExt};

use super::ResponseFuture;
use crate::Authenticator;
use crate::authenticator::Begun;
use crate::dpop::with_nonce;
use crate::error::AuthError;
use crate::http::{is_cors_preflight, is_websocket_upgrade};
use crate::mcp::Checked;

/// Requires a valid token on non-public paths; see [`AuthLayer`](super::AuthLayer).
#[derive(Clone, Debug)]
pub struct AuthService<S> {
    inner: S,
    auth: Authenticator,
    /// Whether non-public paths need a token (see [`AuthLayer`](super::AuthLayer)).
    require: bool,
}

impl<S> AuthService<S> {
    pub(crate) fn new(inner: S, auth: Authenticator, require: bool) -> Self {
        Self {
            inner,
            auth,
            require,
        }
    }
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
        let path = match parts.extensions.get::<OriginalUri>() {
            Some(original) => original.path(),
            None => parts.uri.path(),
        };
        // The MCP endpoint needs a token whichever layer this is.
        let mcp = self.auth.mcp_endpoint(path).is_some();
        let open = !self.require && !mcp;
        if open || is_cors_preflight(&parts) || (!mcp && self.auth.is_public(parts.uri.path())) {
            // A DPoP request to a path the layer leaves open: the handler's extractors
            // (`#[protect]`) check its token, and may leave a fresh server nonce for the
            // response.
            if let Some(slot) = self.auth.nonce_slot(&parts) {
                parts.extensions.insert(slot.clone());
                let response = self.inner.call(Request::from_parts(parts, body));
                return ResponseFuture::boxed(async move {
                    Ok(with_nonce(response.await?, slot.get()))
                });
            }
            return ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)));
        }

        let operation = mcp && parts.method == Method::POST;
        match self.auth.begin(&parts) {
            Begun::Accepted(auth) if !operation => {
                parts.extensions.insert(auth);
                ResponseFuture::inner(self.inner.call(Request::from_parts(parts, body)))
            }
            Begun::Refused(e) => reject(parts, e),
            begun => {
                // The clone is ready to be called: `poll_ready` was called on `self.inner`.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                let auth = self.auth.clone();
                ResponseFuture::boxed(async move {
                    let (valid, fresh) = match begun {
                        Begun::Accepted(valid) => (valid, None),
                        Begun::Waiting(waiting) => match auth.finish(&parts, waiting).await {
                            Ok(checked) => checked,
                            Err(e) => return Ok(rejection(parts, e).await),
                        },
                        Begun::Refused(e) => return Ok(rejection(parts, e).await),
                    };
                    let mut request = Request::from_parts(parts, body);
                    // `operation`: the request is to the MCP endpoint, whose rules these are.
                    if let Some(rules) = auth.mcp_rules().filter(|_| operation) {
                        request = match crate::mcp::check(&auth, rules, &valid, request).await {
                            Checked::Pass(request) => request,
                            Checked::Refused(refused) => return Ok(refused),
                        };
                    }
                    request.extensions_mut().insert(valid);
                    let response = inner.oneshot(request).await?;
                    Ok(with_nonce(response, fresh.as_deref()))
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
