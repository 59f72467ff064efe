//! Opaque access tokens by introspection (RFC 7662): the client that asks a provider
//! whether a token is active.
//!
//! This module only makes the request (with the issuer's HTTP client and fetch timeout,
//! authenticated as the resource server's client) and says what came back; bearer
//! validation checks the answer's claims as it checks a JWT's. Tokens the provider
//! called inactive are remembered for a minute, so a client that repeats a revoked or
//! made-up token costs the provider one request per minute, not one per request. After
//! a request that failed, the endpoint is left alone for [`PAUSE_AFTER_FAILURE`]: new
//! opaque tokens are answered "unavailable" at once, instead of each waiting for the
//! timeout of an endpoint that is down (and each logging it). Requests about one token
//! that arrive together share one request to the provider (a page that fires ten API
//! calls with a new token costs one introspection).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quick_cache::sync::Cache;
use serde_json::{Map, Value};
use url::Url;

use crate::client::request::{Answer as PostAnswer, Post, post_form};
use crate::client::{ClientAuth, ClientCredentials};
use crate::jwks::KeyCache;
use crate::util::now_millis;

/// How long a token found inactive is answered from memory, in milliseconds. An
/// inactive token (revoked, expired, unknown) does not become active again.
const INACTIVE_FOR_MS: u64 = 60_000;

/// How many answers are remembered (inactive tokens, and requests under way).
const ANSWER_ENTRIES: usize = 10_000;

/// How long the endpoint is left alone after a request to it failed.
pub(crate) const PAUSE_AFTER_FAILURE: Duration = Duration::from_secs(5);

/// A resource server's introspection client: its credentials and, when the provider's
/// discovery document does not give it, the endpoint.
#[derive(Clone, Debug)]
pub(crate) struct IntrospectionClient {
    pub(crate) credentials: ClientCredentials,
    /// `None`: the discovered `introspection_endpoint`.
    pub(crate) endpoint: Option<Url>,
}

/// What the provider answered.
#[derive(Debug, Clone)]
pub(crate) enum Answer {
    /// `active: true`, with the rest of the answer: the token's claims.
    Active(Map<String, Value>),
    /// `active: false`: revoked, expired, unknown, or not for this client to see.
    Inactive,
}

/// The provider could not tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unavailable {
    /// The request failed: unreachable, slow, an error status, or an answer that is not
    /// an RFC 7662 one. Says which, for the logs (never with the token).
    Failed(String),
    /// Not asked: a request failed less than [`PAUSE_AFTER_FAILURE`] ago (and was
    /// logged then).
    Paused,
}

/// An answer about one token, until when (milliseconds since the epoch) it holds.
#[derive(Debug, Clone)]
struct Remembered {
    answer: Result<Answer, Unavailable>,
    until: u64,
}

/// Asks one provider about opaque tokens.
pub(crate) struct Introspector {
    client: IntrospectionClient,
    /// The provider's issuer: the audience of the client's assertions.
    issuer: String,
    http: reqwest::Client,
    timeout: Duration,
    /// The issuer's discovery document, when the endpoint is not configured.
    discovery: Option<KeyCache>,
    /// By token digest: answers `active: false` (for a minute), and, while a request
    /// is under way, the place where the requests that wait for it find its answer.
    answers: Cache<[u8; 32], Remembered>,
    /// Until when (milliseconds since the epoch) the endpoint is left alone.
    paused_until: AtomicU64,
}

