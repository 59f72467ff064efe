//! Browser login against a real OpenID Provider (npm `oidc-provider` on 127.0.0.1),
//! scripted with an HTTP client and a cookie jar: login, callback, protected page,
//! refresh, logout with end-session; the negative cases; and one suite run against every
//! session store over real connections (cookie, memory, Redis, PostgreSQL).

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::login::{
    AppToken, ClientAuth, Login, LoginBuilder, LoginProvider, LoginProviderBuilder, LoginRejected,
    LoginSession, PushedAuthorization, Session, SessionRejection, Userinfo,
};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use oauth2::{Authenticator, Claims};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, Options, POST_CLIENT, PUBLIC_CLIENT, WEB_CLIENT};
use oauth2_tests::{error_of, services};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use url::Url;

const SECRET: &str = "a test session secret, at least 32 bytes long";

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

fn provider(op: &OpenIdProvider, name: &str) -> LoginProviderBuilder {
    LoginProvider::builder(name)
        .issuer(&op.issuer)
        .client_id(WEB_CLIENT.0)
        .client_secret(WEB_CLIENT.1)
        .scopes(["openid", "profile", "email", "offline_access"])
        // oidc-provider issues refresh tokens only after consent for offline_access.
        .authorize_param("prompt", "consent")
        // The suite reads the authorization request in the browser's URL; `par.rs`
        // tests the pushed one.
        .pushed_authorization(PushedAuthorization::Never)
}

/// Login at `base` through `provider`, with the tests' secret.
fn login_with(base: &str, provider: LoginProviderBuilder) -> LoginBuilder {
    Login::builder()
        .base_url(base)
        .session_secret(SECRET)
        .provider(provider)
}

fn builder(op: &OpenIdProvider, base: &str) -> LoginBuilder {
    login_with(base, provider(op, "oidc"))
}

