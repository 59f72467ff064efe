//! The dev issuer's HTTP endpoints.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::extract::{Form, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use sha2::Digest as _;

use super::{DEFAULT_AUDIENCE, Fault, State};

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route(
            "/tenants/{tenant}/.well-known/openid-configuration",
            get(tenant_discovery),
        )
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .route("/authorize", get(super::login::authorize))
        .route("/userinfo", get(super::login::userinfo))
        .route("/logout", get(super::login::end_session))
        // Browser apps on other origins (Swagger UI's "Authorize", a single-page app)
        // read the discovery document and keys and call the token endpoint, as they
        // may at real providers.
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(state)
}

/// Applies the fault mode: `Some` is the response to send instead.
async fn fault(state: &State) -> Result<Fault, Response> {
    let mut changes = state.fault.subscribe();
    let mut fault = *changes.borrow_and_update();
    if fault == Fault::Hold {
        // The sender lives in `state`, so this ends when the fault changes.
        if let Ok(changed) = changes.wait_for(|f| *f != Fault::Hold).await {
            fault = *changed;
        }
    }
    match fault {
        Fault::Down => Err((StatusCode::SERVICE_UNAVAILABLE, "dev issuer is down").into_response()),
        Fault::Slow(delay) => {
            tokio::time::sleep(delay).await;
            Ok(fault)
        }
        _ => Ok(fault),
    }
}

async fn discovery(Extract(state): Extract<Arc<State>>) -> Response {
    metadata(&state, &state.issuer).await
}

/// A tenant's discovery document (a multi-tenant issuer, as Entra ID's): its own
/// issuer, the dev issuer's endpoints and keys.
async fn tenant_discovery(
    Extract(state): Extract<Arc<State>>,
    axum::extract::Path(tenant): axum::extract::Path<String>,
) -> Response {
    let issuer = super::tenant_issuer(&state.issuer, &tenant);
    metadata(&state, &issuer).await
}

async fn metadata(state: &State, issuer: &str) -> Response {
    state.discovery.fetch_add(1, Ordering::SeqCst);
    if let Err(r) = fault(state).await {
        return r;
    }
    let base = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/jwks"),
        "token_endpoint": format!("{base}/token"),
        "authorization_endpoint": format!("{base}/authorize"),
        "userinfo_endpoint": format!("{base}/userinfo"),
        "end_session_endpoint": format!("{base}/logout"),
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["client_credentials", "authorization_code", "refresh_token"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    }))
    .into_response()
}

/// The JWK set, with an `ETag` (a digest of the document) that a conditional request
/// (`If-None-Match`) is answered 304 for while the keys stay the same.
async fn jwks(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    state.jwks.fetch_add(1, Ordering::SeqCst);
    let json = header::CONTENT_TYPE;
    match fault(&state).await {
        Err(r) => r,
        Ok(Fault::MalformedJwks) => {
            ([(json, "application/json")], "<html>oops</html>").into_response()
        }
        Ok(Fault::InvalidJwks) => Json(json!({"keys": "none today"})).into_response(),
        Ok(Fault::EmptyJwks) => Json(json!({"keys": []})).into_response(),
        Ok(Fault::HugeJwks) => {
            let padding = "x".repeat(2 << 20);
            Json(json!({"keys": state.jwks()["keys"], "padding": padding})).into_response()
        }
        Ok(_) => {
            let body = state.jwks().to_string();
            let digest = sha2::Sha256::digest(body.as_bytes());
            let etag = format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..12]));
            let max_age = *state.jwks_max_age.lock().expect("max-age lock");
            let cache_control = max_age.map(|age| format!("public, max-age={age}"));
            let mut response = if headers
                .get(header::IF_NONE_MATCH)
                .is_some_and(|v| v.as_bytes() == etag.as_bytes())
            {
                state.jwks_not_modified.fetch_add(1, Ordering::SeqCst);
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                ([(json, "application/json")], body).into_response()
            };
            let h = response.headers_mut();
            h.insert(header::ETAG, etag.parse().expect("valid header"));
            if let Some(value) = cache_control {
                h.insert(header::CACHE_CONTROL, value.parse().expect("valid header"));
            }
            response
        }
    }
}

#[derive(Deserialize)]
struct TokenRequest {
    grant_type: String,
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    code_verifier: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    audience: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

async fn token(
    Extract(state): Extract<Arc<State>>,
    headers: axum::http::HeaderMap,
    Form(req): Form<TokenRequest>,
) -> Response {
    state.token.fetch_add(1, Ordering::SeqCst);
    if let Err(r) = fault(&state).await {
        return r;
    }
    if req.grant_type == "authorization_code" {
        let code = super::login::CodeRequest::new(
            req.code,
            req.redirect_uri,
            req.code_verifier,
            req.client_id,
        );
        return super::login::exchange(&state, &headers, code);
    }
    if req.grant_type == "refresh_token" {
        return super::login::refresh(&state, req.refresh_token.as_deref());
    }
    if req.grant_type != "client_credentials" {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "unsupported_grant_type"})),
        )
            .into_response();
    }
    let mut token = super::TokenBuilder::new(state.clone())
        .audience(req.audience.as_deref().unwrap_or(DEFAULT_AUDIENCE))
        .header("typ", "at+jwt");
    if let Some(client) = &req.client_id {
        token = token.subject(client).claim("client_id", client.as_str());
    }
    if let Some(scope) = &req.scope {
        token = token.scope(scope);
    }
    Json(json!({
        "access_token": token.sign(),
        "token_type": "Bearer",
        "expires_in": 3600,
    }))
    .into_response()
}
