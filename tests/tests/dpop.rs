//! DPoP-bound access tokens (RFC 9449) from oidc-provider: its token endpoint binds a
//! token to the key of the proof sent with the token request; the API then needs a
//! fresh proof of that key for each request.

use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use oauth2::config::Dpop;
use oauth2::dpop::ReplayCache;
use oauth2::guard::{Guard, Protected};
use oauth2::session::{PostgresStore, RedisStore};
use oauth2::{Authenticated, Authenticator, Provider, ProviderBuilder};
use oauth2_tests::dpop::{DpopKey, KEY, OTHER_KEY};
use oauth2_tests::op::{OpenIdProvider, Options};
use oauth2_tests::services;
use oauth2_tests::{ErrorResponse, client, error_of, serve};

const JWT: &str = "urn:example:api:es256";
const OPAQUE: &str = "urn:example:api:opaque";
const RESOURCE_SERVER: (&str, &str) = ("interop-rs", "interop-rs-secret-interop-rs-secret");

/// A client_credentials token for `resource`, bound to `key` when given.
async fn token(op: &OpenIdProvider, resource: &str, key: Option<&DpopKey>) -> String {
    let url = format!("{}/token", op.issuer);
    let mut request = client()
        .post(&url)
        .basic_auth(OpenIdProvider::SERVICE.0, Some(OpenIdProvider::SERVICE.1))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read"),
            ("resource", resource),
        ]);
    if let Some(key) = key {
        request = request.header("dpop", key.proof("POST", &url, None));
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    let expected = if key.is_some() { "DPoP" } else { "Bearer" };
    assert_eq!(body["token_type"], expected);
    body["access_token"].as_str().unwrap().to_owned()
}

fn provider(op: &OpenIdProvider, mode: Dpop) -> ProviderBuilder {
    Provider::builder("op")
        .issuer(&op.issuer)
        .audience([JWT, OPAQUE])
        .introspection_client_id(RESOURCE_SERVER.0)
        .introspection_client_secret(RESOURCE_SERVER.1)
        .dpop(mode)
}

/// `POST /transfer` takes only DPoP-bound tokens, as `#[protect(..., dpop)]` writes.
struct Transfer;
impl Guard<Authenticated> for Transfer {
    const PROVIDERS: &'static [&'static str] = &["op"];
    const DPOP: bool = true;
}

async fn app(auth: &Authenticator) -> String {
    serve(routes(auth).await.layer(auth.layer())).await
}

/// The app wired as the README wires `providers.layer()`: no path needs a token, each
/// handler's extractor checks its own.
async fn app_behind_extension(auth: &Authenticator) -> String {
    serve(routes(auth).await.layer(auth.extension())).await
}

async fn routes(auth: &Authenticator) -> Router {
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("discovery and JWKS");
    Router::new()
            .route(
                "/client",
                get(|auth: Authenticated| async move {
                    let bound = auth.dpop_jkt().is_some();
                    format!(
                        "{} {bound}",
                        auth.claim("client_id").unwrap().as_str().unwrap()
                    )
                }),
            )
            .route(
                "/transfer",
                post(|Protected(_, _): Protected<Transfer, Authenticated>| async { "sent" }),
            )
            // Public when the test says so: the handler's extractor checks the token.
            .route(
                "/public",
                get(|auth: Option<Authenticated>| async move {
                    auth.map_or("anonymous", |_| "signed in")
                }),
            )
}

/// oidc-provider, and an API for its tokens whose provider is in `mode`.
async fn start(mode: Dpop) -> (OpenIdProvider, String) {
    let op = OpenIdProvider::start(Options::default()).await;
    let auth = Authenticator::builder()
        .provider(provider(&op, mode))
        .build()
        .unwrap();
    let base = app(&auth).await;
    (op, base)
}

/// `method` `url` with `Authorization: {scheme} {token}` and the proofs given.
async fn call(
    method: &str,
    url: &str,
    scheme: &str,
    token: &str,
    proofs: &[String],
) -> reqwest::Response {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut request = client()
        .request(method, url)
        .header("authorization", format!("{scheme} {token}"));
    for proof in proofs {
        request = request.header("dpop", proof);
    }
    request.send().await.unwrap()
}

