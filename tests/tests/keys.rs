//! The JWKS cache over HTTP: outages, rotation, refresh, single-flight refetch.

use std::time::Duration;

use oauth2::dev::{DevIssuer, Fault};
use oauth2::{Authenticator, ProviderBuilder};
use oauth2_tests::{client, error_of, get_with_token, routes, serve};

/// Fast retries and refreshes, so outages resolve within a test.
fn fast(p: ProviderBuilder) -> ProviderBuilder {
    p.retry_backoff(Duration::from_millis(50), Duration::from_millis(200))
        .fetch_timeout(Duration::from_millis(300))
}

async fn app(provider: ProviderBuilder) -> (Authenticator, String) {
    let auth = Authenticator::builder().provider(provider).build().unwrap();
    let url = serve(routes().layer(auth.layer())).await;
    (auth, url)
}

async fn status(url: &str, token: &str) -> u16 {
    get_with_token(url, "/me", token).await.status().as_u16()
}

async fn ready(auth: &Authenticator) {
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("keys should load");
}

/// Waits until `f` holds, polling; 30 s is "never" (a loaded machine is slow, not
/// that slow).
async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out waiting until {what}");
}

#[tokio::test]
async fn server_starts_while_the_provider_is_down_and_recovers() {
    let idp = DevIssuer::start().await.unwrap();
    idp.set_fault(Fault::Down);
    let (auth, url) = app(fast(idp.provider("dev"))).await;
    let token = idp.token().sign();

    let res = get_with_token(&url, "/me", &token).await;
    assert_eq!(res.status(), 503);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    let e = error_of(res).await;
    assert_eq!(e.error, "temporarily_unavailable");
    assert!(e.challenge.is_none());

    eventually("a retry has failed", || {
        auth.key_stats("dev").unwrap().failures >= 2
    })
    .await;
    idp.set_fault(Fault::None);
    ready(&auth).await;
    assert_eq!(status(&url, &token).await, 200);
    let stats = auth.key_stats("dev").unwrap();
    assert!(stats.last_success.is_some());
    assert_eq!(stats.keys, 3);
}

#[tokio::test]
async fn failed_refreshes_keep_the_previous_keys() {
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) =
        app(fast(idp.provider("dev")).refresh_interval(Duration::from_millis(100))).await;
    ready(&auth).await;
    let token = idp.token().sign();
    for fault in [
        Fault::Down,
        Fault::MalformedJwks,
        Fault::InvalidJwks,
        Fault::EmptyJwks,
        Fault::HugeJwks,
        Fault::Slow(Duration::from_secs(2)),
    ] {
        let before = auth.key_stats("dev").unwrap().failures;
        idp.set_fault(fault);
        eventually("a refresh has failed", || {
            auth.key_stats("dev").unwrap().failures > before
        })
        .await;
        assert_eq!(status(&url, &token).await, 200, "{fault:?}");
        assert_eq!(auth.key_stats("dev").unwrap().keys, 3, "{fault:?}");
    }
    idp.set_fault(Fault::None);
}

#[tokio::test]
async fn rotated_key_is_fetched_once_then_cooldown_applies() {
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) = app(idp.provider("dev")).await;
    ready(&auth).await;
    let old = idp.token().sign();
    assert_eq!(status(&url, &old).await, 200);

    idp.rotate();
    let jwks_before = idp.stats().jwks;
    assert_eq!(status(&url, &idp.token().sign()).await, 200);
    assert_eq!(idp.stats().jwks, jwks_before + 1);
    assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 1);

    // Within the cooldown, another unknown kid is rejected at once without a fetch.
    let res = client()
        .get(format!("{url}/me"))
        .bearer_auth(idp.token().kid("made-up").sign())
        .send()
        .await
        .unwrap();
    let e = error_of(res).await;
    assert_eq!(e.status, 401);
    assert!(e.description.contains("kid"), "{}", e.description);
    assert_eq!(status(&url, &old).await, 401);
    assert_eq!(idp.stats().jwks, jwks_before + 1);
    assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 1);
}

