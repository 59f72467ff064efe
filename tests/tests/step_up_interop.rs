//! Step-up authentication (RFC 9470) against a certified provider (npm `oidc-provider`,
//! its `acrValues` setting): a password login gives acr `urn:example:loa:1`, one with a
//! one-time code `urn:example:loa:2`, in the ID token and (through `extraTokenClaims`)
//! in the JWT access tokens. A route that asks for `loa:2` refuses the weak login's
//! access token with the challenge, sends the weak session's browser to a new login
//! that the provider must perform again (`prompt=login`), refuses a login that came
//! back weak, and lets the strong one through.

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use oauth2::login::{LoginSession, SessionRejection};
use oauth2::{FromClaims, protect, providers};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use serde_json::Value;
use tokio::net::TcpListener;

const LOA2: &str = "urn:example:loa:2";
const SESSION_SECRET: &str = "the step-up interop test's secret, 32+ bytes";

/// The provider's and the app's URLs, known once they run.
static ISSUER: OnceLock<String> = OnceLock::new();
static BASE: OnceLock<String> = OnceLock::new();

fn issuer() -> String {
    ISSUER.get().expect("set before load").clone()
}

fn base() -> String {
    BASE.get().expect("set before load").clone()
}

providers! {
    base_url: base(),
    session_secret: SESSION_SECRET,
    // The web client of the interop provider, logging in for an API (resource
    // indicators), whose JWT access tokens the same app accepts as bearer tokens.
    oidc {
        issuer: issuer(),
        audience: "urn:example:api:rs256",
        client_id: WEB_CLIENT.0,
        client_secret: WEB_CLIENT.1,
        scopes: ["openid", "profile", "read"],
        authorize_params: [("resource", "urn:example:api:rs256")],
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    acr: Option<String>,
}

#[protect(provider = "oidc", claims = User, acr = ["urn:example:loa:2"])]
async fn payout(user: User) -> String {
    format!("payout by {}", user.sub)
}

#[protect(provider = "oidc", max_age = 1h)]
async fn recent() -> &'static str {
    "recent enough"
}

#[protect(session, provider = "oidc", claims = User, acr = ["urn:example:loa:2"])]
async fn payout_page(user: User) -> String {
    format!(
        "payout page of {} ({})",
        user.sub,
        user.acr.unwrap_or_default()
    )
}

#[protect(session, provider = "oidc", claims = User)]
async fn me(user: User) -> String {
    format!("{} ({})", user.sub, user.acr.unwrap_or_default())
}

async fn token(session: LoginSession) -> Result<String, SessionRejection> {
    session.access_token().await
}

/// Follows the app's redirect to the provider and back, signing in (with a one-time
/// code when `otp`); returns the callback's response.
async fn through_provider(b: &Browser, app: &str, url: &str, otp: bool) -> reqwest::Response {
    let to_provider = b.navigate(url).await;
    assert_eq!(to_provider.status(), 303, "{url}");
    let to_provider = location(&to_provider);
    let callback = if otp {
        b.authorize_with_otp(&to_provider, app, "alice").await
    } else {
        b.authorize(&to_provider, app, "alice").await
    };
    b.get(&callback).await
}

async fn text(b: &Browser, url: &str) -> (u16, String) {
    let response = b.navigate(url).await;
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_weak_login_steps_up_at_a_certified_provider() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_url = format!("http://{}", listener.local_addr().unwrap());
    let op = OpenIdProvider::for_app(&app_url).await;
    ISSUER.set(op.issuer.clone()).unwrap();
    BASE.set(app_url.clone()).unwrap();
    let providers = Providers::load().unwrap();
    let app = Router::new()
        .route("/api/payout", get(payout))
        .route("/api/recent", get(recent))
        .route("/payout-page", get(payout_page))
        .route("/me", get(me))
        .route("/token", get(token))
        .merge(providers.router())
        .layer(providers.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    providers.ready().await;

    // A password login. The ID token has no `acr`: the login did not ask for one.
    let b = Browser::new();
    let login = format!("{app_url}/auth/oidc/login?return_to=/me");
    let done = through_provider(&b, &app_url, &login, false).await;
    assert_eq!(done.status(), 303);
    assert_eq!(
        text(&b, &format!("{app_url}/me")).await,
        (200, "alice ()".to_owned())
    );

    // Its access token: accepted where the login's age matters, refused where the
    // route asks for loa:2, with what would pass.
    let weak_token = text(&b, &format!("{app_url}/token")).await.1;
    let api = |path: &str, token: &str| {
        oauth2_tests::client()
            .get(format!("{app_url}{path}"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(api("/api/recent", &weak_token).await.unwrap().status(), 200);
    let refused = api("/api/payout", &weak_token).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_user_authentication""#)
            && challenge.contains(r#"acr_values="urn:example:loa:2""#)
            && challenge.contains("urn:example:loa:1"),
        "{challenge}"
    );

    // The session route sends the browser to log in again, more strongly.
    let page = b.navigate(&format!("{app_url}/payout-page")).await;
    assert_eq!(page.status(), 303);
    let step_up = location(&page);
    assert_eq!(
        step_up,
        format!(
            "{app_url}/auth/oidc/login?return_to=%2Fpayout-page&acr_values=urn%3Aexample%3Aloa%3A2&prompt=login"
        )
    );

    // The provider asks for the password again (prompt=login, despite its session);
    // a login without the code comes back as loa:1 and is refused, the session stays.
    let weak = through_provider(&b, &app_url, &step_up, false).await;
    assert_eq!(weak.status(), 401);
    let body: Value = weak.json().await.unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("`urn:example:loa:1`"),
        "{body}"
    );
    assert_eq!(text(&b, &format!("{app_url}/me")).await.0, 200);

    // With the code: loa:2, and the route that asked for it answers.
    let strong = through_provider(&b, &app_url, &step_up, true).await;
    assert_eq!(strong.status(), 303);
    assert_eq!(location(&strong), format!("{app_url}/payout-page"));
    assert_eq!(
        text(&b, &format!("{app_url}/payout-page")).await,
        (200, format!("payout page of alice ({LOA2})"))
    );
    let strong_token = text(&b, &format!("{app_url}/token")).await.1;
    let paid = api("/api/payout", &strong_token).await.unwrap();
    assert_eq!(paid.status(), 200);
    assert_eq!(paid.text().await.unwrap(), "payout by alice");
}
