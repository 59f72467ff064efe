//! Broker mode against oidc-provider, with tokens obtained through the device flow:
//! the client gets the broker's own access token (RFC 9068) and an opaque refresh
//! token, never the provider's; refresh tokens rotate and a replay revokes the login
//! (every store); concurrent refreshes of one token have one winner; an upstream grant
//! revoked at the provider ends the login; revocation (RFC 7009); token exchange
//! (RFC 8693); back-channel logout ends broker logins.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::Authenticated;
use oauth2::issuer::Broker;
use oauth2::login::{Login, LoginProvider};
use oauth2::session::{
    BoxFuture, MemoryStore, PostgresStore, RedisStore, SessionStore, StoreError,
};
use oauth2_tests::browser::Browser;
use oauth2_tests::op::{OpenIdProvider, Options, WEB_CLIENT};
use oauth2_tests::{error_of, get_with_token, services};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const SECRET: &str = "the broker test's session secret, 32 bytes+";
const AUDIENCE: &str = "https://api.broker.example";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// A store that remembers the broker sessions it saved, so that a test can reach the
/// provider's tokens behind them (which no client ever sees).
struct Recording {
    store: Arc<dyn SessionStore>,
    families: Mutex<Vec<String>>,
}

impl SessionStore for Recording {
    fn load<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        self.store.load(key)
    }
    fn save<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if key.starts_with("broker-family:") {
            self.families.lock().unwrap().push(value.to_owned());
        }
        self.store.save(key, value, ttl)
    }
    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.store.delete(key)
    }
    fn save_new<'a>(
        &'a self,
        key: &'a str,
        value: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.store.save_new(key, value, ttl)
    }
    fn supports_tags(&self) -> bool {
        self.store.supports_tags()
    }
    fn tag<'a>(
        &'a self,
        key: &'a str,
        tags: &'a [String],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        self.store.tag(key, tags, ttl)
    }
    fn delete_tagged<'a>(&'a self, tag: &'a str) -> BoxFuture<'a, Result<u64, StoreError>> {
        self.store.delete_tagged(tag)
    }
}

struct App {
    op: OpenIdProvider,
    base: String,
    store: Arc<Recording>,
    /// A CLI's loopback callback, registered at the provider.
    cli_callback: String,
}

async fn store(name: &str) -> Arc<dyn SessionStore> {
    match name {
        "redis" => Arc::new(RedisStore::connect(services::REDIS).await.unwrap()),
        "postgres" => Arc::new(PostgresStore::connect(services::POSTGRES).await.unwrap()),
        _ => Arc::new(MemoryStore::new()),
    }
}

fn stores(test: &str) -> Vec<&'static str> {
    let mut names = vec!["memory"];
    if services::redis(test).is_some() {
        names.push("redis");
    }
    if services::postgres(test).is_some() {
        names.push("postgres");
    }
    names
}

impl App {
    /// The app, its broker in `store`; access tokens of the provider live `ttl` s.
    async fn start(store_name: &str, upstream_ttl: Option<u64>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let cli_callback = format!("http://{}/callback", oauth2_tests::free_addr());
        let op = OpenIdProvider::start(Options {
            apps: vec![base.clone()],
            access_token_ttl: upstream_ttl,
            always_refresh_tokens: true,
            extra_redirect_uris: vec![cli_callback.clone()],
            ..Options::default()
        })
        .await;
        let recording = Arc::new(Recording {
            store: store(store_name).await,
            families: Mutex::default(),
        });
        let login = Login::builder()
            .base_url(&base)
            .session_secret(SECRET)
            .provider(
                LoginProvider::builder("oidc")
                    .issuer(&op.issuer)
                    .client_id(WEB_CLIENT.0)
                    .client_secret(WEB_CLIENT.1)
                    .device_flow()
                    .backchannel_logout(),
            )
            .broker(
                Broker::builder()
                    .audience(AUDIENCE)
                    .store(Arc::clone(&recording))
                    .claims(["email", "name"]),
            )
            .build()
            .unwrap();
        let auth = oauth2::Authenticator::builder()
            .provider(login.broker().unwrap().bearer_provider("broker"))
            .public_prefix("/auth")
            .build()
            .unwrap();
        let app: Router = Router::new()
            .route(
                "/api/me",
                get(|auth: Authenticated| async move {
                    axum::Json(Value::Object(auth.claims().clone()))
                }),
            )
            .merge(login.router())
            .layer(auth.layer());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        App {
            op,
            base,
            store: recording,
            cli_callback,
        }
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let response = oauth2_tests::client()
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let cache = response
            .headers()
            .get("cache-control")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(cache.as_deref(), Some("no-store"), "{path}");
        (status, response.json().await.unwrap())
    }

