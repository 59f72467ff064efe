//! The library against a second OpenID Provider written by other people: Glewlwyd (C,
//! Debian's package), so that oidc-provider's habits do not become the library's. Its
//! own habits met here: its login page is an app over its API (driven by
//! `support/glewlwyd.rs`), its authorization response has no `iss`, its token type is
//! `bearer` in lowercase, its RFC 9068 access tokens name the scopes as `aud` (without
//! resource indicators), its ID tokens carry `c_hash` and `auth_time: 0` from the token
//! endpoint, every refresh rotates the refresh token, it lists `private_key_jwt` only
//! when signed client JWTs are allowed, refuses a client assertion whose `aud` is its
//! issuer (it wants the token endpoint), and answers a refused client with a bare 403.

use axum::Router;
use axum::routing::get;
use oauth2::config::Dpop;
use oauth2::login::{Login, LoginProvider, LoginSession, Userinfo};
use oauth2::{Authenticated, Authenticator, Provider};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::glewlwyd::{CLIENT, Glewlwyd};
use oauth2_tests::{error_of, get_with_token, services};
use serde_json::Value;

const SECRET: &str = "the Glewlwyd test's session secret, 32+ bytes";

/// The P-256 key of the login's DPoP proofs (`tests/support/dpop.rs`'s `KEY`).
const DPOP_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwO
B09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXp
tqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER
-----END PRIVATE KEY-----";

/// An app that logs in through Glewlwyd and serves `/api` to its access tokens (RFC
/// 9068 `at+jwt`, `aud` = the scope `openid`; DPoP allowed); with `dpop`, the login's
/// tokens are DPoP-bound and `/call` calls `/api` with the session's DPoP headers. The
/// provider, the app's base URL and the API's authenticator.
async fn start_with(dpop: bool) -> (Glewlwyd, String, Authenticator) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let g = Glewlwyd::start(&base).await;
    let provider = LoginProvider::builder("glewlwyd")
        .issuer(&g.issuer)
        .client_id(CLIENT.0)
        .client_secret(CLIENT.1)
        .userinfo(Userinfo::Required)
        .backchannel_logout();
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(if dpop {
            provider.dpop_key(DPOP_KEY)
        } else {
            provider
        })
        .build()
        .unwrap();
    let bearer = Authenticator::builder()
        .provider(
            Provider::builder("glewlwyd")
                .issuer(&g.issuer)
                .audience("openid")
                .required_typ("at+jwt")
                .dpop(Dpop::Allowed),
        )
        .build()
        .unwrap();
    let api_url = format!("{base}/api");
    let routes = oauth2_tests::session_routes()
        .route(
            "/call",
            get(|s: LoginSession| async move {
                let headers = s.api_headers("GET", &api_url).await.unwrap();
                let res = oauth2_tests::client()
                    .get(&api_url)
                    .headers(headers)
                    .send()
                    .await
                    .unwrap();
                format!("{} {}", res.status().as_u16(), res.text().await.unwrap())
            }),
        )
        .merge(login.router())
        .layer(login.layer());
    let api = Router::new().route(
        "/api",
        get(|t: Authenticated| async move {
            let bound = if t.dpop_jkt().is_some() {
                " (DPoP)"
            } else {
                ""
            };
            format!("{}{bound}", t.subject().unwrap_or("-"))
        }),
    );
    let app = routes.merge(api.layer(bearer.layer()));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (g, base, bearer)
}

async fn start() -> (Glewlwyd, String, Authenticator) {
    start_with(false).await
}

/// Logs `user` in through Glewlwyd's login page; the browser with the session.
async fn log_in(g: &Glewlwyd, base: &str, user: &str) -> Browser {
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/glewlwyd/login")).await;
    assert_eq!(start.status(), 303);
    let callback = g.authorize(&b, &location(&start), base, user).await;
    let done = b.get(&callback).await;
    assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
    b
}

async fn text(b: &Browser, url: &str) -> String {
    b.get(url).await.text().await.unwrap()
}

