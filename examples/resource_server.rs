//! A resource server configured only by environment:
//!
//! | variable | meaning |
//! |---|---|
//! | `OAUTH2_ISSUER` | issuer URL (required) |
//! | `OAUTH2_AUDIENCE` | accepted audience; several separated by commas (required) |
//! | `OAUTH2_JWKS_URL` | JWKS URL (optional; OIDC discovery otherwise) |
//! | `OAUTH2_BIND` | listen address (default `127.0.0.1:3000`) |
//!
//! Routes: `GET /` public; `GET /me` the validated claims as JSON; `GET /admin` needs
//! scope `admin`; `GET /ws` a WebSocket echo behind the same auth (token in the
//! `Sec-WebSocket-Protocol` pair `access_token, <token>`; the `access_token` query
//! parameter only with `websocket_query_token: true`; a rejected socket is closed with
//! 1008). Every path but `/`
//! needs a token, as with the Python middleware's `public_paths`. A permissive CORS
//! layer sits outside the auth layer.

use std::error::Error;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use oauth2::{Authenticated, protect, providers};
use tower_http::cors::CorsLayer;

providers! {
    public_paths: ["/"],
    default {
        issuer: env("OAUTH2_ISSUER"),
        audience: env("OAUTH2_AUDIENCE"),
        jwks_url: env("OAUTH2_JWKS_URL", optional),
    }
}

#[protect(provider = "default", claims = Authenticated)]
async fn me(auth: Authenticated) -> Json<serde_json::Map<String, serde_json::Value>> {
    Json(auth.claims().clone())
}

#[protect(provider = "default", scopes = ["admin"])]
async fn admin() -> &'static str {
    "admin"
}

async fn ws(upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .protocols(["access_token"])
        .on_upgrade(|mut socket| async move {
            while let Some(Ok(message)) = socket.recv().await {
                let echo = match message {
                    Message::Text(_) | Message::Binary(_) => message,
                    Message::Close(_) => break,
                    _ => continue,
                };
                if socket.send(echo).await.is_err() {
                    break;
                }
            }
        })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn Error>> {
    let providers = Providers::load()?;
    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/ws", get(ws))
        .layer(providers.require_everywhere())
        .layer(CorsLayer::permissive());

    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(addr = %listener.local_addr()?, "resource server listening");
    axum::serve(listener, app).await?;
    Ok(())
}