#[tokio::test]
async fn unknown_kid_refetch_is_allowed_again_after_the_cooldown() {
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) = app(idp
        .provider("dev")
        .unknown_kid_cooldown(Duration::from_millis(200)))
    .await;
    ready(&auth).await;
    assert_eq!(status(&url, &idp.token().kid("x").sign()).await, 401);
    tokio::time::sleep(Duration::from_millis(300)).await;
    idp.rotate();
    assert_eq!(status(&url, &idp.token().sign()).await, 200);
    assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 2);
}

#[tokio::test]
async fn many_concurrent_requests_with_a_new_kid_cause_one_fetch() {
    let idp = DevIssuer::start().await.unwrap();
    // Slow JWKS answers make the requests overlap with the fetch.
    let (auth, url) = app(idp.provider("dev").fetch_timeout(Duration::from_secs(5))).await;
    ready(&auth).await;
    idp.rotate();
    idp.set_fault(Fault::Slow(Duration::from_millis(300)));
    let token = idp.token().sign();
    let before = idp.stats().jwks;
    let requests: Vec<_> = (0..64)
        .map(|_| {
            let (url, token) = (url.clone(), token.clone());
            tokio::spawn(async move { status(&url, &token).await })
        })
        .collect();
    for r in requests {
        assert_eq!(r.await.unwrap(), 200);
    }
    assert_eq!(idp.stats().jwks - before, 1);
    assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 1);
}

#[tokio::test]
async fn periodic_refresh_runs_in_the_background() {
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) = app(idp
        .provider("dev")
        .refresh_interval(Duration::from_millis(150)))
    .await;
    ready(&auth).await;
    idp.rotate();
    let fetches = auth.key_stats("dev").unwrap().fetches;
    eventually("a refresh ran", || {
        auth.key_stats("dev").unwrap().fetches >= fetches + 2
    })
    .await;
    assert_eq!(status(&url, &idp.token().sign()).await, 200);
    assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 0);
}

#[tokio::test]
async fn cache_control_max_age_is_clamped_to_five_minutes_at_least() {
    let idp = DevIssuer::start().await.unwrap();
    idp.set_jwks_max_age(Some(1));
    let (auth, _url) = app(idp
        .provider("dev")
        .refresh_interval(Duration::from_millis(100)))
    .await;
    ready(&auth).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // max-age=1 became 5 minutes, overriding the 100 ms default interval.
    assert_eq!(idp.stats().jwks, 1);
    assert_eq!(auth.key_stats("dev").unwrap().fetches, 1);
}

#[tokio::test]
async fn discovered_issuer_must_equal_the_configured_one() {
    let idp = DevIssuer::start().await.unwrap();
    // Same server, other spelling: discovery names http://127.0.0.1:PORT.
    let issuer = format!("http://localhost:{}", idp.addr().port());
    let provider = fast(
        oauth2::Provider::builder("dev")
            .issuer(issuer)
            .audience("dev-api"),
    );
    let (auth, url) = app(provider).await;
    eventually("discovery failed twice", || {
        auth.key_stats("dev").unwrap().failures >= 2
    })
    .await;
    assert_eq!(idp.stats().jwks, 0);
    assert_eq!(status(&url, &idp.token().sign()).await, 401); // iss differs too
    assert_eq!(auth.key_stats("dev").unwrap().keys, 0);
}

#[tokio::test]
async fn keys_from_a_jwks_url_a_file_or_inline_json() {
    let idp = DevIssuer::start().await.unwrap();
    let path = std::env::temp_dir().join(format!("oauth2-jwks-{}.json", idp.addr().port()));
    std::fs::write(&path, idp.jwks().to_string()).unwrap();
    let token = idp.token().sign();
    for provider in [
        idp.provider("dev").jwks_url(idp.jwks_url()),
        idp.provider("dev").jwks_file(&path),
        idp.provider("dev").jwks_json(idp.jwks().to_string()),
    ] {
        let (auth, url) = app(provider).await;
        ready(&auth).await;
        assert_eq!(status(&url, &token).await, 200);
    }
    assert_eq!(idp.stats().discovery, 0);
    std::fs::remove_file(path).unwrap();
}

