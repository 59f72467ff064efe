//! `cargo run --example quickstart`: an embedded development identity provider and an
//! API protected by it, on 127.0.0.1. Prints `curl` commands with fresh tokens.
//! No account, no internet.

use std::error::Error;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::{Authenticated, Authenticator, Claims, RequireScopes};
use serde_json::{Value, json};

#[derive(serde::Deserialize)]
struct User {
    sub: String,
    email: Option<String>,
}

async fn me(Claims(user): Claims<User>) -> Json<Value> {
    Json(json!({ "sub": user.sub, "email": user.email }))
}

async fn admin(auth: Authenticated) -> String {
    format!("hello admin {}\n", auth.subject().unwrap_or("?"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let idp = DevIssuer::start().await?;
    let auth = Authenticator::builder()
        .provider(idp.provider("dev"))
        .public_path("/")
        .build()?;

    let app = Router::new()
        .route(
            "/",
            get(|| async { "public: try /me and /admin with a token\n" }),
        )
        .route("/me", get(me))
        .route(
            "/admin",
            get(admin).route_layer(RequireScopes::new(["admin"])),
        )
        .layer(auth.layer());

    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    let addr = listener.local_addr()?;
    auth.ready().await;

    let user = idp
        .token()
        .subject("alice")
        .claim("email", "alice@example.com")
        .scope("read")
        .sign();
    let root = idp.token().subject("root").scope("read admin").sign();
    println!("dev issuer: {} (JWKS at {})", idp.issuer(), idp.jwks_url());
    println!("API:        http://{addr}\n");
    println!("# a user token (200):\ncurl -i -H 'Authorization: Bearer {user}' http://{addr}/me\n");
    println!(
        "# the same token on /admin (403 insufficient_scope):\ncurl -i -H 'Authorization: Bearer {user}' http://{addr}/admin\n"
    );
    println!(
        "# an admin token (200):\ncurl -i -H 'Authorization: Bearer {root}' http://{addr}/admin\n"
    );
    println!("# no token (400 invalid_request):\ncurl -i http://{addr}/me\n");
    println!(
        "# more tokens from the dev issuer's token endpoint:\ncurl -s -d grant_type=client_credentials -d scope=admin {}\n",
        idp.token_url()
    );
    println!("Ctrl-C to stop.");

    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
