//! Two login providers that are two clients of one issuer (two apps of one Keycloak
//! realm): both log browsers in, each checks its own ID tokens' audience, and the
//! issuer's discovery document and keys are fetched once for both.

use axum::Router;
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession};
use oauth2_tests::browser::{Browser, location};

async fn me(session: LoginSession) -> String {
    format!(
        "{} via {}",
        session.subject().unwrap_or_default(),
        session.provider()
    )
}

#[tokio::test]
async fn two_clients_of_one_issuer_both_log_in() {
    let idp = DevIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let client = |name: &str, id: &str| {
        LoginProvider::builder(name)
            .issuer(idp.issuer())
            .client_id(id)
            .client_secret("dev-secret")
    };
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the shared issuer test's session secret, 32+ bytes")
        .provider(client("web", "web-app"))
        .provider(client("admin", "admin-app"))
        .build()
        .expect("two clients of one issuer are a valid configuration");
    let app: Router = Router::new()
        .route("/me", get(me))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    for provider in ["web", "admin"] {
        let b = Browser::new();
        let start = b.get(&format!("{base}/auth/{provider}/login")).await;
        let authorize = location(&start);
        let client_id = if provider == "web" {
            "web-app"
        } else {
            "admin-app"
        };
        assert!(
            authorize.contains(&format!("client_id={client_id}")),
            "{authorize}"
        );
        let back = b.get(&authorize).await;
        let done = b.get(&location(&back)).await;
        assert_eq!(done.status(), 303, "the {provider} callback");
        let me = b.get(&format!("{base}/me")).await;
        assert_eq!(me.status(), 200);
        assert_eq!(me.text().await.unwrap(), format!("dev-user via {provider}"));
    }
    let stats = idp.stats();
    assert_eq!(
        (stats.discovery, stats.jwks),
        (1, 1),
        "one issuer, one discovery and one key set"
    );
}
