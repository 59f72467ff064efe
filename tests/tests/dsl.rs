//! The macro DSL end to end: the surface of the README (`providers!`, `#[protect]`,
//! `#[derive(FromClaims)]`) served over HTTP on 127.0.0.1, with two dev issuers
//! standing in for `google` and `corp`.

use std::sync::OnceLock;

use axum::routing::{get, post};
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::{Algorithm, FromClaims, protect, providers};
use oauth2_tests::{client, error_of, get_with_token, serve};
use serde_json::json;

/// The dev issuers' URLs, known only once they run; `providers!` values are
/// expressions evaluated by `Providers::load()`.
static ISSUERS: OnceLock<[String; 2]> = OnceLock::new();

fn issuer(i: usize) -> String {
    ISSUERS.get().expect("set before Providers::load")[i].clone()
}

providers! {
    google {
        issuer: issuer(0),
        audience: "1234.apps.googleusercontent.com",
    }
    corp {
        issuer: issuer(1),
        audience: ["api://corp", "corp-cli"],
        jwks_url: format!("{}/jwks", issuer(1)),
        algorithms: [RS256, ES256],
        leeway: 30s,
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    email: Option<String>,
    #[claim(rename = "preferred_username")]
    username: String,
    #[claim(path = "realm_access.roles", default)]
    roles: Vec<String>,
    #[claim(scopes)]
    scopes: oauth2::Scopes,
    aud: Vec<String>,
}

#[protect(provider = "google", claims = User)]
async fn me(user: User) -> Json<serde_json::Value> {
    Json(json!({
        "sub": user.sub, "email": user.email, "username": user.username,
        "roles": user.roles, "scopes": user.scopes.iter().collect::<Vec<_>>(), "aud": user.aud,
    }))
}

#[protect(provider = "corp", claims = User, scopes = ["items:write"])]
async fn create(Json(item): Json<serde_json::Value>, user: User) -> Json<serde_json::Value> {
    Json(json!({"item": item, "by": user.sub}))
}

#[protect(provider = any("google", "corp"), claims = User, require = user.roles.iter().any(|r| r == "admin"))]
async fn admin(user: User) -> &'static str {
    let _ = user;
    "hello admin"
}

#[protect(provider = "google", claims = User, optional)]
async fn maybe(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

#[protect(provider = "google")]
async fn ping() -> &'static str {
    "pong"
}

mod from_env {
    oauth2::providers! {
        corp { issuer: env("OAUTH2_DSL_TEST_UNSET_ISSUER"), audience: "api" }
    }
}

struct Setup {
    google: DevIssuer,
    corp: DevIssuer,
    url: String,
}

async fn setup() -> Setup {
    let google = DevIssuer::start().await.expect("google dev issuer");
    let corp = DevIssuer::start().await.expect("corp dev issuer");
    ISSUERS
        .set([google.issuer().to_owned(), corp.issuer().to_owned()])
        .expect("one setup per test binary");
    let providers = Providers::load().expect("providers");
    providers.ready().await;
    let app = Router::new()
        .route("/", get(|| async { "public" }))
        .route("/me", get(me))
        .route("/items", post(create))
        .route("/admin", get(admin))
        .route("/maybe", get(maybe))
        .route("/ping", get(ping))
        .layer(providers.layer());
    let url = serve(app).await;
    Setup { google, corp, url }
}

