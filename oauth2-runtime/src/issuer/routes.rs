//! The broker's issuer routes: `GET {prefix}/.well-known/openid-configuration`, the same
//! document as OAuth 2.0 Authorization Server Metadata at
//! `GET /.well-known/oauth-authorization-server{path of the issuer}` (RFC 8414 §3.1, where
//! MCP clients look first), and `GET {prefix}/.well-known/jwks.json`.

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::Broker;
use crate::issuer::broker::BrokerError;

/// The grants of the broker's token endpoint.
const GRANTS: [&str; 4] = [
    "refresh_token",
    "urn:ietf:params:oauth:grant-type:token-exchange",
    "urn:ietf:params:oauth:grant-type:device_code",
    "authorization_code",
];

impl Broker {
    /// The issuer routes under `prefix` (the login's).
    pub(crate) fn router<S: Clone + Send + Sync + 'static>(&self, prefix: &str) -> Router<S> {
        // The issuer's own path (the base URL's and the prefix), where RFC 8414 inserts
        // its well-known path; served from the root of the app.
        let issuer_path = url::Url::parse(self.issuer())
            .map(|u| u.path().trim_end_matches('/').to_owned())
            .unwrap_or_default();
        Router::new()
            .route(
                &format!("{prefix}/.well-known/openid-configuration"),
                get(discovery),
            )
            .route(
                &format!("/.well-known/oauth-authorization-server{issuer_path}"),
                get(discovery),
            )
            .route(&format!("{prefix}/.well-known/jwks.json"), get(jwks))
            .with_state(self.clone())
    }
}

fn unavailable(e: &BrokerError) -> Response {
    let status = if e.is_unavailable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    tracing::error!("{e}");
    let body = json!({"error": "temporarily_unavailable", "error_description": e.to_string()});
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(body),
    )
        .into_response()
}

async fn discovery(State(broker): State<Broker>) -> Response {
    let issuer = broker.issuer();
    let body = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "token_endpoint": format!("{issuer}/token"),
        "grant_types_supported": GRANTS,
        "response_types_supported": ["code"],
        "token_endpoint_auth_methods_supported": ["none"],
        "id_token_signing_alg_values_supported": [],
    });
    let cache = format!("public, max-age={}", broker.jwks_max_age().as_secs());
    ([(header::CACHE_CONTROL, cache)], axum::Json(body)).into_response()
}

async fn jwks(State(broker): State<Broker>) -> Response {
    match broker.jwks().await {
        Ok(jwks) => {
            let cache = format!("public, max-age={}", broker.jwks_max_age().as_secs());
            (
                [
                    (header::CACHE_CONTROL, cache.as_str()),
                    (header::CONTENT_TYPE, "application/jwk-set+json"),
                ],
                jwks.to_string(),
            )
                .into_response()
        }
        Err(e) => unavailable(&e),
    }
}