#[tokio::test]
async fn login_userinfo_refresh_and_bearer_tokens_with_glewlwyd() {
    if services::glewlwyd("login_userinfo_refresh_and_bearer_tokens_with_glewlwyd").is_none() {
        return;
    }
    let (g, base, _) = start().await;
    g.add_user("ada").await;
    let b = log_in(&g, &base, "ada").await;

    // The user: the ID token's `sub`, and userinfo's `name` and `email`.
    let me = oauth2_tests::session_claims(&b, &base).await;
    assert!(me["sub"].as_str().is_some_and(|s| !s.is_empty()), "{me}");
    assert_eq!(me["aud"], CLIENT.0, "{me}");
    assert_eq!(me["name"], "Ada Example", "{me}");
    assert_eq!(me["email"], "ada@example.com", "{me}");

    // Its access tokens (30 s, inside the refresh margin: each read refreshes, and
    // Glewlwyd rotates the refresh token each time) work at the API.
    let first = text(&b, &format!("{base}/token")).await;
    let second = text(&b, &format!("{base}/token")).await;
    let third = text(&b, &format!("{base}/token")).await;
    assert_ne!(first, second, "refreshed");
    assert_ne!(
        second, third,
        "refreshed again, with the rotated refresh token"
    );
    for token in [&first, &third] {
        let res = get_with_token(&base, "/api", token).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), me["sub"].as_str().unwrap());
    }

    // Its ID token is not an access token: typed `JWT`, with `nonce`.
    let id_token = text(&b, &format!("{base}/id-token")).await;
    let e = error_of(get_with_token(&base, "/api", &id_token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));

    // Logout ends the session and sends the browser to Glewlwyd's end_session
    // endpoint with the ID token as hint.
    let logout = b.post_form(&format!("{base}/auth/logout")).await;
    assert_eq!(logout.status(), 303);
    let to = location(&logout);
    assert!(
        to.starts_with(&format!("{}/end_session?", g.issuer)),
        "{to}"
    );
    assert!(to.contains("id_token_hint="), "{to}");
    let at_provider = b.get(&to).await;
    assert!(
        at_provider.status().is_redirection(),
        "{}",
        at_provider.status()
    );
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);
}

#[tokio::test]
async fn a_new_glewlwyd_key_is_picked_up_by_the_api() {
    if services::glewlwyd("a_new_glewlwyd_key_is_picked_up_by_the_api").is_none() {
        return;
    }
    let (g, base, bearer) = start().await;
    g.add_user("bob").await;
    let b = log_in(&g, &base, "bob").await;
    let before = text(&b, &format!("{base}/token")).await;
    assert_eq!(get_with_token(&base, "/api", &before).await.status(), 200);

    g.rotate("es2").await;
    let after = text(&b, &format!("{base}/token")).await;
    assert_eq!(header_kid(&after), "es2");
    assert_eq!(get_with_token(&base, "/api", &after).await.status(), 200);
    assert_eq!(
        bearer.key_stats("glewlwyd").unwrap().unknown_kid_refetches,
        1
    );
    // The old key is still published: its tokens still pass.
    let old = get_with_token(&base, "/api", &before).await;
    assert_eq!(old.status(), 200, "{:?}", error_of(old).await);
}

fn header_kid(jwt: &str) -> String {
    use base64::Engine as _;
    let header = jwt.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}

/// Glewlwyd binds the login's tokens to its DPoP key (RFC 9449); the API takes them
/// only with a proof of that key, which the session's headers carry.
#[tokio::test]
async fn glewlwyd_binds_the_logins_tokens_to_its_dpop_key() {
    if services::glewlwyd("glewlwyd_binds_the_logins_tokens_to_its_dpop_key").is_none() {
        return;
    }
    let (g, base, _) = start_with(true).await;
    g.add_user("carol").await;
    let b = log_in(&g, &base, "carol").await;
    let me = oauth2_tests::session_claims(&b, &base).await;
    let sub = me["sub"].as_str().unwrap();
    assert_eq!(
        text(&b, &format!("{base}/call")).await,
        format!("200 {sub} (DPoP)")
    );
    // Without the proof, a stolen bound token is refused.
    let token = text(&b, &format!("{base}/token")).await;
    let e = error_of(get_with_token(&base, "/api", &token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("DPoP-bound"), "{}", e.description);
}

/// A logout at Glewlwyd itself (its end_session endpoint and logout page) ends the app's
/// session through back-channel logout: Glewlwyd's logout token, checked by §2.6.
#[tokio::test]
async fn a_logout_at_glewlwyd_ends_the_apps_session_through_the_back_channel() {
    let test = "a_logout_at_glewlwyd_ends_the_apps_session_through_the_back_channel";
    if services::glewlwyd(test).is_none() {
        return;
    }
    let (g, base, _) = start().await;
    g.add_user("dave").await;
    g.add_user("erin").await;
    let dave = log_in(&g, &base, "dave").await;
    let erin = log_in(&g, &base, "erin").await;
    let id_token = text(&dave, &format!("{base}/id-token")).await;
    let end_session = format!("{}/end_session?id_token_hint={id_token}", g.issuer);
    g.end_session(&dave, &end_session).await;
    // Glewlwyd sends its logout tokens from a thread of its own.
    let started = std::time::Instant::now();
    while dave.get(&format!("{base}/me")).await.status() != 401 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the back-channel logout did not end the session: {}",
            g.log()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        erin.get(&format!("{base}/me")).await.status(),
        200,
        "another user's stays"
    );
}

