//! `examples/broker` as the binary users run, against oidc-provider: two processes on
//! one Redis (and one PostgreSQL) store act as one broker (one JWKS, each accepts the
//! other's access and refresh tokens), a restart keeps the key and the tokens issued
//! before it, another broker accepts its tokens only when it trusts its issuer, and a
//! missing variable exits 1 naming it.

use oauth2_tests::browser::Browser;
use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT};
use oauth2_tests::{example_process, free_addr, get_with_token, services, wait_until_up};
use serde_json::Value;
use tokio::process::{Child, Command};

const AUDIENCE: &str = "https://api.broker-example.test";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

const VARS: [&str; 10] = [
    "OIDC_ISSUER",
    "OIDC_CLIENT_ID",
    "OIDC_CLIENT_SECRET",
    "APP_BASE_URL",
    "SESSION_SECRET",
    "BROKER_STORE",
    "BROKER_AUDIENCE",
    "TRUSTED_ISSUERS",
    "BROKER_KEY_ROTATE_SECS",
    "OAUTH2_BIND",
];

fn broker(env: &[(&str, &str)]) -> Command {
    example_process("broker", &VARS, env)
}

/// A running broker process on `bind`, with public URL `base` and `store`.
async fn start(
    op: &OpenIdProvider,
    bind: &str,
    base: &str,
    store: &str,
    trusted: Option<&str>,
) -> Child {
    let mut env = vec![
        ("OIDC_ISSUER", op.issuer.as_str()),
        ("OIDC_CLIENT_ID", WEB_CLIENT.0),
        ("OIDC_CLIENT_SECRET", WEB_CLIENT.1),
        ("APP_BASE_URL", base),
        (
            "SESSION_SECRET",
            "the broker example's secret, 32 bytes or more",
        ),
        ("BROKER_STORE", store),
        ("BROKER_AUDIENCE", AUDIENCE),
        ("OAUTH2_BIND", bind),
    ];
    if let Some(trusted) = trusted {
        env.push(("TRUSTED_ISSUERS", trusted));
    }
    let mut child = broker(&env).spawn().expect("start the broker example");
    wait_until_up(&mut child, &format!("http://{bind}")).await;
    child
}

