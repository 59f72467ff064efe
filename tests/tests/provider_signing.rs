//! What oidc-provider signs differently for some clients, as the standards allow: ID
//! and logout tokens signed HS256 with the client secret (OpenID Connect Core §10.1),
//! and userinfo answered as a signed JWT (§5.3.2). Each used to make every login fail.

use oauth2::Algorithm;
use oauth2::login::{LoginProvider, LoginProviderBuilder, Userinfo};
use oauth2_tests::op::{HS_CLIENT, OpenIdProvider, SIGNED_USERINFO_CLIENT, log_in, login_app};

fn hs(op: &OpenIdProvider) -> LoginProviderBuilder {
    LoginProvider::builder("hs")
        .issuer(&op.issuer)
        .client_id(HS_CLIENT.0)
        .client_secret(HS_CLIENT.1)
        .backchannel_logout()
}

#[tokio::test]
async fn hs256_id_and_logout_tokens_keyed_with_the_client_secret() {
    let (op, base) =
        login_app(|op| hs(op).id_token_algorithms([Algorithm::HS256, Algorithm::RS256])).await;
    let (done, browser) = log_in(&base, "hs", "ada").await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    let me = oauth2_tests::session_claims(&browser, &base).await;
    assert_eq!(me["sub"], "ada");
    assert_eq!(me["aud"], HS_CLIENT.0);

    // The provider's logout at its own page sends an HS256 logout token: it ends the
    // session.
    browser
        .confirm_logout(&format!("{}/session/end", op.issuer))
        .await;
    assert_eq!(browser.get(&format!("{base}/me")).await.status(), 401);
}

#[tokio::test]
async fn hs256_id_tokens_are_refused_unless_configured() {
    let (_op, base) = login_app(hs).await;
    let (done, _) = log_in(&base, "hs", "ada").await;
    assert_eq!(done.status(), 400);
    let body = done.text().await.unwrap();
    assert!(body.contains("invalid_id_token"), "{body}");
    assert!(body.contains("HS256"), "{body}");
}

#[tokio::test]
async fn a_signed_userinfo_answer_is_verified_and_read() {
    let (op, base) = login_app(|op| {
        LoginProvider::builder("signed")
            .issuer(&op.issuer)
            .client_id(SIGNED_USERINFO_CLIENT.0)
            .client_secret(SIGNED_USERINFO_CLIENT.1)
            .userinfo(Userinfo::Required)
    })
    .await;
    let (done, browser) = log_in(&base, "signed", "bob").await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    let me = oauth2_tests::session_claims(&browser, &base).await;
    // `email` and `name` come only from userinfo (oidc-provider keeps them out of ID
    // tokens issued with an access token).
    assert_eq!(me["email"], "bob@example.com", "{me}");
    assert_eq!(me["name"], "Bob Example", "{me}");
    assert_eq!(me["sub"], "bob");
    // What the login read was indeed a JWT.
    let token = oauth2_tests::session_token(&browser, &base).await;
    let info = oauth2_tests::client()
        .get(format!("{}/me", op.issuer))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        info.headers()["content-type"],
        "application/jwt; charset=utf-8"
    );
}
