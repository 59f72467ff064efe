//! [`RequireScopes`]: a per-route scope requirement.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use super::ResponseFuture;
use crate::error::AuthError;
use crate::http::decision;
use crate::{Authenticated, Authenticator};

/// Requires every listed scope (from `scope` or `scp`); otherwise 403
/// `insufficient_scope` naming the missing ones. Goes inside an
/// [`AuthLayer`](super::AuthLayer), usually with `route_layer`.
#[derive(Clone, Debug)]
pub struct RequireScopes {
    scopes: Arc<[String]>,
}

impl RequireScopes {
    /// Requires all of `scopes`.
    pub fn new<I, S>(scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            scopes: scopes.into_iter().map(Into::into).collect(),
        }
    }
}

impl<S> Layer<S> for RequireScopes {
    type Service = RequireScopesService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequireScopesService {
            inner,
            scopes: self.scopes.clone(),
        }
    }
}

/// The service behind [`RequireScopes`].
#[derive(Clone, Debug)]
pub struct RequireScopesService<S> {
    inner: S,
    scopes: Arc<[String]>,
}

impl<S> Service<Request> for RequireScopesService<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let error = match request.extensions().get::<Authenticated>() {
            None => AuthError::missing_token(),
            Some(auth) => {
                let required = self.scopes.iter().map(String::as_str);
                let missing = match request.extensions().get::<Authenticator>() {
                    Some(authenticator) => authenticator.missing_scopes(auth, required),
                    None => auth.scopes().missing(required),
                };
                if missing.is_empty() {
                    return ResponseFuture::inner(self.inner.call(request));
                }
                let required: Vec<&str> = self.scopes.iter().map(String::as_str).collect();
                AuthError::insufficient_scope_of(&required, &missing)
            }
        };
        let error = match request.extensions().get::<Authenticator>() {
            Some(auth) => auth.reject(error),
            None => error,
        };
        let provider = request
            .extensions()
            .get::<Authenticated>()
            .map(Authenticated::provider);
        decision::refused(request.uri().path(), None, provider, &error, None);
        ResponseFuture::ready(error.into_response())
    }
}