/// The error, which must carry a `DPoP` challenge listing the proof algorithms.
async fn dpop_error(response: reqwest::Response) -> ErrorResponse {
    let e = error_of(response).await;
    let challenge = e.challenge.as_deref().unwrap_or_default();
    assert!(challenge.starts_with("DPoP "), "{challenge}");
    assert!(challenge.contains(r#"algs="RS256"#), "{challenge}");
    e
}

#[tokio::test]
async fn a_dpop_bound_token_needs_a_fresh_proof_of_its_key_for_each_request() {
    let (op, base) = start(Dpop::Allowed).await;
    let url = format!("{base}/client");
    let bound = token(&op, JWT, Some(&KEY)).await;

    let proof = KEY.proof("GET", &url, Some(&bound));
    let res = call("GET", &url, "DPoP", &bound, std::slice::from_ref(&proof)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "interop-service true");

    // RFC 9449 §4.3 compares `htu` after RFC 3986 §6.2.2 normalisation: a client that
    // percent-encodes an unreserved character, or writes hex digits in lowercase, names
    // the same URL.
    for htu in [format!("{base}/%63lient"), format!("{base}/%63%6c%69ent")] {
        let res = call(
            "GET",
            &url,
            "DPoP",
            &bound,
            &[KEY.proof("GET", &htu, Some(&bound))],
        )
        .await;
        assert_eq!(res.status(), 200, "{htu}");
    }

    // The same proof again: a replay.
    let e = dpop_error(call("GET", &url, "DPoP", &bound, &[proof]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_dpop_proof"));
    assert!(e.description.contains("used before"), "{}", e.description);

    // Each part of the proof must fit this request and this token.
    let other = |claims: serde_json::Value| KEY.sign(&claims);
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    let ath = oauth2_tests::dpop::ath(&bound);
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![], "no DPoP proof"),
        (
            vec![
                KEY.proof("GET", &url, Some(&bound)),
                KEY.proof("GET", &url, Some(&bound)),
            ],
            "several",
        ),
        (vec![KEY.proof("POST", &url, Some(&bound))], "htm"),
        (
            vec![KEY.proof("GET", &format!("{base}/other"), Some(&bound))],
            "htu",
        ),
        (vec![KEY.proof("GET", &url, None)], "ath"),
        (vec![KEY.proof("GET", &url, Some("another token"))], "ath"),
        (
            vec![other(serde_json::json!({
                "jti": "old", "htm": "GET", "htu": url, "iat": now() - 600, "ath": ath,
            }))],
            "too old",
        ),
        (
            vec![OTHER_KEY.proof("GET", &url, Some(&bound))],
            "not the key the token is bound to",
        ),
    ];
    for (proofs, expected) in cases {
        let e = dpop_error(call("GET", &url, "DPoP", &bound, &proofs).await).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (401, "invalid_dpop_proof"),
            "{expected}"
        );
        assert!(
            e.description.contains(expected),
            "{} ({expected})",
            e.description
        );
    }

    // A bound token as a plain bearer token: whoever stole it lacks the key.
    let e = dpop_error(call("GET", &url, "Bearer", &bound, &[]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("DPoP-bound"), "{}", e.description);

    // An unbound token stays a bearer token, and is not taken as a DPoP one.
    let plain = token(&op, JWT, None).await;
    let res = call("GET", &url, "Bearer", &plain, &[]).await;
    assert_eq!(res.text().await.unwrap(), "interop-service false");
    let proof = KEY.proof("GET", &url, Some(&plain));
    let e = dpop_error(call("GET", &url, "DPoP", &plain, &[proof]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("not DPoP-bound"),
        "{}",
        e.description
    );

    // An opaque token bound by the provider: introspection says `cnf.jkt`.
    let opaque = token(&op, OPAQUE, Some(&KEY)).await;
    let proof = KEY.proof("GET", &url, Some(&opaque));
    let res = call("GET", &url, "DPoP", &opaque, &[proof]).await;
    assert_eq!(res.text().await.unwrap(), "interop-service true");
    let e = dpop_error(call("GET", &url, "Bearer", &opaque, &[]).await).await;
    assert!(e.description.contains("DPoP-bound"), "{}", e.description);

    // A route that takes only DPoP-bound tokens.
    let transfer = format!("{base}/transfer");
    let e = dpop_error(call("POST", &transfer, "Bearer", &plain, &[]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("only DPoP-bound"),
        "{}",
        e.description
    );
    let proof = KEY.proof("POST", &transfer, Some(&bound));
    let res = call("POST", &transfer, "DPoP", &bound, &[proof]).await;
    assert_eq!(res.status(), StatusCode::OK.as_u16());
}

#[tokio::test]
async fn a_provider_that_requires_dpop_refuses_bearer_tokens() {
    let (op, base) = start(Dpop::Required).await;
    let url = format!("{base}/client");
    let plain = token(&op, JWT, None).await;
    let e = dpop_error(call("GET", &url, "Bearer", &plain, &[]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("accepts only DPoP-bound"),
        "{}",
        e.description
    );
    // No token at all: the challenge names DPoP too.
    let res = client().get(&url).send().await.unwrap();
    dpop_error(res).await;

    let bound = token(&op, JWT, Some(&KEY)).await;
    let proof = KEY.proof("GET", &url, Some(&bound));
    assert_eq!(
        call("GET", &url, "DPoP", &bound, &[proof]).await.status(),
        200
    );
}

/// With server nonces, a proof without the current nonce gets one in `DPoP-Nonce`,
/// and the proof signed again with it passes, at every instance with the secret.
#[tokio::test]
async fn a_server_with_nonces_hands_one_out_and_then_accepts_it() {
    let op = OpenIdProvider::start(Options::default()).await;
    let secret = "the DPoP nonce secret of every instance";
    let mut urls = Vec::new();
    for _ in 0..2 {
        let auth = Authenticator::builder()
            .provider(provider(&op, Dpop::Allowed))
            .dpop_nonce_secret(secret)
            .build()
            .unwrap();
        urls.push(format!("{}/client", app(&auth).await));
    }
    let bound = token(&op, JWT, Some(&KEY)).await;
    let proof = KEY.proof("GET", &urls[0], Some(&bound));
    let res = call("GET", &urls[0], "DPoP", &bound, &[proof]).await;
    let nonce = res.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    let e = dpop_error(res).await;
    assert_eq!((e.status, e.error.as_str()), (401, "use_dpop_nonce"));

    let with_nonce = |url: &str| KEY.proof_with_nonce("GET", url, Some(&bound), Some(&nonce));
    let res = call("GET", &urls[0], "DPoP", &bound, &[with_nonce(&urls[0])]).await;
    assert_eq!(res.status(), 200);
    let res = call("GET", &urls[1], "DPoP", &bound, &[with_nonce(&urls[1])]).await;
    assert_eq!(res.status(), 200, "the other instance accepts the nonce");

    let made_up = KEY.proof_with_nonce("GET", &urls[0], Some(&bound), Some("AAAAAAAAAAA"));
    let e = dpop_error(call("GET", &urls[0], "DPoP", &bound, &[made_up]).await).await;
    assert_eq!(e.error, "use_dpop_nonce");
    assert!(e.description.contains("not current"), "{}", e.description);
}

/// The nonce a `use_dpop_nonce` challenge hands out now (for a proof without one).
async fn nonce_now(url: &str, token: &str) -> String {
    let res = call(
        "GET",
        url,
        "DPoP",
        token,
        &[KEY.proof("GET", url, Some(token))],
    )
    .await;
    assert_eq!(res.status(), 401);
    res.headers()["dpop-nonce"].to_str().unwrap().to_owned()
}

/// With a two-second nonce period: once the period turns, a proof with the previous
/// nonce still passes and the response hands out the current one (RFC 9449 §8.2), at a
/// route behind the layer, at a public route whose extractor checks the token, and at
/// a route of an app wired as the README wires `providers.layer()` (`extension()`,
/// where the handler's extractor checks); one more period on, the old nonce is refused.
#[tokio::test]
async fn a_nonce_of_the_last_period_passes_and_the_response_hands_out_the_next() {
    let op = OpenIdProvider::start(Options::default()).await;
    let auth = Authenticator::builder()
        .provider(provider(&op, Dpop::Allowed))
        .dpop_nonce_secret("the DPoP nonce secret of every instance")
        .dpop_nonce_period(Duration::from_secs(2))
        .public_path("/public")
        .build()
        .unwrap();
    let base = app(&auth).await;
    let (client, public) = (format!("{base}/client"), format!("{base}/public"));
    let extension = format!("{}/client", app_behind_extension(&auth).await);
    let bound = token(&op, JWT, Some(&KEY)).await;
    let with = |url: &str, nonce: &str| KEY.proof_with_nonce("GET", url, Some(&bound), Some(nonce));

    let old = nonce_now(&client, &bound).await;
    let mut current = old.clone();
    while current == old {
        tokio::time::sleep(Duration::from_millis(100)).await;
        current = nonce_now(&client, &bound).await;
    }
    for url in [&client, &public, &extension] {
        let res = call("GET", url, "DPoP", &bound, &[with(url, &old)]).await;
        assert_eq!(res.status(), 200, "{url}");
        let next = res
            .headers()
            .get("dpop-nonce")
            .map(|v| v.to_str().unwrap().to_owned());
        let body = res.text().await.unwrap();
        assert!(
            body.ends_with(" true") || body == "signed in",
            "{url}: {body}"
        );
        let next = next.unwrap_or_else(|| panic!("{url}: no new nonce"));
        assert_ne!(next, old, "{url}");
        let res = call("GET", url, "DPoP", &bound, &[with(url, &next)]).await;
        assert_eq!(res.status(), 200, "{url}: the nonce handed out passes");
    }

    while nonce_now(&client, &bound).await == current {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let e = dpop_error(call("GET", &client, "DPoP", &bound, &[with(&client, &old)]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "use_dpop_nonce"));
    assert!(e.description.contains("not current"), "{}", e.description);
}

#[tokio::test]
async fn the_nonce_period_is_whole_seconds_up_to_an_hour_and_needs_nonces() {
    for period in [0, 500, 1500, 3_601_000] {
        let built = Authenticator::builder()
            .provider(
                Provider::builder("p")
                    .issuer("https://p.example")
                    .audience("api"),
            )
            .dpop_nonce_secret([7; 32])
            .dpop_nonce_period(Duration::from_millis(period))
            .build();
        let e = built.expect_err("refused").to_string();
        assert!(e.contains("dpop_nonce_period"), "{e}");
    }
    let e = Authenticator::builder()
        .provider(
            Provider::builder("p")
                .issuer("https://p.example")
                .audience("api"),
        )
        .dpop_nonce_period(Duration::from_secs(30))
        .build()
        .expect_err("a period without nonces")
        .to_string();
    assert!(e.contains("without dpop_nonce_secret"), "{e}");
}

#[tokio::test]
async fn without_dpop_the_scheme_is_refused_and_bound_tokens_too() {
    let (op, base) = start(Dpop::Disabled).await;
    let url = format!("{base}/client");
    let bound = token(&op, JWT, Some(&KEY)).await;
    let proof = KEY.proof("GET", &url, Some(&bound));
    let e = error_of(call("GET", &url, "DPoP", &bound, &[proof]).await).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    let e = error_of(call("GET", &url, "Bearer", &bound, &[]).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("DPoP-bound"), "{}", e.description);
    // The challenge does not offer a scheme this API refuses.
    assert!(e.challenge.unwrap().starts_with("Bearer "));
}

/// Two instances of the API behind one load balancer share the `jti`s they have seen
/// through Redis or PostgreSQL: a proof accepted by one is a replay at the other.
#[tokio::test]
async fn instances_sharing_a_store_accept_a_proof_once() {
    let test = "dpop::instances_sharing_a_store";
    let (Some(redis), Some(postgres)) = (services::redis(test), services::postgres(test)) else {
        return;
    };
    let op = OpenIdProvider::start(Options::default()).await;
    let a = RedisStore::connect(redis).await.unwrap();
    let b = RedisStore::connect(redis).await.unwrap();
    two_instances_share_their_proofs(&op, a, b).await;
    let a = PostgresStore::connect(postgres).await.unwrap();
    let b = PostgresStore::connect(postgres).await.unwrap();
    two_instances_share_their_proofs(&op, a, b).await;
}

async fn two_instances_share_their_proofs<S: ReplayCache>(op: &OpenIdProvider, a: S, b: S) {
    let public = "https://api.example";
    let mut urls = Vec::new();
    for store in [a, b] {
        let auth = Authenticator::builder()
            .provider(provider(op, Dpop::Allowed))
            .dpop_base_url(public)
            .dpop_replay_store(store)
            .build()
            .unwrap();
        urls.push(app(&auth).await);
    }
    let bound = token(op, JWT, Some(&KEY)).await;
    // Both sit behind `https://api.example`, which the proof names.
    let proof = KEY.proof("GET", &format!("{public}/client"), Some(&bound));
    let (first, second) = (format!("{}/client", urls[0]), format!("{}/client", urls[1]));
    let get = |url: String, proof: String| {
        let bound = bound.clone();
        async move { call("GET", &url, "DPoP", &bound, &[proof]).await }
    };
    assert_eq!(get(first, proof.clone()).await.status(), 200);
    let e = dpop_error(get(second.clone(), proof).await).await;
    assert!(e.description.contains("used before"), "{}", e.description);
    // The instance's own URL is not the public one.
    let local = KEY.proof("GET", &second, Some(&bound));
    let e = dpop_error(get(second, local).await).await;
    assert!(e.description.contains("htu"), "{}", e.description);
}