/// An app whose login provider is Glewlwyd's client `rp-key`, which authenticates with
/// `private_key_jwt` (the test key) and assertions aimed at `audience`; `user` can log
/// in. The provider and the app's base URL.
async fn key_client_app(
    audience: oauth2::client::AssertionAudience,
    user: &str,
) -> (Glewlwyd, String) {
    let key =
        oauth2::client::ClientKey::from_pem(&oauth2_tests::op::client_key_pem("client-p256.pem"))
            .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let g = Glewlwyd::start(&base).await;
    g.add_key_client(
        &base,
        "rp-key",
        &serde_json::json!({"keys": [key.public_jwk()]}),
    )
    .await;
    g.add_user(user).await;
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(
            LoginProvider::builder("glewlwyd")
                .issuer(&g.issuer)
                .client_id("rp-key")
                .client_key(key)
                .assertion_audience(audience),
        )
        .build()
        .unwrap();
    let routes = oauth2_tests::session_routes()
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    (g, base)
}

/// `private_key_jwt` at Glewlwyd: its client keeps the public JWK set in a property, and
/// it takes only assertions aimed at its token endpoint (as Entra ID; oidc-provider and
/// FAPI 2.0 want the issuer): the code exchange and each refresh carry a fresh one.
#[tokio::test]
async fn glewlwyd_takes_the_logins_private_key_jwt() {
    if services::glewlwyd("glewlwyd_takes_the_logins_private_key_jwt").is_none() {
        return;
    }
    let (g, base) = key_client_app(oauth2::client::AssertionAudience::Endpoint, "grace").await;
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/glewlwyd/login")).await;
    assert_eq!(start.status(), 303, "{}", start.text().await.unwrap());
    let callback = g.authorize(&b, &location(&start), &base, "grace").await;
    let done = b.get(&callback).await;
    assert_eq!(
        done.status(),
        303,
        "{}\n{}",
        done.text().await.unwrap(),
        g.log()
    );
    let me = oauth2_tests::session_claims(&b, &base).await;
    assert_eq!(me["aud"], "rp-key", "{me}");
    // Refreshes (30 s tokens), each with a new assertion.
    let first = text(&b, &format!("{base}/token")).await;
    let second = text(&b, &format!("{base}/token")).await;
    assert_ne!(first, second, "refreshed");
}

/// The same client with assertions aimed at the issuer (the default): Glewlwyd refuses
/// with a bare 403, and the login's error says what to check.
#[tokio::test]
async fn glewlwyd_refuses_an_assertion_aimed_at_its_issuer_and_the_login_says_why() {
    if services::glewlwyd("glewlwyd_refuses_an_assertion_aimed_at_its_issuer").is_none() {
        return;
    }
    let (g, base) = key_client_app(oauth2::client::AssertionAudience::Issuer, "heidi").await;
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/glewlwyd/login")).await;
    let callback = g.authorize(&b, &location(&start), &base, "heidi").await;
    let refused = b.get(&callback).await;
    assert!(!refused.status().is_success() && refused.status() != 303);
    let body = refused.text().await.unwrap();
    assert!(
        body.contains("403") && body.contains("assertion_audience"),
        "{body}"
    );
}