fn query(url: &str) -> std::collections::HashMap<String, String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// GET `url` with exactly this `Cookie` header (a replayed or forged cookie).
async fn get_with_cookie(url: &str, cookie: &str) -> reqwest::Response {
    oauth2_tests::client()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
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
async fn log_in(
    b: &Browser,
    base: &str,
    name: &str,
    user: &str,
    return_to: &str,
) -> reqwest::Response {
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
            RedisStore::connect(services::REDIS)
                .await
                .expect("Redis on 127.0.0.1:6379")
                .with_prefix(format!("oauth2-test:{}:", std::process::id())),
        )),
        Store::Postgres => Some(Arc::new(
            PostgresStore::connect(services::POSTGRES)
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
        ..Options::default()
    })
    .await;
    let mut login = builder(&op, &base);
    if let Some(store) = store(kind).await {
        login = login.session_store(store);
    }
    let login = login.build().unwrap();
    serve(listener, routes(&login));
    let b = Browser::new();

    // No session: 401 for an API client, 303 to the login for a browser.
    let (status, error, _) = json_error(b.get(&format!("{base}/me")).await).await;
    assert_eq!(
        (status, error.as_str()),
        (401, "login_required"),
        "{kind:?}"
    );
    let nav = b.navigate(&format!("{base}/me?tab=1")).await;
    assert_eq!(nav.status(), 303);
    assert_eq!(
        location(&nav),
        format!("{base}/auth/oidc/login?return_to=%2Fme%3Ftab%3D1")
    );
    assert_eq!(
        b.get(&format!("{base}/maybe")).await.text().await.unwrap(),
        "anonymous"
    );
    let (status, error, _) = json_error(b.get(&format!("{base}/auth/userinfo")).await).await;
    assert_eq!((status, error.as_str()), (401, "login_required"));

    // Login: the authorization request.
    let start = b
        .get(&format!("{base}/auth/oidc/login?return_to=/me"))
        .await;
    assert_eq!(start.status(), 303);
    let to_provider = location(&start);
    assert!(
        to_provider.starts_with(&format!("{}/auth?", op.issuer)),
        "{to_provider}"
    );
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
    assert!(
        tx_cookie.starts_with(&format!("oauth2_tx_{}=", q["state"])),
        "{tx_cookie}"
    );
    for attr in [
        "HttpOnly",
        "SameSite=Lax",
        "Path=/auth/oidc/;",
        "Max-Age=600",
    ] {
        assert!(tx_cookie.contains(attr), "{attr} in {tx_cookie}");
    }
    assert!(
        !tx_cookie.contains("Secure"),
        "http on loopback: {tx_cookie}"
    );

    // The provider's pages, then the callback.
    let callback = b.authorize(&to_provider, &base, "alice").await;
    assert!(
        callback.starts_with(&format!("{base}/auth/oidc/callback?code=")),
        "{callback}"
    );
    let done = b.get(&callback).await;
    assert_eq!(done.status(), 303, "{kind:?}: {:?}", done.text().await);
    assert_eq!(location(&done), format!("{base}/me"));
    let cookies = set_cookies(&done).join("\n");
    assert!(cookies.contains("session="), "{cookies}");
    assert!(
        cookies.contains(&format!("oauth2_tx_{}=;", q["state"])),
        "tx removed: {cookies}"
    );
    assert!(
        cookies.contains("HttpOnly; SameSite=Lax; Path=/"),
        "{cookies}"
    );

    // The protected page: ID token claims plus userinfo's name and email.
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"sub": "alice", "name": "Alice Example", "email": "alice@example.com"}),
        "{kind:?}"
    );
    assert_eq!(
        b.get(&format!("{base}/maybe")).await.text().await.unwrap(),
        "alice"
    );
    let info: Value = b
        .get(&format!("{base}/auth/userinfo"))
        .await
        .json()
        .await
        .unwrap();
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
    assert_eq!(
        userinfo.status(),
        200,
        "{kind:?}: the refreshed token works"
    );
    // Concurrent requests of one session refresh one at a time: the provider rotates
    // refresh tokens and revokes the grant if one is used twice.
    let token_url = format!("{base}/token");
    let calls = (0..6).map(|_| b.get(&token_url));
    for response in futures_util::future::join_all(calls).await {
        assert_eq!(
            response.status(),
            200,
            "{kind:?}: {:?}",
            response.text().await
        );
    }
    let after = b.get(&format!("{base}/token")).await;
    assert_eq!(after.status(), 200, "{kind:?}: the grant survived");

    // Logout: the session ends here, then at the provider.
    let copied = b.cookies(&base);
    let out = b
        .post_form(&format!("{base}/auth/logout?return_to=/bye"))
        .await;
    assert_eq!(out.status(), 303);
    let end_session = location(&out);
    assert!(
        end_session.starts_with(&format!("{}/session/end?", op.issuer)),
        "{end_session}"
    );
    let q = query(&end_session);
    assert_eq!(q["client_id"], WEB_CLIENT.0);
    assert_eq!(q["post_logout_redirect_uri"], format!("{base}/bye"));
    assert_eq!(q["id_token_hint"].split('.').count(), 3);
    assert!(set_cookies(&out).iter().any(|c| c.starts_with("session=;")));
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401, "{kind:?}");
    assert_eq!(b.confirm_logout(&end_session).await, format!("{base}/bye"));

    // A copy of the cookie taken before logout: dead for server-side sessions.
    let replay = get_with_cookie(&format!("{base}/me"), &copied).await;
    match kind {
        Store::Cookie => assert_eq!(
            replay.status(),
            200,
            "stateless cookies live until they expire"
        ),
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
    if services::redis("redis_sessions_pass_the_suite").is_some() {
        store_suite(Store::Redis).await;
    }
}

#[tokio::test]
async fn postgres_sessions_pass_the_suite() {
    if services::postgres("postgres_sessions_pass_the_suite").is_some() {
        store_suite(Store::Postgres).await;
    }
}

/// An app with the default cookie sessions, and its provider.
async fn start(configure: impl FnOnce(LoginBuilder) -> LoginBuilder) -> (OpenIdProvider, String) {
    let (listener, base) = bind().await;
    let op = OpenIdProvider::for_app(&base).await;
    let login = configure(builder(&op, &base)).build().unwrap();
    serve(listener, routes(&login));
    (op, base)
}

