//! A person whose login fails in the browser (cancelled at the provider, an expired
//! login) sees a page or the app's chosen redirect, not JSON; API clients keep JSON.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginBuilder, LoginFailure, LoginProvider};
use oauth2_tests::browser::{Browser, location};
use serde_json::Value;

/// An app logging in through `idp`, configured further by `configure`; its base URL.
async fn app(idp: &DevIssuer, configure: impl FnOnce(LoginBuilder) -> LoginBuilder) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let builder = Login::builder()
        .base_url(&base)
        .session_secret("the error page test's session secret, 32+ bytes")
        .provider(
            LoginProvider::builder("dev")
                .issuer(idp.issuer())
                .client_id("web")
                .client_secret("dev-secret"),
        );
    let login = configure(builder).build().unwrap();
    let routes: Router = Router::new().merge(login.router()).layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    base
}

/// A login started in `browser`; the callback URL the provider would send back to
/// when the user cancels there.
async fn cancelled(base: &str, browser: &Browser) -> String {
    let start = browser.get(&format!("{base}/auth/dev/login")).await;
    let authorize = url::Url::parse(&location(&start)).unwrap();
    let state = authorize
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    format!(
        "{base}/auth/dev/callback?error=access_denied&error_description=The+user+said+no&state={state}"
    )
}

#[tokio::test]
async fn a_cancelled_login_shows_a_page_to_a_browser_and_json_to_an_api_client() {
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp, |b| b).await;

    let browser = Browser::new();
    let page = browser.navigate(&cancelled(&base, &browser).await).await;
    assert_eq!(page.status(), 400);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("Sign-in was cancelled"), "{html}");
    assert!(html.contains("The user said no"), "{html}");
    assert!(
        html.contains("href=\"/auth/dev/login\""),
        "a link to try again: {html}"
    );

    // The same callback from a client that wants JSON.
    let api = Browser::new();
    let answer = api.get(&cancelled(&base, &api).await).await;
    assert_eq!(answer.status(), 400);
    let json: Value = answer.json().await.unwrap();
    assert_eq!(json["error"], "access_denied");

    // A login that is not waiting any more (another browser's, or already used).
    let late = Browser::new();
    let expired = late
        .navigate(&format!(
            "{base}/auth/dev/callback?code=x&state=not-waiting"
        ))
        .await;
    assert_eq!(expired.status(), 400);
    assert!(
        expired
            .text()
            .await
            .unwrap()
            .contains("This sign-in has expired")
    );
}

#[tokio::test]
async fn the_app_can_send_browsers_to_its_own_page_or_render_one() {
    let idp = DevIssuer::start().await.unwrap();
    let redirecting = app(&idp, |b| b.error_redirect("/signin?from=login")).await;
    let browser = Browser::new();
    let page = browser
        .navigate(&cancelled(&redirecting, &browser).await)
        .await;
    assert_eq!(page.status(), 303);
    assert_eq!(
        location(&page),
        format!("{redirecting}/signin?from=login&error=access_denied&provider=dev")
    );

    let rendering = app(&idp, |b| {
        b.error_page(|failure: &LoginFailure| {
            let body = format!(
                "custom: {} from {}",
                failure.error.code(),
                failure.provider.unwrap_or("-")
            );
            (StatusCode::UNAUTHORIZED, Html(body)).into_response()
        })
    })
    .await;
    let browser = Browser::new();
    let page = browser
        .navigate(&cancelled(&rendering, &browser).await)
        .await;
    assert_eq!(page.status(), 401);
    assert_eq!(page.headers()["cache-control"], "no-store");
    assert_eq!(page.text().await.unwrap(), "custom: access_denied from dev");
}

#[tokio::test]
async fn an_error_redirect_must_stay_on_the_site() {
    let idp = DevIssuer::start().await.unwrap();
    for bad in [
        "//evil.example/x",
        "https://evil.example",
        "signin",
        "/a\\b",
    ] {
        let e = Login::builder()
            .base_url("http://127.0.0.1:9")
            .session_secret("the error page test's session secret, 32+ bytes")
            .provider(
                LoginProvider::builder("dev")
                    .issuer(idp.issuer())
                    .client_id("web"),
            )
            .error_redirect(bad)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("error_redirect"), "{bad}: {e}");
    }
}
