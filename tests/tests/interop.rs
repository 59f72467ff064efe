//! Interop with a real, certified OpenID Provider: npm `oidc-provider`, installed (by
//! `npm ci`, on first run) and started on 127.0.0.1 by this test. Its RFC 9068 JWT access
//! tokens, from the client_credentials grant and signed RS256, ES256 or EdDSA, are
//! validated through OIDC discovery.

use std::time::Duration;

use oauth2::{Authenticator, Provider};
use oauth2_tests::op::{OpenIdProvider, Options};
use oauth2_tests::{error_of, get_with_token, routes, serve};

const CLIENT_ID: &str = OpenIdProvider::SERVICE.0;
const RESOURCES: [&str; 3] = [
    "urn:example:api:rs256",
    "urn:example:api:es256",
    "urn:example:api:eddsa",
];

async fn start_provider() -> OpenIdProvider {
    OpenIdProvider::start(Options::default()).await
}

async fn access_token(op: &OpenIdProvider, resource: &str, scope: &str) -> String {
    op.service_token(resource, scope).await
}

#[tokio::test]
async fn access_tokens_of_a_certified_provider_validate_through_discovery() {
    let op = start_provider().await;
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("oidc-provider")
                .issuer(&op.issuer)
                .audience(RESOURCES)
                .required_typ("at+jwt"),
        )
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("discovery and JWKS");
    assert_eq!(auth.key_stats("oidc-provider").unwrap().keys, 3);
    let url = serve(routes().layer(auth.layer())).await;
    let get = |path: &'static str, token: String| {
        let url = url.clone();
        async move { get_with_token(&url, path, &token).await }
    };

    for resource in RESOURCES {
        let token = access_token(&op, resource, "read").await;
        let res = get("/me", token.clone()).await;
        assert_eq!(res.status(), 200, "{resource}");
        assert_eq!(res.text().await.unwrap(), CLIENT_ID);

        let e = error_of(get("/admin", token.clone()).await).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (403, "insufficient_scope"),
            "{resource}"
        );
        let admin = access_token(&op, resource, "read admin").await;
        assert_eq!(get("/admin", admin).await.status(), 200, "{resource}");

        // The last signature character changed: still base64url, no longer valid.
        let mut forged = token.into_bytes();
        let last = forged.len() - 2;
        forged[last] = if forged[last] == b'A' { b'B' } else { b'A' };
        let e = error_of(get("/me", String::from_utf8(forged).unwrap()).await).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (401, "invalid_token"),
            "{resource}"
        );
    }

    // A token for another resource of the same provider is refused by audience.
    let narrow = Authenticator::builder()
        .provider(
            Provider::builder("op")
                .issuer(&op.issuer)
                .audience(RESOURCES[0]),
        )
        .build()
        .unwrap();
    narrow.ready().await;
    let other = access_token(&op, RESOURCES[1], "read").await;
    let err = narrow.validator().validate(&other).await.unwrap_err();
    assert_eq!(err.kind(), oauth2::validation::ErrorKind::Audience);
}
