//! The app's token endpoint and device authorization in front of the real oidc-provider:
//! the device flow (approve and deny, with the user side on the provider's pages), the
//! refresh grant (good, replayed), and every bad input as a 400 JSON error with
//! `Cache-Control: no-store`.

use axum::Router;
use oauth2::login::{Login, LoginProvider};
use oauth2_tests::browser::Browser;
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use serde_json::Value;
use tokio::net::TcpListener;

const SECRET: &str = "the token endpoint test's secret, 32+ bytes";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// An app whose `oidc` provider serves the device flow and `plain` serves nothing extra.
async fn start() -> (OpenIdProvider, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = OpenIdProvider::for_app(&base).await;
    let provider = |name: &str| {
        LoginProvider::builder(name)
            .issuer(&op.issuer)
            .client_id(WEB_CLIENT.0)
            .client_secret(WEB_CLIENT.1)
            .scopes(["openid", "profile", "email", "offline_access"])
    };
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(provider("oidc").device_flow())
        .build()
        .unwrap();
    let app: Router = login.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (op, base)
}

/// POSTs `form` to the app; returns status, `Cache-Control` and the JSON body.
async fn post(url: &str, form: &[(&str, &str)]) -> (u16, String, Value) {
    let response = oauth2_tests::client()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.json().await.unwrap())
}

fn claims_of(jwt: &str) -> Value {
    oauth2_tests::jwt_claims(jwt)
}

#[tokio::test]
async fn a_device_logs_in_through_the_apps_endpoints_and_refreshes() {
    let (op, base) = start().await;
    let device = format!("{base}/auth/oidc/device");
    let token = format!("{base}/auth/oidc/token");

    let (status, cache, started) = post(&device, &[]).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{started}");
    for field in [
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
    ] {
        assert!(started[field].is_string(), "{field}: {started}");
    }
    assert!(started["expires_in"].as_u64().unwrap() > 0);
    assert!(started["interval"].as_u64().unwrap() >= 1);
    assert!(
        started["verification_uri"]
            .as_str()
            .unwrap()
            .starts_with(&op.issuer)
    );
    let device_code = started["device_code"].as_str().unwrap();

    // Until the user approves: authorization_pending (or slow_down when polled fast).
    let (status, cache, pending) = post(
        &token,
        &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
    )
    .await;
    assert_eq!((status, cache.as_str()), (400, "no-store"));
    let code = pending["error"].as_str().unwrap();
    assert!(
        code == "authorization_pending" || code == "slow_down",
        "{pending}"
    );

    let page = Browser::new()
        .approve_device(
            started["verification_uri_complete"].as_str().unwrap(),
            Some("dora"),
        )
        .await;
    assert!(page.contains("Sign-in Success"), "{page}");
    // The provider may ask the client to slow down; a second poll is allowed after it.
    let mut granted = post(
        &token,
        &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
    )
    .await;
    if granted.2["error"] == "slow_down" {
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
        granted = post(
            &token,
            &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
        )
        .await;
    }
    let (status, cache, tokens) = granted;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["access_token"].is_string());
    assert!(tokens["expires_in"].as_u64().unwrap() > 0);
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(
        (id["sub"].as_str(), id["aud"].as_str()),
        (Some("dora"), Some(WEB_CLIENT.0))
    );

    // Refresh: fresh tokens; the spent refresh token is refused.
    let refresh_token = tokens["refresh_token"]
        .as_str()
        .expect("offline_access was granted");
    let (status, cache, fresh) = post(
        &token,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{fresh}");
    assert_ne!(fresh["access_token"], tokens["access_token"]);
    let (status, _, replayed) = post(
        &token,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ],
    )
    .await;
    assert_eq!(
        (status, replayed["error"].as_str()),
        (400, Some("invalid_grant")),
        "{replayed}"
    );
    // The device code is spent (the provider then revokes its grant, so this comes
    // last).
    let (status, _, spent) = post(
        &token,
        &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(spent["error"], "invalid_grant", "{spent}");
}

