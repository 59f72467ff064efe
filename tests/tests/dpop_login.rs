//! The login's own tokens DPoP-bound (RFC 9449) at oidc-provider: with a `dpop_key`,
//! the code exchange carries a proof, the provider binds the access token to the key,
//! userinfo is read with a proof, and the app calls an API with
//! `LoginSession::api_headers`, which that API (DPoP allowed, introspection) accepts;
//! the same token sent as a bearer token is refused.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use oauth2::config::Dpop;
use oauth2::login::{Login, LoginProvider, LoginSession, Userinfo};
use oauth2::{Authenticated, Authenticator, Provider};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::OpenIdProvider;
use oauth2_tests::{client, serve};
use tokio::net::TcpListener;

const SECRET: &str = "the DPoP login test's session secret, 32+ bytes";
const RESOURCE_SERVER: (&str, &str) = ("interop-rs", "interop-rs-secret-interop-rs-secret");

/// The P-256 key of the login's proofs (`tests/support/dpop.rs`'s `KEY`).
const DPOP_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwO
B09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXp
tqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER
-----END PRIVATE KEY-----";

/// An API for the provider's tokens: it introspects them (the login's are opaque,
/// for no resource, so without an audience) and accepts DPoP.
async fn api(op: &OpenIdProvider) -> String {
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("op")
                .issuer(&op.issuer)
                .danger_accept_any_audience()
                .introspection_client_id(RESOURCE_SERVER.0)
                .introspection_client_secret(RESOURCE_SERVER.1)
                .dpop(Dpop::Allowed),
        )
        .build()
        .unwrap();
    auth.ready().await;
    let routes = Router::new().route(
        "/whoami",
        get(|auth: Authenticated| async move {
            format!("{} {}", auth.subject().unwrap(), auth.dpop_jkt().is_some())
        }),
    );
    format!("{}/whoami", serve(routes.layer(auth.layer())).await)
}

/// `/call` calls the API with the session's headers; `/bearer-call` with its token as
/// a bearer token.
async fn call(State(api): State<String>, session: LoginSession) -> String {
    let headers = session.api_headers("GET", &api).await.unwrap();
    let res = client().get(&api).headers(headers).send().await.unwrap();
    format!("{} {}", res.status().as_u16(), res.text().await.unwrap())
}

async fn bearer_call(State(api): State<String>, session: LoginSession) -> String {
    let token = session.access_token().await.unwrap();
    let res = client().get(&api).bearer_auth(token).send().await.unwrap();
    res.status().as_u16().to_string()
}

#[tokio::test]
async fn a_login_with_a_dpop_key_binds_its_tokens_and_signs_its_api_calls() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = OpenIdProvider::for_app(&base).await;
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(
            op.web_login("oidc")
                .scopes(["openid", "profile"])
                // A userinfo call that fails fails the login: it must go with a proof.
                .userinfo(Userinfo::Required)
                .dpop_key(DPOP_KEY),
        )
        .build()
        .unwrap();
    let api = api(&op).await;
    let app = Router::new()
        .route("/call", get(call))
        .route("/bearer-call", get(bearer_call))
        .with_state(api)
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let b = Browser::new();
    let start = b.navigate(&format!("{base}/auth/oidc/login")).await;
    let callback = b.authorize(&location(&start), &base, "alice").await;
    // The code exchange with a proof, and userinfo with the bound token: both pass.
    let done = b.get(&callback).await;
    assert_eq!(done.status(), 303, "{:?}", done.text().await);

    let res = b.get(&format!("{base}/call")).await;
    assert_eq!(res.text().await.unwrap(), "200 alice true");
    // The same token alone is useless.
    let res = b.get(&format!("{base}/bearer-call")).await;
    assert_eq!(res.text().await.unwrap(), "401");
}

#[test]
fn a_dpop_key_that_is_not_a_p256_pkcs8_key_is_refused_at_build() {
    let e = LoginProvider::builder("oidc")
        .issuer("https://login.example")
        .client_id("app")
        .dpop_key("-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----")
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("dpop_key"));
    assert!(e.to_string().contains("PKCS #8"), "{e}");
}
