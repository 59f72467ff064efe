//! One key registry per issuer: a provider declared for both bearer tokens (`audience`)
//! and browser login (`client_id`) shares one discovery document and one key cache
//! between the two, so the dev issuer sees one discovery and one JWKS request at start,
//! and one refetch for a new key whichever path meets it first.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::dev::{DEFAULT_AUDIENCE, DevIssuer};
use oauth2::login::LoginSession;
use oauth2::{Authenticated, protect, providers};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::get_with_token;

const SECRET: &str = "the registry test's session secret, 32+ bytes";

static URLS: OnceLock<(String, String)> = OnceLock::new();

fn issuer() -> String {
    URLS.get().expect("set before load").0.clone()
}

fn app() -> String {
    URLS.get().expect("set before load").1.clone()
}

providers! {
    base_url: app(),
    session_secret: SECRET,
    dev {
        issuer: issuer(),
        audience: DEFAULT_AUDIENCE,
        // No cooldown: a second refetch would happen if the two paths had two caches.
        unknown_kid_cooldown: 0s,
        client_id: "web",
        client_secret: String::from("dev-secret"),
    }
}

#[protect(provider = "dev", claims = Authenticated)]
async fn api(auth: Authenticated) -> String {
    auth.subject().unwrap_or_default().to_owned()
}

async fn me(session: LoginSession) -> String {
    session.claims()["sub"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Logs a browser in through the dev issuer; returns the callback's status.
async fn log_in(base: &str) -> u16 {
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/dev/login?return_to=/me")).await;
    assert_eq!(start.status(), 303);
    let back = b.get(&location(&start)).await;
    let done = b.get(&location(&back)).await;
    let status = done.status().as_u16();
    if status == 303 {
        let me = b.get(&format!("{base}/me")).await;
        assert_eq!(me.text().await.unwrap(), "dev-user");
    }
    status
}

#[tokio::test]
async fn bearer_and_login_share_one_discovery_and_one_key_cache() {
    let idp = DevIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    URLS.set((idp.issuer().to_owned(), base.clone())).unwrap();

    let providers = Providers::load().unwrap();
    let routes = Router::new()
        .route("/api", get(api))
        .route("/me", get(me))
        .merge(providers.router())
        .layer(providers.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    tokio::time::timeout(Duration::from_secs(10), providers.ready())
        .await
        .expect("keys load");
    assert_eq!(
        providers.authenticator().registry().issuers(),
        [idp.issuer()]
    );

    // Start, a bearer request and a login: one discovery, one JWKS request.
    let api_status = |token: String| {
        let base = base.clone();
        async move {
            get_with_token(&base, "/api", &token)
                .await
                .status()
                .as_u16()
        }
    };
    assert_eq!(api_status(idp.token().sign()).await, 200);
    assert_eq!(log_in(&base).await, 303);
    let stats = idp.stats();
    assert_eq!((stats.discovery, stats.jwks), (1, 1), "{stats:?}");

    // New keys, met first by a bearer token: one refetch, which login then uses.
    idp.rotate();
    assert_eq!(api_status(idp.token().sign()).await, 200);
    assert_eq!(idp.stats().jwks, 2);
    assert_eq!(log_in(&base).await, 303);
    assert_eq!(
        idp.stats().jwks,
        2,
        "login refetched keys the bearer path had"
    );

    // New keys, met first by an ID token at login: one refetch, which bearer uses.
    idp.rotate();
    assert_eq!(log_in(&base).await, 303);
    assert_eq!(idp.stats().jwks, 3);
    assert_eq!(api_status(idp.token().sign()).await, 200);
    let stats = idp.stats();
    assert_eq!((stats.discovery, stats.jwks), (1, 3), "{stats:?}");
    let keys = providers.authenticator().key_stats("dev").unwrap();
    assert_eq!((keys.discoveries, keys.unknown_kid_refetches), (1, 2));
}

/// Without macros, as `docs/bearer.md` writes it: the runtime's `App` builds both
/// sides over one registry, so a hand-wired app cannot give an issuer two key caches.
#[tokio::test]
async fn a_hand_wired_app_has_one_key_cache_per_issuer_by_construction() {
    use oauth2::login::{Login, LoginProvider};
    use oauth2::{App, Authenticator, Provider};

    let idp = DevIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::builder()
        .bearer(
            Authenticator::builder().provider(
                Provider::builder("dev")
                    .issuer(idp.issuer())
                    .audience(DEFAULT_AUDIENCE),
            ),
        )
        .login(
            Login::builder()
                .base_url(&base)
                .session_secret(SECRET)
                .provider(
                    LoginProvider::builder("dev")
                        .issuer(idp.issuer())
                        .client_id("web")
                        .client_secret("dev-secret"),
                ),
        )
        .build()
        .unwrap();
    let routes = Router::new()
        .route("/api", get(api))
        .route("/me", get(me))
        .merge(app.router())
        .layer(app.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    tokio::time::timeout(Duration::from_secs(10), app.ready())
        .await
        .expect("keys load");
    assert_eq!(app.registry().issuers(), [idp.issuer()]);
    assert_eq!(app.authenticator().registry().issuers(), [idp.issuer()]);
    assert_eq!(app.login().registry().issuers(), [idp.issuer()]);

    let token = idp.token().sign();
    assert_eq!(get_with_token(&base, "/api", &token).await.status(), 200);
    assert_eq!(log_in(&base).await, 303);
    let stats = idp.stats();
    assert_eq!((stats.discovery, stats.jwks), (1, 1), "{stats:?}");
}