#[tokio::test]
async fn a_user_who_denies_the_device_gets_access_denied() {
    let (_op, base) = start().await;
    let (_, _, started) = post(&format!("{base}/auth/oidc/device"), &[]).await;
    Browser::new()
        .approve_device(started["verification_uri_complete"].as_str().unwrap(), None)
        .await;
    let device_code = started["device_code"].as_str().unwrap();
    let (status, cache, denied) = post(
        &format!("{base}/auth/oidc/token"),
        &[("grant_type", DEVICE_CODE), ("device_code", device_code)],
    )
    .await;
    assert_eq!((status, cache.as_str()), (400, "no-store"));
    assert_eq!(denied["error"], "access_denied", "{denied}");
}

#[tokio::test]
async fn bad_token_requests_are_400s_with_json_errors() {
    let (_op, base) = start().await;
    let token = format!("{base}/auth/oidc/token");
    for (form, error) in [
        (vec![], "invalid_request"),
        (vec![("grant_type", "refresh_token")], "invalid_request"),
        (vec![("grant_type", DEVICE_CODE)], "invalid_request"),
        (
            vec![("grant_type", "password"), ("username", "u")],
            "unsupported_grant_type",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("refresh_token", "made-up"),
            ],
            "invalid_grant",
        ),
        (
            vec![("grant_type", DEVICE_CODE), ("device_code", "made-up")],
            "invalid_grant",
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("grant_type", "refresh_token"),
            ],
            "invalid_request",
        ),
    ] {
        let (status, cache, body) = post(&token, &form).await;
        assert_eq!(
            (status, cache.as_str()),
            (400, "no-store"),
            "{form:?}: {body}"
        );
        assert_eq!(body["error"], error, "{form:?}: {body}");
        assert!(body["error_description"].is_string(), "{form:?}: {body}");
    }
    let json = oauth2_tests::client()
        .post(&token)
        .json(&serde_json::json!({"grant_type": "refresh_token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);
    let body: Value = json.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    let unknown = oauth2_tests::client()
        .post(format!("{base}/auth/nobody/token"))
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// A CLI that logs in through the app with its loopback listener and its own secrets.
struct Cli<'a> {
    app: &'a str,
    listener: &'a str,
    redirect_uri: &'a str,
    tx: &'a oauth2::login::Transaction,
}

impl Cli<'_> {
    /// The browser logs in as `user` at the provider `issuer` from the app's login route
    /// with the CLI's parameters; the code that lands at the CLI's listener.
    async fn log_in(&self, browser: &Browser, issuer: &str, user: &str) -> String {
        let start = browser
            .client
            .get(format!("{}/auth/oidc/login", self.app))
            .query(&[
                ("redirect_uri", self.redirect_uri),
                ("code_challenge", &self.tx.challenge()),
                ("code_challenge_method", "S256"),
                ("state", &self.tx.state),
                ("nonce", &self.tx.nonce),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 303);
        assert!(
            start.headers().get("set-cookie").is_none(),
            "the CLI keeps its own state"
        );
        let to_provider = oauth2_tests::browser::location(&start);
        assert!(to_provider.starts_with(issuer), "{to_provider}");
        let landed = browser.authorize(&to_provider, self.listener, user).await;
        let query: std::collections::HashMap<_, _> = url::Url::parse(&landed)
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert_eq!(query["state"], self.tx.state, "the CLI's state comes back");
        query["code"].clone()
    }
}

/// A CLI's login with its loopback redirect (RFC 8252): it starts at the app's login
/// route with its own PKCE challenge, `state` and `nonce`, the browser signs in at the
/// provider, the code lands at the CLI's loopback URL, and the CLI redeems it at the
/// app's token endpoint, which adds the app's client authentication.
#[tokio::test]
async fn a_cli_logs_in_with_a_loopback_redirect_and_its_own_pkce() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let cli = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let cli_base = format!("http://{}", cli.local_addr().unwrap());
    let redirect_uri = format!("{cli_base}/callback");
    let op = OpenIdProvider::start(oauth2_tests::op::Options {
        apps: vec![base.clone()],
        extra_redirect_uris: vec![redirect_uri.clone()],
        ..Default::default()
    })
    .await;
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(
            LoginProvider::builder("oidc")
                .issuer(&op.issuer)
                .client_id(WEB_CLIENT.0)
                .client_secret(WEB_CLIENT.1)
                .token_endpoint(),
        )
        .build()
        .unwrap();
    let app: Router = login.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    // The CLI's secrets; the app never sees the verifier before the code.
    let tx = oauth2::login::Transaction::new("oidc", None).unwrap();
    let browser = Browser::new();
    let cli = Cli {
        app: &base,
        listener: &cli_base,
        redirect_uri: &redirect_uri,
        tx: &tx,
    };
    let code = cli.log_in(&browser, &op.issuer, "erin").await;
    let token = format!("{base}/auth/oidc/token");

    // A wrong verifier: the provider refuses, its code passed on.
    let (status, cache, refused) = post(
        &token,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            (
                "code_verifier",
                "a-verifier-that-is-not-the-one-behind-the-challenge",
            ),
        ],
    )
    .await;
    assert_eq!((status, cache.as_str()), (400, "no-store"));
    assert_eq!(refused["error"], "invalid_grant", "{refused}");

    // The code was spent by that attempt (RFC 6749 §4.1.2): log in again, redeem right.
    let code = cli.log_in(&browser, &op.issuer, "erin").await;
    let (status, cache, tokens) = post(
        &token,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &tx.verifier),
        ],
    )
    .await;
    assert_eq!((status, cache.as_str()), (200, "no-store"), "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["access_token"].is_string());
    let id = claims_of(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["sub"], "erin");
    assert_eq!(id["nonce"], tx.nonce.as_str(), "the CLI's nonce");
    assert_eq!(id["aud"], WEB_CLIENT.0);
}

