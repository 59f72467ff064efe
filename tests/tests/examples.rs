//! The examples' environment contracts, run as the binaries users run:
//!
//! - `resource_server`: `OAUTH2_ISSUER`, `OAUTH2_AUDIENCE` (comma list),
//!   `OAUTH2_JWKS_URL`, `OAUTH2_BIND`; routes `/`, `/me`, `/admin` (scope `admin`), `/ws`.
//! - `login`: `OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`, `OIDC_CLIENT_AUTH`,
//!   `OIDC_CLIENT_KEY_FILE`, `APP_BASE_URL`,
//!   `SESSION_SECRET`, `SESSION_STORE`, `OAUTH2_BIND`; routes `/`, `/me`, `/auth/...`,
//!   against the real oidc-provider.

use std::process::Stdio;

use futures_util::{SinkExt, StreamExt};
use oauth2::dev::DevIssuer;
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use oauth2_tests::{
    client, error_of, example, example_process, free_addr, get_with_token, wait_until_up,
};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

fn resource_server(env: &[(&str, &str)]) -> Command {
    let cleared = [
        "OAUTH2_ISSUER",
        "OAUTH2_AUDIENCE",
        "OAUTH2_JWKS_URL",
        "OAUTH2_BIND",
    ];
    example_process("resource_server", &cleared, env)
}

#[tokio::test]
async fn resource_server_keeps_its_environment_contract() {
    let idp = DevIssuer::start().await.expect("dev issuer");
    let bind = free_addr();
    let url = format!("http://{bind}");
    let jwks = idp.jwks_url();
    let mut child = resource_server(&[
        ("OAUTH2_ISSUER", idp.issuer()),
        ("OAUTH2_AUDIENCE", "other-api, dev-api"),
        ("OAUTH2_JWKS_URL", &jwks),
        ("OAUTH2_BIND", &bind),
    ])
    .spawn()
    .expect("spawn resource_server");
    wait_until_up(&mut child, &url).await;

    // `/me`: the claims as JSON; the second audience of the list is accepted.
    let token = idp.token().subject("alice").scope("read").sign();
    let res = get_with_token(&url, "/me", &token).await;
    assert_eq!(res.status(), 200);
    let claims: serde_json::Value = res.json().await.unwrap();
    assert_eq!(claims["sub"], "alice");
    // Keys came from OAUTH2_JWKS_URL, not discovery.
    assert_eq!(idp.stats().discovery, 0);
    assert!(idp.stats().jwks >= 1);
    // No token: 400; a token for another audience: 401.
    let e = error_of(client().get(format!("{url}/me")).send().await.unwrap()).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    let e = error_of(get_with_token(&url, "/me", &idp.token().audience("nope").sign()).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));

    // `/admin` needs scope `admin`.
    let e = error_of(get_with_token(&url, "/admin", &token).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    let root = idp.token().scope("read admin").sign();
    assert_eq!(
        get_with_token(&url, "/admin", &root)
            .await
            .text()
            .await
            .unwrap(),
        "admin"
    );

    // `/ws`: echo with a token in the subprotocol; closed with 1008 without one, or with
    // one in the query (not accepted unless the app turns it on).
    let ws_url = url.replacen("http://", "ws://", 1);
    let mut request = format!("{ws_url}/ws").into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("access_token, {token}").parse().unwrap(),
    );
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket with token");
    ws.send(Message::text("ping")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ping"));
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}/ws?access_token={token}"))
        .await
        .expect("websocket with a token in the query");
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => {
            assert_eq!(frame.code, CloseCode::Policy);
            assert!(frame.reason.contains("query parameter"), "{}", frame.reason);
        }
        other => panic!("expected close 1008, got {other:?}"),
    }
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}/ws"))
        .await
        .expect("websocket without token");
    match ws.next().await.unwrap().unwrap() {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Policy),
        other => panic!("expected close 1008, got {other:?}"),
    }
}

#[tokio::test]
async fn resource_server_names_a_missing_variable() {
    let output = resource_server(&[("OAUTH2_AUDIENCE", "api"), ("OAUTH2_BIND", &free_addr())])
        .output()
        .await
        .expect("run resource_server");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(
            "environment variable OAUTH2_ISSUER (`issuer` of provider \"default\") is not set"
        ),
        "{stderr}"
    );
}

