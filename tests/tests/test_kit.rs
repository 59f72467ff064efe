//! The test kit as a user's test uses it: an app declared with `providers!` for a real
//! provider (never contacted here), retargeted to an in-process dev issuer; tokens with
//! chosen audience and scopes; a browser logged in for a session route.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, Scopes, protect, providers};
use tower::ServiceExt;

/// Production reads it with `env("SESSION_SECRET")`.
const SESSION_SECRET: &str = "the test kit test's session secret, 32+ bytes";

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
    #[claim(scopes)]
    scopes: Scopes,
}

#[protect(provider = "corp", claims = User, scopes = ["items:write"])]
async fn write(user: User) -> String {
    format!(
        "{} may write ({} scopes)",
        user.sub,
        user.scopes.iter().count()
    )
}

#[protect(session, provider = "corp", claims = User)]
async fn profile(user: User) -> String {
    user.sub
}

/// The app as production builds it, from what `providers!` declared.
fn app(providers: &Providers) -> Router {
    Router::new()
        .route("/items", get(write))
        .route("/profile", get(profile))
        .merge(providers.router())
        .layer(providers.layer())
}

/// The declared providers, with `corp` at `idp`.
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

async fn status(app: &Router, path: &str, header: (&str, &str)) -> u16 {
    let request = Request::get(path).header(header.0, header.1);
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await;
    response.unwrap().status().as_u16()
}

#[tokio::test]
async fn a_declared_provider_retargeted_to_a_dev_issuer_accepts_its_tokens() {
    let idp = DevIssuer::start().await.unwrap();
    let app = app(&providers_at(&idp).await);

    let token = idp
        .token()
        .audience("api://corp")
        .scope("items:write")
        .sign();
    let bearer = format!("Bearer {token}");
    assert_eq!(
        status(&app, "/items", ("authorization", &bearer)).await,
        200
    );

    // What the declaration demands still holds: the audience, the route's scopes.
    let other = idp
        .token()
        .audience("api://other")
        .scope("items:write")
        .sign();
    let other = format!("Bearer {other}");
    assert_eq!(status(&app, "/items", ("authorization", &other)).await, 401);
    let narrow = idp
        .token()
        .audience("api://corp")
        .scope("items:read")
        .sign();
    let narrow = format!("Bearer {narrow}");
    assert_eq!(
        status(&app, "/items", ("authorization", &narrow)).await,
        403
    );
}

#[tokio::test]
async fn a_test_logs_a_browser_in_and_uses_its_session() {
    let idp = DevIssuer::start().await.unwrap();
    let providers = providers_at(&idp).await;
    let app = app(&providers);

    let cookie = oauth2::test_kit::log_in(&app, providers.login(), "corp", "ada").await;
    assert_eq!(status(&app, "/profile", ("cookie", &cookie)).await, 200);
    assert_eq!(
        status(&app, "/profile", ("cookie", "session=forged")).await,
        401
    );
}

#[test]
fn a_retarget_of_an_undeclared_provider_is_a_configuration_error() {
    let e = Providers::builder()
        .unwrap()
        .map_provider("crop", |p| p)
        .build()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "provider \"crop\": map_provider names no provider of this authenticator"
    );
}
