//! The verified-token cache, over HTTP: a repeated token is verified once, still
//! expires on time, dies with the key that verified it, keeps its provider, and the
//! hot tokens survive a flood of distinct ones; stats show it, and it can be off.

use std::time::Duration;

use oauth2::dev::DevIssuer;
use oauth2::{Authenticator, AuthenticatorBuilder};
use oauth2_tests::{error_of, get_with_token, routes, serve};
use serde_json::Value;

/// The standard routes behind `auth`, keys loaded; the app's URL.
async fn start(auth: &Authenticator) -> String {
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("keys load");
    serve(routes().layer(auth.layer())).await
}

fn build(b: AuthenticatorBuilder) -> Authenticator {
    b.public_path("/").build().expect("authenticator")
}

#[tokio::test]
async fn a_repeated_token_is_verified_once_and_still_expires_on_time() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = build(Authenticator::builder().provider(idp.provider("dev").leeway(Duration::ZERO)));
    let url = start(&auth).await;
    // `exp` is in whole seconds, so the token lives between 2 and 3 s.
    let token = idp.token().subject("ada").expires_in(3).sign();
    for _ in 0..5 {
        assert_eq!(get_with_token(&url, "/me", &token).await.status(), 200);
    }
    let stats = auth.token_cache_stats().expect("on by default");
    assert_eq!(
        (stats.misses, stats.hits, stats.entries),
        (1, 4, 1),
        "{stats:?}"
    );
    // A hit never outlives the token: `exp` is checked on every request.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let e = error_of(get_with_token(&url, "/me", &token).await).await;
    assert_eq!(e.status, 401, "{e:?}");
    assert!(e.description.contains("expired"), "{e:?}");
    assert_eq!(auth.token_cache_stats().unwrap().entries, 0, "dropped");
}

#[tokio::test]
async fn a_cached_token_dies_with_the_key_that_verified_it() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = build(
        Authenticator::builder().provider(
            idp.provider("dev")
                .unknown_kid_cooldown(Duration::from_millis(10)),
        ),
    );
    let url = start(&auth).await;
    let old = idp.token().subject("bob").sign();
    assert_eq!(get_with_token(&url, "/me", &old).await.status(), 200);
    assert_eq!(get_with_token(&url, "/me", &old).await.status(), 200);
    // The provider rotates; a token with the new kid makes the app refetch the JWKS.
    idp.rotate();
    let new = idp.token().subject("bob").sign();
    assert_eq!(get_with_token(&url, "/me", &new).await.status(), 200);
    // The old token's key is gone: it is verified again, and fails.
    let e = error_of(get_with_token(&url, "/me", &old).await).await;
    assert_eq!(e.status, 401, "{e:?}");
}

#[tokio::test]
async fn each_cached_token_keeps_its_own_provider() {
    let (a, b) = (
        DevIssuer::start().await.unwrap(),
        DevIssuer::start().await.unwrap(),
    );
    let auth = build(
        Authenticator::builder()
            .provider(a.provider("a"))
            .provider(b.provider("b")),
    );
    let url = start(&auth).await;
    for (idp, name) in [(&a, "a"), (&b, "b"), (&a, "a"), (&b, "b")] {
        let token = idp.token().subject("same-sub").sign();
        for _ in 0..2 {
            let raw: Value = get_with_token(&url, "/raw", &token)
                .await
                .json()
                .await
                .unwrap();
            assert_eq!(raw["provider"], name, "{raw}");
        }
    }
    // And a token of `a` never answers for a route that needs `b`'s claims: the
    // provider is part of what is cached, not only the claims.
    assert!(auth.token_cache_stats().unwrap().hits >= 4);
}

/// More distinct tokens pass between two uses of the hot token than the cache holds,
/// so a plain LRU would have dropped it; the cache's admission policy keeps it.
#[tokio::test]
async fn a_flood_of_distinct_tokens_does_not_push_out_the_hot_one() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = build(
        Authenticator::builder()
            .provider(idp.provider("dev"))
            .token_cache(32),
    );
    let url = start(&auth).await;
    let hot = idp.token().subject("hot").sign();
    for _ in 0..3 {
        assert_eq!(get_with_token(&url, "/me", &hot).await.status(), 200);
    }
    for round in 0..4 {
        for i in 0..80 {
            let once = idp
                .token()
                .algorithm(oauth2::Algorithm::ES256)
                .subject(&format!("once-{round}-{i}"))
                .sign();
            assert_eq!(get_with_token(&url, "/me", &once).await.status(), 200);
        }
        let before = auth.token_cache_stats().unwrap();
        assert_eq!(get_with_token(&url, "/me", &hot).await.status(), 200);
        let after = auth.token_cache_stats().unwrap();
        assert_eq!(
            after.hits,
            before.hits + 1,
            "round {round}: the hot token is still cached: {after:?}"
        );
        assert!(after.entries <= 32, "bounded: {after:?}");
    }
    assert!(auth.token_cache_stats().unwrap().evictions >= 320 - 32);
}

#[tokio::test]
async fn the_cache_can_be_off() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = build(
        Authenticator::builder()
            .provider(idp.provider("dev"))
            .token_cache(0),
    );
    let url = start(&auth).await;
    let token = idp.token().sign();
    assert_eq!(get_with_token(&url, "/me", &token).await.status(), 200);
    assert!(auth.token_cache_stats().is_none());
    // Failures are never cached: a bad token stays bad, a good one good.
    let auth = build(Authenticator::builder().provider(idp.provider("dev")));
    let url = start(&auth).await;
    let bad = idp.token().audience("someone-else").sign();
    for _ in 0..2 {
        assert_eq!(
            error_of(get_with_token(&url, "/me", &bad).await)
                .await
                .status,
            401
        );
    }
    assert_eq!(auth.token_cache_stats().unwrap().entries, 0);
}
