//! Bearer tokens for gRPC services (feature `tonic`): the same [`Authenticator`] as a
//! tower layer over `http::Request<B>` of any body, so it wraps a tonic server (or any
//! gRPC server on tower). A refusal is a gRPC status, not an HTTP error:
//! `UNAUTHENTICATED` (16) for a missing or bad token, `PERMISSION_DENIED` (7) for a
//! missing scope, `UNAVAILABLE` (14) while the keys cannot be fetched; the RFC 6750
//! `www-authenticate` goes along in the metadata. An accepted call carries the
//! [`Authenticated`] claims in its extensions (`request.extensions().get::<Authenticated>()`
//! in a tonic method).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth2::{dev::DevIssuer, Authenticator};
//! use axum::http::{Request, Response};
//! use tower::{service_fn, Layer, ServiceExt};
//!
//! let idp = DevIssuer::start().await?;
//! let auth = Authenticator::builder().provider(idp.provider("dev")).build()?;
//! auth.ready().await;
//!
//! // A gRPC method as tower sees it; with tonic: `Server::builder().layer(auth.grpc_layer())`.
//! let method = service_fn(|_: Request<()>| async {
//!     Ok::<_, std::convert::Infallible>(Response::new(String::new()))
//! });
//! let service = auth.grpc_layer().require_scopes(["orders:read"]).layer(method);
//!
//! let call = |token: &str| {
//!     Request::post("/orders.Orders/List")
//!         .header("authorization", format!("Bearer {token}"))
//!         .body(())
//!         .unwrap()
//! };
//! let refused = service.clone().oneshot(call(&idp.token().scope("other").sign())).await?;
//! assert_eq!(refused.headers()["grpc-status"], "7"); // PERMISSION_DENIED
//! let allowed = service.oneshot(call(&idp.token().scope("orders:read").sign())).await?;
//! assert!(allowed.headers().get("grpc-status").is_none()); // the method answered
//! # Ok(()) }
//! ```
//!
//! Only this layer is generic over the body: the axum [`AuthLayer`](crate::AuthLayer)
//! and its fast path are unchanged.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::{HeaderValue, Request, Response, header};
use tower::{Layer, Service};

use crate::dpop::NonceSlot;
use crate::error::{AuthError, AuthErrorKind};
use crate::http::decision;
use crate::{Authenticated, Authenticator};

/// gRPC status codes this layer answers with.
const PERMISSION_DENIED: &str = "7";
const UNAVAILABLE: &str = "14";
const UNAUTHENTICATED: &str = "16";
const INTERNAL: &str = "13";

impl Authenticator {
    /// This authenticator as a layer for gRPC services (see [`crate::grpc`]).
    pub fn grpc_layer(&self) -> GrpcAuthLayer {
        GrpcAuthLayer {
            auth: self.clone(),
            scopes: Arc::from([]),
        }
    }
}

/// Validates the bearer token of every gRPC call (except the authenticator's public
/// paths, such as `/grpc.health.v1.Health/Check`); made by
/// [`Authenticator::grpc_layer`].
#[derive(Clone, Debug)]
pub struct GrpcAuthLayer {
    auth: Authenticator,
    scopes: Arc<[String]>,
}

impl GrpcAuthLayer {
    /// Also requires every one of `scopes` (from `scope` or `scp`): otherwise
    /// `PERMISSION_DENIED`, with the missing ones in the `www-authenticate`.
    pub fn require_scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

impl<S> Layer<S> for GrpcAuthLayer {
    type Service = GrpcAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcAuthService {
            inner,
            auth: self.auth.clone(),
            scopes: Arc::clone(&self.scopes),
        }
    }
}

/// The service behind [`GrpcAuthLayer`].
#[derive(Clone, Debug)]
pub struct GrpcAuthService<S> {
    inner: S,
    auth: Authenticator,
    scopes: Arc<[String]>,
}

impl<S, B, ResBody> Service<Request<B>> for GrpcAuthService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
    ResBody: Default + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is ready only after its own poll_ready; the ready one goes with
        // this call.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let auth = self.auth.clone();
        let scopes = Arc::clone(&self.scopes);
        Box::pin(async move {
            if auth.is_public(request.uri().path()) {
                return inner.call(request).await;
            }
            let (mut parts, body) = request.into_parts();
            let slot = auth.nonce_slot(&parts);
            if let Some(slot) = &slot {
                parts.extensions.insert(slot.clone());
            }
            let valid = match auth.authenticate(&parts).await {
                Ok(valid) => valid,
                Err(e) => return Ok(status(&e)),
            };
            let missing = auth.missing_scopes(&valid, scopes.iter().map(String::as_str));
            if !missing.is_empty() {
                let required: Vec<&str> = scopes.iter().map(String::as_str).collect();
                let e = auth.reject(AuthError::insufficient_scope_of(&required, &missing));
                decision::refused(parts.uri.path(), None, Some(valid.provider()), &e, None);
                return Ok(status(&e));
            }
            parts.extensions.insert::<Authenticated>(valid);
            let response = inner.call(Request::from_parts(parts, body)).await?;
            Ok(crate::dpop::with_nonce(
                response,
                slot.as_ref().and_then(NonceSlot::get),
            ))
        })
    }
}

/// A trailers-only gRPC answer for `error`: HTTP 200, `grpc-status`, `grpc-message`
/// and the `www-authenticate` challenge.
fn status<B: Default>(error: &AuthError) -> Response<B> {
    let code = match error.kind() {
        AuthErrorKind::InsufficientScope | AuthErrorKind::Forbidden => PERMISSION_DENIED,
        AuthErrorKind::Unavailable => UNAVAILABLE,
        AuthErrorKind::Misconfigured => INTERNAL,
        _ => UNAUTHENTICATED,
    };
    let mut response = Response::new(B::default());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert("grpc-status", HeaderValue::from_static(code));
    if let Ok(message) = HeaderValue::from_str(&grpc_message(error.description())) {
        headers.insert("grpc-message", message);
    }
    if let Some(challenge) = error
        .challenge()
        .and_then(|c| HeaderValue::from_str(&c).ok())
    {
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    if let Some(after) = error.retry_after() {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

/// `grpc-message` is percent-encoded: printable ASCII but `%` as is, anything else as
/// `%XX` of its UTF-8 bytes.
fn grpc_message(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if (0x20..=0x7e).contains(&byte) && byte != b'%' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(grpc_message("token expired"), "token expired");
        assert_eq!(grpc_message("100% é\n"), "100%25 %C3%A9%0A");
    }

    #[test]
    fn each_refusal_has_its_grpc_status() {
        let code = |e: AuthError| status::<String>(&e).headers()["grpc-status"].clone();
        assert_eq!(code(AuthError::missing_token()), UNAUTHENTICATED);
        assert_eq!(
            code(AuthError::insufficient_scope(&["a"])),
            PERMISSION_DENIED
        );
        assert_eq!(code(AuthError::forbidden("no")), PERMISSION_DENIED);
        let missing = status::<String>(&AuthError::missing_token());
        assert!(
            missing.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .starts_with("Bearer realm=")
        );
        assert_eq!(missing.headers()["content-type"], "application/grpc");
        assert_eq!(missing.status(), 200);
    }
}
