//! The form-encoded `POST` routes (token endpoint, device authorization, back-channel
//! logout): reading the form, and the JSON answers with `Cache-Control: no-store`.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};

use super::LoginError;
use super::tokens::printable;

/// A JSON answer with `Cache-Control: no-store` (RFC 6749 §5.1).
pub(super) fn no_store(status: StatusCode, body: Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::PRAGMA, "no-cache"),
        ],
        axum::Json(body),
    )
        .into_response()
}

/// A 400 in the RFC 6749 §5.2 form (as every [`LoginError`], with `no-store`).
pub(super) fn bad(code: &str, description: impl Into<String>) -> LoginError {
    LoginError::new(StatusCode::BAD_REQUEST, code.to_owned(), description)
}

/// The request's form: `application/x-www-form-urlencoded`, each parameter once
/// (RFC 6749 §3.2).
pub(super) fn form(headers: &HeaderMap, body: &Bytes) -> Result<Map<String, Value>, LoginError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(bad(
            "invalid_request",
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let mut params = Map::new();
    for (name, value) in url::form_urlencoded::parse(body) {
        if params
            .insert(name.clone().into_owned(), Value::String(value.into_owned()))
            .is_some()
        {
            return Err(bad(
                "invalid_request",
                format!("the parameter `{}` is given twice", printable(&name)),
            ));
        }
    }
    Ok(params)
}

pub(super) fn param<'a>(form: &'a Map<String, Value>, name: &str) -> Result<&'a str, LoginError> {
    match form.get(name).and_then(Value::as_str) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(bad(
            "invalid_request",
            format!("the `{name}` parameter is missing"),
        )),
    }
}
