//! The machine's services that some tests need (Redis, PostgreSQL, Chromium), and
//! what happens without them: on a user's machine such a test says loudly that it is
//! skipped and why; with `OAUTH2_REQUIRE_SERVICES=1` (as `.ci/run` sets it) a missing
//! service fails the test instead, so CI cannot skip it.

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

/// The variable that turns a missing service from a skip into a failure.
pub const REQUIRE: &str = "OAUTH2_REQUIRE_SERVICES";

/// Redis on the machine.
pub const REDIS: &str = "redis://127.0.0.1:6379";
/// PostgreSQL on the machine (trust auth, database `test`).
pub const POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Debian's Chromium, for the browser test.
pub const CHROMIUM: &str = "/usr/bin/chromium";

fn required() -> bool {
    std::env::var(REQUIRE).is_ok_and(|v| v == "1")
}

/// `Some(())` if `what` is there; otherwise panics when services are required, or
/// prints that `test` is skipped and returns `None`.
fn available(test: &str, what: &str, there: bool, how: &str) -> Option<()> {
    if there {
        return Some(());
    }
    assert!(
        !required(),
        "{test} needs {what}, which is not there ({REQUIRE}=1 makes it required): {how}"
    );
    eprintln!(
        "\n*** SKIPPED {test}: {what} is not there. {how}. \
         (Set {REQUIRE}=1 to make this a failure, as CI does.) ***\n"
    );
    None
}

fn listening(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok()
}

/// Redis's URL, if Redis listens on 127.0.0.1:6379.
pub fn redis(test: &str) -> Option<&'static str> {
    let how = "start Redis on 127.0.0.1:6379";
    available(test, "Redis", listening(6379), how).map(|()| REDIS)
}

/// PostgreSQL's URL, if PostgreSQL listens on 127.0.0.1:5432.
pub fn postgres(test: &str) -> Option<&'static str> {
    let how = "start PostgreSQL on 127.0.0.1:5432 with a database `test` (trust auth)";
    available(test, "PostgreSQL", listening(5432), how).map(|()| POSTGRES)
}

/// The connection string of a three-node Redis Cluster on 127.0.0.1, started once per
/// test process with the machine's `redis-server` (see `cluster.rs`).
pub fn redis_cluster(test: &str) -> Option<&'static str> {
    match crate::cluster::url() {
        Ok(url) => Some(url),
        Err(why) => available(test, "a Redis Cluster", false, why).map(|()| unreachable!()),
    }
}

/// `Some(())` if the program `name` runs (`name --version`); otherwise skipped loudly
/// (or a failure when services are required), with `how` to get it.
pub fn program(test: &str, name: &str, how: &str) -> Option<()> {
    available(test, name, runs(name), how)
}

/// Whether `name --version` runs and succeeds.
pub(crate) fn runs(name: &str) -> bool {
    std::process::Command::new(name)
        .arg("--version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Glewlwyd (Debian's `glewlwyd` package: the server, its modules and its schema), the
/// second OpenID Provider of the interop tests.
pub fn glewlwyd(test: &str) -> Option<()> {
    let how = "install it with `apt-get install glewlwyd`";
    available(test, "Glewlwyd", crate::glewlwyd::installed(), how)
}

/// Chromium's path, if Debian's Chromium is installed (tests never install it).
pub fn chromium(test: &str) -> Option<&'static str> {
    let how = "install it with `apt-get install chromium`";
    available(test, "Chromium", Path::new(CHROMIUM).exists(), how).map(|()| CHROMIUM)
}

/// Every server-side session store this machine has, by name: the memory store, and
/// Redis, PostgreSQL and a Redis Cluster when they are there (skipped loudly otherwise).
pub async fn session_stores(
    test: &str,
) -> Vec<(
    &'static str,
    std::sync::Arc<dyn oauth2::session::SessionStore>,
)> {
    use oauth2::session::{MemoryStore, PostgresStore, RedisStore, SessionStore};
    use std::sync::Arc;
    let mut stores: Vec<(&'static str, Arc<dyn SessionStore>)> =
        vec![("memory", Arc::new(MemoryStore::new()))];
    if let Some(url) = redis(test) {
        stores.push(("redis", Arc::new(RedisStore::connect(url).await.unwrap())));
    }
    if let Some(url) = postgres(test) {
        stores.push((
            "postgres",
            Arc::new(PostgresStore::connect(url).await.unwrap()),
        ));
    }
    if let Some(url) = redis_cluster(test) {
        stores.push((
            "redis cluster",
            Arc::new(RedisStore::connect(url).await.unwrap()),
        ));
    }
    stores
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_service_skips_or_fails_as_required() {
        assert_eq!(available("t", "a service", true, "start it"), Some(()));
        let missing = std::panic::catch_unwind(|| available("t", "a service", false, "start it"));
        if required() {
            assert!(missing.is_err(), "required services must fail the test");
        } else {
            assert_eq!(missing.unwrap(), None, "a missing service skips the test");
        }
    }
}