const LOGIN_VARS: [&str; 10] = [
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "OIDC_CLIENT_AUTH",
    "OIDC_CLIENT_KEY_FILE",
    "OIDC_SCOPES",
    "APP_BASE_URL",
    "SESSION_SECRET",
    "SESSION_STORE",
    "OAUTH2_BIND",
];

fn login_example(env: &[(&str, &str)]) -> Command {
    example_process("login", &LOGIN_VARS, env)
}

#[tokio::test]
async fn login_example_logs_in_and_out_with_sessions_in_redis() {
    let test = "login_example_logs_in_and_out_with_sessions_in_redis";
    let Some(redis) = oauth2_tests::services::redis(test) else {
        return;
    };
    let bind = free_addr();
    let base = format!("http://{bind}");
    let op = OpenIdProvider::for_app(&base).await;
    let mut child = login_example(&[
        ("OIDC_ISSUER", &op.issuer),
        ("OIDC_CLIENT_ID", WEB_CLIENT.0),
        ("OIDC_CLIENT_SECRET", WEB_CLIENT.1),
        ("APP_BASE_URL", &base),
        (
            "SESSION_SECRET",
            "the example's session secret, 32 bytes or more",
        ),
        ("SESSION_STORE", redis),
        ("OAUTH2_BIND", &bind),
    ])
    .spawn()
    .expect("start the login example");
    wait_until_up(&mut child, &base).await;

    let b = Browser::new();
    let home = b.get(&format!("{base}/")).await.text().await.unwrap();
    assert!(home.contains("id=\"login\""), "{home}");
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);
    let start = b
        .get(&format!("{base}/auth/oidc/login?return_to=/me"))
        .await;
    let callback = b.authorize(&location(&start), &base, "alice").await;
    let done = b.get(&callback).await;
    assert_eq!(location(&done), format!("{base}/me"));
    let me: serde_json::Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(
        me,
        serde_json::json!({"sub": "alice", "name": "Alice Example", "email": "alice@example.com"})
    );
    let home = b.get(&format!("{base}/")).await.text().await.unwrap();
    assert!(home.contains("Hello, Alice Example"), "{home}");

    let out = b.post_form(&format!("{base}/auth/logout")).await;
    let end_session = location(&out);
    assert!(end_session.starts_with(&op.issuer), "{end_session}");
    assert_eq!(b.confirm_logout(&end_session).await, format!("{base}/"));
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);

    // The device flow is on: a device gets a user code, and polling is pending.
    device_poll_is_pending(&base, "client_secret_basic").await;
}