#[tokio::test]
async fn every_bad_callback_is_a_400_with_a_json_error() {
    let (op, base) = start(|b| b).await;
    let b = Browser::new();
    let callback = |q: &str| format!("{base}/auth/oidc/callback{q}");

    let (s, e, d) = json_error(b.get(&callback("")).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_request"));
    assert!(d.contains("no `state`"), "{d}");
    let (s, e, d) = json_error(b.get(&callback("?state=abc&code=xyz")).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_state"));
    assert!(d.contains("no login is waiting"), "{d}");
    let (s, e, _) = json_error(b.get(&callback("?state=a%3Bb&code=xyz")).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_state"));
    let (s, e, d) = json_error(
        b.get(&callback(
            "?error=access_denied&error_description=no%20thanks",
        ))
        .await,
    )
    .await;
    assert_eq!((s, e.as_str()), (400, "access_denied"));
    assert!(d.contains("no thanks"), "{d}");
    let (s, e, _) = json_error(b.get(&format!("{base}/auth/nope/login")).await).await;
    assert_eq!((s, e.as_str()), (404, "unknown_provider"));

    // The user cancels at the provider: its error and description are passed on, and
    // the transaction cookie is removed.
    let start = b.get(&format!("{base}/auth/oidc/login")).await;
    let back = b.cancel(&location(&start), &base).await;
    let response = b.get(&back).await;
    assert!(
        set_cookies(&response)
            .iter()
            .any(|c| c.starts_with("oauth2_tx_") && c.contains("Max-Age=0"))
    );
    let (s, e, d) = json_error(response).await;
    assert_eq!((s, e.as_str()), (400, "access_denied"), "{d}");
    assert!(d.contains("the user cancelled the login"), "{d}");

    // A tampered transaction cookie.
    let start = b.get(&format!("{base}/auth/oidc/login")).await;
    let tx = set_cookies(&start)[0].split(';').next().unwrap().to_owned();
    let state = query(&location(&start))["state"].clone();
    let callback_url = b.authorize(&location(&start), &base, "alice").await;
    let (name, value) = tx.split_once('=').unwrap();
    let mut forged = value.to_owned().into_bytes();
    let i = forged.len() - 5;
    forged[i] = if forged[i] == b'A' { b'B' } else { b'A' };
    let forged = format!("{name}={}", String::from_utf8(forged).unwrap());
    let (s, e, d) = json_error(get_with_cookie(&callback_url, &forged).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_state"), "{d}");
    assert!(d.contains("refused"), "{d}");

    // A callback without `code`, with the right transaction (and the provider's `iss`).
    let iss: String = url::form_urlencoded::byte_serialize(op.issuer.as_bytes()).collect();
    let (s, e, d) =
        json_error(get_with_cookie(&callback(&format!("?state={state}&iss={iss}")), &tx).await)
            .await;
    assert_eq!((s, e.as_str()), (400, "invalid_request"), "{d}");
    assert!(d.contains("no `code`"), "{d}");
    // RFC 9207 §2.4: a provider that announces `iss` in its responses (as oidc-provider
    // does) must send it; a response without it may come from elsewhere.
    let (s, e, d) =
        json_error(get_with_cookie(&callback(&format!("?state={state}")), &tx).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_state"), "{d}");
    assert!(d.contains("no `iss`"), "{d}");

    // RFC 9207: the provider's `iss` in the response must be its issuer.
    let q = query(&callback_url);
    assert_eq!(q.get("iss"), Some(&op.issuer), "oidc-provider sends iss");
    let mixed_up = callback_url.replace("iss=", "iss=https%3A%2F%2Fevil.example&x=");
    let (s, e, d) = json_error(get_with_cookie(&mixed_up, &tx).await).await;
    assert_eq!((s, e.as_str()), (400, "invalid_state"), "{d}");
    assert!(d.contains("iss"), "{d}");

    // The real callback works once; replayed with the transaction cookie put back, the
    // provider refuses the used code.
    let ok = get_with_cookie(&callback_url, &tx).await;
    assert_eq!(ok.status(), 303);
    let (s, e, d) = json_error(get_with_cookie(&callback_url, &tx).await).await;
    assert_eq!((s, e.as_str()), (400, "token_exchange_failed"), "{d}");
    assert!(d.contains("invalid_grant"), "{d}");

    // A tampered session cookie is no session.
    let session = set_cookies(&ok)
        .into_iter()
        .find(|c| c.starts_with("session="))
        .unwrap();
    let session = session.split(';').next().unwrap();
    assert_eq!(
        get_with_cookie(&format!("{base}/me"), session)
            .await
            .status(),
        200
    );
    let tampered = format!("{}x", session);
    let (s, e, _) = json_error(get_with_cookie(&format!("{base}/me"), &tampered).await).await;
    assert_eq!((s, e.as_str()), (401, "login_required"));
}

#[tokio::test]
async fn logins_in_two_tabs_do_not_disturb_each_other() {
    let (_op, base) = start(|b| b).await;
    let b = Browser::new();
    let tab1 = b
        .get(&format!("{base}/auth/oidc/login?return_to=/bye"))
        .await;
    let tab2 = b
        .get(&format!("{base}/auth/oidc/login?return_to=/me"))
        .await;
    // Tab 2 finishes first, then tab 1.
    let back2 = b.authorize(&location(&tab2), &base, "alice").await;
    let done2 = b.get(&back2).await;
    assert_eq!(location(&done2), format!("{base}/me"));
    let back1 = b.authorize(&location(&tab1), &base, "alice").await;
    let done1 = b.get(&back1).await;
    assert_eq!(done1.status(), 303, "{:?}", done1.text().await);
    assert_eq!(location(&done1), format!("{base}/bye"));
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 200);
}

#[tokio::test]
async fn return_to_never_leaves_the_site_or_its_allowed_origins() {
    let (_op, base) = start(|b| b.allowed_origin("https://admin.example")).await;
    let home = format!("{base}/");
    for (return_to, expected) in [
        ("%2Fme%3Ftab%3D2", format!("{base}/me?tab=2")),
        (
            "https%3A%2F%2Fadmin.example%2Fdash",
            "https://admin.example/dash".to_owned(),
        ),
        ("https%3A%2F%2Fevil.example%2F", home.clone()),
        ("%2F%2Fevil.example", home.clone()),
        ("%2F%5Cevil.example", home.clone()),
        ("javascript%3Aalert(1)", home.clone()),
        ("https%3A%2F%2Fadmin.example.evil.example%2F", home.clone()),
    ] {
        let b = Browser::new();
        let done = log_in(&b, &base, "oidc", "alice", return_to).await;
        assert_eq!(done.status(), 303);
        assert_eq!(location(&done), expected, "return_to={return_to}");
    }
    // Logout without a session goes straight to return_to, checked the same way.
    let b = Browser::new();
    let out = b
        .post_form(&format!(
            "{base}/auth/logout?return_to=https%3A%2F%2Fevil.example"
        ))
        .await;
    assert_eq!(location(&out), home);
    let out = b
        .client
        .post(format!("{base}/auth/logout?return_to=/bye"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&out), format!("{base}/bye"));
}

/// Logout is a form post from this site: a cross-site link or form cannot log users out
/// (`SameSite=Lax` cookies ride along with a cross-site top-level navigation).
#[tokio::test]
async fn logout_is_a_post_from_this_site_unless_get_is_allowed() {
    let (_op, base) = start(|b| b.allowed_origin("https://admin.example")).await;
    let b = Browser::new();
    assert_eq!(log_in(&b, &base, "oidc", "alice", "/").await.status(), 303);
    let logout = format!("{base}/auth/logout");
    let me = format!("{base}/me");
    assert_eq!(b.get(&logout).await.status(), 405, "GET is not a logout");
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        let out = b
            .client
            .post(&logout)
            .header(header, value)
            .send()
            .await
            .unwrap();
        assert_eq!(out.status(), 403, "{header}: {value}");
        let e = error_of(out).await;
        assert_eq!(e.error, "invalid_request");
        assert!(e.description.contains("another site"), "{}", e.description);
        assert_eq!(
            b.get(&me).await.status(),
            200,
            "still logged in after {value}"
        );
    }
    // An allowed origin may post it (a same-site admin app says `same-site`).
    let admin = b
        .client
        .post(&logout)
        .header("origin", "https://admin.example")
        .header("sec-fetch-site", "same-site")
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 303);
    assert_eq!(b.get(&me).await.status(), 401);

    assert_eq!(log_in(&b, &base, "oidc", "alice", "/").await.status(), 303);
    assert_eq!(b.post_form(&logout).await.status(), 303, "this site's form");
    assert_eq!(b.get(&me).await.status(), 401);

    let (_op, base) = start(|b| b.allow_get_logout()).await;
    let b = Browser::new();
    assert_eq!(log_in(&b, &base, "oidc", "alice", "/").await.status(), 303);
    assert_eq!(b.get(&format!("{base}/auth/logout")).await.status(), 303);
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);
}

#[tokio::test]
async fn on_login_provisions_users_or_refuses_them() {
    let (_op, base) = start(|b| {
        b.on_login(|event| async move {
            assert_eq!(event.user.provider(), "oidc");
            let user = event.user.subject().unwrap_or_default().to_owned();
            if user == "mallory" {
                return Err(LoginRejected::new("mallory is not welcome"));
            }
            let email = event
                .userinfo
                .as_ref()
                .and_then(|u| u.get("email"))
                .cloned();
            assert!(
                event.tokens.refresh_token.is_some(),
                "offline_access was granted"
            );
            Ok(json!({ "account": format!("acct-{user}"), "email": email }))
        })
    })
    .await;
    let b = Browser::new();
    let done = log_in(&b, &base, "oidc", "alice", "/app").await;
    assert_eq!(done.status(), 303);
    let app: Value = b.get(&format!("{base}/app")).await.json().await.unwrap();
    assert_eq!(
        app,
        json!({"account": "acct-alice", "email": "alice@example.com"})
    );
    let info: Value = b
        .get(&format!("{base}/auth/userinfo"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["app"]["account"], "acct-alice");

    let b = Browser::new();
    let refused = log_in(&b, &base, "oidc", "mallory", "/me").await;
    assert!(
        !set_cookies(&refused)
            .iter()
            .any(|c| c.starts_with("session="))
    );
    let (s, e, d) = json_error(refused).await;
    assert_eq!(
        (s, e.as_str(), d.as_str()),
        (403, "access_denied", "mallory is not welcome")
    );
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);
}

#[tokio::test]
async fn client_secret_post_and_public_clients_log_in() {
    let (listener, base) = bind().await;
    let op = OpenIdProvider::for_app(&base).await;
    // Two providers cannot share an issuer in one app, so `post` runs in its own.
    let post = login_with(
        &base,
        LoginProvider::builder("post")
            .issuer(&op.issuer)
            .client_id(POST_CLIENT.0)
            .client_secret(POST_CLIENT.1)
            .client_auth(ClientAuth::SecretPost),
    )
    .build()
    .unwrap();
    serve(listener, routes(&post));
    let b = Browser::new();
    assert_eq!(log_in(&b, &base, "post", "bob", "/me").await.status(), 303);
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(me["name"], "Bob Example");

    let (listener, public_base) = bind().await;
    let op = OpenIdProvider::for_app(&public_base).await;
    let public = login_with(
        &public_base,
        LoginProvider::builder("public")
            .issuer(&op.issuer)
            .client_id(PUBLIC_CLIENT),
    )
    .build()
    .unwrap();
    serve(listener, routes(&public));
    let b = Browser::new();
    assert_eq!(
        log_in(&b, &public_base, "public", "carol", "/me")
            .await
            .status(),
        303
    );
    let me: Value = b
        .get(&format!("{public_base}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["sub"], "carol");
    // Without refresh token (no offline_access asked), an expired access token cannot
    // be renewed; here it is still fresh.
    assert_eq!(b.get(&format!("{public_base}/token")).await.status(), 200);
}

#[tokio::test]
async fn two_instances_share_sessions_in_one_redis() {
    let Some(redis) = services::redis("two_instances_share_sessions_in_one_redis") else {
        return;
    };
    let (listener_a, a) = bind().await;
    let (listener_b, b_url) = bind().await;
    let op = OpenIdProvider::start(Options {
        apps: vec![a.clone(), b_url.clone()],
        ..Options::default()
    })
    .await;
    let prefix = format!("oauth2-shared:{}:", std::process::id());
    for (listener, base) in [(listener_a, &a), (listener_b, &b_url)] {
        let store = RedisStore::connect(redis)
            .await
            .unwrap()
            .with_prefix(&prefix);
        let login = builder(&op, base).session_store(store).build().unwrap();
        serve(listener, routes(&login));
    }
    let browser = Browser::new();
    assert_eq!(
        log_in(&browser, &a, "oidc", "dave", "/me").await.status(),
        303
    );
    let cookie = browser.cookies(&a);
    let me_on = |base: &str| format!("{base}/me");
    assert_eq!(get_with_cookie(&me_on(&a), &cookie).await.status(), 200);
    let from_b: Value = get_with_cookie(&me_on(&b_url), &cookie)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        from_b["sub"], "dave",
        "instance B reads the session A created"
    );

    // Logging out on B ends it for A too.
    let out = oauth2_tests::client()
        .post(format!("{b_url}/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(get_with_cookie(&me_on(&a), &cookie).await.status(), 401);
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session() {
    let (listener, base) = bind().await;
    let op = OpenIdProvider::start(Options {
        apps: vec![base.clone()],
        access_token_ttl: Some(30),
        ..Options::default()
    })
    .await;
    let first_refresh_token = Arc::new(std::sync::Mutex::new(None));
    let keep = Arc::clone(&first_refresh_token);
    let login = builder(&op, &base)
        .on_login(move |event| {
            *keep.lock().unwrap() = event.tokens.refresh_token.clone();
            async { Ok(()) }
        })
        .build()
        .unwrap();
    serve(listener, routes(&login));
    let b = Browser::new();
    assert_eq!(log_in(&b, &base, "oidc", "erin", "/me").await.status(), 303);
    // The app refreshes, which rotates the refresh token it got at login.
    assert_eq!(b.get(&format!("{base}/token")).await.status(), 200);
    // Someone replays that spent refresh token: the provider revokes the whole grant.
    let stolen = first_refresh_token.lock().unwrap().clone().unwrap();
    let replay = b
        .client
        .post(format!("{}/token", op.issuer))
        .basic_auth(WEB_CLIENT.0, Some(WEB_CLIENT.1))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", &stolen)])
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), 400);
    // The app's next refresh is refused: the session ends, its cookie is removed.
    let refused = b.get(&format!("{base}/token")).await;
    assert!(
        set_cookies(&refused)
            .iter()
            .any(|c| c.starts_with("session=;"))
    );
    let (s, e, d) = json_error(refused).await;
    assert_eq!((s, e.as_str()), (401, "refresh_failed"), "{d}");
    assert!(d.contains("invalid_grant"), "{d}");
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);
}

#[tokio::test]
async fn a_plain_oauth2_provider_logs_in_through_userinfo() {
    let (listener, base) = bind().await;
    let op = OpenIdProvider::for_app(&base).await;
    // Explicit endpoints, no issuer: no discovery, no ID token validation (GitHub's model);
    // the user is what the userinfo URL answers.
    let login = login_with(
        &base,
        LoginProvider::builder("other")
            .client_id(WEB_CLIENT.0)
            .client_secret(WEB_CLIENT.1)
            .scopes(["openid", "profile", "email"])
            .authorize_url(format!("{}/auth", op.issuer))
            .token_url(format!("{}/token", op.issuer))
            .userinfo_url(format!("{}/me", op.issuer)),
    )
    .build()
    .unwrap();
    serve(listener, routes(&login));
    let b = Browser::new();
    assert_eq!(
        log_in(&b, &base, "other", "frank", "/me").await.status(),
        303
    );
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(
        me,
        json!({"sub": "frank", "name": "Frank Example", "email": "frank@example.com"})
    );
    let info: Value = b
        .get(&format!("{base}/auth/userinfo"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        info["claims"].get("iss"),
        None,
        "claims come from userinfo only"
    );
}

#[tokio::test]
async fn the_apps_own_jwt_cookie_is_accepted_by_the_bearer_layer() {
    let (listener, base) = bind().await;
    let op = OpenIdProvider::for_app(&base).await;
    let app_token =
        AppToken::hs256(&base, "my-app", "the app token's secret, 32 bytes or more").unwrap();
    let auth = Authenticator::builder()
        .provider(app_token.provider("app"))
        .cookie(app_token.cookie())
        .build()
        .unwrap();
    let login = builder(&op, &base)
        .app_token(app_token.clone())
        .build()
        .unwrap();
    let api = Router::new()
        .route(
            "/api",
            get(|Claims(c): Claims<Value>| async move { Json(c) }),
        )
        .layer(auth.layer());
    serve(listener, routes(&login).merge(api));

    let b = Browser::new();
    let done = log_in(&b, &base, "oidc", "alice", "/api").await;
    let cookie = set_cookies(&done)
        .into_iter()
        .find(|c| c.starts_with("Authorization="))
        .expect("the app token cookie");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=3600"] {
        assert!(cookie.contains(attr), "{attr}: {cookie}");
    }
    let token = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("Authorization=");
    let claims: Value = app_token.decode(token).unwrap();
    assert_eq!(claims["iss"], base.as_str());
    assert_eq!(claims["aud"], "my-app");
    assert_eq!(
        claims.get("nonce"),
        None,
        "the provider's token claims stay out"
    );

    let api: Value = b.get(&format!("{base}/api")).await.json().await.unwrap();
    assert_eq!(api["sub"], "alice");
    assert_eq!(api["name"], "Alice Example");
    // Another app's key does not verify it.
    let other = AppToken::hs256(&base, "my-app", "another secret, also 32 bytes or more").unwrap();
    assert!(other.decode::<Value>(token).is_err());

    // Logout removes it too.
    let out = b.post_form(&format!("{base}/auth/logout")).await;
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("Authorization=;"))
    );
    assert_eq!(b.get(&format!("{base}/api")).await.status(), 400);
}

