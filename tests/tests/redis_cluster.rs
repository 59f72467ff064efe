//! Sessions on a three-node Redis Cluster (started on 127.0.0.1 by the test support):
//! keys spread over every node, and two instances of an app on the cluster share
//! sessions, the back-channel logout index and the seen logout `jti`s. (The store
//! contract and the logout races run on the cluster too, in `session_stores.rs` and
//! `logout_races.rs`; two broker processes share their keys in `broker_example.rs`.)

use std::process::Command;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession};
use oauth2::session::{RedisStore, SessionStore};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::{client, services};
use serde_json::json;

/// The nodes' ports, from the cluster's connection string.
fn ports(url: &str) -> Vec<String> {
    url.trim_start_matches("redis+cluster://")
        .split(',')
        .map(|node| node.rsplit(':').next().unwrap().to_owned())
        .collect()
}

/// How many keys under `prefix` node `port` holds.
fn keys_on(port: &str, prefix: &str) -> usize {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", port, "--scan", "--pattern"])
        .arg(format!("{prefix}*"))
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).lines().count()
}

#[tokio::test]
async fn sessions_spread_over_every_node_of_the_cluster() {
    let Some(url) = services::redis_cluster("sessions_spread_over_every_node_of_the_cluster")
    else {
        return;
    };
    let prefix = format!("spread-{}:", oauth2_tests::nanos());
    let store = RedisStore::connect(url).await.unwrap().with_prefix(&prefix);
    for i in 0..60 {
        store
            .save(&format!("s{i}"), "{}", Duration::from_secs(60))
            .await
            .unwrap();
    }
    let per_node: Vec<usize> = ports(url).iter().map(|p| keys_on(p, &prefix)).collect();
    assert_eq!(per_node.iter().sum::<usize>(), 60, "{per_node:?}");
    assert!(
        per_node.iter().all(|n| *n > 0),
        "every node holds sessions (no hash tag pins them to one slot): {per_node:?}"
    );
    for i in 0..60 {
        assert_eq!(
            store.load(&format!("s{i}")).await.unwrap().as_deref(),
            Some("{}")
        );
    }
}

async fn me(session: LoginSession) -> String {
    session.subject().unwrap_or_default().to_owned()
}

/// One instance of the app on the cluster; its base URL.
async fn instance(idp: &DevIssuer, url: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the cluster test's session secret, 32+ bytes long")
        .session_store(RedisStore::connect(url).await.unwrap())
        .provider(
            LoginProvider::builder("dev")
                .issuer(idp.issuer())
                .client_id("web")
                .client_secret("dev-secret")
                .backchannel_logout(),
        )
        .build()
        .unwrap();
    let app: Router = Router::new()
        .route("/me", get(me))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    base
}

#[tokio::test]
async fn two_instances_on_a_cluster_share_sessions_and_back_channel_logouts() {
    let test = "two_instances_on_a_cluster_share_sessions_and_back_channel_logouts";
    let Some(url) = services::redis_cluster(test) else {
        return;
    };
    let idp = DevIssuer::start().await.unwrap();
    let (a, b) = (instance(&idp, url).await, instance(&idp, url).await);
    let user = format!("cluster-user-{}", oauth2_tests::nanos());

    // Logged in through A; B reads the same session (cookies go to both: one host).
    let browser = Browser::new();
    let start = browser.get(&format!("{a}/auth/dev/login")).await;
    let to_idp = format!("{}&login_hint={user}", location(&start));
    let back = browser.get(&to_idp).await;
    assert_eq!(browser.get(&location(&back)).await.status(), 303);
    let on_b = browser.get(&format!("{b}/me")).await;
    assert_eq!(on_b.status(), 200);
    assert_eq!(on_b.text().await.unwrap(), user);

    // The provider ends the user's sessions through B: A sees it ended.
    let token = idp
        .token()
        .header("typ", "logout+jwt")
        .audience("web")
        .subject(&user)
        .claim("jti", format!("{user}-logout"))
        .claim(
            "events",
            json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
        )
        .sign();
    let logout = |base: String, token: String| async move {
        client()
            .post(format!("{base}/auth/dev/backchannel-logout"))
            .form(&[("logout_token", token)])
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    };
    assert_eq!(logout(b.clone(), token.clone()).await, 200);
    assert_eq!(browser.get(&format!("{a}/me")).await.status(), 401);
    // The same logout token replayed at A: its `jti` was seen, by B.
    assert_eq!(logout(a.clone(), token).await, 400);
}
