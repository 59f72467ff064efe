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
//! `access_token` query parameter or the `Sec-WebSocket-Protocol` pair
//! `access_token, <token>`). A permissive CORS layer sits outside the auth layer.

use std::error::Error;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use oauth2::{Authenticated, Authenticator, Provider, RequireScopes};
use tower_http::cors::CorsLayer;

fn required(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is required"))
}

async fn me(auth: Authenticated) -> Json<serde_json::Map<String, serde_json::Value>> {
    Json(auth.claims().clone())
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
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let issuer = required("OAUTH2_ISSUER")?;
    let audience: Vec<String> = required("OAUTH2_AUDIENCE")?
        .split(',')
        .map(|a| a.trim().to_owned())
        .filter(|a| !a.is_empty())
        .collect();
    let mut provider = Provider::builder("default")
        .issuer(issuer)
        .audience(audience);
    if let Ok(url) = std::env::var("OAUTH2_JWKS_URL") {
        provider = provider.jwks_url(url);
    }
    let auth = Authenticator::builder()
        .provider(provider)
        .public_path("/")
        .build()?;

    let app = Router::new()
        .route("/", get(|| async { "ok" }))
        .route("/me", get(me))
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopes::new(["admin"])),
        )
        .route("/ws", get(ws))
        .layer(auth.layer())
        .layer(CorsLayer::permissive());

    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(addr = %listener.local_addr()?, "resource server listening");
    axum::serve(listener, app).await?;
    Ok(())
}
