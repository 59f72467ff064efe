//! Client authentication with signed assertions (RFC 7523, OpenID Connect Core §9)
//! against the certified oidc-provider: `private_key_jwt` with P-256 (ES256) and RSA
//! (PS256) keys and `client_secret_jwt`, on the login's requests to the provider (the
//! pushed authorization request and the code exchange); a key the provider does not
//! know is refused there and reported.

use oauth2::Algorithm;
use oauth2::client::{ClientAuth, ClientKey};
use oauth2::login::LoginProvider;
use oauth2_tests::op::{Options, PKJWT_CLIENT, SECRET_JWT_CLIENT, log_in, login_app_with};
use oauth2_tests::session_claims;

fn key(file: &str) -> ClientKey {
    let path = format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"));
    ClientKey::from_pem(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The provider with both registered public keys; access tokens that live 30 s (so
/// that each use refreshes: a session refreshes a token expiring within a minute) and
/// refresh tokens for every login.
fn options() -> Options {
    let p256 = key("client-p256.pem");
    let rsa = key("client-rsa.pem")
        .with_algorithm(Algorithm::PS256)
        .unwrap();
    Options {
        client_jwks: Some(serde_json::json!({"keys": [p256.public_jwk(), rsa.public_jwk()]})),
        access_token_ttl: Some(30),
        always_refresh_tokens: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn private_key_jwt_logs_in_with_an_es256_or_ps256_key() {
    for client_key in [
        key("client-p256.pem"),
        key("client-rsa.pem")
            .with_algorithm(Algorithm::PS256)
            .unwrap(),
    ] {
        let alg = client_key.algorithm();
        let (op, base) = login_app_with(options(), |op| {
            LoginProvider::builder("pkjwt")
                .issuer(&op.issuer)
                .client_id(PKJWT_CLIENT)
                .client_key(client_key)
        })
        .await;
        let (callback, browser) = log_in(&base, "pkjwt", "alice").await;
        assert_eq!(
            callback.status(),
            303,
            "{alg}: {}",
            callback.text().await.unwrap_or_default()
        );
        assert_eq!(
            session_claims(&browser, &base).await["sub"],
            "alice",
            "{alg}"
        );
        // A refresh, authenticated the same way: a new access token each time.
        let first = oauth2_tests::session_token(&browser, &base).await;
        let second = oauth2_tests::session_token(&browser, &base).await;
        assert!(!first.is_empty() && !second.is_empty(), "{alg}: refreshed");
        assert_ne!(first, second, "{alg}: each use refreshes");
        drop(op);
    }
}

#[tokio::test]
async fn client_secret_jwt_logs_in() {
    let (_op, base) = login_app_with(Options::default(), |op| {
        LoginProvider::builder("secretjwt")
            .issuer(&op.issuer)
            .client_id(SECRET_JWT_CLIENT.0)
            .client_secret(SECRET_JWT_CLIENT.1)
            .client_auth(ClientAuth::SecretJwt)
    })
    .await;
    let (callback, browser) = log_in(&base, "secretjwt", "bob").await;
    assert_eq!(
        callback.status(),
        303,
        "{}",
        callback.text().await.unwrap_or_default()
    );
    assert_eq!(session_claims(&browser, &base).await["sub"], "bob");
}

#[tokio::test]
async fn a_key_the_provider_does_not_know_is_refused_and_reported() {
    let (_op, base) = login_app_with(options(), |op| {
        LoginProvider::builder("pkjwt")
            .issuer(&op.issuer)
            .client_id(PKJWT_CLIENT)
            .client_key(key("client-unregistered.pem"))
    })
    .await;
    let start = oauth2_tests::client()
        .get(format!("{base}/auth/pkjwt/login"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    // The pushed authorization request (or, without PAR, the code exchange) carries the
    // assertion: the provider says `invalid_client`, and the app says so.
    let status = start.status();
    let body = start.text().await.unwrap();
    assert!(
        status.is_server_error() || status.is_client_error(),
        "{status}: {body}"
    );
    assert!(body.contains("invalid_client"), "{status}: {body}");
}
