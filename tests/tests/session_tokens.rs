//! A login session's tokens at the certified oidc-provider: one login, a token per API
//! (`LoginSession::access_token_for`, a refresh with `resource`, RFC 8707 §2.2), and
//! logout revoking the refresh token at the provider (RFC 7009).

use std::time::Duration;

use oauth2_tests::op::{OpenIdProvider, Options, log_in, login_app_with};
use oauth2_tests::{client, jwt_claims, session_token};

const ES256_API: &str = "urn:example:api:es256";
const RS256_API: &str = "urn:example:api:rs256";

/// The session's token for `resource` (its `/token-for`).
async fn token_for(browser: &oauth2_tests::browser::Browser, base: &str, resource: &str) -> String {
    let answer = browser
        .get(&format!("{base}/token-for?resource={resource}"))
        .await;
    assert_eq!(answer.status(), 200, "{resource}");
    answer.text().await.unwrap()
}

fn options() -> Options {
    Options {
        always_refresh_tokens: true,
        ..Options::default()
    }
}

#[tokio::test]
async fn one_login_gets_a_token_for_each_api_it_was_granted() {
    let (_op, base) = login_app_with(options(), |op| {
        op.web_login("oidc")
            .scopes(["openid", "read"])
            .authorize_param("resource", ES256_API)
            .authorize_param("resource", RS256_API)
    })
    .await;
    let (callback, browser) = log_in(&base, "oidc", "alice").await;
    assert_eq!(callback.status(), 303);
    let es = token_for(&browser, &base, ES256_API).await;
    let rs = token_for(&browser, &base, RS256_API).await;
    // Each token is for its API only, and for the same user.
    assert_eq!(jwt_claims(&es)["aud"], ES256_API);
    assert_eq!(jwt_claims(&rs)["aud"], RS256_API);
    assert_eq!(
        (
            jwt_claims(&es)["sub"].clone(),
            jwt_claims(&rs)["sub"].clone()
        ),
        ("alice".into(), "alice".into())
    );
    // Kept in the session: asked again, the same token.
    assert_eq!(token_for(&browser, &base, ES256_API).await, es);
    // The login's own token still works (the refresh tokens rotated meanwhile).
    assert!(!session_token(&browser, &base).await.is_empty());
    // A resource the login was not granted: the provider refuses, and the session ends
    // (a refused refresh ends it).
    let other = browser
        .get(&format!("{base}/token-for?resource=urn:example:api:eddsa"))
        .await;
    assert_eq!(other.status(), 401, "{}", other.text().await.unwrap());
}

/// Whether the provider still answers userinfo for `token` (an opaque access token of
/// the login's grant).
async fn userinfo_answers(op: &OpenIdProvider, token: &str) -> bool {
    let answer = client()
        .get(format!("{}/me", op.issuer))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    answer.status() == 200
}

#[tokio::test]
async fn logout_revokes_the_refresh_token_unless_told_to_keep_it() {
    for revoke in [true, false] {
        let (op, base) = login_app_with(options(), |op| {
            let login = op.web_login("oidc");
            if revoke {
                login
            } else {
                login.keep_refresh_token_at_logout()
            }
        })
        .await;
        let (callback, browser) = log_in(&base, "oidc", "carol").await;
        assert_eq!(callback.status(), 303);
        let access = session_token(&browser, &base).await;
        assert!(userinfo_answers(&op, &access).await);
        let out = browser.post_form(&format!("{base}/auth/logout")).await;
        assert_eq!(out.status(), 303);
        // Revocation runs after the answer: wait for it (oidc-provider revokes the
        // whole grant with its refresh token, so its access tokens stop working too).
        let mut revoked = false;
        for _ in 0..25 {
            if !userinfo_answers(&op, &access).await {
                revoked = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(revoked, revoke, "revoked at logout: {revoke}");
    }
}