#[tokio::test]
async fn a_userinfo_endpoint_that_refuses_an_api_token_does_not_fail_the_login() {
    let (auto_listener, auto_base) = bind().await;
    let (required_listener, required_base) = bind().await;
    let op = OpenIdProvider::start(Options {
        apps: vec![auto_base.clone(), required_base.clone()],
        ..Options::default()
    })
    .await;
    // Resource indicators (RFC 8707): the access token is a JWT for an API, and the
    // provider's userinfo endpoint refuses it with 401 (as Entra ID does with API scopes
    // and Auth0 with an `audience`). The ID token alone then makes the user.
    let api = || {
        provider(&op, "oidc")
            .scopes(["openid", "profile", "email", "read"])
            .authorize_param("resource", "urn:example:api:rs256")
    };
    let auto = login_with(&auto_base, api()).build().unwrap();
    serve(auto_listener, routes(&auto));
    let b = Browser::new();
    let done = log_in(&b, &auto_base, "oidc", "grace", "/token").await;
    assert_eq!(done.status(), 303, "{:?}", done.text().await);
    // oidc-provider puts the profile claims into the ID token when the access token
    // cannot be used at userinfo, so the user is complete without userinfo.
    let me: Value = b
        .get(&format!("{auto_base}/me"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me,
        json!({"sub": "grace", "name": "Grace Example", "email": "grace@example.com"})
    );
    let access_token = b
        .get(&format!("{auto_base}/token"))
        .await
        .text()
        .await
        .unwrap();
    let payload = access_token.split('.').nth(1).expect("a JWT access token");
    let payload: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(payload["aud"], "urn:example:api:rs256");

    // `userinfo: required` keeps the old strictness: the refusal fails the login.
    let required = login_with(&required_base, api().userinfo(Userinfo::Required))
        .build()
        .unwrap();
    serve(required_listener, routes(&required));
    let b = Browser::new();
    let (status, error, description) =
        json_error(log_in(&b, &required_base, "oidc", "grace", "/me").await).await;
    assert_eq!(
        (status, error.as_str()),
        (400, "userinfo_failed"),
        "{description}"
    );
    assert!(description.contains("401"), "{description}");
    assert_eq!(b.get(&format!("{required_base}/me")).await.status(), 401);
}
