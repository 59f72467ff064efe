//! Step-up authentication (RFC 9470) with `#[protect(acr = [...], max_age = ...)]`: bearer
//! routes answer 401 `insufficient_user_authentication` with what would pass; session
//! routes send the browser to a new login that asks for it, and the callback refuses a
//! login that did not give it. Here against the dev issuer (which grants the first
//! `acr_values` asked for); `step_up_interop.rs` runs the same against oidc-provider.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, header};
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, protect, providers};
use serde_json::{Value, json};
use tower::ServiceExt;

const SESSION_SECRET: &str = "the step-up test's session secret, 32+ bytes";
const MFA: &str = "urn:example:mfa";

providers! {
    base_url: "https://app.corp.example",
    session_secret: SESSION_SECRET,
    corp {
        issuer: "https://login.corp.example",
        audience: "api://corp",
        client_id: "corp-web",
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
}

#[protect(provider = "corp", claims = User, acr = ["urn:example:mfa", "urn:example:hwk"])]
async fn payout(user: User) -> String {
    user.sub
}

#[protect(provider = "corp", max_age = 5m, scopes = ["admin"])]
async fn settings() -> &'static str {
    "settings"
}

#[protect(provider = "corp", claims = User, acr = ["urn:example:mfa"], optional)]
async fn maybe(user: Option<User>) -> String {
    user.map_or_else(|| "anonymous".to_owned(), |u| u.sub)
}

#[protect(session, provider = "corp", claims = User, acr = ["urn:example:mfa"])]
async fn payout_page(user: User) -> String {
    format!("payout for {}", user.sub)
}

#[protect(session, provider = "corp", claims = User, max_age = 1h)]
async fn recent_page(user: User) -> String {
    format!("recent login of {}", user.sub)
}

#[protect(session, provider = "corp", claims = User)]
async fn profile(user: User) -> String {
    user.sub
}

fn app(providers: &Providers) -> Router {
    Router::new()
        .route("/payout", get(payout))
        .route("/settings", get(settings))
        .route("/maybe", get(maybe))
        .route("/payout-page", get(payout_page))
        .route("/recent-page", get(recent_page))
        .route("/profile", get(profile))
        .merge(providers.router())
        .layer(providers.layer())
}

async fn providers_at(idp: &DevIssuer) -> Providers {
    let providers = Providers::build(
        Providers::builder()
            .unwrap()
            .map_provider("corp", |p| p.retarget(idp)),
        Providers::login_builder()
            .unwrap()
            .map_provider("corp", |p| p.retarget(idp)),
    )
    .unwrap();
    providers.ready().await;
    providers
}

