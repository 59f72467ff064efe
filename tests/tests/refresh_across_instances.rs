//! Two instances of an app on one Redis (or PostgreSQL) store refresh one session at
//! the same time. The provider (oidc-provider) rotates refresh tokens and revokes the
//! whole grant when a spent one is used again, so without a lock shared through the
//! store, the second refresh would end the session. Each instance has its own `Login`
//! (its own in-process lock) and its own store connection: all they share is the store.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use oauth2::login::{Login, LoginProvider, LoginSession};
use oauth2::session::{PostgresStore, RedisStore, SessionStore};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, Options, WEB_CLIENT};
use oauth2_tests::services;
use tokio::net::TcpListener;

async fn access_token(session: LoginSession) -> Result<String, oauth2::login::SessionRejection> {
    session.access_token().await
}

async fn two_instances_refresh_one_at_a_time(stores: [Arc<dyn SessionStore>; 2]) {
    let (first, second) = (
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    let a = format!("http://{}", first.local_addr().unwrap());
    let b = format!("http://{}", second.local_addr().unwrap());
    // Access tokens live 30 s, under the one-minute refresh margin: every call of
    // `access_token()` refreshes.
    let op = OpenIdProvider::start(Options {
        apps: vec![a.clone(), b.clone()],
        access_token_ttl: Some(30),
        ..Options::default()
    })
    .await;
    for ((listener, base), store) in [(first, &a), (second, &b)].into_iter().zip(stores) {
        let login = Login::builder()
            .base_url(base)
            .session_secret("the refresh test's session secret, 32+ bytes")
            .store(store)
            .provider(
                LoginProvider::builder("oidc")
                    .issuer(&op.issuer)
                    .client_id(WEB_CLIENT.0)
                    .client_secret(WEB_CLIENT.1)
                    .scopes(["openid", "offline_access"])
                    .param("prompt", "consent"),
            )
            .build()
            .unwrap();
        let app: Router = Router::new()
            .route("/token", get(access_token))
            .merge(login.router())
            .layer(login.layer());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let browser = Browser::new();
    let start = browser.get(&format!("{a}/auth/oidc/login")).await;
    let callback = browser.authorize(&location(&start), &a, "henry").await;
    assert_eq!(browser.get(&callback).await.status(), 303);
    let first_token = browser
        .get(&format!("{a}/token"))
        .await
        .text()
        .await
        .unwrap();

    // Both instances, several requests each, at once.
    let urls: Vec<String> = (0..8)
        .map(|i| format!("{}/token", if i % 2 == 0 { &a } else { &b }))
        .collect();
    let calls = urls.iter().map(|url| browser.get(url));
    for response in futures_util::future::join_all(calls).await {
        let url = response.url().clone();
        assert_eq!(response.status(), 200, "{url}: {:?}", response.text().await);
    }
    let after = browser.get(&format!("{b}/token")).await;
    assert_eq!(after.status(), 200, "the grant survived");
    assert_ne!(after.text().await.unwrap(), first_token, "refreshed");
}

#[tokio::test]
async fn two_instances_on_redis_refresh_one_session_one_at_a_time() {
    let test = "two_instances_on_redis_refresh_one_session_one_at_a_time";
    let Some(url) = services::redis(test) else {
        return;
    };
    let prefix = format!(
        "oauth2-refresh:{}:{}:",
        std::process::id(),
        oauth2_tests::nanos()
    );
    let store = || async {
        Arc::new(RedisStore::connect(url).await.unwrap().with_prefix(&prefix))
            as Arc<dyn SessionStore>
    };
    two_instances_refresh_one_at_a_time([store().await, store().await]).await;
}

#[tokio::test]
async fn two_instances_on_postgres_refresh_one_session_one_at_a_time() {
    let test = "two_instances_on_postgres_refresh_one_session_one_at_a_time";
    let Some(url) = services::postgres(test) else {
        return;
    };
    let store =
        || async { Arc::new(PostgresStore::connect(url).await.unwrap()) as Arc<dyn SessionStore> };
    two_instances_refresh_one_at_a_time([store().await, store().await]).await;
}
