//! The auth decision of every request as a `tracing` event (target `oauth2::decision`),
//! read back with a capturing subscriber: what an operator sees, and never the token.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use oauth2::dev::DevIssuer;
use oauth2_tests::{TestApp, client, get_with_token};
use tracing::field::{Field, Visit};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt as _};

/// One captured event or span: its name, level, target and fields as text.
#[derive(Debug, Clone)]
struct Record {
    kind: &'static str,
    name: String,
    level: tracing::Level,
    target: String,
    fields: BTreeMap<String, String>,
}

impl Record {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<Record>>>);

impl<S: tracing::Subscriber> Layer<S> for Capture {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        self.push("event", event.metadata(), fields);
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        _: &tracing::span::Id,
        _: Context<'_, S>,
    ) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        self.push("span", attrs.metadata(), fields);
    }
}

impl Capture {
    fn push(
        &self,
        kind: &'static str,
        meta: &tracing::Metadata<'_>,
        fields: BTreeMap<String, String>,
    ) {
        self.0.lock().unwrap().push(Record {
            kind,
            name: meta.name().to_owned(),
            level: *meta.level(),
            target: meta.target().to_owned(),
            fields,
        });
    }

    fn decisions(&self) -> Vec<Record> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.kind == "event" && r.target == "oauth2::decision")
            .cloned()
            .collect()
    }

    fn all(&self) -> Vec<Record> {
        self.0.lock().unwrap().clone()
    }
}

/// Warnings from any thread of any test: a global subscriber, installed once. A key
/// cache's refresh task is spawned, and on a multi-threaded runtime (or a busy machine)
/// it runs on whichever thread picks it up, where a test's thread-local `set_default`
/// sees nothing. Tests find their own warnings by a field that is theirs alone (the dev
/// issuer's URL, with its port).
fn global_warnings() -> &'static Capture {
    static GLOBAL: std::sync::OnceLock<Capture> = std::sync::OnceLock::new();
    GLOBAL.get_or_init(|| {
        let capture = Capture::default();
        let warnings = capture
            .clone()
            .with_filter(tracing_subscriber::filter::LevelFilter::WARN);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(warnings))
            .expect("no other test sets a global subscriber");
        capture
    })
}

/// Works around a race in tracing's callsite cache: a span or event that another test's
/// thread meets for the first time while `set_default` registers this test's subscriber
/// may keep the interest computed without it ("never"), and this test would miss it (a
/// login span was missed so, once, on a busy machine). Computing every interest again a
/// moment later, with this test's subscriber registered, corrects such a callsite.
async fn settle_interest() {
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    tracing::callsite::rebuild_interest_cache();
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).unwrap().kid.unwrap()
}

#[tokio::test]
async fn every_auth_decision_is_an_event_without_the_token() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    settle_interest().await;
    let app = TestApp::start().await;
    let idp: &DevIssuer = &app.idp;

    let good = idp.token().subject("ada").sign();
    assert_eq!(get_with_token(&app.url, "/me", &good).await.status(), 200);
    let expired = idp.token().expires_in(-3600).sign();
    assert_eq!(
        get_with_token(&app.url, "/me", &expired).await.status(),
        401
    );
    let narrow = idp.token().scope("read").sign();
    assert_eq!(
        get_with_token(&app.url, "/admin", &narrow).await.status(),
        403
    );
    let none = client()
        .get(format!("{}/me?access_token=x", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 400);

    let decisions = capture.decisions();
    let by_outcome = |outcome: &str| {
        decisions
            .iter()
            .filter(|d| d.field("outcome") == Some(outcome))
            .cloned()
            .collect::<Vec<_>>()
    };
    let accepted = by_outcome("accepted");
    // The good token, and the narrow one (valid, refused later for its scope).
    assert_eq!(accepted.len(), 2, "{decisions:#?}");
    let a = &accepted[0];
    assert_eq!(a.level, tracing::Level::DEBUG);
    assert_eq!(a.field("provider"), Some("dev"));
    assert_eq!(a.field("route"), Some("/me"));
    assert_eq!(a.field("kid"), Some(kid_of(&good).as_str()));
    assert!(a.field("micros").is_some());

    let expired_event = &by_outcome("invalid_token")[0];
    assert_eq!(expired_event.level, tracing::Level::INFO);
    assert_eq!(expired_event.field("kind"), Some("Expired"));
    assert_eq!(expired_event.field("kid"), Some(kid_of(&expired).as_str()));
    assert_eq!(expired_event.field("reason"), Some("token has expired"));

    let scope = &by_outcome("insufficient_scope")[0];
    assert_eq!(scope.field("provider"), Some("dev"));
    assert_eq!(scope.field("route"), Some("/admin"));

    let missing = &by_outcome("invalid_request")[0];
    assert_eq!(
        missing.field("route"),
        Some("/me"),
        "the path, not the query"
    );
    assert_eq!(missing.field("kid"), None);

    // Nothing anywhere carries a token or its signature.
    for token in [&good, &expired, &narrow] {
        let signature = token.rsplit('.').next().unwrap();
        for r in capture.all() {
            for (name, value) in &r.fields {
                assert!(
                    !value.contains(signature),
                    "{} {}: field {name} holds a token",
                    r.kind,
                    r.name
                );
            }
        }
    }
}

