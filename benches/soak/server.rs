//! The soak test's app (`bash benches/soak/run.sh`): bearer tokens on `/api`, browser
//! sessions in a `MemoryStore` on `/me` and `/token` (which refreshes the session's
//! access token), the login routes with back-channel logout, and `/soak/stats` with
//! the sizes of what it holds. The identity provider runs in the driver's process, so
//! this process's resident memory is the library's and the app's only.
//!
//! `soak_server --port PORT --issuer URL`; prints `ready` when its keys are loaded.

use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::Authenticator;
use oauth2::config::Provider;
use oauth2::login::{Login, LoginProvider, LoginSession, SessionRejection};
use oauth2::session::MemoryStore;
use serde_json::{Value, json};

/// How long a session lives: short, so that the store's sweeping is part of the run.
const SESSION_TTL: Duration = Duration::from_secs(20);

fn arg(name: &str) -> String {
    opt(name).unwrap_or_else(|| panic!("{name} is required"))
}

fn opt(name: &str) -> Option<String> {
    std::env::args().skip_while(|a| a != name).nth(1)
}

async fn me(session: LoginSession) -> String {
    session.subject().unwrap_or_default().to_owned()
}

async fn token(session: LoginSession) -> Result<String, SessionRejection> {
    session.access_token().await
}

#[tokio::main]
async fn main() {
    let port = arg("--port");
    let issuer = arg("--issuer");
    let base = format!("http://127.0.0.1:{port}");
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("dev")
                .issuer(&issuer)
                .audience("dev-api")
                .discovery()
                // Every unknown kid the driver sends could refetch: the default cooldown
                // is what keeps the provider from being flooded.
                .refresh_interval(Duration::from_secs(30)),
        )
        .build()
        .expect("bearer config");
    let store = MemoryStore::new();
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the soak test's session secret, 32+ bytes long")
        .session_store(store.clone())
        .session_ttl(SESSION_TTL)
        .session_cache(opt("--session-cache").map_or(16 << 20, |b| b.parse().expect("bytes")))
        .provider(
            LoginProvider::builder("dev")
                .issuer(&issuer)
                .client_id("soak")
                .client_secret("dev-secret")
                .backchannel_logout(),
        )
        .build()
        .expect("login config");
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("keys load");

    let stats = {
        let auth = auth.clone();
        move || {
            let auth = auth.clone();
            let store = store.clone();
            async move {
                let cache = auth.token_cache_stats();
                let keys = auth.key_stats("dev");
                Json::<Value>(json!({
                    "token_cache_entries": cache.map(|c| c.entries),
                    "token_cache_capacity": cache.map(|c| c.capacity),
                    "key_fetches": keys.as_ref().map(|k| k.fetches),
                    "key_unknown_kid_refetches": keys.map(|k| k.unknown_kid_refetches),
                    "sessions": store.len(),
                }))
            }
        }
    };
    let api = Router::new()
        .route("/api", get(|| async { "ok" }))
        .layer(auth.layer());
    let web = Router::new()
        .route("/me", get(me))
        .route("/token", get(token))
        .merge(login.router())
        .layer(login.layer());
    let app = api.merge(web).route("/soak/stats", get(stats));
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .expect("the port is free");
    println!("ready");
    axum::serve(listener, app).await.expect("serve");
}