#[tokio::test]
async fn an_unchanged_key_set_costs_a_304_and_keeps_the_cached_tokens() {
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) = app(idp.provider("dev").unknown_kid_cooldown(Duration::ZERO)).await;
    ready(&auth).await;
    let token = idp.token().sign();
    assert_eq!(status(&url, &token).await, 200);

    // A made-up kid makes the cache ask again, conditionally: nothing changed.
    assert_eq!(status(&url, &idp.token().kid("made-up").sign()).await, 401);
    assert_eq!(idp.stats().jwks_not_modified, 1);
    let keys = auth.key_stats("dev").unwrap();
    assert_eq!((keys.unknown_kid_refetches, keys.unchanged), (1, 1));
    let before = auth.token_cache_stats().unwrap();
    assert_eq!(status(&url, &token).await, 200);
    let after = auth.token_cache_stats().unwrap();
    assert_eq!(after.hits, before.hits + 1, "the token is still cached");
    assert_eq!(after.misses, before.misses);

    // After a rotation the answer is the new set, and the old key's token is refused.
    idp.rotate();
    assert_eq!(status(&url, &idp.token().sign()).await, 200);
    assert_eq!(idp.stats().jwks_not_modified, 1, "a full answer");
    assert_eq!(status(&url, &token).await, 401);
}

#[tokio::test]
async fn a_key_file_read_again_unchanged_keeps_its_keys() {
    let idp = DevIssuer::start().await.unwrap();
    let path = std::env::temp_dir().join(format!("oauth2-jwks-same-{}.json", idp.addr().port()));
    std::fs::write(&path, idp.jwks().to_string()).unwrap();
    let provider = idp.provider("dev").jwks_file(&path);
    let (auth, url) = app(provider.unknown_kid_cooldown(Duration::ZERO)).await;
    ready(&auth).await;
    let token = idp.token().sign();
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(status(&url, &idp.token().kid("made-up").sign()).await, 401);
    assert_eq!(
        auth.key_stats("dev").unwrap().unchanged,
        1,
        "the same document"
    );
    let hits = auth.token_cache_stats().unwrap().hits;
    assert_eq!(status(&url, &token).await, 200);
    assert_eq!(auth.token_cache_stats().unwrap().hits, hits + 1);

    idp.rotate();
    std::fs::write(&path, idp.jwks().to_string()).unwrap();
    assert_eq!(
        status(&url, &idp.token().sign()).await,
        200,
        "a changed file"
    );
    assert_eq!(auth.key_stats("dev").unwrap().unchanged, 1);
    std::fs::remove_file(path).unwrap();
}