    /// Logs `user` in on a device; the broker's token answer.
    async fn device_login(&self, user: &str) -> Value {
        let (status, started) = self.post("/auth/oidc/device", &[]).await;
        assert_eq!(status, 200, "{started}");
        let page = Browser::new()
            .approve_device(
                started["verification_uri_complete"].as_str().unwrap(),
                Some(user),
            )
            .await;
        assert!(page.contains("Sign-in Success"), "{page}");
        let code = started["device_code"].as_str().unwrap();
        for _ in 0..3 {
            let (status, answer) = self
                .post(
                    "/auth/oidc/token",
                    &[("grant_type", DEVICE_CODE), ("device_code", code)],
                )
                .await;
            if status == 200 {
                return answer;
            }
            assert_eq!(answer["error"], "slow_down", "{answer}");
            tokio::time::sleep(Duration::from_secs(6)).await;
        }
        panic!("the device login did not finish");
    }

    async fn refresh(&self, refresh_token: &str) -> (u16, Value) {
        self.post(
            "/auth/token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
            ],
        )
        .await
    }

    /// The provider's tokens behind the latest broker session saved.
    fn upstream(&self) -> Value {
        let families = self.store.families.lock().unwrap();
        let family: Value = serde_json::from_str(families.last().unwrap()).unwrap();
        family["upstream"].clone()
    }
}

fn claims_of(jwt: &str) -> Value {
    oauth2_tests::jwt_claims(jwt)
}