async fn post(url: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let response = oauth2_tests::client()
        .post(url)
        .form(form)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// `user` logs in on a device at the broker at `url`; its token answer.
async fn device_login(url: &str, user: &str) -> Value {
    let (status, started) = post(&format!("{url}/auth/oidc/device"), &[]).await;
    assert_eq!(status, 200, "{started}");
    Browser::new()
        .approve_device(
            started["verification_uri_complete"].as_str().unwrap(),
            Some(user),
        )
        .await;
    let code = started["device_code"].as_str().unwrap();
    for _ in 0..3 {
        let form = [("grant_type", DEVICE_CODE), ("device_code", code)];
        let (status, answer) = post(&format!("{url}/auth/oidc/token"), &form).await;
        if status == 200 {
            return answer;
        }
        assert_eq!(answer["error"], "slow_down", "{answer}");
        tokio::time::sleep(std::time::Duration::from_secs(6)).await;
    }
    panic!("the device login did not finish");
}

async fn jwks(url: &str) -> Value {
    oauth2_tests::client()
        .get(format!("{url}/auth/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn me(url: &str, token: &str) -> u16 {
    get_with_token(url, "/api/me", token)
        .await
        .status()
        .as_u16()
}

/// The provider, with its web clients registered for the apps at `apps`.
async fn provider(apps: &[&str]) -> OpenIdProvider {
    OpenIdProvider::start(oauth2_tests::op::Options {
        apps: apps.iter().map(|a| (*a).to_owned()).collect(),
        ..Default::default()
    })
    .await
}

async fn two_processes_act_as_one_broker(store: &str) {
    let (bind_a, bind_b) = (free_addr(), free_addr());
    let (a, b) = (format!("http://{bind_a}"), format!("http://{bind_b}"));
    let op = provider(&[&a]).await;
    // One broker: one public URL (its issuer), one store.
    let mut first = start(&op, &bind_a, &a, store, None).await;
    let _second = start(&op, &bind_b, &a, store, None).await;
    assert_eq!(jwks(&a).await, jwks(&b).await, "{store}: one JWKS");

    let answer = device_login(&a, "alice").await;
    let access = answer["access_token"].as_str().unwrap();
    assert_eq!(me(&a, access).await, 200, "{store}");
    assert_eq!(me(&b, access).await, 200, "{store}: B accepts A's token");
    // A's refresh token works at B, and rotates there.
    let refresh = answer["refresh_token"].as_str().unwrap();
    let (status, refreshed) = post(
        &format!("{b}/auth/token"),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 200, "{store}: {refreshed}");
    let (status, _) = post(
        &format!("{a}/auth/token"),
        &[("grant_type", "refresh_token"), ("refresh_token", refresh)],
    )
    .await;
    assert_eq!(status, 400, "{store}: spent at B, refused at A");

    // A restarts: same keys, and the tokens issued before it stay valid.
    let before = jwks(&a).await;
    first.kill().await.unwrap();
    let _first = start(&op, &bind_a, &a, store, None).await;
    assert_eq!(jwks(&a).await, before, "{store}: the restart kept the key");
    assert_eq!(me(&a, access).await, 200, "{store}");
}

#[tokio::test]
async fn two_broker_processes_on_redis_act_as_one() {
    if let Some(redis) = services::redis("two_broker_processes_on_redis_act_as_one") {
        two_processes_act_as_one_broker(redis).await;
    }
}

#[tokio::test]
async fn two_broker_processes_on_a_redis_cluster_act_as_one() {
    let test = "two_broker_processes_on_a_redis_cluster_act_as_one";
    if let Some(cluster) = services::redis_cluster(test) {
        two_processes_act_as_one_broker(cluster).await;
    }
}

#[tokio::test]
async fn two_broker_processes_on_postgres_act_as_one() {
    if let Some(pg) = services::postgres("two_broker_processes_on_postgres_act_as_one") {
        two_processes_act_as_one_broker(pg).await;
    }
}

#[tokio::test]
async fn another_broker_accepts_the_tokens_only_of_issuers_it_trusts() {
    let (bind_a, bind_c, bind_d) = (free_addr(), free_addr(), free_addr());
    let (a, c, d) = (
        format!("http://{bind_a}"),
        format!("http://{bind_c}"),
        format!("http://{bind_d}"),
    );
    let op = provider(&[&a, &c, &d]).await;
    let _a = start(&op, &bind_a, &a, "memory", None).await;
    let trusted = format!("{a}/auth");
    let _c = start(&op, &bind_c, &c, "memory", Some(&trusted)).await;
    let _d = start(&op, &bind_d, &d, "memory", None).await;
    let answer = device_login(&a, "bob").await;
    let access = answer["access_token"].as_str().unwrap();
    assert_eq!(me(&c, access).await, 200, "C trusts A");
    assert_eq!(me(&d, access).await, 401, "D does not");
    // C's own tokens are not A's to accept.
    let own = device_login(&c, "carol").await;
    assert_eq!(me(&a, own["access_token"].as_str().unwrap()).await, 401);
}

#[tokio::test]
async fn the_broker_example_names_a_missing_variable() {
    let output = broker(&[
        ("OIDC_ISSUER", "http://127.0.0.1:9"),
        ("OIDC_CLIENT_ID", "app"),
        (
            "SESSION_SECRET",
            "the broker example's secret, 32 bytes or more",
        ),
        ("OAUTH2_BIND", &free_addr()),
    ])
    .output()
    .await
    .expect("run the broker example");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("environment variable BROKER_AUDIENCE is not set"),
        "{stderr}"
    );
}
