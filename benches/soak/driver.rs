//! The soak test's driver (`bash benches/soak/run.sh`): runs the identity provider
//! (a `DevIssuer`), starts `soak_server` against it, and for `--seconds` sends a mix
//! of valid (repeated and new), expired, forged and unknown-`kid` bearer tokens, full
//! browser logins with session reads, token refreshes and logouts, while the provider
//! rolls to a new signing key every `--rotate` seconds. Every second it records the
//! server's resident memory and the sizes the server reports.
//!
//! It passes when no request got an unexpected status (a 5xx is always unexpected) and
//! the server's resident memory after the warm-up (the first quarter) stays within
//! ±10 % of its median. Prints a Markdown report; exits 1 on failure.
//! `SOAK_SERVER_ARGS` passes options to the server (`--session-cache BYTES`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use oauth2::dev::DevIssuer;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::Value;

fn arg(name: &str, default: &str) -> String {
    let mut args = std::env::args().skip_while(|a| a != name).skip(1);
    args.next().unwrap_or_else(|| default.to_owned())
}

/// What each kind of request got: how many, and the statuses that were not expected.
#[derive(Default)]
struct Tally {
    sent: u64,
    /// Answers that are expected but only just after a rotation: a token signed by the
    /// new key before the server has fetched it (within the unknown-`kid` cooldown).
    late_key: u64,
    unexpected: BTreeMap<u16, u64>,
}

#[derive(Default)]
struct Tallies(Mutex<BTreeMap<&'static str, Tally>>);

impl Tallies {
    fn record(&self, kind: &'static str, status: StatusCode, expected: StatusCode) {
        let mut map = self.0.lock().unwrap();
        let t = map.entry(kind).or_default();
        t.sent += 1;
        if status != expected {
            *t.unexpected.entry(status.as_u16()).or_default() += 1;
        }
    }

    fn late_key(&self, kind: &'static str) {
        let mut map = self.0.lock().unwrap();
        let t = map.entry(kind).or_default();
        t.sent += 1;
        t.late_key += 1;
    }

    fn error(&self, kind: &'static str) {
        let mut map = self.0.lock().unwrap();
        let t = map.entry(kind).or_default();
        t.sent += 1;
        *t.unexpected.entry(0).or_default() += 1;
    }
}

/// A small xorshift generator: the mix needs no quality, only no dependency.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Resident memory of process `pid`, in KiB.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

struct Run {
    base: String,
    idp: DevIssuer,
    tallies: Tallies,
    /// When the provider last rolled its key (ms since the epoch).
    rotated_at: AtomicU64,
    deadline: Instant,
    cooldown: Duration,
}

impl Run {
    fn just_rotated(&self) -> bool {
        let since = unix_ms().saturating_sub(self.rotated_at.load(Ordering::Relaxed));
        since < (self.cooldown + Duration::from_secs(1)).as_millis() as u64
    }
}

async fn bearer_worker(run: Arc<Run>, seed: u64) {
    let http = reqwest::Client::new();
    let url = format!("{}/api", run.base);
    let mut rng = Rng::new(seed);
    let mut repeat = run.idp.token().expires_in(3600).sign();
    let mut minted_at = 0;
    while Instant::now() < run.deadline {
        let (kind, token, expected) = match rng.below(10) {
            0..=2 => ("valid, repeated", repeat.clone(), StatusCode::OK),
            3..=4 => (
                "valid, new",
                run.idp
                    .token()
                    .subject(&format!("u{}", rng.below(1 << 20)))
                    .sign(),
                StatusCode::OK,
            ),
            5 => (
                "expired",
                run.idp.token().expires_in(-600).sign(),
                StatusCode::UNAUTHORIZED,
            ),
            6 => {
                let t = run.idp.token().sign();
                let mut bytes = t.into_bytes();
                let i = bytes.len() - 10;
                bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
                (
                    "forged",
                    String::from_utf8(bytes).unwrap(),
                    StatusCode::UNAUTHORIZED,
                )
            }
            _ => (
                "unknown kid",
                run.idp
                    .token()
                    .kid(&format!("attacker-{}", rng.below(1 << 30)))
                    .sign(),
                StatusCode::UNAUTHORIZED,
            ),
        };
        // A client gets a new token now and then, and after the provider rolled its
        // key (a rotation keeps only the previous key published: older tokens fail).
        let rotation = run.rotated_at.load(Ordering::Relaxed);
        if rotation != minted_at || rng.below(500) == 0 {
            repeat = run.idp.token().expires_in(3600).sign();
            minted_at = rotation;
        }
        let rotated = run.just_rotated();
        match http.get(&url).bearer_auth(&token).send().await {
            Ok(r)
                if r.status() == StatusCode::UNAUTHORIZED
                    && expected == StatusCode::OK
                    && rotated =>
            {
                run.tallies.late_key(kind)
            }
            Ok(r) => run.tallies.record(kind, r.status(), expected),
            Err(_) => run.tallies.error(kind),
        }
    }
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_owned)
}

