//! The broker's signing keys and issuer routes, over HTTP, for each store: instances
//! started at the same moment on one empty store publish one JWKS and sign with one key;
//! a restart keeps it; a key is published before it signs and stays published after;
//! the JWKS holds public members only; bad settings fail at `build`.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use oauth2::issuer::Broker;
use oauth2::login::{Login, LoginProvider};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use oauth2_tests::services;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "the broker key test's session secret, 32+ bytes";

async fn stores(test: &str) -> Vec<(&'static str, Arc<dyn SessionStore>)> {
    let mut stores: Vec<(&'static str, Arc<dyn SessionStore>)> =
        vec![("memory", Arc::new(MemoryStore::new()))];
    if let Some(url) = services::redis(test) {
        stores.push(("redis", Arc::new(RedisStore::connect(url).await.unwrap())));
    }
    if let Some(url) = services::postgres(test) {
        stores.push((
            "postgres",
            Arc::new(PostgresStore::connect(url).await.unwrap()),
        ));
    }
    stores
}

fn login(
    base: &str,
    store: &Arc<dyn SessionStore>,
    broker: oauth2::issuer::BrokerBuilder,
) -> Login {
    oauth2_tests::broker_login(base, store, SECRET, broker)
}

/// Serves `login`'s routes on 127.0.0.1; its URL.
async fn serve(login: &Login) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app: Router = login.router();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn get(url: &str) -> (u16, String, Value) {
    let response = oauth2_tests::client().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.json().await.unwrap())
}

fn kids(jwks: &Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn header_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

/// `token` verifies with the key of its `kid` in `jwks`; its claims.
fn verify(token: &str, jwks: &Value, audience: &str) -> Value {
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("its kid is published");
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(header.alg);
    validation.set_audience(&[audience]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap()
        .claims
}

fn user() -> serde_json::Map<String, Value> {
    json!({"sub": "alice", "email": "alice@example.com", "nonce": "not copied"})
        .as_object()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn instances_on_one_store_publish_one_jwks_sign_with_one_key_and_keep_it_on_restart() {
    let test = "instances_on_one_store_publish_one_jwks_sign_with_one_key_and_keep_it_on_restart";
    for (name, store) in stores(test).await {
        // One broker: one public URL; each run its own, so the store starts empty.
        let base = format!("https://broker-{}.example", oauth2_tests::nanos());
        let broker = || {
            Broker::builder()
                .audience("https://api.example")
                .claims(["email"])
        };
        let instances: Vec<Login> = (0..3).map(|_| login(&base, &store, broker())).collect();
        let urls = futures_util::future::join_all(instances.iter().map(serve)).await;
        // All at once, on the empty store.
        let fetched = futures_util::future::join_all(
            urls.iter()
                .map(|u| get_owned(format!("{u}/auth/.well-known/jwks.json"))),
        )
        .await;
        let (status, cache, jwks) = fetched[0].clone();
        assert_eq!(status, 200, "{name}");
        assert!(cache.starts_with("public, max-age="), "{name}: {cache}");
        for (_, _, other) in &fetched[1..] {
            assert_eq!(other, &jwks, "{name}: one JWKS");
        }
        for key in jwks["keys"].as_array().unwrap() {
            assert_eq!(key["alg"], "ES256", "{name}");
            assert_eq!(key["use"], "sig", "{name}");
            assert_eq!(key["kty"], "EC", "{name}");
            assert!(key.get("d").is_none(), "{name}: no private member");
        }
        // Each instance signs with the one current key, which the others publish.
        let tokens = futures_util::future::join_all(instances.iter().map(|l| async {
            l.broker()
                .unwrap()
                .access_token(&user(), Some("read"))
                .await
        }))
        .await;
        let tokens: Vec<String> = tokens.into_iter().map(|t| t.unwrap().token).collect();
        assert!(
            tokens
                .iter()
                .all(|t| header_kid(t) == header_kid(&tokens[0])),
            "{name}"
        );
        let claims = verify(&tokens[2], &jwks, "https://api.example");
        assert_eq!(claims["iss"], format!("{base}/auth"), "{name}");
        assert_eq!(claims["sub"], "alice");
        assert_eq!(claims["email"], "alice@example.com", "a configured claim");
        assert!(claims.get("nonce").is_none(), "only the configured claims");
        assert_eq!(claims["scope"], "read");
        assert!(claims["jti"].as_str().unwrap().len() >= 32);
        let header = jsonwebtoken::decode_header(&tokens[0]).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));

        // A restart: a new instance on the same store has the same keys.
        drop(instances);
        let restarted = login(&base, &store, broker());
        let url = serve(&restarted).await;
        let (_, _, again) = get(&format!("{url}/auth/.well-known/jwks.json")).await;
        assert_eq!(again, jwks, "{name}: the restart kept the keys");
        let token = restarted
            .broker()
            .unwrap()
            .access_token(&user(), None)
            .await
            .unwrap();
        assert_eq!(header_kid(&token.token), header_kid(&tokens[0]), "{name}");
        verify(&tokens[0], &again, "https://api.example");
    }
}

async fn get_owned(url: String) -> (u16, String, Value) {
    get(&url).await
}

#[tokio::test]
async fn a_key_is_published_before_it_signs_and_after_it_is_retired() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let base = format!("https://broker-{}.example", oauth2_tests::nanos());
    let l = login(
        &base,
        &store,
        Broker::builder()
            .audience("https://api.example")
            .token_ttl(Duration::from_secs(1))
            .rotate_every(Duration::from_secs(2)),
    );
    let broker = l.broker().unwrap();
    let first = broker.access_token(&user(), None).await.unwrap().token;
    let before = broker.jwks().await.unwrap();
    let old_kid = header_kid(&first);
    // Wait for the next generation.
    let mut next = first.clone();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        next = broker.access_token(&user(), None).await.unwrap().token;
        if header_kid(&next) != old_kid {
            break;
        }
    }
    let new_kid = header_kid(&next);
    assert_ne!(new_kid, old_kid, "a new key signs after rotate_every");
    assert!(
        kids(&before).contains(&new_kid),
        "published before it signed"
    );
    let after = broker.jwks().await.unwrap();
    assert!(
        kids(&after).contains(&old_kid),
        "the retired key is still published"
    );
    verify(&next, &after, "https://api.example");
}