async fn send(app: &Router, path: &str, headers: &[(&str, &str)]) -> Response<Body> {
    let mut request = Request::get(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    app.clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap()
}

fn header_of(response: &Response<Body>, name: header::HeaderName) -> String {
    response
        .headers()
        .get(&name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn body_of(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn bearer_routes_answer_with_the_authentication_that_would_pass() {
    let idp = DevIssuer::start().await.unwrap();
    let app = app(&providers_at(&idp).await);
    let token = |claims: Value| {
        let mut t = idp.token().audience("api://corp").subject("ada");
        for (k, v) in claims.as_object().unwrap() {
            t = t.claim(k, v.clone());
        }
        format!("Bearer {}", t.sign())
    };
    let get = |path: &'static str, auth: String| {
        let app = app.clone();
        async move { send(&app, path, &[("authorization", &auth)]).await }
    };

    // An accepted acr passes; another, or none, is refused with the challenge.
    let strong = get("/payout", token(json!({"acr": "urn:example:hwk"}))).await;
    assert_eq!(strong.status(), 200);
    assert_eq!(body_of(strong).await, "ada");
    let weak = get("/payout", token(json!({"acr": "urn:example:pwd"}))).await;
    assert_eq!(weak.status(), 401);
    assert_eq!(
        header_of(&weak, header::WWW_AUTHENTICATE),
        "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
         error_description=\"the authentication context `urn:example:pwd` is not one this route accepts\", \
         acr_values=\"urn:example:mfa urn:example:hwk\""
    );
    let body: Value = serde_json::from_str(&body_of(weak).await).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    let none = get("/payout", token(json!({}))).await;
    assert_eq!(none.status(), 401);
    assert!(header_of(&none, header::WWW_AUTHENTICATE).contains("no `acr` claim"));

    // max_age: a login older than five minutes, or of unknown age, is refused with
    // `max_age`; a recent one then meets the route's scopes check.
    let admin = |auth_time: Option<u64>| {
        let claims = match auth_time {
            Some(t) => json!({"scope": "admin", "auth_time": t}),
            None => json!({"scope": "admin"}),
        };
        token(claims)
    };
    assert_eq!(
        get("/settings", admin(Some(now() - 60))).await.status(),
        200
    );
    let old = get("/settings", admin(Some(now() - 600))).await;
    assert_eq!(old.status(), 401);
    let challenge = header_of(&old, header::WWW_AUTHENTICATE);
    assert!(challenge.ends_with(", max_age=\"300\""), "{challenge}");
    assert!(!challenge.contains("acr_values"), "{challenge}");
    assert_eq!(get("/settings", admin(None)).await.status(), 401);
    let narrow = token(json!({"scope": "read", "auth_time": now()}));
    assert_eq!(get("/settings", narrow).await.status(), 403);

    // `optional`: no token is anonymous, but a weak login is not quietly anonymous.
    assert_eq!(body_of(send(&app, "/maybe", &[]).await).await, "anonymous");
    let weak = get("/maybe", token(json!({"acr": "urn:example:pwd"}))).await;
    assert_eq!(weak.status(), 401);
    let strong = get("/maybe", token(json!({"acr": MFA}))).await;
    assert_eq!(body_of(strong).await, "ada");
}

/// Follows a browser's step-up: the guard's redirect to the login route, the login
/// route's redirect to the dev issuer, the issuer's back to the callback; returns the
/// callback's response.
async fn step_up(app: &Router, guard_redirect: &str, cookie: &str) -> (Response<Body>, String) {
    let start = send(app, guard_redirect, &[("cookie", cookie)]).await;
    assert_eq!(start.status(), 303, "the login route starts the login");
    let authorize = header_of(&start, header::LOCATION);
    let tx = header_of(&start, header::SET_COOKIE);
    let tx = tx.split(';').next().unwrap().to_owned();
    let back = oauth2_tests::client()
        .get(format!("{authorize}&login_hint=ada"))
        .send()
        .await
        .unwrap();
    let callback = url::Url::parse(back.headers()["location"].to_str().unwrap()).unwrap();
    let path = format!("{}?{}", callback.path(), callback.query().unwrap());
    let done = send(app, &path, &[("cookie", &format!("{cookie}; {tx}"))]).await;
    (done, authorize)
}

/// The session cookie a login response sets.
fn session_cookie(response: &Response<Body>) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|c| c.to_str().unwrap().split(';').next())
        .filter(|c| {
            c.split_once('=')
                .is_some_and(|(name, value)| name == "session" && !value.is_empty())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

const HTML: (&str, &str) = ("accept", "text/html,*/*;q=0.8");

#[tokio::test]
async fn a_session_route_sends_the_browser_to_a_stronger_login() {
    let idp = DevIssuer::start().await.unwrap();
    let providers = providers_at(&idp).await;
    let app = app(&providers);
    let cookie = oauth2::test_kit::log_in(&app, providers.login(), "corp", "ada").await;
    assert_eq!(
        send(&app, "/profile", &[("cookie", &cookie)])
            .await
            .status(),
        200
    );

    // The first login gave no acr: an API client gets 401, a browser a new login that
    // asks for the route's acr, with prompt=login (the provider's session is the weak one).
    let api = send(&app, "/payout-page", &[("cookie", &cookie)]).await;
    assert_eq!(api.status(), 401);
    let body: Value = serde_json::from_str(&body_of(api).await).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    let page = send(&app, "/payout-page", &[("cookie", &cookie), HTML]).await;
    assert_eq!(page.status(), 303);
    let to_login = header_of(&page, header::LOCATION);
    assert_eq!(
        to_login,
        "/auth/corp/login?return_to=%2Fpayout-page&acr_values=urn%3Aexample%3Amfa&prompt=login"
    );

    let (done, authorize) = step_up(&app, &to_login, &cookie).await;
    let asked: Vec<(String, String)> = url::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect();
    assert!(
        asked.contains(&("acr_values".into(), MFA.into())),
        "{asked:?}"
    );
    assert!(
        asked.contains(&("prompt".into(), "login".into())),
        "{asked:?}"
    );
    assert_eq!(done.status(), 303);
    assert_eq!(header_of(&done, header::LOCATION), "/payout-page");
    let strong = session_cookie(&done);
    let page = send(&app, "/payout-page", &[("cookie", &strong), HTML]).await;
    assert_eq!(page.status(), 200);
    assert_eq!(body_of(page).await, "payout for ada");
}

#[tokio::test]
async fn a_login_older_than_max_age_is_redone_and_the_callback_checks_auth_time() {
    let idp = DevIssuer::start().await.unwrap();
    let providers = providers_at(&idp).await;
    let app = app(&providers);
    // The provider says the user authenticated two hours ago.
    idp.set_id_token_claims(json!({"auth_time": now() - 7200}));
    let cookie = oauth2::test_kit::log_in(&app, providers.login(), "corp", "ada").await;
    let page = send(&app, "/recent-page", &[("cookie", &cookie), HTML]).await;
    assert_eq!(page.status(), 303);
    let to_login = header_of(&page, header::LOCATION);
    // max_age alone makes the provider authenticate again: no prompt=login.
    assert_eq!(
        to_login,
        "/auth/corp/login?return_to=%2Frecent-page&max_age=3600"
    );

    // A provider that answers with the old authentication: the callback refuses it,
    // and the session the browser had stays.
    let (refused, authorize) = step_up(&app, &to_login, &cookie).await;
    assert!(authorize.contains("max_age=3600"), "{authorize}");
    assert_eq!(refused.status(), 401);
    assert!(session_cookie(&refused).is_empty());
    let body: Value = serde_json::from_str(&body_of(refused).await).unwrap();
    assert_eq!(body["error"], "insufficient_user_authentication");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("within 3600 s"),
        "{body}"
    );
    assert_eq!(
        send(&app, "/profile", &[("cookie", &cookie)])
            .await
            .status(),
        200
    );

    // One that authenticates the user again: the new session passes.
    idp.set_id_token_claims(json!({}));
    let (done, _) = step_up(&app, &to_login, &cookie).await;
    assert_eq!(done.status(), 303);
    let fresh = session_cookie(&done);
    let page = send(&app, "/recent-page", &[("cookie", &fresh), HTML]).await;
    assert_eq!(body_of(page).await, "recent login of ada");
}

#[tokio::test]
async fn the_login_route_refuses_step_up_parameters_it_cannot_pass_on() {
    let idp = DevIssuer::start().await.unwrap();
    let app = app(&providers_at(&idp).await);
    for query in ["prompt=none", "max_age=5m", "acr_values=%22quoted%22"] {
        let response = send(&app, &format!("/auth/corp/login?{query}"), &[]).await;
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = serde_json::from_str(&body_of(response).await).unwrap();
        assert_eq!(body["error"], "invalid_request", "{query}");
    }
}