/// One browser: logs in as a user of its own, reads its session, asks for its
/// (refreshed) access token, then logs out (three in five), is logged out by the
/// provider through back-channel logout (one in five), or leaves its session to expire
/// in the store (one in five).
async fn browser_worker(run: Arc<Run>, seed: u64) {
    let mut rng = Rng::new(seed);
    while Instant::now() < run.deadline {
        let jar = Arc::new(reqwest::cookie::Jar::default());
        let b = reqwest::Client::builder()
            .redirect(Policy::none())
            .cookie_provider(jar)
            .build()
            .unwrap();
        let t = &run.tallies;
        let Ok(start) = b.get(format!("{}/auth/dev/login", run.base)).send().await else {
            t.error("login");
            continue;
        };
        t.record("login", start.status(), StatusCode::SEE_OTHER);
        let Some(to_idp) = location(&start) else {
            continue;
        };
        // Its own user, so that a back-channel logout by `sub` ends only its session.
        let user = format!("soak-{seed}-{}", rng.below(1 << 40));
        let to_idp = format!("{to_idp}&login_hint={user}");
        let Ok(back) = b.get(&to_idp).send().await else {
            continue;
        };
        let Some(callback) = location(&back) else {
            continue;
        };
        let Ok(done) = b.get(&callback).send().await else {
            t.error("callback");
            continue;
        };
        t.record("callback", done.status(), StatusCode::SEE_OTHER);
        for _ in 0..5 {
            match b.get(format!("{}/me", run.base)).send().await {
                Ok(r) => t.record("session read", r.status(), StatusCode::OK),
                Err(_) => t.error("session read"),
            }
        }
        match b.get(format!("{}/token", run.base)).send().await {
            Ok(r) => t.record("session token (refresh)", r.status(), StatusCode::OK),
            Err(_) => t.error("session token (refresh)"),
        }
        let ending = rng.below(5);
        if ending == 0 {
            // The provider ends the session (a fresh `jti` each time: the seen set grows
            // by one entry per logout, kept for the token's maximum age).
            let now = unix_ms() / 1000;
            let token = run
                .idp
                .token()
                .header("typ", "logout+jwt")
                .audience("soak")
                .subject(&user)
                .claim("iat", now)
                .claim("jti", format!("{user}-{}", rng.below(1 << 40)))
                .claim(
                    "events",
                    serde_json::json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
                )
                .sign();
            let answer = reqwest::Client::new()
                .post(format!("{}/auth/dev/backchannel-logout", run.base))
                .form(&[("logout_token", token)])
                .send()
                .await;
            match answer {
                Ok(r) => t.record("back-channel logout", r.status(), StatusCode::OK),
                Err(_) => t.error("back-channel logout"),
            }
            match b.get(format!("{}/me", run.base)).send().await {
                Ok(r) => t.record("read after logout", r.status(), StatusCode::UNAUTHORIZED),
                Err(_) => t.error("read after logout"),
            }
        } else if ending < 4 {
            let logout = b
                .post(format!("{}/auth/logout", run.base))
                .header("origin", &run.base)
                .header("sec-fetch-site", "same-origin")
                .send()
                .await;
            match logout {
                Ok(r) => t.record("logout", r.status(), StatusCode::SEE_OTHER),
                Err(_) => t.error("logout"),
            }
            match b.get(format!("{}/me", run.base)).send().await {
                Ok(r) => t.record("read after logout", r.status(), StatusCode::UNAUTHORIZED),
                Err(_) => t.error("read after logout"),
            }
        }
    }
}

struct Sample {
    second: u64,
    rss_kib: u64,
    stats: Value,
}

