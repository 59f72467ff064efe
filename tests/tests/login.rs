//! Browser login against a real OpenID Provider (npm `oidc-provider` on 127.0.0.1),
//! scripted with an HTTP client and a cookie jar: login, callback, protected page,
//! refresh, logout with end-session; the negative cases; and one suite run against every
//! session store over real connections (cookie, memory, Redis, PostgreSQL).

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::login::{Login, LoginBuilder, LoginProvider, LoginRejected, LoginSession, Session, SessionRejection};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, Options, POST_CLIENT, PUBLIC_CLIENT, WEB_CLIENT};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

const SECRET: &str = "a test session secret, at least 32 bytes long";
const REDIS: &str = "redis://127.0.0.1:6379";
const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(oauth2::FromClaims, Serialize)]
struct User {
    sub: String,
    name: String,
    email: String,
}

async fn me(Session(user): Session<User>) -> Json<User> {
    Json(user)
}

async fn token(session: LoginSession) -> Result<String, SessionRejection> {
    session.access_token().await
}

async fn app_data(session: LoginSession) -> Json<Value> {
    Json(session.app::<Value>().unwrap())
}

async fn maybe(user: Option<Session<User>>) -> String {
    user.map_or("anonymous".into(), |Session(u)| u.sub)
}

fn routes(login: &Login) -> Router {
    Router::new()
        .route("/", get(|| async { "home" }))
        .route("/me", get(me))
        .route("/maybe", get(maybe))
        .route("/token", get(token))
        .route("/app", get(app_data))
        .route("/bye", get(|| async { "bye" }))
        .merge(login.router())
        .layer(login.layer())
}

/// A listener on a free port, bound before the provider starts (which must know the
/// app's URL for its redirect URIs).
async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    (listener, url)
}

