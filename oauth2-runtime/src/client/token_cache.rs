//! The [`TokenClient`](super::TokenClient)'s tokens: kept until shortly before they
//! expire, one request in flight per token however many callers wait, and a backoff
//! after a failure.

use std::future::Future;
use std::time::Duration;

use quick_cache::sync::Cache;

use super::{AccessToken, TokenError};
use crate::util::now_millis;

/// How many tokens (and failures) are kept: a token per API for the app's own, a
/// token per caller and API for exchanges.
const ENTRIES: usize = 10_000;

/// How long a token without a known lifetime is kept.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(60);

/// A token as the provider issued it, before it is kept.
pub(crate) struct Issued {
    pub(crate) token: AccessToken,
    /// Its lifetime in seconds, if known.
    pub(crate) lifetime: Option<u64>,
}

#[derive(Clone)]
struct Kept {
    token: AccessToken,
    /// Until when (milliseconds since the epoch) it is handed out.
    fresh_until: u64,
}

#[derive(Clone)]
struct Failure {
    error: TokenError,
    /// How many requests in a row failed.
    count: u32,
    /// Until when (milliseconds since the epoch) no request is made.
    until: u64,
}

pub(crate) struct TokenCache {
    tokens: Cache<String, Kept>,
    failures: Cache<String, Failure>,
    renew_before: Duration,
    backoff: (Duration, Duration),
}

impl TokenCache {
    pub(crate) fn new(renew_before: Duration, backoff: (Duration, Duration)) -> Self {
        Self {
            tokens: Cache::new(ENTRIES),
            failures: Cache::new(ENTRIES),
            renew_before,
            backoff,
        }
    }

    /// The token kept under `key` while it is fresh; else the one `fetch` gets, which
    /// runs for one caller at a time (the others wait, then take its token). While a
    /// failure of `key` backs off, its error without a request.
    pub(crate) async fn get_or_fetch<F, Fut>(
        &self,
        key: String,
        fetch: F,
    ) -> Result<AccessToken, TokenError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Issued, TokenError>>,
    {
        // The usual case, without the placeholder machinery.
        if let Some(kept) = self.tokens.get(&key)
            && now_millis() < kept.fresh_until
        {
            return Ok(kept.token);
        }
        loop {
            let guard = match self.tokens.get_value_or_guard_async(&key).await {
                Ok(kept) if now_millis() < kept.fresh_until => return Ok(kept.token),
                Ok(_) => {
                    self.tokens.remove(&key);
                    continue;
                }
                Err(guard) => guard,
            };
            // Those that waited for a request that failed find its failure here.
            if let Some(failure) = self.failures.get(&key) {
                let now = now_millis();
                if now < failure.until {
                    return Err(failure
                        .error
                        .backing_off(Duration::from_millis(failure.until - now)));
                }
            }
            return match fetch().await {
                Ok(issued) => {
                    self.failures.remove(&key);
                    let token = issued.token.clone();
                    let _ = guard.insert(Kept {
                        fresh_until: self.fresh_until(issued.lifetime),
                        token: issued.token,
                    });
                    Ok(token)
                }
                Err(error) => {
                    let count = self.failures.get(&key).map_or(0, |f| f.count) + 1;
                    let wait = self.wait_after(count);
                    tracing::warn!(
                        error = %error,
                        retry_in_ms = wait.as_millis() as u64,
                        "no access token for an outgoing call"
                    );
                    self.failures.insert(
                        key,
                        Failure {
                            error: error.clone(),
                            count,
                            until: now_millis().saturating_add(wait.as_millis() as u64),
                        },
                    );
                    // The guard goes: the next waiter finds the failure.
                    drop(guard);
                    Err(error)
                }
            };
        }
    }

    /// Until when a token that lives `lifetime` seconds from now is handed out: until
    /// `renew_before` its end, but at least half its lifetime.
    fn fresh_until(&self, lifetime: Option<u64>) -> u64 {
        let lifetime = lifetime.map_or(UNKNOWN_LIFETIME, Duration::from_secs);
        let keep = lifetime.saturating_sub(self.renew_before).max(lifetime / 2);
        now_millis().saturating_add(keep.as_millis() as u64)
    }