fn median(mut v: Vec<u64>) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let server_bin = arg("--server", "target/release/examples/soak_server");
    let seconds: u64 = arg("--seconds", "60").parse().expect("--seconds N");
    let rotate: u64 = arg("--rotate", "10").parse().expect("--rotate N");
    let workers: u64 = arg("--workers", "8").parse().expect("--workers N");
    let port = arg("--port", "8710");

    let idp = DevIssuer::start().await.expect("the dev issuer starts");
    // Login access tokens that are due for a refresh about two seconds after the login.
    idp.set_token_lifetime(Duration::from_secs(62));
    let mut server = Command::new(&server_bin)
        .args(["--port", &port, "--issuer", idp.issuer()])
        .args(
            std::env::var("SOAK_SERVER_ARGS")
                .unwrap_or_default()
                .split_whitespace(),
        )
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{server_bin}: {e}"));
    let pid = server.id();
    let mut ready = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the server started");

    let run = Arc::new(Run {
        base: format!("http://127.0.0.1:{port}"),
        idp,
        tallies: Tallies::default(),
        rotated_at: AtomicU64::new(0),
        deadline: Instant::now() + Duration::from_secs(seconds),
        cooldown: oauth2::jwks::DEFAULT_UNKNOWN_KID_COOLDOWN,
    });
    let mut tasks = Vec::new();
    for i in 0..workers {
        tasks.push(tokio::spawn(bearer_worker(Arc::clone(&run), i + 1)));
    }
    for i in 0..2 {
        tasks.push(tokio::spawn(browser_worker(Arc::clone(&run), 100 + i)));
    }
    let rotations = {
        let run = Arc::clone(&run);
        tokio::spawn(async move {
            let mut n = 0;
            loop {
                tokio::time::sleep(Duration::from_secs(rotate)).await;
                if Instant::now() >= run.deadline {
                    return n;
                }
                run.rotated_at.store(unix_ms(), Ordering::Relaxed);
                run.idp.roll_keys();
                n += 1;
            }
        })
    };
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    let started = Instant::now();
    for second in 1..=seconds {
        tokio::time::sleep_until((started + Duration::from_secs(second)).into()).await;
        let stats = match http.get(format!("{}/soak/stats", run.base)).send().await {
            Ok(r) => r.json().await.unwrap_or(Value::Null),
            Err(_) => Value::Null,
        };
        samples.push(Sample {
            second,
            rss_kib: rss_kib(pid),
            stats,
        });
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rotations = rotations.await.unwrap();
    let _ = server.kill();
    let _ = server.wait();

    report(&run, &samples, seconds, rotations)
}

fn report(run: &Run, samples: &[Sample], seconds: u64, rotations: u32) {
    println!("## Soak: {seconds} s, {rotations} key rotations\n");
    println!(
        "\"Just after a rotation\": 401s for a token signed by the provider's new key before the \
         server fetched it, within the unknown-kid cooldown ({} s) that the flood of unknown \
         kids keeps armed; expected, and counted apart.\n",
        run.cooldown.as_secs()
    );
    println!("| request | sent | unexpected | just after a rotation |");
    println!("|---|---|---|---|");
    let tallies = run.tallies.0.lock().unwrap();
    let mut unexpected = 0;
    for (kind, t) in tallies.iter() {
        let bad: u64 = t.unexpected.values().sum();
        unexpected += bad;
        let detail = if bad == 0 {
            "0".to_owned()
        } else {
            format!("{bad} ({:?})", t.unexpected)
        };
        println!("| {kind} | {} | {detail} | {} |", t.sent, t.late_key);
    }
    let warm_up = (seconds / 4).max(1);
    let after: Vec<&Sample> = samples.iter().filter(|s| s.second > warm_up).collect();
    let reference = median(after.iter().map(|s| s.rss_kib).collect());
    let (min, max) = after.iter().fold((u64::MAX, 0), |(lo, hi), s| {
        (lo.min(s.rss_kib), hi.max(s.rss_kib))
    });
    let ratio = |v: u64| v as f64 / reference.max(1) as f64;
    println!(
        "\nResident memory after the {warm_up} s warm-up: median {reference} KiB, min {min} KiB ({:.3}×), max {max} KiB ({:.3}×)",
        ratio(min),
        ratio(max)
    );
    println!("\n| second | RSS KiB | token cache entries | sessions in the store | key fetches |");
    println!("|---|---|---|---|---|");
    for s in samples
        .iter()
        .filter(|s| s.second % 5 == 0 || s.second == 1)
    {
        println!(
            "| {} | {} | {} | {} | {} |",
            s.second,
            s.rss_kib,
            s.stats["token_cache_entries"],
            s.stats["sessions"],
            s.stats["key_fetches"]
        );
    }
    let flat = ratio(min) >= 0.9 && ratio(max) <= 1.1;
    let capacity = samples
        .last()
        .map(|s| s.stats["token_cache_capacity"].as_u64());
    let bounded = samples
        .iter()
        .all(|s| s.stats["token_cache_entries"].as_u64() <= capacity.flatten());
    println!(
        "\nunexpected statuses: {unexpected}; memory flat (±10 %): {flat}; token cache within its capacity: {bounded}"
    );
    if unexpected > 0 || !flat || !bounded || after.is_empty() {
        println!("SOAK FAILED");
        std::process::exit(1);
    }
    println!("soak passed");
}
