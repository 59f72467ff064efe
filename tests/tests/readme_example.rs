//! The README's first example as a user copies it: its `User` reads a token shaped like
//! a Google ID token (no `preferred_username`, no roles, no `scope`) and one shaped like
//! a Keycloak access token. Keep `User` as the README has it.

use oauth2::dev::DevIssuer;
use oauth2::{Authenticator, FromClaims};
use serde_json::json;

#[derive(FromClaims)]
#[allow(dead_code)]
struct User {
    sub: String,
    email: Option<String>,
    #[claim(rename = "preferred_username")]
    username: Option<String>,
    #[claim(path = "realm_access.roles", default)]
    roles: Vec<String>,
    #[claim(scopes)]
    scopes: oauth2::Scopes,
}

async fn user_of(claims: serde_json::Value) -> User {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(idp.provider("google"))
        .build()
        .unwrap();
    auth.ready().await;
    let mut token = idp.token().without_claim("scope");
    for (name, value) in claims.as_object().unwrap() {
        token = token.claim(name, value.clone());
    }
    let valid = auth.validator().validate(&token.sign()).await.unwrap();
    User::from_claims(&valid).expect("the README's User reads this token")
}

#[tokio::test]
async fn the_readme_user_reads_a_google_id_token() {
    let user = user_of(json!({
        "sub": "110169484474386276334",
        "azp": "1234.apps.googleusercontent.com",
        "email": "ada@gmail.com",
        "email_verified": true,
        "name": "Ada Lovelace",
        "picture": "https://lh3.googleusercontent.com/a/x",
    }))
    .await;
    assert_eq!(user.sub, "110169484474386276334");
    assert_eq!(user.email.as_deref(), Some("ada@gmail.com"));
    assert_eq!(user.username, None);
    assert!(user.roles.is_empty());
    assert_eq!(user.scopes.iter().count(), 0);
}

#[tokio::test]
async fn the_readme_user_reads_a_keycloak_access_token() {
    let user = user_of(json!({
        "sub": "f1c2",
        "preferred_username": "ada",
        "realm_access": { "roles": ["admin", "offline_access"] },
        "scope": "openid items:write",
    }))
    .await;
    assert_eq!(user.username.as_deref(), Some("ada"));
    assert_eq!(user.roles, ["admin", "offline_access"]);
    assert!(user.scopes.contains("items:write"));
}
