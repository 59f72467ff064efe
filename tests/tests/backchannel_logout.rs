//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0) against the real
//! oidc-provider: a logout at the provider's own page ends the app's session for every
//! store (stateless cookies included); logout tokens signed with the provider's real
//! keys end the sessions of a `sid` or of a `sub`; every §2.6 check refuses a token
//! with the one claim wrong; a replayed `jti` is refused.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use oauth2::login::{Login, LoginProvider, Session};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use oauth2_tests::services;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "the back-channel logout test's secret, 32+ bytes";
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

#[derive(oauth2::FromClaims)]
struct User {
    sub: String,
}

async fn me(Session(user): Session<User>) -> String {
    user.sub
}

/// Where the sessions live.
#[derive(Debug, Clone, Copy)]
enum Sessions {
    Cookie,
    Memory,
    Redis,
    Postgres,
}

/// The stores this machine has (Redis and PostgreSQL skipped loudly when absent).
fn kinds(test: &str) -> Vec<Sessions> {
    let mut kinds = vec![Sessions::Cookie, Sessions::Memory];
    if services::redis(test).is_some() {
        kinds.push(Sessions::Redis);
    }
    if services::postgres(test).is_some() {
        kinds.push(Sessions::Postgres);
    }
    kinds
}

async fn store(kind: Sessions) -> Option<Arc<dyn SessionStore>> {
    Some(match kind {
        Sessions::Cookie => return None,
        Sessions::Memory => Arc::new(MemoryStore::new()),
        Sessions::Redis => Arc::new(RedisStore::connect(services::REDIS).await.unwrap()),
        Sessions::Postgres => Arc::new(PostgresStore::connect(services::POSTGRES).await.unwrap()),
    })
}

/// An app on 127.0.0.1 whose provider `oidc` serves back-channel logout, and the
/// provider that calls it.
struct App {
    op: OpenIdProvider,
    base: String,
}

impl App {
    async fn start(kind: Sessions) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let op = OpenIdProvider::for_app(&base).await;
        let mut login = Login::builder()
            .base_url(&base)
            .session_secret(SECRET)
            .provider(
                LoginProvider::builder("oidc")
                    .issuer(&op.issuer)
                    .client_id(WEB_CLIENT.0)
                    .client_secret(WEB_CLIENT.1)
                    .backchannel_logout(),
            );
        if let Some(store) = store(kind).await {
            login = login.session_store(store);
        }
        let login = login.build().unwrap();
        let app: Router = Router::new()
            .route("/me", get(me))
            .merge(login.router())
            .layer(login.layer());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        App { op, base }
    }

    /// A browser logged in as `user`.
    async fn log_in(&self, user: &str) -> Browser {
        let browser = Browser::new();
        let start = browser.get(&format!("{}/auth/oidc/login", self.base)).await;
        let callback = browser.authorize(&location(&start), &self.base, user).await;
        let done = browser.get(&callback).await;
        assert_eq!(done.status(), 303, "{}", done.text().await.unwrap());
        assert_eq!(self.me(&browser).await, 200);
        browser
    }

    /// The status of `GET /me` for this browser (200 logged in, 401 not).
    async fn me(&self, browser: &Browser) -> u16 {
        browser
            .get(&format!("{}/me", self.base))
            .await
            .status()
            .as_u16()
    }

    /// The `sid` of the browser's session (its claims, from `/auth/userinfo`).
    async fn sid(&self, browser: &Browser) -> String {
        let info: Value = browser
            .get(&format!("{}/auth/userinfo", self.base))
            .await
            .json()
            .await
            .unwrap();
        info["claims"]["sid"]
            .as_str()
            .unwrap_or_else(|| panic!("no sid in {info}"))
            .to_owned()
    }

    /// A logout token as the provider would sign it, with `change` applied.
    fn logout_token(&self, change: impl FnOnce(&mut Value)) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut claims = json!({
            "iss": self.op.issuer,
            "aud": WEB_CLIENT.0,
            "iat": now,
            "exp": now + 120,
            "jti": format!("jti-{}", oauth2_tests::nanos()),
            "events": { EVENT: {} },
            "sub": "nobody-in-particular",
        });
        change(&mut claims);
        self.op.sign("ES256", Some("logout+jwt"), &claims)
    }

    /// POSTs `token` to the back-channel logout route; status and JSON body (if any).
    async fn deliver(&self, token: &str) -> (u16, String, Value) {
        let response = oauth2_tests::client()
            .post(format!("{}/auth/oidc/backchannel-logout", self.base))
            .form(&[("logout_token", token)])
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = response.json().await.unwrap_or(Value::Null);
        (status, cache, body)
    }
}