#[tokio::test]
async fn key_fetches_run_in_a_span_naming_the_provider() {
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    settle_interest().await;
    let app = TestApp::start().await;
    app.idp.rotate();
    let fresh = app.idp.token().sign();
    assert_eq!(get_with_token(&app.url, "/me", &fresh).await.status(), 200);
    let spans: Vec<Record> = capture
        .all()
        .into_iter()
        .filter(|r| r.kind == "span" && r.name == "oauth2.keys.fetch")
        .collect();
    assert!(
        spans.len() >= 2,
        "the first load and the refetch: {spans:#?}"
    );
    assert!(spans.iter().all(|s| s.field("provider") == Some("dev")));
    assert!(
        spans
            .iter()
            .any(|s| s.field("reason") == Some("unknown_kid"))
    );
}

#[tokio::test]
async fn logins_and_logouts_run_in_spans_with_their_outcome() {
    use oauth2::login::{Login, LoginProvider};
    use oauth2_tests::browser::{Browser, location};
    let capture = Capture::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(capture.clone()));
    settle_interest().await;
    let idp = DevIssuer::start().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = LoginProvider::builder("dev")
        .issuer(idp.issuer())
        .client_id("web");
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the decision test's session secret, 32+ bytes")
        .provider(provider)
        .build()
        .unwrap();
    let app = login.router().layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/dev/login")).await;
    let back = b.get(&location(&start)).await;
    assert_eq!(b.get(&location(&back)).await.status(), 303, "logged in");
    assert_eq!(
        b.post_form(&format!("{base}/auth/logout")).await.status(),
        303
    );

    let all = capture.all();
    let span = |name: &str| all.iter().find(|r| r.kind == "span" && r.name == name);
    assert_eq!(span("oauth2.login").unwrap().field("provider"), Some("dev"));
    assert!(span("oauth2.logout").is_some(), "{all:#?}");
    let event = |message: &str| {
        all.iter()
            .find(|r| r.kind == "event" && r.field("message") == Some(message))
            .unwrap_or_else(|| panic!("no event {message:?}: {all:#?}"))
    };
    assert_eq!(
        event("login callback answered").field("status"),
        Some("303")
    );
    assert_eq!(event("logout answered").field("status"), Some("303"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_set_is_logged_once_per_refresh_not_once_per_request() {
    use oauth2::dev::Fault;
    use std::time::Duration;
    let capture = global_warnings();
    let idp = DevIssuer::start().await.unwrap();
    let provider = idp
        .provider("dev")
        .refresh_interval(Duration::from_millis(100))
        .retry_backoff(Duration::from_millis(50), Duration::from_millis(100));
    let auth = oauth2::Authenticator::builder()
        .provider(provider)
        .build()
        .unwrap();
    auth.ready().await;
    let url = oauth2_tests::serve(oauth2_tests::routes().layer(auth.layer())).await;
    let token = idp.token().sign();
    let failures = || auth.key_stats("dev").unwrap().failures;

    idp.set_fault(Fault::MalformedJwks);
    // Requests while the key set is bad, answered from the keys held: at least twenty
    // after the first failed fetch, and on until three fetches failed. How many fetches
    // fail meanwhile depends on the machine's speed; the count of warnings must not.
    let mut requests_while_failing = 0;
    while failures() < 3 || requests_while_failing < 20 {
        let failing = failures() > 0;
        assert_eq!(get_with_token(&url, "/me", &token).await.status(), 200);
        requests_while_failing += u32::from(failing);
    }
    idp.set_fault(Fault::None);
    // Once a fetch succeeded again, no failed one is still under way.
    let recovered = auth.key_stats("dev").unwrap().fetches;
    while auth.key_stats("dev").unwrap().fetches < recovered + 2 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let warnings: Vec<Record> = capture
        .all()
        .into_iter()
        .filter(|r| r.kind == "event" && r.level == tracing::Level::WARN)
        .filter(|r| r.field("message") == Some("fetching keys failed"))
        .filter(|r| r.field("issuer") == Some(idp.issuer()))
        .collect();
    assert_eq!(
        warnings.len() as u64,
        failures(),
        "one warning per failed fetch: {warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .all(|w| w.field("provider") == Some("dev") && w.field("keys_kept") == Some("3")),
        "{warnings:#?}"
    );
}
