//! A logout that lands while the session's tokens are being refreshed, or while a new
//! login is finishing, leaves no live session behind: the session's own cookie, sent
//! again afterwards, is refused, in every server-side store.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::dev::{DevIssuer, Fault};
use oauth2::login::{Login, LoginProvider, LoginSession, SessionRejection};
use oauth2::session::SessionStore;
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::{client, services};

async fn me(session: LoginSession) -> String {
    session.subject().unwrap_or_default().to_owned()
}

/// The session's access token, refreshed first (the dev issuer's tokens are always due).
async fn token(session: LoginSession) -> Result<String, SessionRejection> {
    session.access_token().await
}

/// An app logging in through `idp`, with sessions in `store`; its base URL.
async fn app(idp: &DevIssuer, store: Arc<dyn SessionStore>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the logout race test's session secret, 32+ bytes")
        .session_store(store)
        .provider(
            LoginProvider::builder("dev")
                .issuer(idp.issuer())
                .client_id("web")
                .client_secret("dev-secret"),
        )
        .build()
        .unwrap();
    let routes: Router = Router::new()
        .route("/me", get(me))
        .route("/token", get(token))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    base
}

async fn log_in(base: &str, b: &Browser) {
    let start = b.get(&format!("{base}/auth/dev/login")).await;
    let back = b.get(&location(&start)).await;
    assert_eq!(b.get(&location(&back)).await.status(), 303);
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 200);
}

/// Waits until the provider holds a token request beyond the `asked` it had answered: the
/// app's request is in flight (the dev issuer counts requests on arrival).
async fn in_flight(idp: &DevIssuer, asked: u64) {
    let held = async {
        while idp.stats().token == asked {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), held)
        .await
        .expect("the token request reaches the provider");
}

/// `GET /me` with exactly these cookies, from a client without a jar: what a copy of
/// the cookie (kept by the browser, or stolen) can still do.
async fn replay(base: &str, cookies: &str) -> u16 {
    get_with_cookies(format!("{base}/me"), cookies.to_owned()).await
}

/// `GET url` with exactly these cookies, from a client without a jar.
async fn get_with_cookies(url: String, cookies: String) -> u16 {
    client()
        .get(url)
        .header("cookie", cookies)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_logout_during_a_refresh_is_not_undone_by_the_refresh() {
    for (name, store) in
        services::session_stores("a_logout_during_a_refresh_is_not_undone_by_the_refresh").await
    {
        let idp = DevIssuer::start().await.unwrap();
        // Access tokens that are always within a minute of expiring: every `/token`
        // refreshes at the provider.
        idp.set_token_lifetime(Duration::from_secs(30));
        let base = app(&idp, store).await;
        let b = Browser::new();
        log_in(&base, &b).await;
        let cookies = b.cookies(&base);
        assert_eq!(
            b.get(&format!("{base}/token")).await.status(),
            200,
            "{name}"
        );

        // The provider holds its answer: the logout lands mid-refresh, whatever the
        // machine's load, and the refresh finishes after it.
        idp.set_fault(Fault::Hold);
        let asked = idp.stats().token;
        let refresh = tokio::spawn(get_with_cookies(format!("{base}/token"), cookies.clone()));
        in_flight(&idp, asked).await;
        let logout = b.post_form(&format!("{base}/auth/logout")).await;
        assert_eq!(logout.status(), 303, "{name}");
        idp.set_fault(Fault::None);
        let refreshed = refresh.await.unwrap();

        assert_eq!(
            refreshed, 401,
            "{name}: the refresh finished after the logout and says the session ended"
        );
        assert_eq!(
            replay(&base, &cookies).await,
            401,
            "{name}: the refresh must not have saved the logged-out session again"
        );
    }
}

#[tokio::test]
async fn a_logout_during_a_new_login_ends_the_old_session_for_good() {
    for (name, store) in
        services::session_stores("a_logout_during_a_new_login_ends_the_old_session_for_good").await
    {
        let idp = DevIssuer::start().await.unwrap();
        let base = app(&idp, store).await;
        let b = Browser::new();
        log_in(&base, &b).await;
        let old = b.cookies(&base);

        // A second login in the same browser, its code exchange slowed down, while the
        // old session logs out from another tab.
        let start = b.get(&format!("{base}/auth/dev/login")).await;
        let back = b.get(&location(&start)).await;
        let callback = location(&back);
        idp.set_fault(Fault::Hold);
        let asked = idp.stats().token;
        let finishing = {
            let b = b.clone();
            tokio::spawn(async move { b.get(&callback).await.status().as_u16() })
        };
        in_flight(&idp, asked).await;
        assert_eq!(
            b.post_form(&format!("{base}/auth/logout")).await.status(),
            303
        );
        idp.set_fault(Fault::None);
        assert_eq!(
            finishing.await.unwrap(),
            303,
            "{name}: the new login completes"
        );

        assert_eq!(
            replay(&base, &old).await,
            401,
            "{name}: the old session stays ended"
        );
        assert_eq!(
            b.get(&format!("{base}/me")).await.status(),
            200,
            "{name}: the login the user finished is the live one"
        );
    }
}