#[tokio::test]
async fn the_discovery_document_names_the_issuer_keys_and_grants() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let base = format!("https://broker-{}.example", oauth2_tests::nanos());
    let l = login(
        &base,
        &store,
        Broker::builder().audience("https://api.example"),
    );
    let url = serve(&l).await;
    let (status, cache, doc) = get(&format!("{url}/auth/.well-known/openid-configuration")).await;
    assert_eq!(status, 200);
    assert!(cache.contains("max-age=3600"), "{cache}");
    assert_eq!(doc["issuer"], format!("{base}/auth"));
    assert_eq!(
        doc["jwks_uri"],
        format!("{base}/auth/.well-known/jwks.json")
    );
    assert_eq!(doc["token_endpoint"], format!("{base}/auth/token"));
    let grants: Vec<&str> = doc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g.as_str().unwrap())
        .collect();
    for grant in [
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:token-exchange",
        "urn:ietf:params:oauth:grant-type:device_code",
    ] {
        assert!(grants.contains(&grant), "{grant}");
    }
    // The same document as RFC 8414 metadata, the well-known path inserted before the
    // issuer's path (where MCP clients look first).
    let (status, _, rfc8414) = get(&format!(
        "{url}/.well-known/oauth-authorization-server/auth"
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(rfc8414, doc);
}

#[tokio::test]
async fn bad_broker_settings_fail_at_build_and_name_the_field() {
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let build = |b: oauth2::issuer::BrokerBuilder| {
        Login::builder()
            .base_url("https://app.example")
            .session_secret(SECRET)
            .session_store(Arc::clone(&store))
            .provider(
                LoginProvider::builder("oidc")
                    .issuer("https://login.example")
                    .client_id("app"),
            )
            .broker(b)
            .build()
            .unwrap_err()
            .to_string()
    };
    let e = build(Broker::builder());
    assert!(
        e.contains("broker.audience") && e.contains("not set"),
        "{e}"
    );
    let e = build(
        Broker::builder()
            .audience("api")
            .algorithm(oauth2::Algorithm::HS256),
    );
    assert!(
        e.contains("broker.algorithm") && e.contains("never HMAC"),
        "{e}"
    );
    let e = build(
        Broker::builder()
            .audience("api")
            .token_ttl(Duration::from_secs(600))
            .rotate_every(Duration::from_secs(900)),
    );
    assert!(e.contains("broker.rotate_every"), "{e}");
    let e = build(
        Broker::builder()
            .audience("api")
            .trusted_issuer("http://evil.example"),
    );
    assert!(e.contains("broker.trusted_issuers"), "{e}");
}
