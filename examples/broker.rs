//! A token broker, configured only by environment: devices and CLIs log in through the
//! identity provider, and get this app's own short-lived access tokens and opaque
//! refresh tokens; the provider's tokens stay here.
//!
//! | variable | meaning |
//! |---|---|
//! | `OIDC_ISSUER` | the OpenID Provider's issuer URL (required) |
//! | `OIDC_CLIENT_ID` | the client id registered there (required) |
//! | `OIDC_CLIENT_SECRET` | its secret (optional) |
//! | `APP_BASE_URL` | this broker's public URL (default `http://127.0.0.1:3000`); its issuer is `{APP_BASE_URL}/auth` |
//! | `SESSION_SECRET` | 32 bytes or more; seals the signing keys in the store (required) |
//! | `BROKER_STORE` | `memory` (default), `redis://...`, `redis+cluster://host:port,...` (a Redis Cluster) or `postgres://...`: processes with one `APP_BASE_URL` and one store act as one broker |
//! | `BROKER_AUDIENCE` | the `aud` of the broker's tokens (required) |
//! | `TRUSTED_ISSUERS` | other brokers' issuers whose tokens for this audience `/api/me` accepts (comma-separated, optional) |
//! | `BROKER_KEY_ROTATE_SECS` | age at which the signing key is replaced (default 30 days); the previous key stays published while its tokens live |
//! | `OAUTH2_BIND` | listen address (default `127.0.0.1:3000`) |
//!
//! Routes: `/` a public page; `GET /api/me` the token's claims, for the broker's access
//! tokens (and the trusted issuers'); `POST /auth/oidc/device` and
//! `POST /auth/oidc/token` (device flow, CLI code flow, refresh); `POST /auth/token`
//! (refresh, token exchange), `POST /auth/revoke`; `GET /auth/.well-known/openid-configuration`
//! and `GET /auth/.well-known/jwks.json`.

use std::error::Error;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::Authenticated;
use oauth2::issuer::Broker;
use oauth2::login::{Login, LoginProvider};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

async fn store(spec: &str) -> Result<std::sync::Arc<dyn SessionStore>, Box<dyn Error>> {
    Ok(match spec {
        "memory" => std::sync::Arc::new(MemoryStore::new()),
        url if url.starts_with("redis") => std::sync::Arc::new(RedisStore::connect(url).await?),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            std::sync::Arc::new(PostgresStore::connect(url).await?)
        }
        other => {
            return Err(format!(
                "BROKER_STORE `{other}` is not memory, redis://..., redis+cluster://... or postgres://..."
            )
            .into());
        }
    })
}

async fn run() -> Result<(), Box<dyn Error>> {
    let mut provider = LoginProvider::builder("oidc")
        .issuer(var("OIDC_ISSUER")?)
        .client_id(var("OIDC_CLIENT_ID")?)
        .device_flow()
        .backchannel_logout();
    if let Ok(secret) = std::env::var("OIDC_CLIENT_SECRET") {
        provider = provider.client_secret(secret);
    }
    let mut broker = Broker::builder().audience(var("BROKER_AUDIENCE")?).claims([
        "email",
        "name",
        "preferred_username",
        "groups",
    ]);
    if let Ok(secs) = std::env::var("BROKER_KEY_ROTATE_SECS") {
        let secs: u64 = secs
            .parse()
            .map_err(|_| format!("BROKER_KEY_ROTATE_SECS `{secs}` is not a number of seconds"))?;
        broker = broker.rotate_every(Duration::from_secs(secs));
    }
    for issuer in std::env::var("TRUSTED_ISSUERS")
        .unwrap_or_default()
        .split(',')
    {
        if !issuer.trim().is_empty() {
            broker = broker.trusted_issuer(issuer.trim());
        }
    }
    let spec = std::env::var("BROKER_STORE").unwrap_or_else(|_| "memory".into());
    let base = std::env::var("APP_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let login = Login::builder()
        .base_url(&base)
        .session_secret(var("SESSION_SECRET")?)
        .session_store(store(&spec).await?)
        .provider(provider)
        .broker(broker)
        .build()?;
    let broker = login.broker().expect("configured above");
    let auth = oauth2::Authenticator::builder()
        .provider(broker.bearer_provider("broker"))
        .public_path("/")
        .public_prefix("/auth")
        .build()?;

    let app = Router::new()
        .route(
            "/",
            get(|| async { "A token broker: see /auth/.well-known/openid-configuration" }),
        )
        .route(
            "/api/me",
            get(|auth: Authenticated| async move { Json(auth.claims().clone()) }),
        )
        .merge(login.router())
        .layer(auth.layer());
    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!(
        "broker {} listening on http://{bind} (store: {spec})",
        broker.issuer()
    );
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,oauth2=debug".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}
