//! The token client's hot path, next to what it replaces: `cached` is
//! `TokenClient::token_for` answered from its cache (the key of target and sorted scopes,
//! the lookup, the freshness check), `hand-written` a `RwLock<Option<(String, u64)>>` with
//! the same freshness check, as an app holding one token would write it (both in
//! `block_on`, as in an async handler). `authorize`
//! puts the token on a `reqwest` request (building it to read method and URL, then the
//! header), `bearer_auth` is reqwest's own header. Report the ratios
//! `cached / hand-written` and `authorize / bearer_auth`. The token endpoint is an axum
//! route on 127.0.0.1, asked once before measuring.
//!
//! `cargo bench -p oauth2-benches --bench token_client`

use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use oauth2::client::{ClientCredentials, Target, TokenClient};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token_client(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let endpoint = rt.block_on(async {
        let app = Router::new().route(
            "/token",
            post(|| async {
                axum::Json(serde_json::json!({
                    "access_token": "a-token-of-the-usual-length-for-an-opaque-access-token",
                    "token_type": "Bearer",
                    "expires_in": 3600,
                }))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    });
    let tokens = TokenClient::builder(ClientCredentials::new("bench").secret("bench-secret"))
        .token_endpoint(endpoint)
        .build()
        .unwrap();
    let target = Target::resource("https://inventory.example");
    let scopes = ["stock:write", "stock:read"];
    let token = rt.block_on(tokens.token_for(&target, &scopes)).unwrap();

    let mut group = c.benchmark_group("token_client");
    group.bench_function("cached", |b| {
        b.iter(|| rt.block_on(tokens.token_for(&target, &scopes)).unwrap())
    });
    let held = RwLock::new(Some((token.secret().to_owned(), now() + 3600)));
    group.bench_function("hand-written", |b| {
        b.iter(|| {
            rt.block_on(async {
                let guard = held.read().unwrap();
                match &*guard {
                    Some((value, until)) if now() + 30 < *until => value.clone(),
                    _ => unreachable!("fresh"),
                }
            })
        })
    });
    let http = reqwest::Client::new();
    group.bench_function("authorize", |b| {
        b.iter(|| {
            token
                .authorize(http.get("https://inventory.example/stock/42"))
                .unwrap()
        })
    });
    group.bench_function("bearer_auth", |b| {
        b.iter(|| {
            http.get("https://inventory.example/stock/42")
                .bearer_auth(token.secret())
                .build()
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, token_client);
criterion_main!(benches);
