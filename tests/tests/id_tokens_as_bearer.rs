//! An ID token is not an access token (RFC 8725 §3.11, RFC 9068 §4). oidc-provider
//! writes the client id into its ID tokens' `aud`; an API whose accepted audiences
//! include that client id (one app registration for the web app and its API, a common
//! setup) used to answer 200 to a user's ID token, which travels through the browser.
//! Now such a token is refused with 401 `invalid_token` saying why, unless the provider
//! accepts ID tokens on purpose.

use axum::Router;
use axum::routing::get;
use oauth2::{Authenticated, Authenticator, Provider, ProviderBuilder};
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT, log_in, login_app};
use oauth2_tests::{error_of, get_with_token, serve};

const API: &str = "urn:example:api:es256";
/// Logs `user` in at oidc-provider through the library's login; the session's ID token
/// (with the `nonce` the login sent).
async fn id_token_of_a_login(user: &str) -> (OpenIdProvider, String) {
    let (op, base) = login_app(|op| op.web_login("oidc")).await;
    let (done, b) = log_in(&base, "oidc", user).await;
    assert_eq!(done.status(), 303, "logged in");
    let id_token = b
        .get(&format!("{base}/id-token"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(id_token.split('.').count(), 3, "{id_token}");
    (op, id_token)
}

/// An API for `provider`'s tokens: `/me` answers the token's `sub`.
async fn api(provider: ProviderBuilder) -> String {
    let auth = Authenticator::builder().provider(provider).build().unwrap();
    auth.ready().await;
    let routes = Router::new().route(
        "/me",
        get(|t: Authenticated| async move { t.subject().unwrap_or("-").to_owned() }),
    );
    serve(routes.layer(auth.layer())).await
}

/// The dangerous configuration: the web app's client id among the API's audiences.
fn both_audiences(op: &OpenIdProvider) -> ProviderBuilder {
    Provider::builder("op")
        .issuer(&op.issuer)
        .audience([API, WEB_CLIENT.0])
}

#[tokio::test]
async fn an_id_token_is_refused_at_a_bearer_route_unless_accepted_on_purpose() {
    let (op, id_token) = id_token_of_a_login("ada").await;
    let access_token = op.service_token(API, "read").await;

    let strict = api(both_audiences(&op)).await;
    let e = error_of(get_with_token(&strict, "/me", &id_token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("ID token"), "{}", e.description);
    assert!(e.description.contains("nonce"), "{}", e.description);
    // The provider's access tokens (RFC 9068 `at+jwt`) still pass.
    assert_eq!(
        get_with_token(&strict, "/me", &access_token).await.status(),
        200
    );

    // Accepted on purpose (Google's service-to-service pattern): the user's ID token
    // is their identity.
    let open = api(both_audiences(&op).accept_id_tokens()).await;
    let res = get_with_token(&open, "/me", &id_token).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ada");

    // Requiring RFC 9068's type refuses every ID token, with or without ID-token claims.
    let typed = api(both_audiences(&op)
        .accept_id_tokens()
        .required_typ("at+jwt"))
    .await;
    let e = error_of(get_with_token(&typed, "/me", &id_token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("typ"), "{}", e.description);
    assert_eq!(
        get_with_token(&typed, "/me", &access_token).await.status(),
        200
    );
}

/// A JWT typed as an access token (`at+jwt`) is taken for one even with a `nonce`
/// claim: the explicit type wins (RFC 8725 §3.11); the same claims untyped are refused.
#[tokio::test]
async fn an_explicit_access_token_type_wins_over_id_token_claims() {
    let op = OpenIdProvider::start(Default::default()).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let url = api(both_audiences(&op)).await;
    for claim in ["nonce", "at_hash", "c_hash", "s_hash"] {
        let claims = serde_json::json!({
            "iss": op.issuer, "aud": API, "sub": "bob", "exp": now + 300, "iat": now,
            claim: "x",
        });
        let typed = op.sign("ES256", Some("at+jwt"), &claims);
        assert_eq!(get_with_token(&url, "/me", &typed).await.status(), 200);
        let untyped = op.sign("ES256", None, &claims);
        let e = error_of(get_with_token(&url, "/me", &untyped).await).await;
        assert_eq!(e.status, 401, "{claim}");
        assert!(e.description.contains(claim), "{}", e.description);
    }
}
