//! Opaque access tokens by introspection (RFC 7662) against oidc-provider: its
//! `urn:example:api:opaque` resource gets opaque tokens, which the resource server
//! (`interop-rs`) introspects; its other resources get JWTs, which never reach the
//! introspection endpoint.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::{Authenticated, Authenticator, Provider, ProviderBuilder, RequireScopes};
use oauth2_tests::op::{OpenIdProvider, Options};
use oauth2_tests::{client, error_of, get_with_token, serve};

const SERVICE: (&str, &str) = OpenIdProvider::SERVICE;
const RESOURCE_SERVER: (&str, &str) = ("interop-rs", "interop-rs-secret-interop-rs-secret");
const OPAQUE: &str = "urn:example:api:opaque";
const JWT: &str = "urn:example:api:es256";

async fn token(op: &OpenIdProvider, resource: &str, scope: &str) -> String {
    op.service_token(resource, scope).await
}

/// The provider, introspecting as `interop-rs` with `secret`, accepting both resources.
fn provider(op: &OpenIdProvider, secret: &str) -> ProviderBuilder {
    Provider::builder("oidc-provider")
        .issuer(&op.issuer)
        .audience([OPAQUE, JWT])
        .introspection_client_id(RESOURCE_SERVER.0)
        .introspection_client_secret(secret)
}

/// `/client` answers the token's `client_id`; `/admin` needs scope `admin`.
async fn app(auth: &Authenticator) -> String {
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("discovery and JWKS");
    let routes = Router::new()
        .route(
            "/client",
            get(|auth: Authenticated| async move {
                auth.claim("client_id")
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            }),
        )
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopes::new(["admin"])),
        );
    serve(routes.layer(auth.layer())).await
}

