//! [`TokenError`]: why the app got no token to call another API.

use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// Why a [`TokenClient`](super::TokenClient) has no token: its
/// [`kind`](Self::kind), what the provider said, and when to try again.
///
/// As a handler's error it answers without details (they are the app's business, not
/// its caller's; they are logged): `503 Service Unavailable` with `Retry-After` when
/// the provider is unreachable or the client backs off, `502 Bad Gateway` when the
/// provider refused or answered something unreadable, `500` for a configuration
/// problem.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct TokenError {
    kind: TokenErrorKind,
    message: String,
    provider_error: Option<String>,
    retry_after: Option<Duration>,
}

/// What kind of failure a [`TokenError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenErrorKind {
    /// The configuration cannot work: no token endpoint, a method without its
    /// credential, an exchange the grant cannot express.
    Config,
    /// The provider could not be reached, or answered with an error status and no
    /// OAuth error.
    Unavailable,
    /// The provider refused (RFC 6749 §5.2: `invalid_client`, `invalid_grant`,
    /// `invalid_scope`, `invalid_target`, ...); [`TokenError::provider_error`] says which.
    Refused,
    /// The provider's answer is not a usable token response.
    InvalidResponse,
    /// A request for the same token failed a moment ago; the client waits before it
    /// asks again (the earlier failure is in the message).
    BackingOff,
}

impl TokenError {
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::Config, message.into())
    }

    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::Unavailable, message.into())
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(TokenErrorKind::InvalidResponse, message.into())
    }

    pub(crate) fn refused(error: &str, message: String) -> Self {
        Self {
            provider_error: Some(crate::util::printable(error, 64)),
            ..Self::new(TokenErrorKind::Refused, message)
        }
    }

    /// This failure, answered again while the client waits `remaining` before it asks.
    pub(crate) fn backing_off(&self, remaining: Duration) -> Self {
        Self {
            kind: TokenErrorKind::BackingOff,
            message: format!(
                "{} (not asked again for {} s)",
                self.message,
                remaining.as_secs().max(1)
            ),
            provider_error: self.provider_error.clone(),
            retry_after: Some(remaining),
        }
    }

    fn new(kind: TokenErrorKind, message: String) -> Self {
        Self {
            kind,
            message,
            provider_error: None,
            retry_after: None,
        }
    }

    /// What kind of failure it is.
    pub fn kind(&self) -> TokenErrorKind {
        self.kind
    }

    /// The provider's `error` code (`invalid_client`, `invalid_grant`, ...), when it
    /// refused.
    pub fn provider_error(&self) -> Option<&str> {
        self.provider_error.as_deref()
    }

    /// How long the client waits before it asks the provider again for this token.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let status = match self.kind {
            TokenErrorKind::Config => StatusCode::INTERNAL_SERVER_ERROR,
            TokenErrorKind::Unavailable | TokenErrorKind::BackingOff => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            TokenErrorKind::Refused | TokenErrorKind::InvalidResponse => StatusCode::BAD_GATEWAY,
        };
        let retry = self
            .retry_after
            .map(|d| d.as_secs().max(1))
            .filter(|_| status == StatusCode::SERVICE_UNAVAILABLE);
        let body = "could not get an access token to call another service";
        match retry {
            Some(seconds) => (status, [("retry-after", seconds.to_string())], body).into_response(),
            None => (status, body).into_response(),
        }
    }
}
