//! `fapi2()` against oidc-provider holding the client `interop-fapi` to its FAPI 2.0
//! profile (which refuses, among others, assertions not aimed at the issuer, requests
//! not pushed, no PKCE): the login, its DPoP-bound token and its refresh, with a P-256
//! key and with an RSA key (which `fapi2` turns to PS256).

use oauth2::Algorithm;
use oauth2::client::ClientKey;
use oauth2::login::LoginProvider;
use oauth2_tests::browser::location;
use oauth2_tests::op::{Options, client_key_pem, log_in, login_app_with};
use oauth2_tests::{client, jwt_claims, session_claims, session_token};

const FAPI_CLIENT: &str = "interop-fapi";
const API: &str = "urn:example:api:es256";

#[tokio::test]
async fn a_fapi2_login_passes_a_provider_that_enforces_the_profile() {
    let p256 = ClientKey::from_pem(&client_key_pem("client-p256.pem")).unwrap();
    let rsa = ClientKey::from_pem(&client_key_pem("client-rsa.pem"))
        .unwrap()
        .with_algorithm(Algorithm::PS256)
        .unwrap();
    let options = Options {
        client_jwks: Some(serde_json::json!({"keys": [p256.public_jwk(), rsa.public_jwk()]})),
        // Each use of the session's token refreshes it.
        access_token_ttl: Some(30),
        always_refresh_tokens: true,
        ..Options::default()
    };
    // The RSA key as a PEM: RS256 by default, which `fapi2` turns to PS256.
    for pem in ["client-p256.pem", "client-rsa.pem"] {
        let (_op, base) = login_app_with(options.clone(), |op| {
            LoginProvider::builder("fapi")
                .issuer(&op.issuer)
                .client_id(FAPI_CLIENT)
                .client_key_pem(client_key_pem(pem))
                .dpop_key(client_key_pem("dpop-p256.pem"))
                .scopes(["openid", "read"])
                .authorize_param("resource", API)
                .fapi2()
        })
        .await;
        // The authorization request is pushed: the browser carries only its handle.
        let start = client()
            .get(format!("{base}/auth/fapi/login"))
            .send()
            .await
            .unwrap();
        assert_eq!(start.status(), 303, "{pem}");
        let to = url::Url::parse(&location(&start)).unwrap();
        let names: Vec<String> = to.query_pairs().map(|(k, _)| k.into_owned()).collect();
        assert!(names.contains(&"request_uri".to_owned()), "{pem}: {to}");
        assert!(!names.contains(&"code_challenge".to_owned()), "{pem}: {to}");

        let (callback, browser) = log_in(&base, "fapi", "dave").await;
        assert_eq!(
            callback.status(),
            303,
            "{pem}: {}",
            callback.text().await.unwrap_or_default()
        );
        assert_eq!(session_claims(&browser, &base).await["sub"], "dave");
        // A sender-constrained token (bound to the DPoP key), refreshed with the same
        // client authentication and proof.
        let first = session_token(&browser, &base).await;
        assert!(
            jwt_claims(&first)["cnf"]["jkt"].is_string(),
            "{pem}: DPoP-bound"
        );
        let second = session_token(&browser, &base).await;
        assert_ne!(first, second, "{pem}: refreshed");
        assert_eq!(jwt_claims(&second)["cnf"], jwt_claims(&first)["cnf"]);
    }
}

/// The provider does hold the client to the profile: the same client with assertions
/// aimed at the token endpoint (what `fapi2` refuses at build) is refused there.
#[tokio::test]
async fn the_provider_refuses_what_fapi2_would_have_refused_at_build() {
    let p256 = ClientKey::from_pem(&client_key_pem("client-p256.pem")).unwrap();
    let options = Options {
        client_jwks: Some(serde_json::json!({"keys": [p256.public_jwk()]})),
        ..Options::default()
    };
    let (_op, base) = login_app_with(options, |op| {
        LoginProvider::builder("fapi")
            .issuer(&op.issuer)
            .client_id(FAPI_CLIENT)
            .client_key(p256)
            .dpop_key(client_key_pem("dpop-p256.pem"))
            .assertion_audience(oauth2::client::AssertionAudience::Endpoint)
    })
    .await;
    let start = client()
        .get(format!("{base}/auth/fapi/login"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let (status, body) = (start.status(), start.text().await.unwrap());
    assert!(!status.is_success() && status != 303, "{status}: {body}");
    assert!(body.contains("invalid_client"), "{status}: {body}");
}