/// A device starts a login at the example at `base` and polls: the device authorization
/// request and the token endpoint answer as for a client the provider authenticated
/// (one it did not would get `invalid_client`): a user code, then
/// `authorization_pending`.
async fn device_poll_is_pending(base: &str, method: &str) {
    let client = oauth2_tests::client();
    let started: serde_json::Value = client
        .post(format!("{base}/auth/oidc/device"))
        .form(&[("scope", "openid")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(started["user_code"].is_string(), "{method}: {started}");
    let poll = client
        .post(format!("{base}/auth/oidc/token"))
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
            ("device_code", started["device_code"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(poll.status(), 400, "{method}");
    let pending: serde_json::Value = poll.json().await.unwrap();
    assert_eq!(
        pending["error"], "authorization_pending",
        "{method}: {pending}"
    );
}

#[tokio::test]
async fn login_example_authenticates_with_each_client_auth_method() {
    use oauth2_tests::op::{Options, PKJWT_CLIENT, POST_CLIENT, SECRET_JWT_CLIENT};
    let key_file = format!("{}/data/client-p256.pem", env!("CARGO_MANIFEST_DIR"));
    let key =
        oauth2::client::ClientKey::from_pem(&std::fs::read_to_string(&key_file).unwrap()).unwrap();
    let methods: [(&str, &str, Option<&str>); 4] = [
        ("client_secret_basic", WEB_CLIENT.0, Some(WEB_CLIENT.1)),
        ("client_secret_post", POST_CLIENT.0, Some(POST_CLIENT.1)),
        (
            "client_secret_jwt",
            SECRET_JWT_CLIENT.0,
            Some(SECRET_JWT_CLIENT.1),
        ),
        ("private_key_jwt", PKJWT_CLIENT, None),
    ];
    for (method, client_id, secret) in methods {
        let bind = free_addr();
        let base = format!("http://{bind}");
        // Access tokens that live 30 s: each call on the user's behalf refreshes first.
        let op = OpenIdProvider::start(Options {
            apps: vec![base.clone()],
            client_jwks: Some(serde_json::json!({"keys": [key.public_jwk()]})),
            access_token_ttl: Some(30),
            always_refresh_tokens: true,
            ..Options::default()
        })
        .await;
        let mut env = vec![
            ("OIDC_ISSUER", op.issuer.as_str()),
            ("OIDC_CLIENT_ID", client_id),
            ("OIDC_CLIENT_AUTH", method),
            ("APP_BASE_URL", &base),
            (
                "SESSION_SECRET",
                "the example's session secret, 32 bytes or more",
            ),
            ("OAUTH2_BIND", &bind),
        ];
        match secret {
            Some(secret) => env.push(("OIDC_CLIENT_SECRET", secret)),
            None => env.push(("OIDC_CLIENT_KEY_FILE", &key_file)),
        }
        let mut child = login_example(&env)
            .spawn()
            .expect("start the login example");
        wait_until_up(&mut child, &base).await;
        // The code exchange (after a pushed authorization request).
        let b = Browser::new();
        let start = b
            .get(&format!("{base}/auth/oidc/login?return_to=/me"))
            .await;
        assert_eq!(start.status(), 303, "{method}");
        let callback = b.authorize(&location(&start), &base, "alice").await;
        let done = b.get(&callback).await;
        assert_eq!(location(&done), format!("{base}/me"), "{method}");
        let me: serde_json::Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
        assert_eq!(me["sub"], "alice", "{method}");
        // Refreshes, authenticated the same way, then userinfo with the new token.
        for _ in 0..2 {
            let profile = b.get(&format!("{base}/me/provider")).await;
            assert_eq!(profile.status(), 200, "{method}: refreshed");
        }
        device_poll_is_pending(&base, method).await;
        let _ = child.kill().await;
    }
}

/// Two processes of the login example at `a` and `b` (`http://127.0.0.1:PORT`) on one
/// session store, up and answering.
async fn two_login_instances(
    op: &OpenIdProvider,
    a: &str,
    b: &str,
    store: &str,
) -> Vec<tokio::process::Child> {
    let mut instances = Vec::new();
    for base in [a, b] {
        let bind = base.trim_start_matches("http://");
        let mut child = login_example(&[
            ("OIDC_ISSUER", &op.issuer),
            ("OIDC_CLIENT_ID", WEB_CLIENT.0),
            ("OIDC_CLIENT_SECRET", WEB_CLIENT.1),
            ("APP_BASE_URL", base),
            (
                "SESSION_SECRET",
                "the example's session secret, 32 bytes or more",
            ),
            ("SESSION_STORE", store),
            ("OAUTH2_BIND", bind),
        ])
        .spawn()
        .expect("start the login example");
        wait_until_up(&mut child, base).await;
        instances.push(child);
    }
    instances
}

/// Two instances of the login example on one store; the provider's back-channel
/// logout goes to the first, the user's session is on the second.
async fn logout_reaches_the_other_instance(store: &str) {
    let (a, b) = (
        format!("http://{}", free_addr()),
        format!("http://{}", free_addr()),
    );
    let op = OpenIdProvider::start(oauth2_tests::op::Options {
        apps: vec![a.clone(), b.clone()],
        ..Default::default()
    })
    .await;
    let _instances = two_login_instances(&op, &a, &b, store).await;
    let browser = Browser::new();
    let start = browser.get(&format!("{b}/auth/oidc/login")).await;
    let callback = browser.authorize(&location(&start), &b, "alice").await;
    assert_eq!(browser.get(&callback).await.status(), 303);
    assert_eq!(browser.get(&format!("{b}/me")).await.status(), 200);

    // Logged out at the provider's own page: its logout token goes to instance A.
    browser
        .confirm_logout(&format!("{}/session/end", op.issuer))
        .await;
    assert_eq!(
        browser.get(&format!("{b}/me")).await.status(),
        401,
        "{store}: instance B's session ended"
    );
}

#[tokio::test]
async fn a_back_channel_logout_at_one_instance_ends_the_session_at_another_on_redis() {
    let test = "a_back_channel_logout_at_one_instance_ends_the_session_at_another_on_redis";
    if let Some(redis) = oauth2_tests::services::redis(test) {
        logout_reaches_the_other_instance(redis).await;
    }
}

#[tokio::test]
async fn a_back_channel_logout_at_one_instance_ends_the_session_at_another_on_postgres() {
    let test = "a_back_channel_logout_at_one_instance_ends_the_session_at_another_on_postgres";
    if let Some(postgres) = oauth2_tests::services::postgres(test) {
        logout_reaches_the_other_instance(postgres).await;
    }
}

/// The `cli_login` example against the `login` example: with the device flow (the user
/// approves on the provider's pages) and with a loopback redirect (the browser logs in,
/// the code lands at the CLI).
#[tokio::test]
async fn the_cli_logs_in_through_the_app_by_device_code_and_by_loopback_redirect() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let bind = free_addr();
    let base = format!("http://{bind}");
    let cli_port = free_addr().rsplit(':').next().unwrap().to_owned();
    let cli_callback = format!("http://127.0.0.1:{cli_port}/callback");
    let op = OpenIdProvider::start(oauth2_tests::op::Options {
        apps: vec![base.clone()],
        extra_redirect_uris: vec![cli_callback],
        ..Default::default()
    })
    .await;
    let mut app = login_example(&[
        ("OIDC_ISSUER", &op.issuer),
        ("OIDC_CLIENT_ID", WEB_CLIENT.0),
        ("OIDC_CLIENT_SECRET", WEB_CLIENT.1),
        ("APP_BASE_URL", &base),
        (
            "SESSION_SECRET",
            "the example's session secret, 32 bytes or more",
        ),
        ("OAUTH2_BIND", &bind),
    ])
    .spawn()
    .expect("start the login example");
    wait_until_up(&mut app, &base).await;

    for args in [vec![], vec!["--browser", "--port", cli_port.as_str()]] {
        let mut cli = Command::new(example("cli_login"))
            .args(&args)
            .env("APP_URL", &base)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the cli_login example");
        let mut lines = BufReader::new(cli.stdout.take().unwrap()).lines();
        let browser = Browser::new();
        let user = if args.is_empty() { "frank" } else { "grace" };
        let finished = async {
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(url) = line.strip_prefix("or open ") {
                    browser.approve_device(url, Some(user)).await;
                } else if let Some(url) = line.strip_prefix("open ") {
                    let start = browser.get(url).await;
                    let cli = format!("http://127.0.0.1:{cli_port}");
                    let callback = browser.authorize(&location(&start), &cli, user).await;
                    assert_eq!(browser.get(&callback).await.status(), 200);
                } else if line.starts_with("logged in as") {
                    return line;
                }
            }
            panic!("cli_login {args:?} ended without logging in");
        };
        let line = tokio::time::timeout(std::time::Duration::from_secs(60), finished)
            .await
            .expect("the CLI logs in within a minute");
        assert!(line.starts_with(&format!("logged in as {user};")), "{line}");
        assert!(cli.wait().await.unwrap().success());
    }
}

/// Two processes of the login example on one store refresh one session at the same
/// time (every `/me/provider` refreshes: access tokens live 30 s, under the refresh
/// margin). oidc-provider rotates refresh tokens and revokes the grant when a spent one
/// comes again, so only the lock in the store keeps the session alive.
async fn two_processes_refresh_one_at_a_time(store: &str) {
    let (a, b) = (
        format!("http://{}", free_addr()),
        format!("http://{}", free_addr()),
    );
    let op = OpenIdProvider::start(oauth2_tests::op::Options {
        apps: vec![a.clone(), b.clone()],
        access_token_ttl: Some(30),
        always_refresh_tokens: true,
        ..Default::default()
    })
    .await;
    let _instances = two_login_instances(&op, &a, &b, store).await;
    let browser = Browser::new();
    let start = browser.get(&format!("{a}/auth/oidc/login")).await;
    let callback = browser.authorize(&location(&start), &a, "ivan").await;
    assert_eq!(browser.get(&callback).await.status(), 303);

    let urls: Vec<String> = (0..8)
        .map(|i| format!("{}/me/provider", if i % 2 == 0 { &a } else { &b }))
        .collect();
    let calls = urls.iter().map(|url| browser.get(url));
    for response in futures_util::future::join_all(calls).await {
        let url = response.url().clone();
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "{store}: {url}: {body}");
        assert!(body.contains("\"sub\":\"ivan\""), "{body}");
    }
    let after = browser.get(&format!("{b}/me/provider")).await;
    assert_eq!(after.status(), 200, "{store}: the grant survived");
}

#[tokio::test]
async fn two_login_processes_on_redis_refresh_one_session_one_at_a_time() {
    let test = "two_login_processes_on_redis_refresh_one_session_one_at_a_time";
    if let Some(redis) = oauth2_tests::services::redis(test) {
        two_processes_refresh_one_at_a_time(redis).await;
    }
}

#[tokio::test]
async fn two_login_processes_on_postgres_refresh_one_session_one_at_a_time() {
    let test = "two_login_processes_on_postgres_refresh_one_session_one_at_a_time";
    if let Some(postgres) = oauth2_tests::services::postgres(test) {
        two_processes_refresh_one_at_a_time(postgres).await;
    }
}

#[tokio::test]
async fn login_example_names_a_missing_variable() {
    let output = login_example(&[
        ("OIDC_ISSUER", "http://127.0.0.1:9"),
        ("OIDC_CLIENT_ID", "app"),
        ("OAUTH2_BIND", &free_addr()),
    ])
    .output()
    .await
    .expect("run the login example");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("environment variable SESSION_SECRET is not set"),
        "{stderr}"
    );
    let output = login_example(&[
        ("OIDC_ISSUER", "http://127.0.0.1:9"),
        ("OIDC_CLIENT_ID", "app"),
        (
            "SESSION_SECRET",
            "the example's session secret, 32 bytes or more",
        ),
        ("SESSION_STORE", "mysql://db"),
    ])
    .output()
    .await
    .expect("run the login example");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SESSION_STORE `mysql://db`"), "{stderr}");
}