impl fmt::Debug for Introspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspector")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl Introspector {
    /// An introspector of `issuer` that sends `client`'s requests with `http`, each
    /// limited to `timeout`; `discovery` finds the endpoint when `client` names none.
    pub(crate) fn new(
        issuer: String,
        client: IntrospectionClient,
        http: reqwest::Client,
        timeout: Duration,
        discovery: Option<KeyCache>,
    ) -> Self {
        Self {
            client,
            issuer,
            http,
            timeout,
            discovery,
            answers: Cache::new(ANSWER_ENTRIES),
            paused_until: AtomicU64::new(0),
        }
    }

    /// Asks whether `token` (whose SHA-256 is `digest`) is active. Of the calls about
    /// one token at one time, one asks the provider and the others wait for its answer.
    pub(crate) async fn introspect(
        &self,
        token: &str,
        digest: &[u8; 32],
    ) -> Result<Answer, Unavailable> {
        loop {
            let guard = match self.answers.get_value_or_guard_async(digest).await {
                Ok(known) if now_millis() < known.until => return known.answer,
                // An inactive answer of more than a minute ago: ask again.
                Ok(_) => {
                    self.answers.remove(digest);
                    continue;
                }
                Err(guard) => guard,
            };
            if now_millis() < self.paused_until.load(Ordering::Relaxed) {
                return Err(Unavailable::Paused);
            }
            let answer = self.ask(token).await.map_err(Unavailable::Failed);
            let now = now_millis();
            let (shared, keep) = match &answer {
                Ok(Answer::Inactive) => (Ok(Answer::Inactive), true),
                Ok(active) => (Ok(active.clone()), false),
                Err(_) => {
                    let until = now.saturating_add(PAUSE_AFTER_FAILURE.as_millis() as u64);
                    self.paused_until.store(until, Ordering::Relaxed);
                    // The failure is logged once, by this call; those that waited for
                    // it are paused.
                    (Err(Unavailable::Paused), false)
                }
            };
            // Those waiting get the answer however long they waited; an active one is
            // not kept (the verified-token cache keeps it, with the time checks).
            let until = if keep {
                now.saturating_add(INACTIVE_FOR_MS)
            } else {
                u64::MAX
            };
            let _ = guard.insert(Remembered {
                answer: shared,
                until,
            });
            if !keep {
                self.answers.remove(digest);
            }
            return answer;
        }
    }

    /// One request to the endpoint about `token`.
    async fn ask(&self, token: &str) -> Result<Answer, String> {
        let (endpoint, method) = self.endpoint().await?;
        let post = Post {
            http: &self.http,
            credentials: self.client.credentials.view(&self.issuer),
            method,
            url: &endpoint,
            timeout: self.timeout,
        };
        let form = [("token", token), ("token_type_hint", "access_token")];
        match post_form(post, &form, None).await {
            Ok(PostAnswer::Ok(bytes)) => parse(&bytes).map_err(|why| format!("{endpoint} {why}")),
            Ok(PostAnswer::Refused(e)) => Err(format!(
                "{endpoint} refused the introspection client: {} (are its id and {} right?)",
                e.message(),
                credential_name(method)
            )),
            // A bare 401/403 already says what to check.
            Err(e) => Err(e.message().to_owned()),
        }
    }

    /// The endpoint and how to authenticate there: the configured endpoint (with the
    /// method the credentials give: HTTP Basic for a secret, the one RFC 7662 servers
    /// must support), or the discovered one with a method it lists.
    async fn endpoint(&self) -> Result<(Url, ClientAuth), String> {
        let credentials = &self.client.credentials;
        if let Some(url) = &self.client.endpoint {
            return Ok((url.clone(), credentials.method_for(None)?));
        }
        let Some(keys) = &self.discovery else {
            return Err("no introspection endpoint is configured".into());
        };
        let meta = keys
            .metadata()
            .await
            .map_err(|e| format!("discovery failed: {e}"))?;
        let Some(endpoint) = &meta.introspection_endpoint else {
            return Err(
                "the provider's discovery document has no introspection_endpoint \
                        (configure introspection_endpoint)"
                    .into(),
            );
        };
        let url = Url::parse(endpoint)
            .map_err(|e| format!("introspection_endpoint is not a URL: {e}"))?;
        let supported = meta
            .introspection_endpoint_auth_methods_supported
            .as_deref()
            .or(meta.token_endpoint_auth_methods_supported.as_deref());
        let method = credentials
            .method_for(supported)
            .map_err(|e| format!("introspection: {e}"))?;
        Ok((url, method))
    }
}

/// What a method's credential is called, for messages.
fn credential_name(method: ClientAuth) -> &'static str {
    match method {
        ClientAuth::PrivateKeyJwt => "key",
        ClientAuth::None => "registration",
        _ => "secret",
    }
}