#[tokio::test]
async fn a_device_gets_the_brokers_tokens_and_never_the_providers() {
    let app = App::start("memory", None).await;
    let answer = app.device_login("alice").await;
    assert_eq!(answer["token_type"], "Bearer");
    assert!(
        answer.get("id_token").is_none(),
        "no token of the provider: {answer}"
    );
    let access = answer["access_token"].as_str().unwrap();
    let header = jsonwebtoken::decode_header(access).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, jsonwebtoken::Algorithm::ES256);
    let claims = claims_of(access);
    assert_eq!(claims["iss"], format!("{}/auth", app.base));
    assert_eq!(claims["aud"], AUDIENCE);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.com", "a configured claim");
    assert!(claims["jti"].is_string() && claims["iat"].is_u64() && claims["exp"].is_u64());
    let upstream = app.upstream();
    let refresh = answer["refresh_token"].as_str().unwrap();
    assert_eq!(refresh.split('.').count(), 1, "opaque, not a JWT");
    assert_ne!(access, upstream["access_token"].as_str().unwrap());
    assert_ne!(refresh, upstream["refresh_token"].as_str().unwrap());

    // The broker's token opens its API; the provider's own tokens do not.
    let me = get_with_token(&app.base, "/api/me", access).await;
    assert_eq!(me.status(), 200);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["sub"], "alice");
    for provider_token in [&upstream["access_token"], &upstream["id_token"]] {
        let e =
            error_of(get_with_token(&app.base, "/api/me", provider_token.as_str().unwrap()).await)
                .await;
        assert_eq!(e.status, 401, "{e:?}");
    }
    // No token: as for any provider, 400 with a challenge.
    let none = oauth2_tests::client()
        .get(format!("{}/api/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 400);
    assert!(none.headers().get("www-authenticate").is_some());
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_replay_revokes_the_login_in_every_store() {
    for name in stores("refresh_tokens_rotate_and_a_replay_revokes_the_login_in_every_store") {
        let app = App::start(name, None).await;
        let first = app.device_login("bob").await;
        let spent = first["refresh_token"].as_str().unwrap();
        let (status, second) = app.refresh(spent).await;
        assert_eq!(status, 200, "{name}: {second}");
        let next = second["refresh_token"].as_str().unwrap();
        assert_ne!(next, spent, "{name}: rotated");
        assert_ne!(second["access_token"], first["access_token"]);
        assert_eq!(
            claims_of(second["access_token"].as_str().unwrap())["sub"],
            "bob"
        );

        // The spent one again: refused, and its login is revoked.
        let (status, replay) = app.refresh(spent).await;
        assert_eq!(
            (status, replay["error"].as_str()),
            (400, Some("invalid_grant")),
            "{name}"
        );
        let (status, after) = app.refresh(next).await;
        assert_eq!(
            (status, after["error"].as_str()),
            (400, Some("invalid_grant")),
            "{name}: the family is revoked"
        );
        let (status, _) = app.refresh("made-up").await;
        assert_eq!(status, 400, "{name}");
    }
}

#[tokio::test]
async fn of_concurrent_refreshes_of_one_token_exactly_one_wins() {
    let app = App::start("memory", None).await;
    let answer = app.device_login("carol").await;
    let token = answer["refresh_token"].as_str().unwrap();
    let racers = (0..6).map(|_| app.refresh(token));
    let results = futures_util::future::join_all(racers).await;
    let won = results.iter().filter(|(status, _)| *status == 200).count();
    assert_eq!(won, 1, "{results:?}");
    for (status, body) in &results {
        if *status != 200 {
            assert_eq!(body["error"], "invalid_grant", "{body}");
        }
    }
}

#[tokio::test]
async fn an_upstream_grant_revoked_at_the_provider_ends_the_login() {
    // The provider's access tokens live 30 s, under the refresh margin: every broker
    // refresh refreshes upstream first.
    let app = App::start("memory", Some(30)).await;
    let answer = app.device_login("dave").await;
    let (status, refreshed) = app.refresh(answer["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");
    // Someone revokes the grant at the provider.
    let upstream = app.upstream()["refresh_token"].as_str().unwrap().to_owned();
    let revoked = oauth2_tests::client()
        .post(format!("{}/token/revocation", app.op.issuer))
        .basic_auth(WEB_CLIENT.0, Some(WEB_CLIENT.1))
        .form(&[
            ("token", upstream.as_str()),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let next = refreshed["refresh_token"].as_str().unwrap();
    let (status, refused) = app.refresh(next).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{refused}"
    );
    assert!(
        refused["error_description"]
            .as_str()
            .unwrap()
            .contains("provider"),
        "{refused}"
    );
    // The login is gone.
    let (status, _) = app.refresh(next).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn revocation_ends_the_login_and_revokes_upstream() {
    let app = App::start("memory", None).await;
    let answer = app.device_login("erin").await;
    let refresh = answer["refresh_token"].as_str().unwrap();
    let upstream = app.upstream()["refresh_token"].as_str().unwrap().to_owned();
    let (status, _) = app.post("/auth/revoke", &[("token", refresh)]).await;
    assert_eq!(status, 200);
    let (status, body) = app.refresh(refresh).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    // The provider's refresh token was revoked too.
    let at_provider = oauth2_tests::client()
        .post(format!("{}/token", app.op.issuer))
        .basic_auth(WEB_CLIENT.0, Some(WEB_CLIENT.1))
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", upstream.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(at_provider.status(), 400);
    // Unknown tokens are a 200 too (RFC 7009 §2.2).
    let (status, _) = app.post("/auth/revoke", &[("token", "made-up")]).await;
    assert_eq!(status, 200);
    let (status, body) = app.post("/auth/revoke", &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

#[tokio::test]
async fn a_providers_id_token_is_exchanged_for_a_broker_access_token() {
    let app = App::start("memory", None).await;
    app.device_login("frank").await;
    let id_token = app.upstream()["id_token"].as_str().unwrap().to_owned();
    let exchange = |subject: String| {
        let app = &app;
        async move {
            app.post(
                "/auth/token",
                &[
                    (
                        "grant_type",
                        "urn:ietf:params:oauth:grant-type:token-exchange",
                    ),
                    ("subject_token", subject.as_str()),
                    (
                        "subject_token_type",
                        "urn:ietf:params:oauth:token-type:id_token",
                    ),
                ],
            )
            .await
        }
    };
    let (status, answer) = exchange(id_token.clone()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let access = answer["access_token"].as_str().unwrap();
    assert_eq!(claims_of(access)["sub"], "frank");
    assert_eq!(
        get_with_token(&app.base, "/api/me", access).await.status(),
        200
    );
    // A token the provider did not sign.
    let (head, sig) = id_token.rsplit_once('.').unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let (status, refused) = exchange(format!("{head}.{flipped}{}", &sig[1..])).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{refused}"
    );
    let (status, refused) = exchange(app.op.sign(
        "ES256",
        None,
        &json!({"iss": "http://127.0.0.1:1", "sub": "x"}),
    ))
    .await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (400, Some("invalid_grant")),
        "{refused}"
    );
}

#[tokio::test]
async fn a_back_channel_logout_ends_the_broker_logins_of_that_user() {
    let app = App::start("memory", None).await;
    let answer = app.device_login("grace").await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let logout = app.op.sign(
        "ES256",
        Some("logout+jwt"),
        &json!({
            "iss": app.op.issuer, "aud": WEB_CLIENT.0, "iat": now, "jti": "broker-logout",
            "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            "sub": "grace",
        }),
    );
    let response = oauth2_tests::client()
        .post(format!("{}/auth/oidc/backchannel-logout", app.base))
        .form(&[("logout_token", logout.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (status, body) = app.refresh(answer["refresh_token"].as_str().unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

#[tokio::test]
async fn a_cli_code_login_gets_the_brokers_tokens_too() {
    let app = App::start("memory", None).await;
    let tx = oauth2::login::Transaction::new("oidc", None).unwrap();
    let browser = Browser::new();
    let start = browser
        .client
        .get(format!("{}/auth/oidc/login", app.base))
        .query(&[
            ("redirect_uri", app.cli_callback.as_str()),
            ("code_challenge", &tx.challenge()),
            ("code_challenge_method", "S256"),
            ("state", &tx.state),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 303);
    let cli = app.cli_callback.trim_end_matches("/callback");
    let landed = browser
        .authorize(&oauth2_tests::browser::location(&start), cli, "heidi")
        .await;
    let code = url::Url::parse(&landed)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let (status, answer) = app
        .post(
            "/auth/oidc/token",
            &[
                ("grant_type", "authorization_code"),
                ("code", &code),
                ("redirect_uri", &app.cli_callback),
                ("code_verifier", &tx.verifier),
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("id_token").is_none(), "{answer}");
    let access = answer["access_token"].as_str().unwrap();
    assert_eq!(claims_of(access)["iss"], format!("{}/auth", app.base));
    assert_eq!(claims_of(access)["sub"], "heidi");
    assert_eq!(
        get_with_token(&app.base, "/api/me", access).await.status(),
        200
    );
}
