//! The broker's access tokens at a route it protects: its own tokens pass, and every
//! other bearer token is a 401 (bad signature, `alg: none`, HMAC, expired, another
//! audience, the identity provider's own tokens, a token signed with a key that is not
//! the broker's).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::Authenticated;
use oauth2::dev::DevIssuer;
use oauth2::issuer::{Broker, BrokerBuilder};
use oauth2::login::Login;
use oauth2::session::{MemoryStore, SessionStore};
use oauth2_tests::{error_of, get_with_token, serve};
use serde_json::json;

const SECRET: &str = "the broker token test's session secret, 32+";
const AUDIENCE: &str = "https://api.example";

fn login(base: &str, store: &Arc<dyn SessionStore>, secret: &str, broker: BrokerBuilder) -> Login {
    oauth2_tests::broker_login(base, store, secret, broker)
}

/// An access token of `login`'s broker for the test user.
async fn mint(login: &Login) -> String {
    let broker = login.broker().expect("a broker");
    broker.access_token(&user(), None).await.unwrap().token
}

fn user() -> serde_json::Map<String, serde_json::Value> {
    json!({"sub": "alice"}).as_object().unwrap().clone()
}

/// `/api/me` behind `auth`, answering the provider and subject; its base URL.
async fn protected(auth: &oauth2::Authenticator) -> String {
    let app = Router::new()
        .route(
            "/api/me",
            get(|auth: Authenticated| async move {
                format!("{} {}", auth.provider(), auth.subject().unwrap_or_default())
            }),
        )
        .layer(auth.layer());
    serve(app).await
}

#[tokio::test]
async fn only_the_brokers_own_valid_tokens_pass() {
    let base = format!("https://broker-{}.example", oauth2_tests::nanos());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let ours = login(
        &base,
        &store,
        SECRET,
        Broker::builder()
            .audience(AUDIENCE)
            // `iat` and `exp` are whole seconds: a 1 s token may live only a few
            // milliseconds. Three seconds leave it alive for the checks below.
            .token_ttl(Duration::from_secs(3))
            .rotate_every(Duration::from_secs(3600)),
    );
    let broker = ours.broker().unwrap();
    let auth = oauth2::Authenticator::builder()
        .provider(broker.bearer_provider("broker").leeway(Duration::ZERO))
        .build()
        .unwrap();
    let url = protected(&auth).await;

    let token = broker.access_token(&user(), None).await.unwrap().token;
    let ok = get_with_token(&url, "/api/me", &token).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "broker alice");

    let refused = |what: &'static str, token: String| {
        let url = url.clone();
        async move {
            let e = error_of(get_with_token(&url, "/api/me", &token).await).await;
            assert_eq!(e.status, 401, "{what}: {e:?}");
            assert_eq!(e.error, "invalid_token", "{what}: {e:?}");
            e.description
        }
    };
    // A signature changed.
    let (head, sig) = token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    refused("signature", format!("{head}.{flipped}{}", &sig[1..])).await;
    // `alg: none` with the broker's claims.
    let (_, payload, _) = {
        let mut parts = token.split('.');
        (parts.next(), parts.next().unwrap(), parts.next())
    };
    use base64::Engine as _;
    let none = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"alg": "none", "typ": "at+jwt"}).to_string());
    refused("alg none", format!("{none}.{payload}.")).await;
    // HMAC with the app's secret.
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.typ = Some("at+jwt".into());
    let hmac = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    refused("hmac", hmac).await;
    // Another broker with the same issuer name but its own keys (another store).
    let impostor_store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let impostor = login(
        &base,
        &impostor_store,
        "another app's secret, also 32 bytes long",
        Broker::builder().audience(AUDIENCE),
    );
    let forged = mint(&impostor).await;
    refused("foreign key", forged).await;
    // The same keys (same store, same rotation), but another audience.
    let other_audience = login(
        &base,
        &store,
        SECRET,
        Broker::builder()
            .audience("https://other.example")
            .rotate_every(Duration::from_secs(3600)),
    );
    let other = mint(&other_audience).await;
    refused("audience", other).await;
    // The identity provider's own token, even with the broker's audience.
    let idp = DevIssuer::start().await.unwrap();
    refused(
        "the provider's token",
        idp.token().audience(AUDIENCE).sign(),
    )
    .await;
    // Expired (no leeway): from the second its `exp` names.
    let exp = claims["exp"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    tokio::time::sleep(Duration::from_secs(exp).saturating_sub(now) + Duration::from_millis(50))
        .await;
    let description = refused("expired", token).await;
    assert!(description.contains("expired"), "{description}");
}

/// A peer broker served over HTTP, its issuer trusted: its tokens pass (keys from its
/// discovery document); a token that claims its issuer but is signed with another key
/// does not.
#[tokio::test]
async fn a_trusted_issuers_tokens_pass_only_with_that_issuers_keys() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let peer_base = format!("http://{}", listener.local_addr().unwrap());
    let peer_store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let peer = login(
        &peer_base,
        &peer_store,
        SECRET,
        Broker::builder().audience(AUDIENCE),
    );
    let peer_router: Router = peer.router();
    tokio::spawn(async move { axum::serve(listener, peer_router).await.unwrap() });

    let base = format!("https://broker-{}.example", oauth2_tests::nanos());
    let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let ours = login(
        &base,
        &store,
        SECRET,
        Broker::builder()
            .audience(AUDIENCE)
            .trusted_issuer(format!("{peer_base}/auth")),
    );
    let auth = oauth2::Authenticator::builder()
        .provider(ours.broker().unwrap().bearer_provider("broker"))
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("the peer's keys load through its discovery document");
    let url = protected(&auth).await;

    let genuine = mint(&peer).await;
    let ok = get_with_token(&url, "/api/me", &genuine).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(
        ok.text().await.unwrap(),
        "broker alice",
        "as the broker provider"
    );

    // The peer's issuer name, another key (another store).
    let other_store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
    let mallory = login(
        &peer_base,
        &other_store,
        SECRET,
        Broker::builder().audience(AUDIENCE),
    );
    let forged = mint(&mallory).await;
    let e = error_of(get_with_token(&url, "/api/me", &forged).await).await;
    assert_eq!(e.status, 401, "{e:?}");
    // The peer's token for another audience.
    let elsewhere = login(
        &peer_base,
        &peer_store,
        SECRET,
        Broker::builder().audience("https://other.example"),
    );
    let other = mint(&elsewhere).await;
    let e = error_of(get_with_token(&url, "/api/me", &other).await).await;
    assert_eq!(e.status, 401, "{e:?}");
}
