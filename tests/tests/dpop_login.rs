//! The login's own tokens DPoP-bound (RFC 9449) at oidc-provider: with a `dpop_key`,
//! the code exchange carries a proof, the provider binds the access token to the key,
//! userinfo is read with a proof, and the app calls an API with
//! `LoginSession::api_headers`, which that API (DPoP allowed, introspection) accepts;
//! the same token sent as a bearer token is refused. Again with server nonces required
//! by the provider (token endpoint and userinfo) and by the API.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use oauth2::config::Dpop;
use oauth2::login::{Login, LoginProvider, LoginSession, PushedAuthorization, Userinfo};
use oauth2::{Authenticated, Authenticator, Provider};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::dpop::KEY;
use oauth2_tests::op::{OpenIdProvider, Options};
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
/// for no resource, so without an audience) and accepts DPoP; with `nonces`, its
/// proofs must carry its server nonce.
async fn api(op: &OpenIdProvider, nonces: bool) -> String {
    let mut builder = Authenticator::builder().provider(
        Provider::builder("op")
            .issuer(&op.issuer)
            .danger_accept_any_audience()
            .introspection_client_id(RESOURCE_SERVER.0)
            .introspection_client_secret(RESOURCE_SERVER.1)
            .dpop(Dpop::Allowed),
    );
    if nonces {
        builder = builder.dpop_nonce_secret("the DPoP login test's API nonce secret");
    }
    let auth = builder.build().unwrap();
    auth.ready().await;
    let routes = Router::new().route(
        "/whoami",
        get(|auth: Authenticated| async move {
            format!("{} {}", auth.subject().unwrap(), auth.dpop_jkt().is_some())
        }),
    );
    format!("{}/whoami", serve(routes.layer(auth.layer())).await)
}

/// `/call` calls the API with the session's headers, and again with the nonce when
/// the API asks for one; `/bearer-call` with its token as a bearer token.
async fn call(State(api): State<String>, session: LoginSession) -> String {
    let headers = session.api_headers("GET", &api).await.unwrap();
    let mut res = client().get(&api).headers(headers).send().await.unwrap();
    let mut asked = "";
    if res.status() == 401
        && let Some(nonce) = res.headers().get("dpop-nonce")
    {
        let nonce = nonce.to_str().unwrap().to_owned();
        let headers = session
            .api_headers_with_nonce("GET", &api, &nonce)
            .await
            .unwrap();
        res = client().get(&api).headers(headers).send().await.unwrap();
        asked = " (with the API's nonce)";
    }
    format!(
        "{} {}{asked}",
        res.status().as_u16(),
        res.text().await.unwrap()
    )
}

async fn bearer_call(State(api): State<String>, session: LoginSession) -> String {
    let token = session.access_token().await.unwrap();
    let res = client().get(&api).bearer_auth(token).send().await.unwrap();
    res.status().as_u16().to_string()
}

#[tokio::test]
async fn a_login_with_a_dpop_key_binds_its_tokens_and_signs_its_api_calls() {
    login_and_call(false).await;
}

/// The provider wants its nonce in every proof (the code exchange and userinfo retry
/// with it), and so does the API (the app calls again with its nonce).
#[tokio::test]
async fn with_server_nonces_the_login_and_its_api_calls_sign_again_with_the_nonce() {
    login_and_call(true).await;
}

async fn login_and_call(nonces: bool) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let op = OpenIdProvider::start(Options {
        apps: vec![base.clone()],
        dpop_nonces: nonces,
        // Tokens that expire within the minute are refreshed before each API call: the
        // refresh carries a proof too, and its token must be bound again.
        access_token_ttl: Some(30),
        always_refresh_tokens: true,
        ..Options::default()
    })
    .await;
    // Pushed with nonces; without, in the redirect, where the test can read it.
    let par = if nonces {
        PushedAuthorization::Auto
    } else {
        PushedAuthorization::Never
    };
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(
            op.web_login("oidc")
                .scopes(["openid", "profile"])
                // A userinfo call that fails fails the login: it must go with a proof.
                .userinfo(Userinfo::Required)
                .pushed_authorization(par)
                .dpop_key(DPOP_KEY),
        )
        .build()
        .unwrap();
    let api = api(&op, nonces).await;
    let app = Router::new()
        .route("/call", get(call))
        .route("/bearer-call", get(bearer_call))
        .with_state(api)
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let b = Browser::new();
    let start = b.navigate(&format!("{base}/auth/oidc/login")).await;
    if !nonces {
        // The code is bound to the login's key (RFC 9449 §10): the provider redeems it
        // only with a proof of that key.
        let to = url::Url::parse(&location(&start)).unwrap();
        let jkt = to
            .query_pairs()
            .find(|(k, _)| k == "dpop_jkt")
            .map(|(_, v)| v);
        assert_eq!(jkt.as_deref(), Some(KEY.jkt().as_str()), "{to}");
    }
    let callback = b.authorize(&location(&start), &base, "alice").await;
    // The code exchange with a proof, and userinfo with the bound token: both pass.
    let done = b.get(&callback).await;
    assert_eq!(done.status(), 303, "{:?}", done.text().await);

    let res = b.get(&format!("{base}/call")).await;
    let expected = if nonces {
        "200 alice true (with the API's nonce)"
    } else {
        "200 alice true"
    };
    assert_eq!(res.text().await.unwrap(), expected);
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