#[tokio::test]
async fn a_logout_at_the_providers_page_ends_the_session_in_every_store() {
    for kind in kinds("a_logout_at_the_providers_page_ends_the_session_in_every_store") {
        let app = App::start(kind).await;
        let browser = app.log_in("alice").await;
        let other = app.log_in("bob").await;
        // The user logs out at the provider itself, not through the app.
        let end_session = format!("{}/session/end", app.op.issuer);
        browser.confirm_logout(&end_session).await;
        assert_eq!(app.me(&browser).await, 401, "{kind:?}: the session ended");
        assert_eq!(app.me(&other).await, 200, "{kind:?}: another user's stays");
        // Logging in again right away works: the logout ended the sessions before it.
        let again = app.log_in("alice").await;
        assert_eq!(app.me(&again).await, 200, "{kind:?}");
    }
}

#[tokio::test]
async fn a_sid_ends_that_session_and_a_sub_every_session_of_the_user() {
    for kind in kinds("a_sid_ends_that_session_and_a_sub_every_session_of_the_user") {
        let app = App::start(kind).await;
        let (laptop, phone, bob) = (
            app.log_in("alice").await,
            app.log_in("alice").await,
            app.log_in("bob").await,
        );
        let sid = app.sid(&laptop).await;
        assert_ne!(sid, app.sid(&phone).await, "two provider sessions");

        // sid only: that provider session, whoever's it is.
        let token = app.logout_token(|c| {
            c.as_object_mut().unwrap().remove("sub");
            c["sid"] = json!(sid);
        });
        let (status, cache, body) = app.deliver(&token).await;
        assert_eq!(
            (status, cache.as_str()),
            (200, "no-store"),
            "{kind:?} {body}"
        );
        assert_eq!(app.me(&laptop).await, 401, "{kind:?}");
        assert_eq!(app.me(&phone).await, 200, "{kind:?}: another sid");
        assert_eq!(app.me(&bob).await, 200, "{kind:?}");

        // sub only: every session of that user.
        let token = app.logout_token(|c| c["sub"] = json!("alice"));
        assert_eq!(app.deliver(&token).await.0, 200, "{kind:?}");
        assert_eq!(app.me(&phone).await, 401, "{kind:?}");
        assert_eq!(app.me(&bob).await, 200, "{kind:?}: another user");

        // A valid token that matches no session is still a success.
        let token = app.logout_token(|c| c["sub"] = json!("carol"));
        assert_eq!(app.deliver(&token).await.0, 200, "{kind:?}");
        assert_eq!(app.me(&bob).await, 200, "{kind:?}");
    }
}

