//! The broker declared in `providers!`: `Providers::load()` builds the login with its
//! broker and an authenticator that takes the broker's keys, so that a
//! `#[protect(provider = "broker")]` handler accepts the broker's access tokens and
//! refuses the identity provider's own. Served over HTTP on 127.0.0.1.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, protect, providers};
use oauth2_tests::{error_of, get_with_token, serve};
use serde_json::json;

const SECRET: &str = "the broker DSL test's secret, 32 bytes+";

/// The dev issuer's URL, known once it runs.
static ISSUER: OnceLock<String> = OnceLock::new();

fn issuer() -> String {
    ISSUER.get().expect("set before load").clone()
}

providers! {
    base_url: "https://broker.dsl.example",
    session_secret: SECRET,
    dev {
        issuer: issuer(),
        client_id: "dev-client",
        device_flow: true,
    }
    broker {
        audience: "https://api.dsl.example",
        token_ttl: 2m,
        claims: ["email"],
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    email: Option<String>,
}

#[protect(provider = "broker", claims = User)]
async fn me(user: User) -> String {
    format!("{} {}", user.sub, user.email.unwrap_or_default())
}

#[tokio::test]
async fn a_protect_broker_handler_takes_the_brokers_tokens_only() {
    let idp = DevIssuer::start().await.unwrap();
    ISSUER.set(idp.issuer().to_owned()).unwrap();
    let providers = Providers::load().unwrap();
    let broker = providers.login().broker().expect("declared");
    assert_eq!(broker.issuer(), "https://broker.dsl.example/auth");
    assert_eq!(broker.token_ttl(), Duration::from_secs(120));
    let url = serve(
        Router::new()
            .route("/me", get(me))
            .merge(providers.router())
            .layer(providers.layer()),
    )
    .await;
    let user = json!({"sub": "alice", "email": "alice@example.com"});
    let token = broker
        .access_token(user.as_object().unwrap(), None)
        .await
        .unwrap();
    let ok = get_with_token(&url, "/me", &token.token).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "alice alice@example.com");
    let theirs = idp.token().audience("https://api.dsl.example").sign();
    let e = error_of(get_with_token(&url, "/me", &theirs).await).await;
    assert_eq!(e.status, 401, "{e:?}");
    // The broker's issuer routes are served.
    let jwks = oauth2_tests::get_json(&format!("{url}/auth/.well-known/jwks.json")).await;
    assert!(!jwks["keys"].as_array().unwrap().is_empty());

    // In OpenAPI, the broker is a bearer scheme found by its discovery document, and
    // the login-only `dev` an authorization-code scheme.
    let schemes = providers.openapi().await.unwrap();
    let mut doc = utoipa::openapi::OpenApiBuilder::new().build();
    schemes.apply(&mut doc);
    let doc = serde_json::to_value(&doc).unwrap();
    let defined = &doc["components"]["securitySchemes"];
    assert_eq!(defined["broker"]["type"], "openIdConnect");
    assert_eq!(
        defined["broker"]["openIdConnectUrl"],
        "https://broker.dsl.example/auth/.well-known/openid-configuration"
    );
    assert_eq!(defined["dev"]["type"], "oauth2");
    assert_eq!(
        defined["dev"]["flows"]["authorizationCode"]["tokenUrl"],
        idp.token_url()
    );
    assert_eq!(defined[oauth2::openapi::SESSION_SCHEME]["in"], "cookie");
    let discovery =
        oauth2_tests::get_json(&format!("{url}/auth/.well-known/openid-configuration")).await;
    assert_eq!(discovery["issuer"], broker.issuer());
}