/// An attacker's flood of tokens with made-up `kid`s keeps the refetch cooldown armed;
/// a key the provider adds meanwhile is still picked up within one cooldown, and the
/// flood costs the provider at most one (conditional) request per cooldown.
#[tokio::test]
async fn a_new_key_is_picked_up_within_the_cooldown_under_a_flood_of_made_up_kids() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let cooldown = Duration::from_millis(500);
    let idp = DevIssuer::start().await.unwrap();
    let (auth, url) = app(idp.provider("dev").unknown_kid_cooldown(cooldown)).await;
    ready(&auth).await;
    let made_up: Vec<String> = (0..50)
        .map(|i| idp.token().kid(&format!("made-up-{i}")).sign())
        .collect();
    let (stop, refused) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicU64::new(0)),
    );
    let flood = {
        let (url, stop, refused) = (url.clone(), stop.clone(), refused.clone());
        tokio::spawn(async move {
            for token in made_up.iter().cycle() {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                assert_eq!(status(&url, token).await, 401);
                refused.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    let started = std::time::Instant::now();
    let jwks_before = idp.stats().jwks;
    tokio::time::sleep(cooldown * 2).await;
    // However busy the machine, the flood is under way before the rotation.
    eventually("the flood ran", || refused.load(Ordering::SeqCst) > 20).await;
    // Rotate just after a refetch, so the cooldown has all its time to run: the worst case.
    let refetches = auth.key_stats("dev").unwrap().unknown_kid_refetches;
    eventually("the flood refetches", || {
        auth.key_stats("dev").unwrap().unknown_kid_refetches > refetches
    })
    .await;
    idp.rotate();
    let rotated = std::time::Instant::now();
    let fresh = idp.token().sign();
    while status(&url, &fresh).await != 200 {
        assert!(
            rotated.elapsed() < Duration::from_secs(10),
            "the new key was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let delay = rotated.elapsed();
    stop.store(true, Ordering::SeqCst);
    flood.await.unwrap();
    let elapsed = started.elapsed();
    let fetches = idp.stats().jwks - jwks_before;
    println!(
        "picked up {delay:?} after the rotation (cooldown {cooldown:?}); {} made-up tokens \
         refused, {fetches} JWKS requests in {elapsed:?} ({} answered 304)",
        refused.load(Ordering::SeqCst),
        idp.stats().jwks_not_modified
    );
    // The promise is "within the cooldown"; the slack is for a busy machine, where the
    // flood and the test share the cores with everything else. A flood that kept the
    // key from ever being picked up fails above.
    assert!(delay <= cooldown + Duration::from_millis(1500), "{delay:?}");
    assert!(refused.load(Ordering::SeqCst) > 20, "the flood ran");
    let most = elapsed.as_millis() / cooldown.as_millis() + 1;
    assert!(
        u128::from(fetches) <= most,
        "{fetches} fetches, at most {most}"
    );
    assert!(
        idp.stats().jwks_not_modified >= 1,
        "the refetches were conditional"
    );
}

#[tokio::test]
async fn a_slow_provider_makes_no_request_wait_longer_than_the_fetch_timeout() {
    let idp = DevIssuer::start().await.unwrap();
    // Far slower than the 300 ms fetch timeout.
    idp.set_fault(Fault::Slow(Duration::from_secs(10)));
    let (auth, url) = app(fast(idp.provider("dev"))).await;
    let token = idp.token().sign();
    let timed = |url: String, token: String| async move {
        let started = std::time::Instant::now();
        let status = status(&url, &token).await;
        (status, started.elapsed())
    };
    // Before any key was fetched: 503 for every request, none waiting on the provider
    // (discovery and the JWKS each time out after 300 ms).
    let waiting: Vec<_> = (0..8)
        .map(|_| tokio::spawn(timed(url.clone(), token.clone())))
        .collect();
    for w in waiting {
        let (status, took) = w.await.unwrap();
        assert_eq!(status, 503);
        assert!(took < Duration::from_secs(3), "waited {took:?}");
    }

    idp.set_fault(Fault::None);
    ready(&auth).await;
    assert_eq!(status(&url, &token).await, 200);
    // With keys held: a token with a new kid while the provider is slow is answered
    // when the refetch times out; tokens of known keys do not wait at all.
    idp.rotate();
    idp.set_fault(Fault::Slow(Duration::from_secs(10)));
    let (status_new, took) = timed(url.clone(), idp.token().sign()).await;
    assert_eq!(status_new, 401, "the new kid is not known yet");
    assert!(took < Duration::from_secs(3), "waited {took:?}");
    let (status_old, took) = timed(url.clone(), token).await;
    assert_eq!(status_old, 200);
    assert!(took < Duration::from_secs(1), "waited {took:?}");
    idp.set_fault(Fault::None);
}