    /// The wait after the `count`-th failure in a row: the first backoff, doubled each
    /// time, at most the longest.
    fn wait_after(&self, count: u32) -> Duration {
        let (first, longest) = self.backoff;
        first
            .saturating_mul(1 << count.saturating_sub(1).min(16))
            .min(longest)
    }
}

#[cfg(test)]
mod tests {
    use super::super::TokenErrorKind;
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn issued(value: &str, lifetime: u64) -> Issued {
        Issued {
            token: AccessToken::new(value.into(), None, None, None),
            lifetime: Some(lifetime),
        }
    }

    /// Ten callers that want the token `k` at once, each fetch taking 50 ms and ending
    /// as `outcome` says: how many fetches ran, and what each caller got.
    async fn together(
        first_backoff: Duration,
        outcome: fn() -> Result<Issued, TokenError>,
    ) -> (usize, Vec<Result<String, TokenErrorKind>>) {
        let cache = Arc::new(TokenCache::new(
            Duration::from_secs(30),
            (first_backoff, Duration::from_secs(60)),
        ));
        let requests = Arc::new(AtomicUsize::new(0));
        let calls = (0..10).map(|_| {
            let (cache, requests) = (Arc::clone(&cache), Arc::clone(&requests));
            tokio::spawn(async move {
                cache
                    .get_or_fetch("k".into(), || async {
                        requests.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        outcome()
                    })
                    .await
                    .map(|t| t.secret().to_owned())
                    .map_err(|e| e.kind())
            })
        });
        let mut got = Vec::new();
        for call in calls.collect::<Vec<_>>() {
            got.push(call.await.unwrap());
        }
        (requests.load(Ordering::SeqCst), got)
    }

    #[tokio::test]
    async fn callers_that_want_one_token_together_share_one_request() {
        let (requests, got) = together(Duration::from_secs(1), || Ok(issued("one", 600))).await;
        assert_eq!(requests, 1);
        assert!(got.iter().all(|g| g.as_deref() == Ok("one")), "{got:?}");
    }

    #[tokio::test]
    async fn callers_waiting_for_a_request_that_fails_get_its_failure_without_asking() {
        let (requests, got) = together(Duration::from_secs(5), || {
            Err(TokenError::unavailable("down"))
        })
        .await;
        assert_eq!(requests, 1);
        let backing_off = got
            .iter()
            .filter(|g| **g == Err(TokenErrorKind::BackingOff))
            .count();
        assert_eq!(backing_off, 9, "{got:?}");
    }

    #[tokio::test]
    async fn a_failure_backs_off_for_that_token_only_and_doubles() {
        let cache = TokenCache::new(
            Duration::from_secs(30),
            (Duration::from_millis(200), Duration::from_secs(60)),
        );
        let fail = || async { Err(TokenError::unavailable("the provider is down")) };
        let e = cache.get_or_fetch("k".into(), fail).await.unwrap_err();
        assert_eq!(e.kind(), TokenErrorKind::Unavailable);
        // At once again: not asked, the failure is answered.
        let again = cache
            .get_or_fetch("k".into(), || async { panic!("asked while backing off") })
            .await
            .unwrap_err();
        assert_eq!(again.kind(), TokenErrorKind::BackingOff);
        assert!(
            again.to_string().contains("the provider is down"),
            "{again}"
        );
        assert!(again.retry_after().unwrap() <= Duration::from_millis(200));
        // Another token is asked for.
        let other = cache
            .get_or_fetch("other".into(), || async { Ok(issued("o", 600)) })
            .await;
        assert_eq!(other.unwrap().secret(), "o");
        // After the wait, asked again; a success ends the backoff.
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(cache.get_or_fetch("k".into(), fail).await.is_err());
        assert_eq!(cache.wait_after(2), Duration::from_millis(400));
        assert_eq!(cache.wait_after(40), Duration::from_secs(60));
    }

    #[test]
    fn a_token_is_renewed_before_it_expires_but_kept_half_its_life() {
        let cache = TokenCache::new(
            Duration::from_secs(30),
            (Duration::from_secs(1), Duration::from_secs(60)),
        );
        let now = now_millis();
        let long = cache.fresh_until(Some(600)) - now;
        assert!((569_000..=571_000).contains(&long), "{long}");
        let short = cache.fresh_until(Some(40)) - now;
        assert!((19_000..=21_000).contains(&short), "{short}");
    }
}
