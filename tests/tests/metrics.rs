//! The `metrics` feature, read back through a recorder as an exporter would: every
//! auth decision, cache lookup, key fetch, login, refresh and logout is counted under
//! the names `oauth2::metrics` documents, with bounded labels.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, OnceLock};

use axum::Router;
use axum::routing::get;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use metrics_util::{CompositeKey, MetricKind};
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession};
use oauth2::{Authenticator, metrics as names};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::{client, get_with_token, serve};

/// The process's recorder (one per process: both tests share it, each with its own
/// provider names, and read the series with their labels).
fn snapshotter() -> &'static Snapshotter {
    static SNAPSHOTTER: OnceLock<Snapshotter> = OnceLock::new();
    SNAPSHOTTER.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder
            .install()
            .expect("the first recorder of this process");
        snapshotter
    })
}

/// What was recorded since the start: a counter's total, a histogram's number of
/// values. (A snapshot drains the recorder, so the totals are kept here, for both
/// tests.)
fn totals() -> MutexGuard<'static, HashMap<CompositeKey, u64>> {
    static TOTALS: OnceLock<Mutex<HashMap<CompositeKey, u64>>> = OnceLock::new();
    let mut totals = TOTALS.get_or_init(Mutex::default).lock().unwrap();
    for (key, _, _, value) in snapshotter().snapshot().into_vec() {
        let n = match value {
            DebugValue::Counter(n) => n,
            DebugValue::Histogram(values) => values.len() as u64,
            DebugValue::Gauge(_) => panic!("no gauge is documented: {key:?}"),
        };
        *totals.entry(key).or_default() += n;
    }
    totals
}

/// The sum of the metrics of `kind` named `name` whose labels include all of `labels`.
fn total(kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> u64 {
    totals()
        .iter()
        .filter(|(key, _)| {
            key.kind() == kind
                && key.key().name() == name
                && labels
                    .iter()
                    .all(|(k, v)| key.key().labels().any(|l| l.key() == *k && l.value() == *v))
        })
        .map(|(_, n)| n)
        .sum()
}

/// The sum of the counters named `name` with `labels`.
fn counter(name: &str, labels: &[(&str, &str)]) -> u64 {
    total(MetricKind::Counter, name, labels)
}

/// The number of values the histograms named `name` with `labels` hold.
fn histogram_count(name: &str, labels: &[(&str, &str)]) -> u64 {
    total(MetricKind::Histogram, name, labels)
}

#[tokio::test]
async fn bearer_decisions_cache_lookups_and_key_fetches_are_counted() {
    snapshotter();
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(idp.provider("api"))
        .build()
        .unwrap();
    auth.ready().await;
    let app: Router = Router::new()
        .route("/api", get(|| async { "ok" }))
        .layer(auth.layer());
    let base = serve(app).await;
    let url = format!("{base}/api");
    let http = client();
    let hits_before = counter(names::TOKEN_CACHE, &[("result", "hit")]);

    let token = idp.token().sign();
    for _ in 0..2 {
        assert_eq!(get_with_token(&base, "/api", &token).await.status(), 200);
    }
    let forged = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(get_with_token(&base, "/api", &forged).await.status(), 401);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 400);

    let api = ("provider", "api");
    assert_eq!(
        counter(names::VALIDATIONS, &[api, ("outcome", "accepted")]),
        2
    );
    assert_eq!(
        counter(names::VALIDATIONS, &[api, ("outcome", "invalid_token")]),
        1
    );
    assert_eq!(
        counter(names::VALIDATIONS, &[api, ("outcome", "invalid_request")]),
        1,
        "a request without a token is counted for the route's one provider"
    );
    assert_eq!(
        histogram_count(names::VALIDATION_SECONDS, &[api, ("outcome", "accepted")]),
        2
    );
    assert!(
        counter(names::TOKEN_CACHE, &[("result", "hit")]) > hits_before,
        "the repeated token was a cache hit"
    );
    let fetches = |reason, result| {
        counter(
            names::KEY_FETCHES,
            &[api, ("reason", reason), ("result", result)],
        )
    };
    assert_eq!(fetches("load", "updated"), 1);

    // New keys: a token with an unknown kid is fetched for once.
    idp.rotate();
    let token = idp.token().sign();
    assert_eq!(get_with_token(&base, "/api", &token).await.status(), 200);
    assert_eq!(fetches("unknown_kid", "updated"), 1);
    assert_eq!(fetches("unknown_kid", "failed"), 0);
}

async fn me(session: LoginSession) -> String {
    session.subject().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn logins_refreshes_and_logouts_are_counted_by_outcome() {
    snapshotter();
    let idp = DevIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the metrics test's session secret, 32+ bytes")
        .provider(
            LoginProvider::builder("web")
                .issuer(idp.issuer())
                .client_id("web")
                .client_secret("dev-secret")
                .token_endpoint(),
        )
        .build()
        .unwrap();
    let app: Router = Router::new()
        .route("/me", get(me))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let web = ("provider", "web");
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/web/login")).await;
    let back = b.get(&location(&start)).await;
    assert_eq!(b.get(&location(&back)).await.status(), 303);
    assert_eq!(counter(names::LOGINS, &[web, ("outcome", "ok")]), 1);

    // A callback whose state this browser never started: refused, counted as such.
    let forged = b
        .get(&format!("{base}/auth/web/callback?code=x&state=forged"))
        .await;
    assert_eq!(forged.status(), 400);
    assert_eq!(counter(names::LOGINS, &[web, ("outcome", "refused")]), 1);
    // A provider nobody declared is `unknown`, not the request's text.
    b.get(&format!("{base}/auth/made-up/callback?code=x&state=y"))
        .await;
    assert_eq!(counter(names::LOGINS, &[("provider", "made-up")]), 0);
    assert!(counter(names::LOGINS, &[("provider", "unknown")]) >= 1);

    let refused = client()
        .post(format!("{base}/auth/web/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", "not-issued"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 400);
    let refreshes = |outcome| {
        counter(
            names::REFRESHES,
            &[web, ("via", "token_endpoint"), ("outcome", outcome)],
        )
    };
    assert_eq!(refreshes("refused"), 1);
    assert_eq!(refreshes("ok"), 0);

    assert_eq!(
        b.post_form(&format!("{base}/auth/logout")).await.status(),
        303
    );
    assert_eq!(
        counter(
            names::LOGOUTS,
            &[web, ("channel", "front"), ("outcome", "ok")]
        ),
        1
    );
}
