//! The macro DSL with browser login: one `providers!` block declares a provider that
//! both logs users in (`client_id`) and accepts bearer tokens (`audience`);
//! `#[protect(session, ...)]` guards routes with the login session. Served over HTTP
//! against the real oidc-provider on 127.0.0.1.

use std::sync::OnceLock;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::login::{LoginRejected, Session};
use oauth2::{Authenticated, FromClaims, protect, providers};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use serde_json::{Value, json};

/// The provider's and the app's URLs, known only once they run; `providers!` values
/// are expressions evaluated by `Providers::load()`.
static URLS: OnceLock<(String, String)> = OnceLock::new();

fn op() -> String {
    URLS.get().expect("set before load").0.clone()
}

fn app() -> String {
    URLS.get().expect("set before load").1.clone()
}

const SECRET: &str = "the DSL test's session secret, 32 bytes or more";

providers! {
    base_url: app(),
    session_secret: SECRET,
    login_prefix: "/login",
    allowed_origins: ["https://admin.example"],
    on_login: |event: oauth2::login::LoginEvent| async move {
        match event.user.subject() {
            Some("mallory") => Err(LoginRejected::new("not you")),
            _ => Ok(json!({"seen": true})),
        }
    },
    oidc {
        issuer: op(),
        audience: "urn:example:api:rs256",
        client_id: "interop-web",
        client_secret: WEB_CLIENT.1,
        scopes: ["openid", "profile", "email"],
        prompt: "consent",
        authorize_params: [("ui_locales", "de fr")],
        // The test reads the authorization request in the browser's URL; `par.rs`
        // tests the pushed one.
        pushed_authorization: never,
    }
}

#[derive(FromClaims, serde::Serialize)]
struct User {
    sub: String,
    name: String,
}

async fn me(Session(user): Session<User>) -> Json<User> {
    Json(user)
}

#[protect(session, provider = "oidc", claims = User, scopes = ["email"])]
async fn profile(user: User) -> String {
    user.name
}

#[protect(session, provider = "oidc", claims = User, scopes = ["admin"])]
async fn admin(user: User) -> String {
    user.name
}

#[protect(session, provider = "oidc", claims = User, require = user.sub == "bob")]
async fn bobs(user: User) -> String {
    user.name
}

#[protect(session, provider = "oidc", claims = User, optional)]
async fn greeting(user: Option<User>) -> String {
    user.map_or("hello stranger".into(), |u| format!("hello {}", u.name))
}

#[protect(provider = "oidc", claims = Authenticated)]
async fn api(auth: Authenticated) -> String {
    auth.claims()["client_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn one_provider_logs_users_in_and_accepts_bearer_tokens() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = OpenIdProvider::for_app(&base).await;
    URLS.set((provider.issuer.clone(), base.clone())).unwrap();

    let providers = Providers::load().unwrap();
    assert_eq!(Providers::NAMES, ["oidc"]);
    let routes = Router::new()
        .route("/me", get(me))
        .route("/api", get(api))
        .route("/profile", get(profile))
        .route("/admin", get(admin))
        .route("/bobs", get(bobs))
        .route("/greeting", get(greeting))
        .merge(providers.router())
        .layer(providers.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    providers.ready().await;

    // Browser login through the generated routes under `login_prefix`.
    let b = Browser::new();
    assert_eq!(b.get(&format!("{base}/profile")).await.status(), 401);
    let nav = b.navigate(&format!("{base}/profile")).await;
    assert_eq!(
        location(&nav),
        format!("{base}/login/oidc/login?return_to=%2Fprofile")
    );
    let hello = b
        .get(&format!("{base}/greeting"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(hello, "hello stranger");
    let start = b
        .get(&format!("{base}/login/oidc/login?return_to=/me"))
        .await;
    assert_eq!(start.status(), 303);
    assert!(location(&start).contains("prompt=consent"));
    assert!(location(&start).contains("ui_locales=de+fr"));
    let callback = b.authorize(&location(&start), &base, "alice").await;
    assert!(
        callback.starts_with(&format!("{base}/login/oidc/callback")),
        "{callback}"
    );
    let done = b.get(&callback).await;
    assert_eq!(location(&done), format!("{base}/me"));
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(me, json!({"sub": "alice", "name": "Alice Example"}));
    let info: Value = b
        .get(&format!("{base}/login/userinfo"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(info["app"], json!({"seen": true}));

    // `on_login` from the DSL refuses a user.
    let b2 = Browser::new();
    let start = b2.get(&format!("{base}/login/oidc/login")).await;
    let callback = b2.authorize(&location(&start), &base, "mallory").await;
    assert_eq!(b2.get(&callback).await.status(), 403);

    // The same provider's access tokens on the bearer route.
    let token: Value = b
        .client
        .post(format!("{}/token", provider.issuer))
        .basic_auth(
            "interop-service",
            Some("interop-secret-interop-secret-interop-secret"),
        )
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let api =
        oauth2_tests::get_with_token(&base, "/api", token["access_token"].as_str().unwrap()).await;
    assert_eq!(api.status(), 200);
    assert_eq!(api.text().await.unwrap(), "interop-service");
    assert_eq!(
        b.get(&format!("{base}/api")).await.status(),
        400,
        "a session is not a bearer token"
    );
}