#[tokio::test]
async fn a_cli_login_needs_a_loopback_redirect_and_s256() {
    let (_op, base) = start().await;
    let login = format!("{base}/auth/oidc/login");
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let client = oauth2_tests::client();
    for (query, says) in [
        (
            vec![
                ("redirect_uri", "https://evil.example/cb"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("state", "s"),
            ],
            "redirect_uri",
        ),
        (
            vec![
                ("redirect_uri", "http://localhost:8080/cb"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
                ("state", "s"),
            ],
            "redirect_uri",
        ),
        (
            vec![
                ("redirect_uri", "http://127.0.0.1:8080/cb"),
                ("code_challenge", challenge),
                ("code_challenge_method", "plain"),
                ("state", "s"),
            ],
            "S256",
        ),
        (
            vec![
                ("redirect_uri", "http://127.0.0.1:8080/cb"),
                ("code_challenge_method", "S256"),
                ("state", "s"),
            ],
            "code_challenge",
        ),
        (
            vec![
                ("redirect_uri", "http://127.0.0.1:8080/cb"),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256"),
            ],
            "state",
        ),
    ] {
        let response = client.get(&login).query(&query).send().await.unwrap();
        assert_eq!(response.status(), 400, "{query:?}");
        assert!(response.headers().get("location").is_none());
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
        assert!(
            body["error_description"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    // The code grant refuses a redirect URI the login route would refuse.
    let (status, _, body) = post(
        &format!("{base}/auth/oidc/token"),
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "https://evil.example/cb"),
            ("code_verifier", "v"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request", "{body}");
    for missing in ["code", "redirect_uri", "code_verifier"] {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", "v"),
        ];
        form.retain(|(k, _)| *k != missing);
        let (status, _, body) = post(&format!("{base}/auth/oidc/token"), &form).await;
        assert_eq!(status, 400, "{missing}");
        assert!(
            body["error_description"]
                .as_str()
                .unwrap()
                .contains(missing),
            "{body}"
        );
    }
}
