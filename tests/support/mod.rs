//! Shared helpers for the integration tests: a real axum app on 127.0.0.1 in front of a
//! dev issuer, and an HTTP client.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::{Authenticated, AuthenticatorBuilder, Claims, RequireScopes};
use serde::Deserialize;

pub mod browser;
mod cluster;
pub mod dpop;
pub mod glewlwyd;
pub mod mcp;
pub mod op;
pub mod outage;
pub mod services;

/// Serves `app` on a free port of 127.0.0.1; returns its base URL.
pub async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    format!("http://{addr}")
}

/// A client that does not follow redirects and times out fast.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client")
}

/// GET `url` and its JSON body.
pub async fn get_json(url: &str) -> serde_json::Value {
    let response = client().get(url).send().await.expect("GET");
    response.json().await.expect("a JSON body")
}

/// GET `{base}{path}` with `Authorization: Bearer <token>`.
pub async fn get_with_token(base: &str, path: &str, token: &str) -> reqwest::Response {
    client()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
}

/// Claims the test handlers deserialize.
#[derive(Debug, Deserialize)]
pub struct User {
    /// `sub`.
    pub sub: String,
    /// `email`, optional.
    pub email: Option<String>,
}

/// The routes most tests use: `/` public, `/me` typed claims, `/raw` raw claims,
/// `/maybe` optional claims (public), `/admin` needing scope `admin`.
pub fn routes() -> Router {
    Router::new()
        .route("/", get(|| async { "public" }))
        .route(
            "/me",
            get(|Claims(user): Claims<User>| async move { user.sub }),
        )
        .route(
            "/raw",
            get(|auth: Authenticated| async move {
                Json(serde_json::json!({"provider": auth.provider(), "claims": auth.claims()}))
            }),
        )
        .route(
            "/public/maybe",
            get(|user: Option<Claims<User>>| async move {
                user.map_or_else(|| "anonymous".to_owned(), |Claims(u)| u.sub)
            }),
        )
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopes::new(["admin"])),
        )
}

/// A dev issuer and an app protected by it, both running.
pub struct TestApp {
    /// The identity provider.
    pub idp: DevIssuer,
    /// The app's base URL.
    pub url: String,
    /// The app's authenticator.
    pub auth: oauth2::Authenticator,
}

impl TestApp {
    /// Starts an issuer and the standard routes, with keys loaded.
    pub async fn start() -> Self {
        Self::start_with(|b| b).await
    }

    /// Like [`start`](Self::start), with changes to the authenticator's configuration.
    pub async fn start_with(
        configure: impl FnOnce(AuthenticatorBuilder) -> AuthenticatorBuilder,
    ) -> Self {
        let idp = DevIssuer::start().await.expect("dev issuer");
        let builder = oauth2::Authenticator::builder()
            .provider(idp.provider("dev"))
            .public_path("/")
            .public_prefix("/public");
        let auth = configure(builder).build().expect("authenticator");
        tokio::time::timeout(Duration::from_secs(10), auth.ready())
            .await
            .expect("keys load");
        let url = serve(routes().layer(auth.layer())).await;
        Self { idp, url, auth }
    }

    /// GET `path` with `Authorization: Bearer <token>`.
    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        get_with_token(&self.url, path, token).await
    }
}

/// The parts of an error response a client checks.
#[derive(Debug)]
pub struct ErrorResponse {
    /// The status code.
    pub status: u16,
    /// `WWW-Authenticate`, if any.
    pub challenge: Option<String>,
    /// The `error` of the JSON body.
    pub error: String,
    /// The `error_description` of the JSON body.
    pub description: String,
}

/// The `resource_metadata="..."` parameter of a challenge (RFC 9728 §5.1).
pub fn resource_metadata(challenge: &str) -> Option<String> {
    let (_, rest) = challenge.split_once("resource_metadata=\"")?;
    rest.split_once('"').map(|(url, _)| url.to_owned())
}

/// Reads an error response.
pub async fn error_of(response: reqwest::Response) -> ErrorResponse {
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let body: serde_json::Value = response.json().await.expect("JSON error body");
    ErrorResponse {
        status,
        challenge,
        error: body["error"].as_str().expect("error").to_owned(),
        description: body["error_description"]
            .as_str()
            .expect("description")
            .to_owned(),
    }
}