fn serve(listener: TcpListener, app: Router) {
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

fn provider(op: &OpenIdProvider, name: &str) -> oauth2::login::LoginProviderBuilder {
    LoginProvider::builder(name)
        .issuer(&op.issuer)
        .client_id(WEB_CLIENT.0)
        .client_secret(WEB_CLIENT.1)
        .scopes(["openid", "profile", "email", "offline_access"])
        // oidc-provider issues refresh tokens only after consent for offline_access.
        .param("prompt", "consent")
}

fn builder(op: &OpenIdProvider, base: &str) -> LoginBuilder {
    Login::builder()
        .base_url(base)
        .session_secret(SECRET)
        .provider(provider(op, "oidc"))
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url).unwrap().query_pairs().into_owned().collect()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

async fn json_error(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    (
        status,
        body["error"].as_str().unwrap().to_owned(),
        body["error_description"].as_str().unwrap().to_owned(),
    )
}

/// Logs `user` in through provider `name`; returns the callback's response.
async fn log_in(b: &Browser, base: &str, name: &str, user: &str, return_to: &str) -> reqwest::Response {
    let start = b
        .get(&format!("{base}/auth/{name}/login?return_to={return_to}"))
        .await;
    assert_eq!(start.status(), 303);
    let callback = b.authorize(&location(&start), base, user).await;
    b.get(&callback).await
}

#[derive(Clone, Copy, Debug)]
enum Store {
    Cookie,
    Memory,
    Redis,
    Postgres,
}

async fn store(kind: Store) -> Option<Arc<dyn SessionStore>> {
    match kind {
        Store::Cookie => None,
        Store::Memory => Some(Arc::new(MemoryStore::new())),
        Store::Redis => Some(Arc::new(
            RedisStore::connect(REDIS)
                .await
                .expect("Redis on 127.0.0.1:6379")
                .with_prefix(format!("oauth2-test:{}:", std::process::id())),
        )),
        Store::Postgres => Some(Arc::new(
            PostgresStore::connect(POSTGRES)
                .await
                .expect("PostgreSQL on 127.0.0.1:5432"),
        )),
    }
}

/// The same flow for every store: login, the protected page, userinfo, a replayed
/// callback, refresh (one at a time, also under concurrency), logout with end-session,
/// and (for stores) a copied cookie that no longer works after logout.
async fn store_suite(kind: Store) {
    let (listener, base) = bind().await;
    // Access tokens live 30 s, under the one-minute refresh margin: every
    // `access_token()` refreshes.
    let op = OpenIdProvider::start(Options {
        apps: vec![base.clone()],
        access_token_ttl: Some(30),
    })
    .await;
    let mut login = builder(&op, &base);
    if let Some(store) = store(kind).await {
        login = login.store(store);
    }
    let login = login.build().unwrap();
    serve(listener, routes(&login));
    let b = Browser::new();

    // No session: 401 for an API client, 303 to the login for a browser.
    let (status, error, _) = json_error(b.get(&format!("{base}/me")).await).await;
    assert_eq!((status, error.as_str()), (401, "login_required"), "{kind:?}");
    let nav = b.navigate(&format!("{base}/me?tab=1")).await;
    assert_eq!(nav.status(), 303);
    assert_eq!(
        location(&nav),
        format!("{base}/auth/oidc/login?return_to=%2Fme%3Ftab%3D1")
    );
    assert_eq!(b.get(&format!("{base}/maybe")).await.text().await.unwrap(), "anonymous");

    // Login: the authorization request.
    let start = b.get(&format!("{base}/auth/oidc/login?return_to=/me")).await;
    assert_eq!(start.status(), 303);
    let to_provider = location(&start);
    assert!(to_provider.starts_with(&format!("{}/auth?", op.issuer)), "{to_provider}");
    let q = query(&to_provider);
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], WEB_CLIENT.0);
    assert_eq!(q["redirect_uri"], format!("{base}/auth/oidc/callback"));
    assert_eq!(q["scope"], "openid profile email offline_access");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["prompt"], "consent");
    assert!(q["state"].len() >= 43 && q["nonce"].len() >= 43);
    assert_ne!(q["state"], q["nonce"]);
    let tx_cookie = set_cookies(&start).join("\n");
    assert!(tx_cookie.starts_with(&format!("oauth2_tx_{}=", q["state"])), "{tx_cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/auth/oidc/callback", "Max-Age=600"] {
        assert!(tx_cookie.contains(attr), "{attr} in {tx_cookie}");
    }
    assert!(!tx_cookie.contains("Secure"), "http on loopback: {tx_cookie}");

    // The provider's pages, then the callback.
    let callback = b.authorize(&to_provider, &base, "alice").await;
    assert!(callback.starts_with(&format!("{base}/auth/oidc/callback?code=")), "{callback}");
    let done = b.get(&callback).await;
    assert_eq!(done.status(), 303, "{kind:?}: {:?}", done.text().await);
    assert_eq!(location(&done), format!("{base}/me"));
    let cookies = set_cookies(&done).join("\n");
    assert!(cookies.contains("session="), "{cookies}");
    assert!(cookies.contains(&format!("oauth2_tx_{}=;", q["state"])), "tx removed: {cookies}");
    assert!(cookies.contains("HttpOnly; SameSite=Lax; Path=/"), "{cookies}");

    // The protected page: ID token claims plus userinfo's name and email.
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"sub": "alice", "name": "Alice Example", "email": "alice@example.com"}),
        "{kind:?}"
    );
    assert_eq!(b.get(&format!("{base}/maybe")).await.text().await.unwrap(), "alice");
    let info: Value = b.get(&format!("{base}/auth/userinfo")).await.json().await.unwrap();
    assert_eq!(info["provider"], "oidc");
    assert_eq!(info["claims"]["iss"], op.issuer.as_str());
    assert_eq!(info["claims"]["aud"], WEB_CLIENT.0);

    // The same callback again: the transaction is gone.
    let (status, error, _) = json_error(b.get(&callback).await).await;
    assert_eq!((status, error.as_str()), (400, "invalid_state"));

    // Refresh: each call gets a new access token that the provider accepts.
    let first = b.get(&format!("{base}/token")).await.text().await.unwrap();
    let second = b.get(&format!("{base}/token")).await.text().await.unwrap();
    assert_ne!(first, second, "{kind:?}: refreshed");
    let userinfo = b
        .client
        .get(format!("{}/me", op.issuer))
        .bearer_auth(&second)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200, "{kind:?}: the refreshed token works");
    // Concurrent requests of one session refresh one at a time: the provider rotates
    // refresh tokens and revokes the grant if one is used twice.
    let token_url = format!("{base}/token");
    let calls = (0..6).map(|_| b.get(&token_url));
    for response in futures_util::future::join_all(calls).await {
        assert_eq!(response.status(), 200, "{kind:?}: {:?}", response.text().await);
    }
    let after = b.get(&format!("{base}/token")).await;
    assert_eq!(after.status(), 200, "{kind:?}: the grant survived");

    // Logout: the session ends here, then at the provider.
    let copied = b.cookies(&base);
    let out = b.get(&format!("{base}/auth/logout?return_to=/bye")).await;
    assert_eq!(out.status(), 303);
    let end_session = location(&out);
    assert!(end_session.starts_with(&format!("{}/session/end?", op.issuer)), "{end_session}");
    let q = query(&end_session);
    assert_eq!(q["client_id"], WEB_CLIENT.0);
    assert_eq!(q["post_logout_redirect_uri"], format!("{base}/bye"));
    assert_eq!(q["id_token_hint"].split('.').count(), 3);
    assert!(set_cookies(&out).iter().any(|c| c.starts_with("session=;")));
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401, "{kind:?}");
    assert_eq!(b.confirm_logout(&end_session).await, format!("{base}/bye"));

    // A copy of the cookie taken before logout: dead for server-side sessions.
    let replay = reqwest::Client::new()
        .get(format!("{base}/me"))
        .header("cookie", copied)
        .send()
        .await
        .unwrap();
    match kind {
        Store::Cookie => assert_eq!(replay.status(), 200, "stateless cookies live until they expire"),
        _ => assert_eq!(replay.status(), 401, "{kind:?}: ended in the store"),
    }
}

#[tokio::test]
async fn cookie_sessions_pass_the_suite() {
    store_suite(Store::Cookie).await;
}

#[tokio::test]
async fn memory_sessions_pass_the_suite() {
    store_suite(Store::Memory).await;
}

#[tokio::test]
async fn redis_sessions_pass_the_suite() {
    store_suite(Store::Redis).await;
}

#[tokio::test]
async fn postgres_sessions_pass_the_suite() {
    store_suite(Store::Postgres).await;
}