/// An RFC 7662 answer: a JSON object whose `active` is a boolean.
fn parse(body: &[u8]) -> Result<Answer, &'static str> {
    let Ok(Value::Object(mut answer)) = serde_json::from_slice(body) else {
        return Err("answered with something other than a JSON object");
    };
    match answer.remove("active") {
        Some(Value::Bool(true)) => Ok(Answer::Active(answer)),
        Some(Value::Bool(false)) => Ok(Answer::Inactive),
        _ => Err("answered without a boolean `active`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const ISSUER: &str = "https://login.example";

    #[test]
    fn an_answer_needs_a_boolean_active() {
        let active = parse(br#"{"active":true,"sub":"a","scope":"read"}"#).unwrap();
        let Answer::Active(claims) = active else {
            panic!("active")
        };
        assert_eq!(claims.get("sub"), Some(&Value::from("a")));
        assert!(!claims.contains_key("active"));
        assert!(matches!(
            parse(br#"{"active":false}"#),
            Ok(Answer::Inactive)
        ));
        for bad in [
            &br#"{"active":"true"}"#[..],
            br#"{"sub":"a"}"#,
            br#"[true]"#,
            b"<html>",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[tokio::test]
    async fn after_a_failure_the_endpoint_is_left_alone_for_a_while() {
        // Loopback with nothing listening: the request fails at once, without traffic.
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let client = IntrospectionClient {
            credentials: ClientCredentials::new("rs").secret("rs-secret"),
            endpoint: Some(Url::parse(&format!("http://{addr}/introspect")).unwrap()),
        };
        let introspector = Introspector::new(
            ISSUER.into(),
            client,
            reqwest::Client::new(),
            Duration::from_secs(1),
            None,
        );
        let first = introspector.introspect("t1", &[1; 32]).await.unwrap_err();
        assert!(
            matches!(&first, Unavailable::Failed(why) if why.contains("unreachable")),
            "{first:?}"
        );
        let second = introspector.introspect("t2", &[2; 32]).await.unwrap_err();
        assert_eq!(second, Unavailable::Paused);
    }

    /// An endpoint that answers `answer` after 200 ms and counts its requests.
    async fn slow_endpoint(answer: &'static str) -> (Url, Arc<AtomicU64>) {
        use axum::routing::post;
        let count = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&count);
        let app = axum::Router::new().route(
            "/introspect",
            post(move || async move {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(200)).await;
                ([("content-type", "application/json")], answer)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/introspect", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (Url::parse(&url).unwrap(), count)
    }

    fn introspector(endpoint: Url) -> Arc<Introspector> {
        let client = IntrospectionClient {
            credentials: ClientCredentials::new("rs").secret("rs-secret"),
            endpoint: Some(endpoint),
        };
        Arc::new(Introspector::new(
            ISSUER.into(),
            client,
            reqwest::Client::new(),
            Duration::from_secs(5),
            None,
        ))
    }

    /// Ten calls about token `t` at once.
    async fn together(introspector: &Arc<Introspector>) -> Vec<Result<Answer, Unavailable>> {
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..10 {
            let introspector = Arc::clone(introspector);
            calls.spawn(async move { introspector.introspect("t", &[7; 32]).await });
        }
        calls.join_all().await
    }

    #[tokio::test]
    async fn calls_about_one_token_at_one_time_share_one_request() {
        let (url, count) = slow_endpoint(r#"{"active":true,"sub":"ada"}"#).await;
        let introspector = introspector(url);
        for answer in together(&introspector).await {
            assert!(matches!(answer, Ok(Answer::Active(c)) if c["sub"] == "ada"));
        }
        assert_eq!(count.load(Ordering::SeqCst), 1);
        // An active answer is not kept here: the next call asks again.
        introspector.introspect("t", &[7; 32]).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 2);
        // Another token is another request.
        introspector.introspect("u", &[8; 32]).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_inactive_answer_is_shared_and_then_remembered() {
        let (url, count) = slow_endpoint(r#"{"active":false}"#).await;
        let introspector = introspector(url);
        for answer in together(&introspector).await {
            assert!(matches!(answer, Ok(Answer::Inactive)), "{answer:?}");
        }
        introspector.introspect("t", &[7; 32]).await.unwrap();
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn the_secret_stays_out_of_debug() {
        let client = IntrospectionClient {
            credentials: ClientCredentials::new("rs").secret("hunter2-hunter2"),
            endpoint: None,
        };
        let shown = format!("{client:?}");
        assert!(
            shown.contains("rs") && !shown.contains("hunter2"),
            "{shown}"
        );
    }
}