#[tokio::test]
async fn quickstart_serves_an_api_and_a_browser_login() {
    let bind = free_addr();
    let base = format!("http://{bind}");
    let mut child = Command::new(example("quickstart"))
        .env("OAUTH2_BIND", &bind)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the quickstart");
    wait_until_up(&mut child, &base).await;
    let b = Browser::new();
    let home = b.get(&format!("{base}/")).await.text().await.unwrap();
    assert!(home.contains("Log in"), "{home}");
    // The dev issuer signs the dev user in at once.
    let start = b
        .get(&format!("{base}/auth/dev/login?return_to=/profile"))
        .await;
    let back = b.get(&location(&start)).await;
    let done = b.get(&location(&back)).await;
    assert_eq!(location(&done), format!("{base}/profile"));
    let profile: serde_json::Value = b
        .get(&format!("{base}/profile"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(profile["name"], "Dev User");
    let api = client().get(format!("{base}/me")).send().await.unwrap();
    assert_eq!(api.status(), 400, "the API wants a bearer token");
}

#[tokio::test]
async fn the_grpc_example_refuses_and_accepts_calls_as_it_prints() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = Command::new(example("grpc"))
        .env("OAUTH2_BIND", free_addr())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the grpc example");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let read = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.starts_with("serving on") {
                break;
            }
            printed.push(line);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(30), read)
        .await
        .expect("the example printed its calls");
    assert!(
        printed[0].starts_with("no token: Unauthenticated"),
        "{printed:?}"
    );
    assert!(
        printed[1].starts_with("a token without health:read: PermissionDenied"),
        "{printed:?}"
    );
    assert_eq!(
        printed[2], "a token with health:read: OK, Serving",
        "{printed:?}"
    );
}