/// One test, in steps: the providers' issuers live in a static that one setup fills.
#[tokio::test]
async fn the_documented_surface_works_over_http() {
    let Setup { google, corp, url } = setup().await;
    let g = || {
        google
            .token()
            .audience("1234.apps.googleusercontent.com")
            .claim("preferred_username", "al")
    };
    let c = || {
        corp.token()
            .audience(json!(["api://corp"]))
            .claim("preferred_username", "bo")
    };

    // Generated items.
    assert_eq!(Providers::NAMES, ["google", "corp"]);
    assert_eq!((Google::NAME, Corp::NAME), ("google", "corp"));

    // Typed claims: rename, nested path, default, Option, scopes, `aud` as one value.
    let token = g()
        .subject("alice")
        .claim("realm_access", json!({"roles": ["admin", "dev"]}))
        .scope("read write")
        .sign();
    let res = get_with_token(&url, "/me", &token).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"sub": "alice", "email": null, "username": "al", "roles": ["admin", "dev"],
               "scopes": ["read", "write"], "aud": ["1234.apps.googleusercontent.com"]})
    );
    let res = get_with_token(
        &url,
        "/me",
        &g().claim("email", "a@x")
            .without_claim("realm_access")
            .sign(),
    )
    .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["email"].clone(), body["roles"].clone()),
        (json!("a@x"), json!([]))
    );

    // A valid token that lacks a required claim: 401 naming the claim.
    let e = error_of(
        get_with_token(
            &url,
            "/me",
            &google
                .token()
                .audience("1234.apps.googleusercontent.com")
                .sign(),
        )
        .await,
    )
    .await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert_eq!(e.description, "token has no `preferred_username` claim");
    // A claim of the wrong type: 401 naming it.
    let e = error_of(get_with_token(&url, "/me", &g().claim("email", 5).sign()).await).await;
    assert_eq!(e.status, 401);
    assert!(
        e.description.starts_with("claim `email` is invalid"),
        "{}",
        e.description
    );

    // The other provider's valid token is refused on a google-only route.
    let e = error_of(get_with_token(&url, "/me", &c().sign()).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("provider `corp`"),
        "{}",
        e.description
    );
    // No token: 400 with an RFC 6750 challenge.
    let e = error_of(client().get(format!("{url}/me")).send().await.unwrap()).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    assert!(e.challenge.unwrap().starts_with("Bearer realm=\"api\""));

    // Scopes (here from an `scp` array) and a body extractor placed before the claims.
    let post = |token: String, body: &'static str| {
        let url = url.clone();
        async move {
            client()
                .post(format!("{url}/items"))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
        }
    };
    let res = post(
        c().claim("scp", json!(["items:write"])).sign(),
        r#"{"n": 1}"#,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap(),
        json!({"item": {"n": 1}, "by": "dev-user"})
    );
    let e = error_of(post(c().scope("items:read").sign(), r#"{"n": 1}"#).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    assert!(e.challenge.unwrap().contains(r#"scope="items:write""#));
    // The token is checked before the body is read: a bad token with a bad body is a 401.
    let e = error_of(post("not-a-jwt".into(), "{broken").await).await;
    assert_eq!(e.status, 401);

    // `corp`'s leeway (30 s) and algorithms (RS256, ES256) come from the macro.
    let scoped = || c().claim("scp", json!(["items:write"]));
    assert_eq!(
        post(scoped().expires_in(-20).sign(), "{}").await.status(),
        200
    );
    assert_eq!(
        post(scoped().expires_in(-45).sign(), "{}").await.status(),
        401
    );
    assert_eq!(
        post(scoped().algorithm(Algorithm::ES256).sign(), "{}")
            .await
            .status(),
        200
    );
    let e = error_of(post(scoped().algorithm(Algorithm::EdDSA).sign(), "{}").await).await;
    assert_eq!(e.status, 401);
    assert!(e.description.contains("EdDSA"), "{}", e.description);

    // `require` over the claims, for either provider.
    let admin = json!({"roles": ["admin"]});
    assert_eq!(
        get_with_token(
            &url,
            "/admin",
            &g().claim("realm_access", admin.clone()).sign()
        )
        .await
        .status(),
        200
    );
    let res = get_with_token(&url, "/admin", &c().claim("realm_access", admin).sign()).await;
    assert_eq!(res.text().await.unwrap(), "hello admin");
    let e = error_of(get_with_token(&url, "/admin", &g().sign()).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "access_denied"));

    // `optional`: anonymous without a (valid) token, the user with one.
    let text =
        |res: reqwest::Response| async move { (res.status().as_u16(), res.text().await.unwrap()) };
    assert_eq!(
        text(client().get(format!("{url}/maybe")).send().await.unwrap()).await,
        (200, String::new())
    );
    assert_eq!(
        text(get_with_token(&url, "/maybe", "garbage").await).await,
        (200, String::new())
    );
    assert_eq!(
        text(get_with_token(&url, "/maybe", &g().subject("zoe").sign()).await).await,
        (200, "zoe".into())
    );
    assert_eq!(
        text(get_with_token(&url, "/maybe", &c().sign()).await).await,
        (200, String::new())
    );

    // A guard without claims.
    assert_eq!(
        text(
            get_with_token(
                &url,
                "/ping",
                &g().without_claim("preferred_username").sign()
            )
            .await
        )
        .await,
        (200, "pong".into())
    );
    assert_eq!(
        get_with_token(&url, "/ping", &c().sign()).await.status(),
        401
    );
    assert_eq!(
        client()
            .get(format!("{url}/ping"))
            .send()
            .await
            .unwrap()
            .status(),
        400
    );
    // Routes without #[protect] stay open under `providers.layer()`.
    assert_eq!(
        client()
            .get(format!("{url}/"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // `env("...")` values are read by `load()`, and a missing one is named.
    let e = from_env::Providers::load().unwrap_err();
    assert_eq!(
        e.to_string(),
        "environment variable OAUTH2_DSL_TEST_UNSET_ISSUER (`issuer` of provider \"corp\") is not set"
    );
    assert!(
        matches!(e, oauth2::ConfigError::Env { ref variable, .. } if variable == "OAUTH2_DSL_TEST_UNSET_ISSUER")
    );
}