/// The example binary, built by `cargo test --workspace`; built here if it is missing
/// (e.g. under `cargo test -p oauth2-tests`).
pub fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    let path = dir.join("examples").join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args(["build", "--workspace", "--examples"])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the examples failed");
    }
    path
}

/// The example `name` as a process: the variables in `cleared` removed from its
/// environment (so the developer's own settings do not leak in), then `env` set; quiet
/// logs, stderr piped, killed when dropped.
pub fn example_process(
    name: &str,
    cleared: &[&str],
    env: &[(&str, &str)],
) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(example(name));
    for var in cleared {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// A free address on 127.0.0.1.
pub fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

/// Waits until `url/` answers 200; fails if the child exits first.
pub async fn wait_until_up(child: &mut tokio::process::Child, url: &str) {
    wait_until_answers(child, &format!("{url}/"), Duration::from_secs(30)).await;
}

/// Waits until `url` answers 200, at most `bound`; fails if the child exits first.
pub async fn wait_until_answers(child: &mut tokio::process::Child, url: &str, bound: Duration) {
    let started = std::time::Instant::now();
    while started.elapsed() < bound {
        if let Ok(res) = client().get(url).send().await {
            assert_eq!(res.status(), 200, "{url}");
            return;
        }
        if let Some(status) = child.try_wait().expect("child status") {
            panic!("the example exited early: {status}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the example did not come up at {url}");
}

/// Nanoseconds since the epoch: part of names that must differ between test runs
/// sharing Redis or PostgreSQL.
pub fn nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

/// A login whose only provider is a placeholder OpenID Provider and whose `broker` is
/// configured by `broker`, with its keys in `store`: what the broker tests need.
pub fn broker_login(
    base: &str,
    store: &std::sync::Arc<dyn oauth2::session::SessionStore>,
    secret: &str,
    broker: oauth2::issuer::BrokerBuilder,
) -> oauth2::login::Login {
    oauth2::login::Login::builder()
        .base_url(base)
        .session_secret(secret)
        .session_store(std::sync::Arc::clone(store))
        .provider(
            oauth2::login::LoginProvider::builder("oidc")
                .issuer("https://login.example")
                .client_id("app"),
        )
        .broker(broker)
        .build()
        .expect("the broker's login")
}

/// The claims of `browser`'s session at the app at `base` (its `/me` of
/// [`session_routes`]).
pub async fn session_claims(browser: &browser::Browser, base: &str) -> serde_json::Value {
    let me = browser.get(&format!("{base}/me")).await;
    assert_eq!(me.status(), 200, "a session");
    me.json().await.unwrap()
}

/// The claims of a JWT, read without verifying it (what a test checks of a token it got).
pub fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).expect("a JWT has three parts");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("base64url"),
    )
    .expect("JSON claims")
}

/// The access token of `browser`'s session at the app at `base` (its `/token` of
/// [`session_routes`], refreshed when it expires within a minute).
pub async fn session_token(browser: &browser::Browser, base: &str) -> String {
    let token = browser.get(&format!("{base}/token")).await;
    assert_eq!(token.status(), 200, "a session");
    token.text().await.unwrap()
}

/// Routes that show a login session: `/me` (its claims as JSON), `/token` (its access
/// token, refreshed when it expires within a minute), `/token-for?resource=...` (its
/// token for another API, or the error's status) and `/id-token`; merge the login's
/// router and add its layer.
pub fn session_routes() -> Router {
    use oauth2::login::LoginSession;
    Router::new()
        .route(
            "/me",
            get(|s: LoginSession| async move { Json(s.claims().clone()) }),
        )
        .route(
            "/token",
            get(|s: LoginSession| async move { s.access_token().await.unwrap_or_default() }),
        )
        .route(
            "/token-for",
            get(
                |s: LoginSession,
                 axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| async move {
                    let resource = q.get("resource").cloned().unwrap_or_default();
                    s.access_token_for(&resource)
                        .await
                        .map_err(axum::response::IntoResponse::into_response)
                },
            ),
        )
        .route(
            "/id-token",
            get(|s: LoginSession| async move { s.id_token().unwrap_or_default().to_owned() }),
        )
}
