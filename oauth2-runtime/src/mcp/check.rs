//! One MCP request against the operation rules: the headers' operation first (refused
//! before the body is read), then the body's (buffered, bounded), which must agree with
//! the headers.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::McpScopes;
use super::message::{Operation, Unreadable, from_body, from_headers};
use crate::error::AuthError;
use crate::http::decision;
use crate::{Authenticated, Authenticator};

/// What [`check`] decided.
pub(crate) enum Checked {
    /// The request, with its body read back in when it was buffered.
    Pass(Request),
    /// The refusal to send instead.
    Refused(Response),
}

/// Lets `request`, whose token `granted` is valid, through when it has the scopes its
/// operation needs; else the refusal.
pub(crate) async fn check(
    auth: &Authenticator,
    rules: &McpScopes,
    granted: &Authenticated,
    request: Request,
) -> Checked {
    match decide(auth, rules, granted, request).await {
        Ok(request) => Checked::Pass(request),
        Err(refused) => Checked::Refused(*refused),
    }
}

async fn decide(
    auth: &Authenticator,
    rules: &McpScopes,
    granted: &Authenticated,
    request: Request,
) -> Result<Request, Box<Response>> {
    let announced = from_headers(request.headers()).map_err(|e| unreadable(auth, granted, e))?;
    if let Some(op) = &announced {
        allow(auth, granted, rules.required(op))?;
    } else if !rules.has_rules() {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let max = rules.max_body_len();
    let too_long = || {
        let message = format!("the MCP request body is longer than {max} bytes");
        let body = serde_json::json!({"error": "invalid_request", "error_description": message});
        Box::new((StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response())
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_long());
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_long())?;
    let operations = from_body(&bytes).map_err(|e| unreadable(auth, granted, e))?;
    match &announced {
        Some(op) => {
            if operations.as_slice() != std::slice::from_ref(op) {
                return Err(refuse(
                    auth,
                    granted,
                    AuthError::invalid_request(format!(
                        "the Mcp-Method and Mcp-Name headers ({}) disagree with the body ({})",
                        describe(std::slice::from_ref(op)),
                        describe(&operations)
                    )),
                ));
            }
        }
        None => {
            let mut required: Vec<&str> = Vec::new();
            for op in &operations {
                for scope in rules.required(op) {
                    if !required.contains(&scope) {
                        required.push(scope);
                    }
                }
            }
            allow(auth, granted, required)?;
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// Passes when `granted` has every scope of `required` (or one that implies it).
fn allow(
    auth: &Authenticator,
    granted: &Authenticated,
    required: Vec<&str>,
) -> Result<(), Box<Response>> {
    let missing = auth.missing_scopes(granted, required.iter().copied());
    if missing.is_empty() {
        return Ok(());
    }
    Err(refuse(
        auth,
        granted,
        AuthError::insufficient_scope_of(&required, &missing),
    ))
}

/// The refusal `e`, recorded as every auth decision is (log and metrics) and rendered
/// with the authenticator's realm, resource metadata and error handler.
fn refuse(auth: &Authenticator, granted: &Authenticated, e: AuthError) -> Box<Response> {
    let e = auth.reject(e);
    let route = auth.mcp_route().unwrap_or("mcp");
    decision::refused(route, None, Some(granted.provider()), &e, None);
    Box::new(e.into_response())
}

fn unreadable(auth: &Authenticator, granted: &Authenticated, e: Unreadable) -> Box<Response> {
    let description = match e {
        Unreadable::Headers(d) => d.to_owned(),
        Unreadable::Body(d) => d,
    };
    refuse(auth, granted, AuthError::invalid_request(description))
}

/// `tools/call deploy, tools/list`, for messages.
fn describe(operations: &[Operation]) -> String {
    if operations.is_empty() {
        return "no request".into();
    }
    operations
        .iter()
        .map(|op| match &op.name {
            Some(name) => format!("{} {name}", op.method),
            None => op.method.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