#[tokio::test]
async fn opaque_tokens_are_introspected_and_jwts_are_not() {
    let op = OpenIdProvider::start(Options::default()).await;
    let auth = Authenticator::builder()
        .provider(provider(&op, RESOURCE_SERVER.1))
        .build()
        .unwrap();
    let url = app(&auth).await;

    let opaque = token(&op, OPAQUE, "read").await;
    assert_eq!(opaque.matches('.').count(), 0, "an opaque token: {opaque}");
    let res = get_with_token(&url, "/client", &opaque).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), SERVICE.0);
    // Its scope comes from the introspection answer.
    let e = error_of(get_with_token(&url, "/admin", &opaque).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    let admin = token(&op, OPAQUE, "read admin").await;
    assert_eq!(get_with_token(&url, "/admin", &admin).await.status(), 200);

    // The second request for the same token is answered from the cache.
    let before = auth.token_cache_stats().unwrap();
    assert_eq!(get_with_token(&url, "/client", &opaque).await.status(), 200);
    let after = auth.token_cache_stats().unwrap();
    assert_eq!(after.hits, before.hits + 1);

    // A JWT of the same provider goes the JWT way.
    let jwt = token(&op, JWT, "read").await;
    assert_eq!(jwt.matches('.').count(), 2);
    assert_eq!(get_with_token(&url, "/client", &jwt).await.status(), 200);

    // A made-up token: the provider says it is not active.
    let e = error_of(get_with_token(&url, "/client", "made-up-opaque-token").await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("not active"), "{}", e.description);
    let challenge = e.challenge.unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(r#"error="invalid_token""#),
        "{challenge}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_refused_once_the_cache_lets_go() {
    let op = OpenIdProvider::start(Options::default()).await;
    // Without the cache, every request asks the provider.
    let auth = Authenticator::builder()
        .provider(provider(&op, RESOURCE_SERVER.1))
        .token_cache(0)
        .build()
        .unwrap();
    let url = app(&auth).await;
    let opaque = token(&op, OPAQUE, "read").await;
    assert_eq!(get_with_token(&url, "/client", &opaque).await.status(), 200);

    let revoked = client()
        .post(format!("{}/token/revocation", op.issuer))
        .basic_auth(SERVICE.0, Some(SERVICE.1))
        .form(&[("token", opaque.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let e = error_of(get_with_token(&url, "/client", &opaque).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("not active"), "{}", e.description);
}

/// An introspected token stays in the cache no longer than its `exp`: after it, the
/// cached entry itself refuses the token as expired, without asking the provider.
#[tokio::test]
async fn a_cached_introspection_ends_at_the_tokens_exp() {
    // `exp` is in whole seconds: the token lives between 2 and 3 s.
    let op = OpenIdProvider::start(Options {
        client_credentials_ttl: Some(3),
        ..Options::default()
    })
    .await;
    let auth = Authenticator::builder()
        .provider(provider(&op, RESOURCE_SERVER.1).leeway(Duration::ZERO))
        .build()
        .unwrap();
    let url = app(&auth).await;
    let opaque = token(&op, OPAQUE, "read").await;
    assert_eq!(get_with_token(&url, "/client", &opaque).await.status(), 200);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = auth.token_cache_stats().unwrap();
    let e = error_of(get_with_token(&url, "/client", &opaque).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("expired"), "{}", e.description);
    // Found in the cache (a hit), whose time check refused it.
    assert_eq!(auth.token_cache_stats().unwrap().hits, before.hits + 1);
}

#[tokio::test]
async fn an_active_token_for_another_audience_is_refused() {
    let op = OpenIdProvider::start(Options::default()).await;
    let auth = Authenticator::builder()
        .provider(provider(&op, RESOURCE_SERVER.1).audience("urn:example:api:other"))
        .build()
        .unwrap();
    let url = app(&auth).await;
    let opaque = token(&op, OPAQUE, "read").await;
    let e = error_of(get_with_token(&url, "/client", &opaque).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.description.contains("audience"), "{}", e.description);
}

/// The endpoint refusing the resource server, or unreachable: the token could not be
/// checked, which is the server's problem (503 with `Retry-After`), not the client's;
/// JWTs are still validated.
#[tokio::test]
async fn an_introspection_endpoint_that_does_not_answer_is_a_503() {
    let op = OpenIdProvider::start(Options::default()).await;
    let opaque = token(&op, OPAQUE, "read").await;
    let jwt = token(&op, JWT, "read").await;

    let closed = format!("http://{}/introspect", oauth2_tests::free_addr());
    for provider in [
        provider(&op, "not-the-secret"),
        provider(&op, RESOURCE_SERVER.1).introspection_endpoint(closed),
    ] {
        let auth = Authenticator::builder().provider(provider).build().unwrap();
        let url = app(&auth).await;
        let res = get_with_token(&url, "/client", &opaque).await;
        assert!(res.headers().contains_key("retry-after"));
        let e = error_of(res).await;
        assert_eq!(e.status, 503);
        assert!(e.description.contains("introspection"), "{}", e.description);
        assert_eq!(get_with_token(&url, "/client", &jwt).await.status(), 200);
    }
}

/// The resource server may authenticate as any client the provider registered:
/// `client_secret_post`, `client_secret_jwt`, `private_key_jwt` (chosen by the key it has),
/// as well as the default `client_secret_basic`; a key the provider does not know is
/// refused there, and the token could not be checked (503).
#[tokio::test]
async fn each_client_authentication_method_introspects() {
    use oauth2::client::{ClientAuth, ClientKey};
    use oauth2_tests::op::{RS_PKJWT, RS_POST, RS_SECRET_JWT, client_key_pem};
    let key = ClientKey::from_pem(&client_key_pem("client-p256.pem")).unwrap();
    let op = OpenIdProvider::start(Options {
        client_jwks: Some(serde_json::json!({"keys": [key.public_jwk()]})),
        ..Options::default()
    })
    .await;
    let opaque = token(&op, OPAQUE, "read").await;
    let base = || {
        Provider::builder("oidc-provider")
            .issuer(&op.issuer)
            .audience([OPAQUE, JWT])
    };
    let configured = [
        (
            "client_secret_post",
            base()
                .introspection_client_id(RS_POST.0)
                .introspection_client_secret(RS_POST.1)
                .introspection_client_auth(ClientAuth::SecretPost),
        ),
        (
            "client_secret_jwt",
            base()
                .introspection_client_id(RS_SECRET_JWT.0)
                .introspection_client_secret(RS_SECRET_JWT.1)
                .introspection_client_auth(ClientAuth::SecretJwt),
        ),
        (
            "private_key_jwt",
            base()
                .introspection_client_id(RS_PKJWT)
                .introspection_client_key_pem(client_key_pem("client-p256.pem")),
        ),
    ];
    for (method, provider) in configured {
        let auth = Authenticator::builder().provider(provider).build().unwrap();
        let url = app(&auth).await;
        let res = get_with_token(&url, "/client", &opaque).await;
        assert_eq!(res.status(), 200, "{method}");
        assert_eq!(res.text().await.unwrap(), SERVICE.0, "{method}");
    }

    let unknown = base()
        .introspection_client_id(RS_PKJWT)
        .introspection_client_key_pem(client_key_pem("client-unregistered.pem"));
    let auth = Authenticator::builder().provider(unknown).build().unwrap();
    let url = app(&auth).await;
    let e = error_of(get_with_token(&url, "/client", &opaque).await).await;
    assert_eq!(e.status, 503);

    // A method without its credential fails at build, naming the setting.
    let e = Authenticator::builder()
        .provider(
            base()
                .introspection_client_id(RS_PKJWT)
                .introspection_client_secret("a-secret")
                .introspection_client_auth(ClientAuth::PrivateKeyJwt),
        )
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("introspection_client_auth"), "{e}");
}
