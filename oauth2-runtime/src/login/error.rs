//! Why a login route refused a request: a status and a JSON body
//! `{"error": code, "error_description": message}`.

use std::borrow::Cow;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A login route's error response. Every one is sent with `Cache-Control: no-store`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {description}")]
pub struct LoginError {
    status: StatusCode,
    code: Cow<'static, str>,
    description: String,
}

impl LoginError {
    pub(crate) fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            description: description.into(),
        }
    }

    /// 400 `invalid_request`: a parameter is missing or wrong.
    pub(crate) fn request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 400 `invalid_state`: no transaction for the callback, or not this one.
    pub(crate) fn state(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_state", description)
    }

    /// 400 `token_exchange_failed`.
    pub(crate) fn exchange(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "token_exchange_failed",
            description,
        )
    }

    /// 400 `invalid_id_token`.
    pub(crate) fn id_token(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_id_token", description)
    }

    /// 400 `userinfo_failed`.
    pub(crate) fn userinfo(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "userinfo_failed", description)
    }

    /// 503 `temporarily_unavailable`: the provider could not be reached.
    pub(crate) fn unavailable(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            description,
        )
    }

    /// 500 `server_error`.
    pub(crate) fn server(description: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            description,
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The error code, e.g. `invalid_state`, or the provider's own for `error=`.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// What was wrong, for humans.
    pub fn description(&self) -> &str {
        &self.description
    }
}

impl IntoResponse for LoginError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(code = %self.code, "login failed: {}", self.description);
        } else {
            tracing::debug!(code = %self.code, "login refused: {}", self.description);
        }
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({ "error": self.code, "error_description": self.description })),
        )
            .into_response()
    }
}

/// What an `on_login` hook returns to refuse a login: 403 `access_denied` with the
/// message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("login refused: {message}")]
pub struct LoginRejected {
    message: String,
}

impl LoginRejected {
    /// Refuses the login, telling the user `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl From<LoginRejected> for LoginError {
    fn from(r: LoginRejected) -> Self {
        LoginError::new(StatusCode::FORBIDDEN, "access_denied", r.message)
    }
}
