//! A three-node Redis Cluster on 127.0.0.1, started once per test process with the
//! machine's `redis-server` (cluster mode, nothing on disk but each node's cluster
//! file in a temporary folder) and `redis-cli --cluster create`. Each node runs under a
//! shell that stops it when the test process is gone, however that ends.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The cluster's connection string (`redis+cluster://...`), or why there is none.
pub(crate) fn url() -> Result<&'static str, &'static str> {
    static CLUSTER: OnceLock<Result<String, String>> = OnceLock::new();
    CLUSTER
        .get_or_init(start)
        .as_deref()
        .map_err(String::as_str)
}

/// A port that is free, and whose cluster bus port (+10000) is free too.
fn free_port(taken: &[u16]) -> u16 {
    let free = |p: u16| TcpListener::bind(("127.0.0.1", p)).is_ok();
    let mut candidate = 20_000 + (crate::nanos() % 9_000) as u16;
    loop {
        if !taken.contains(&candidate) && free(candidate) && free(candidate + 10_000) {
            return candidate;
        }
        candidate = 20_000 + (candidate - 20_000 + 7) % 9_000;
    }
}

fn cli(port: u16, args: &[&str]) -> Option<String> {
    let out = Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("the Redis Cluster did not come up: {what}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

fn start() -> Result<String, String> {
    if !crate::services::runs("redis-server") || !crate::services::runs("redis-cli") {
        return Err(
            "redis-server and redis-cli are not installed (apt-get install redis-server)".into(),
        );
    }
    let dir = std::env::temp_dir().join(format!(
        "oauth2-redis-cluster-{}-{}",
        std::process::id(),
        crate::nanos()
    ));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let mut ports = Vec::new();
    for _ in 0..3 {
        let port = free_port(&ports);
        spawn_node(&dir, port)?;
        ports.push(port);
    }
    for &port in &ports {
        wait_for("a node answers PING", || {
            cli(port, &["ping"]).is_some_and(|r| r.trim() == "PONG")
        })?;
    }
    let nodes: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let created = Command::new("redis-cli")
        .arg("--cluster")
        .arg("create")
        .args(&nodes)
        .args(["--cluster-replicas", "0", "--cluster-yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !created.success() {
        return Err("redis-cli --cluster create failed".into());
    }
    for &port in &ports {
        wait_for("cluster_state:ok on every node", || {
            cli(port, &["cluster", "info"]).is_some_and(|i| i.contains("cluster_state:ok"))
        })?;
    }
    Ok(format!("redis+cluster://{}", nodes.join(",")))
}

/// Starts one node under a shell that stops it once this process has ended.
fn spawn_node(dir: &Path, port: u16) -> Result<(), String> {
    let script = format!(
        "redis-server --port {port} --bind 127.0.0.1 --cluster-enabled yes \
         --cluster-config-file nodes-{port}.conf --dir '{dir}' --save '' --appendonly no \
         --protected-mode no >/dev/null & node=$!; \
         while kill -0 {parent} 2>/dev/null && kill -0 $node 2>/dev/null; do sleep 0.5; done; \
         kill $node 2>/dev/null; rm -rf '{dir}'",
        dir = dir.display(),
        parent = std::process::id(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("starting redis-server: {e}"))
}
