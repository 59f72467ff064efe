//! A session store that goes away while sessions are in use, then comes back: session
//! requests get 503 `temporarily_unavailable` within the store timeout (not a 500, not
//! a hang, not a silent logout); a login meanwhile starts no session; once the store is
//! back the same session works again. Redis and PostgreSQL of this machine, behind a
//! forwarder the test cuts.

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession};
use oauth2::session::{PostgresStore, RedisStore, STORE_TIMEOUT, SessionStore};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::outage::Outage;
use oauth2_tests::{error_of, services};
use serde_json::Value;

async fn me(session: LoginSession) -> Json<Value> {
    Json(Value::Object(session.claims().clone()))
}

async fn app(idp: &DevIssuer, store: impl SessionStore) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the store outage test's secret, 32+ bytes")
        .session_store(store)
        .provider(
            LoginProvider::builder("dev")
                .issuer(idp.issuer())
                .client_id("web"),
        )
        .build()
        .unwrap();
    let routes = Router::new()
        .route("/me", get(me))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    base
}

/// One login through the dev issuer (which signs in at once): the callback's answer.
async fn log_in(b: &Browser, base: &str) -> reqwest::Response {
    let start = b.get(&format!("{base}/auth/dev/login")).await;
    assert_eq!(start.status(), 303);
    let back = b.get(&location(&start)).await;
    b.get(&location(&back)).await
}

async fn outage_and_recovery(name: &str, outage: &Outage, base: &str) {
    let b = Browser::new();
    assert_eq!(log_in(&b, base).await.status(), 303, "{name}");
    let me = format!("{base}/me");
    assert_eq!(b.get(&me).await.status(), 200, "{name}");

    outage.cut();
    let started = Instant::now();
    let e = error_of(b.get(&me).await).await;
    let waited = started.elapsed();
    assert_eq!(
        (e.status, e.error.as_str()),
        (503, "temporarily_unavailable"),
        "{name}"
    );
    assert!(
        waited < STORE_TIMEOUT * 2 + Duration::from_secs(2),
        "{name}: waited {waited:?}"
    );
    println!("{name}: a session read during the outage got 503 after {waited:?}");
    // A login meanwhile is refused, and leaves no session cookie behind.
    let other = Browser::new();
    let done = log_in(&other, base).await;
    assert_eq!(done.status(), 503, "{name}");
    assert!(
        !other.cookies(base).contains("session="),
        "{name}: {}",
        other.cookies(base)
    );

    outage.restore();
    let back = Instant::now();
    loop {
        let status = b.get(&me).await.status();
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{name}: never a 500 or a logout");
        eprintln!("{name}: {status} after {:?}", back.elapsed());
        assert!(
            back.elapsed() < Duration::from_secs(60),
            "{name}: no recovery"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "{name}: the same session works again {:?} after the store came back",
        back.elapsed()
    );
    assert_eq!(
        log_in(&other, base).await.status(),
        303,
        "{name}: logins work again"
    );
}

#[tokio::test]
async fn a_redis_outage_gives_503s_then_the_sessions_work_again() {
    let Some(_) = services::redis("a_redis_outage_gives_503s_then_the_sessions_work_again") else {
        return;
    };
    let idp = DevIssuer::start().await.unwrap();
    let outage = Outage::start("127.0.0.1:6379").await;
    let store = RedisStore::connect(&format!("redis://{}", outage.addr()))
        .await
        .unwrap();
    let base = app(&idp, store).await;
    outage_and_recovery("redis", &outage, &base).await;
}

#[tokio::test]
async fn a_postgres_outage_gives_503s_then_the_sessions_work_again() {
    let Some(_) = services::postgres("a_postgres_outage_gives_503s_then_the_sessions_work_again")
    else {
        return;
    };
    let idp = DevIssuer::start().await.unwrap();
    let outage = Outage::start("127.0.0.1:5432").await;
    let url = format!("postgres://postgres@{}/test", outage.addr());
    let store = PostgresStore::connect(&url).await.unwrap();
    let base = app(&idp, store).await;
    outage_and_recovery("postgres", &outage, &base).await;
}
