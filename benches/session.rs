//! The cost of reading a browser-login session per request, next to an unprotected
//! route and a bearer-token route, all through the same axum router in process
//! (`tower::ServiceExt::oneshot`, no sockets). Report ratios against the unprotected
//! route, measured in the same run.
//!
//! - `open`: no extractor, under the session layer (the baseline);
//! - `bearer`: `Claims<T>` with an RS256 token from the dev issuer;
//! - `session/cookie`: `Session<T>` from the encrypted cookie (a real login's session:
//!   ID token, access token, claims; AES-256-GCM, about 3 KB);
//! - `session/memory`: `Session<T>` from a `MemoryStore`, the cookie holding only an id;
//! - `session/redis`, `session/postgres`: the same from Redis and PostgreSQL on
//!   127.0.0.1 (a network round trip per read). Without them these two are skipped, and
//!   say so; `OAUTH2_REQUIRE_SERVICES=1` (CI) makes them required.
//!
//! `cargo bench -p oauth2-benches --bench session`

use std::hint::black_box;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, header};
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, Session};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use oauth2::{Authenticator, Claims};
use tower::ServiceExt as _;

#[derive(oauth2::FromClaims)]
struct User {
    sub: String,
    email: String,
}

#[derive(serde::Deserialize)]
struct Bearer {
    sub: String,
}

async fn session(Session(user): Session<User>) -> String {
    user.sub + &user.email
}

async fn bearer(Claims(user): Claims<Bearer>) -> String {
    user.sub
}

fn app(login: &Login, auth: &Authenticator) -> Router {
    Router::new()
        .route("/open", get(|| async { "open" }))
        .route("/session", get(session))
        .merge(
            Router::new()
                .route("/bearer", get(bearer))
                .layer(auth.layer()),
        )
        .merge(login.router())
        .layer(login.layer())
}

/// Logs in through the dev issuer; returns the `Cookie` header of the session.
async fn log_in(app: &Router) -> String {
    let cookie_pairs = |r: &axum::response::Response| -> Vec<String> {
        r.headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
            .filter(|p| p.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .collect()
    };
    let start = app
        .clone()
        .oneshot(Request::get("/auth/dev/login").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let tx = cookie_pairs(&start).join("; ");
    let authorize = start.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let back = client.get(authorize).send().await.unwrap();
    let callback = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let path = format!("{}?{}", callback.path(), callback.query().unwrap());
    let done = app
        .clone()
        .oneshot(
            Request::get(path)
                .header(header::COOKIE, tx)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(done.status(), 303);
    cookie_pairs(&done).join("; ")
}

/// A store on this machine, or `None` (said loudly) when it is not there and not
/// required.
fn service<T>(name: &str, store: Result<T, oauth2::session::StoreError>) -> Option<T> {
    match store {
        Ok(store) => Some(store),
        Err(e) if std::env::var("OAUTH2_REQUIRE_SERVICES").is_ok_and(|v| v == "1") => {
            panic!("{name} is required (OAUTH2_REQUIRE_SERVICES=1) but not reachable: {e}")
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED session/{name}: not reachable on 127.0.0.1 ({e}) ***\n");
            None
        }
    }
}

fn sessions(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (_idp, cookie_app, cookie, stored, token) = rt.block_on(async {
        let idp = DevIssuer::start().await.unwrap();
        let auth = Authenticator::builder()
            .provider(idp.provider("dev"))
            .build()
            .unwrap();
        auth.ready().await;
        let login = |store: Option<Arc<dyn SessionStore>>| {
            let mut b = Login::builder()
                .base_url("http://127.0.0.1:3000")
                .session_secret("the benchmark's session secret, 32+ bytes")
                .provider(
                    LoginProvider::builder("dev")
                        .issuer(idp.issuer())
                        .client_id("bench"),
                );
            if let Some(store) = store {
                b = b.session_store(store);
            }
            b.build().unwrap()
        };
        let cookie_app = app(&login(None), &auth);
        let cookie = log_in(&cookie_app).await;
        let mut stores: Vec<(&str, Arc<dyn SessionStore>)> =
            vec![("memory", Arc::new(MemoryStore::new()))];
        let redis = RedisStore::connect("redis://127.0.0.1:6379").await;
        if let Some(redis) = service("redis", redis) {
            stores.push(("redis", Arc::new(redis)));
        }
        let postgres = PostgresStore::connect("postgres://postgres@127.0.0.1:5432/test").await;
        if let Some(postgres) = service("postgres", postgres) {
            stores.push(("postgres", Arc::new(postgres)));
        }
        let mut stored = Vec::new();
        for (name, store) in stores {
            let app = app(&login(Some(store)), &auth);
            let cookie = log_in(&app).await;
            stored.push((name, app, cookie));
        }
        let token = idp.token().claim("email", "alice@example.com").sign();
        (idp, cookie_app, cookie, stored, token)
    });
    println!("session cookie: {} bytes", cookie.len());

    let run = |app: &Router, request: fn(&str) -> Request<Body>, arg: &str| {
        let response = rt.block_on(app.clone().oneshot(request(arg))).unwrap();
        assert_eq!(response.status(), 200);
        black_box(response);
    };
    let open = |_: &str| Request::get("/open").body(Body::empty()).unwrap();
    let with_cookie = |c: &str| {
        Request::get("/session")
            .header(header::COOKIE, c)
            .body(Body::empty())
            .unwrap()
    };
    let with_token = |t: &str| {
        Request::get("/bearer")
            .header(header::AUTHORIZATION, format!("Bearer {t}"))
            .body(Body::empty())
            .unwrap()
    };

    let mut group = c.benchmark_group("request");
    group.bench_function("open", |b| b.iter(|| run(&cookie_app, open, "")));
    group.bench_function("bearer", |b| {
        b.iter(|| run(&cookie_app, with_token, &token))
    });
    group.bench_function("session/cookie", |b| {
        b.iter(|| run(&cookie_app, with_cookie, &cookie))
    });
    for (name, app, cookie) in &stored {
        group.bench_function(format!("session/{name}"), |b| {
            b.iter(|| run(app, with_cookie, cookie))
        });
    }
    group.finish();
}

criterion_group!(benches, sessions);
criterion_main!(benches);
