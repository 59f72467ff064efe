//! What a preset knows, end to end through `providers!` and `#[protect]`: Keycloak's
//! roles (realm roles and the API's client roles, nested in its tokens) are read by a
//! plain `roles` field, so `require = user.roles...` needs no claim path.

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, protect, providers};
use oauth2_tests::{error_of, get_with_token, serve};
use serde_json::json;

static ISSUER: OnceLock<String> = OnceLock::new();

providers! {
    keycloak {
        preset: keycloak,
        issuer: ISSUER.get().expect("set before load").clone(),
        audience: "orders.api",
    }
}

#[derive(FromClaims)]
struct Staff {
    #[claim(default)]
    roles: Vec<String>,
}

#[protect(provider = "keycloak", claims = Staff, require = user.roles.iter().any(|r| r == "refund"))]
async fn refund(user: Staff) -> String {
    user.roles.join(",")
}

#[tokio::test]
async fn keycloak_roles_of_the_realm_and_of_the_api_are_one_roles_claim() {
    let idp = DevIssuer::start().await.unwrap();
    ISSUER.set(idp.issuer().to_owned()).unwrap();
    let providers = Providers::load().unwrap();
    providers.ready().await;
    let url = serve(
        Router::new()
            .route("/refund", get(refund))
            .layer(providers.layer()),
    )
    .await;
    let token = |realm: serde_json::Value, clients: serde_json::Value| {
        idp.token()
            .audience("orders.api")
            .claim("realm_access", json!({ "roles": realm }))
            .claim("resource_access", clients)
            .sign()
    };

    // A client role of this API (whose id has a dot: a name, not a path).
    let api_role = token(
        json!(["user"]),
        json!({"orders.api": {"roles": ["refund"]}}),
    );
    let res = get_with_token(&url, "/refund", &api_role).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "user,refund");

    // A realm role.
    let realm_role = token(json!(["refund"]), json!({}));
    assert_eq!(
        get_with_token(&url, "/refund", &realm_role).await.status(),
        200
    );

    // Another client's role is not this API's.
    let other = token(json!(["user"]), json!({"billing": {"roles": ["refund"]}}));
    let e = error_of(get_with_token(&url, "/refund", &other).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "access_denied"));
}