/// Each logout token has one thing wrong: 400 `invalid_request` with a reason that
/// names it, and nothing ends.
#[tokio::test]
async fn every_check_of_section_2_6_refuses_a_token_with_that_one_claim_wrong() {
    let app = App::start(Sessions::Cookie).await;
    let alice = app.log_in("alice").await;
    let wrong = |c: &mut Value, name: &str, value: Value| c[name] = value;
    let remove = |c: &mut Value, name: &str| {
        c.as_object_mut().unwrap().remove(name);
    };
    let now = app.logout_token(|_| {});
    let now: u64 = {
        use base64::Engine as _;
        let payload = now.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice::<Value>(&bytes).unwrap()["iat"]
            .as_u64()
            .unwrap()
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "iss",
            app.logout_token(|c| wrong(c, "iss", json!("http://127.0.0.1:1"))),
        ),
        (
            "aud",
            app.logout_token(|c| wrong(c, "aud", json!("another-client"))),
        ),
        ("iat", app.logout_token(|c| remove(c, "iat"))),
        (
            "iat",
            app.logout_token(|c| wrong(c, "iat", json!(now - 3600))),
        ),
        (
            "exp",
            app.logout_token(|c| wrong(c, "exp", json!(now - 600))),
        ),
        ("jti", app.logout_token(|c| remove(c, "jti"))),
        ("events", app.logout_token(|c| remove(c, "events"))),
        (
            "events",
            app.logout_token(|c| wrong(c, "events", json!({"other": {}}))),
        ),
        (
            "event",
            app.logout_token(|c| wrong(c, "events", json!({EVENT: "yes"}))),
        ),
        ("sid", app.logout_token(|c| remove(c, "sub"))),
        (
            "nonce",
            app.logout_token(|c| wrong(c, "nonce", json!("n-0S6_WzA2Mj"))),
        ),
        ("typ", {
            // Explicitly typed as another kind of JWT (the generic `JWT` passes).
            let claims = json!({"iss": app.op.issuer, "aud": WEB_CLIENT.0, "iat": now,
                "jti": "typ-case", "events": {EVENT: {}}, "sub": "alice"});
            app.op.sign("ES256", Some("at+jwt"), &claims)
        }),
        ("alg", {
            // `none`: the header says so and there is no signature.
            use base64::Engine as _;
            let b64 =
                |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
            let claims = json!({"iss": app.op.issuer, "aud": WEB_CLIENT.0, "iat": now,
                "jti": "none-case", "events": {EVENT: {}}, "sub": "alice"});
            format!("{}.{}.", b64(json!({"alg": "none"})), b64(claims))
        }),
        ("alg", {
            // HMAC with the client secret, which the client (and anyone it told) knows.
            use jsonwebtoken::{EncodingKey, Header, encode};
            let claims = json!({"iss": app.op.issuer, "aud": WEB_CLIENT.0, "iat": now,
                "jti": "hmac-case", "events": {EVENT: {}}, "sub": "alice"});
            let key = EncodingKey::from_secret(WEB_CLIENT.1.as_bytes());
            encode(&Header::default(), &claims, &key).unwrap()
        }),
        ("signature", {
            let token = app.logout_token(|c| c["sub"] = json!("alice"));
            let (head, sig) = token.rsplit_once('.').unwrap();
            let flipped = if sig.starts_with('A') { "B" } else { "A" };
            format!("{head}.{flipped}{}", &sig[1..])
        }),
    ];
    for (what, token) in &cases {
        let (status, cache, body) = app.deliver(token).await;
        assert_eq!(status, 400, "{what}: {body}");
        assert_eq!(cache, "no-store", "{what}");
        assert_eq!(body["error"], "invalid_request", "{what}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description.to_lowercase().contains(what),
            "{what}: {description}"
        );
        assert!(!description.contains(token.as_str()), "never the token");
    }
    assert_eq!(app.me(&alice).await, 200, "no bad token ended anything");

    // The same valid token twice: the second is a replay.
    let token = app.logout_token(|c| c["sub"] = json!("alice"));
    assert_eq!(app.deliver(&token).await.0, 200);
    let (status, _, body) = app.deliver(&token).await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error_description"].as_str().unwrap().contains("jti"));
    assert_eq!(app.me(&alice).await, 401);
}

#[tokio::test]
async fn a_bad_request_to_the_route_is_a_400_and_a_provider_without_it_a_404() {
    let app = App::start(Sessions::Cookie).await;
    let url = format!("{}/auth/oidc/backchannel-logout", app.base);
    let client = oauth2_tests::client();
    let cases = [
        client.post(&url).form(&[("other", "x")]),
        client.post(&url).form(&[("logout_token", "")]),
        client.post(&url).json(&json!({"logout_token": "x"})),
        client.post(&url).form(&[("logout_token", "not.a.jwt")]),
    ];
    for request in cases {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{body}");
    }
    let response = client
        .post(format!("{}/auth/nobody/backchannel-logout", app.base))
        .form(&[("logout_token", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
}

/// Stateless cookie sessions on two instances that share a Redis logout store: the
/// logout token reaches the first, the session on the second ends.
#[tokio::test]
async fn stateless_sessions_end_on_every_instance_sharing_a_logout_store() {
    let test = "stateless_sessions_end_on_every_instance_sharing_a_logout_store";
    let Some(redis) = services::redis(test) else {
        return;
    };
    let (first, second) = (
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
        TcpListener::bind("127.0.0.1:0").await.unwrap(),
    );
    let a = format!("http://{}", first.local_addr().unwrap());
    let b = format!("http://{}", second.local_addr().unwrap());
    let op = oauth2_tests::op::OpenIdProvider::start(oauth2_tests::op::Options {
        apps: vec![a.clone(), b.clone()],
        ..Default::default()
    })
    .await;
    for (listener, base) in [(first, &a), (second, &b)] {
        let login = Login::builder()
            .base_url(base)
            .session_secret(SECRET)
            .logout_store(RedisStore::connect(redis).await.unwrap())
            .provider(
                LoginProvider::builder("oidc")
                    .issuer(&op.issuer)
                    .client_id(WEB_CLIENT.0)
                    .client_secret(WEB_CLIENT.1)
                    .backchannel_logout(),
            )
            .build()
            .unwrap();
        let app: Router = Router::new()
            .route("/me", get(me))
            .merge(login.router())
            .layer(login.layer());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    }
    let app = App { op, base: b };
    let browser = app.log_in("alice").await;
    browser
        .confirm_logout(&format!("{}/session/end", app.op.issuer))
        .await;
    assert_eq!(app.me(&browser).await, 401, "ended through Redis");
    let again = app.log_in("alice").await;
    assert_eq!(app.me(&again).await, 200);
}
