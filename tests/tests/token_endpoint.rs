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
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
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
