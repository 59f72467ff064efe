//! Key rotation under load: do requests with a known `kid` wait while the provider's keys
//! roll over, and does a burst of requests with a new `kid` cause one JWKS fetch?
//!
//! One in-process app (the bearer layer on an axum route, driven with
//! `tower::ServiceExt::oneshot`) validates EdDSA tokens of a JWKS server that answers
//! after a delay (100 ms, as a slow provider would). Workers send tokens of a key that
//! stays published, and every period a burst of concurrent requests arrives:
//!
//! - `steady`: the burst's token has a `kid` already loaded (the control: the same
//!   traffic, no fetch);
//! - `rotating`: a new key is published first and the burst's token is signed with it,
//!   so the burst waits for one JWKS fetch while the workers go on.
//!
//! Both phases run with repeated tokens (cache hits) and with a new token per request.
//! It prints the workers' p50/p99/max per phase, the ratio of the p99s, the burst's
//! latency and the JWKS fetches per rotation. The ratio is what counts: both phases run
//! in the same process, one after the other.
//!
//! `cargo bench -p oauth2-benches --bench rotation` (`ROTATION_SECS`, `ROTATION_BURST`);
//! `cargo test --benches` runs a short pass that checks every burst request got 200 and
//! each rotation cost exactly one fetch.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use oauth2::{Authenticator, Provider};
use serde_json::{Value, json};
use tower::ServiceExt as _;

const ISSUER: &str = "https://issuer.rotation.bench";
const AUDIENCE: &str = "rotation-bench";
/// How long the JWKS server takes to answer.
const FETCH_DELAY: Duration = Duration::from_millis(100);

/// One signing key and its public JWK.
struct Key {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl Key {
    fn generate(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        Key {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ed_der(pkcs8.as_ref()),
            jwk: json!({
                "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(pair.public_key().as_ref()),
            }),
        }
    }

    fn sign(&self, sub: &str) -> String {
        let now = unix_now();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(self.kid.clone());
        let claims = json!({
            "iss": ISSUER, "aud": AUDIENCE, "sub": sub, "iat": now, "exp": now + 3600,
        });
        jsonwebtoken::encode(&header, &claims, &self.encoding).unwrap()
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The provider's JWKS endpoint: the published keys, after [`FETCH_DELAY`].
#[derive(Clone, Default)]
struct Jwks {
    published: Arc<RwLock<Vec<Value>>>,
    fetches: Arc<AtomicU64>,
}

impl Jwks {
    fn publish(&self, key: &Key) {
        self.published.write().unwrap().push(key.jwk.clone());
    }

    async fn serve(self) -> String {
        let app = Router::new().route(
            "/jwks",
            get(move || {
                let jwks = self.clone();
                async move {
                    jwks.fetches.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(FETCH_DELAY).await;
                    let keys = jwks.published.read().unwrap().clone();
                    axum::Json(json!({ "keys": keys }))
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        url
    }
}

struct Settings {
    phase: Duration,
    period: Duration,
    burst: usize,
    workers: usize,
    pool: usize,
    full: bool,
}

impl Settings {
    fn from_args() -> Self {
        let full = std::env::args().any(|a| a == "--bench");
        let env = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        if full {
            Settings {
                phase: Duration::from_secs(env("ROTATION_SECS", 5)),
                period: Duration::from_millis(500),
                burst: env("ROTATION_BURST", 1000) as usize,
                workers: 16,
                pool: 60_000,
                full,
            }
        } else {
            Settings {
                phase: Duration::from_millis(700),
                period: Duration::from_millis(300),
                burst: 100,
                workers: 4,
                pool: 2_000,
                full,
            }
        }
    }
}

/// What a phase measured.
struct Outcome {
    known: Vec<u64>,
    burst: Vec<u64>,
    rotations: u64,
    fetches: u64,
    failed: usize,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

async fn call(app: &Router, token: &str) -> (StatusCode, u64) {
    let request = Request::get("/api")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    let start = Instant::now();
    let status = app.clone().oneshot(request).await.unwrap().status();
    (status, start.elapsed().as_nanos() as u64)
}

/// Runs workers with tokens of the stable key for `settings.phase`, with a burst every
/// period: of a known `kid` (`rotate == false`) or of a key published just before.
async fn phase(
    app: &Router,
    jwks: &Jwks,
    stable: &Arc<Vec<String>>,
    repeat: bool,
    rotate: bool,
    settings: &Settings,
) -> Outcome {
    // The burst key of the control phase is loaded before the phase starts.
    let known_burst_key = Key::generate(&format!("burst-{}", unique()));
    jwks.publish(&known_burst_key);
    assert_eq!(
        call(app, &known_burst_key.sign("warm-up")).await.0,
        StatusCode::OK
    );
    tokio::time::sleep(settings.period).await;
    let fetches_before = jwks.fetches.load(Ordering::SeqCst);

    let deadline = Instant::now() + settings.phase;
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..settings.workers)
        .map(|w| {
            let (app, stable, next, failed) =
                (app.clone(), stable.clone(), next.clone(), failed.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                while Instant::now() < deadline {
                    let token = if repeat {
                        &stable[w % 16]
                    } else {
                        &stable[next.fetch_add(1, Ordering::Relaxed) % stable.len()]
                    };
                    let (status, nanos) = call(&app, token).await;
                    if status != StatusCode::OK {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    latencies.push(nanos);
                    // A server yields on its sockets between requests; so do these.
                    tokio::task::yield_now().await;
                }
                latencies
            })
        })
        .collect();

    let mut bursts = Vec::new();
    let mut rotations = 0;
    let mut tick = tokio::time::interval(settings.period);
    tick.tick().await;
    while Instant::now() + settings.period < deadline {
        tick.tick().await;
        let token = if rotate {
            rotations += 1;
            let key = Key::generate(&format!("rotated-{}", unique()));
            jwks.publish(&key);
            key.sign("burst")
        } else {
            known_burst_key.sign("burst")
        };
        let token = Arc::new(token);
        let burst: Vec<_> = (0..settings.burst)
            .map(|_| {
                let (app, token) = (app.clone(), token.clone());
                tokio::spawn(async move { call(&app, &token).await })
            })
            .collect();
        for b in burst {
            let (status, nanos) = b.await.unwrap();
            if status != StatusCode::OK {
                failed.fetch_add(1, Ordering::Relaxed);
            }
            bursts.push(nanos);
        }
    }
    let mut known = Vec::new();
    for w in workers {
        known.extend(w.await.unwrap());
    }
    known.sort_unstable();
    bursts.sort_unstable();
    Outcome {
        known,
        burst: bursts,
        rotations,
        fetches: jwks.fetches.load(Ordering::SeqCst) - fetches_before,
        failed: failed.load(Ordering::Relaxed),
    }
}

/// A distinct `kid` suffix.
fn unique() -> u64 {
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn ms(nanos: u64) -> String {
    format!("{:.3}", nanos as f64 / 1e6)
}

fn main() {
    let settings = Settings::from_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let jwks = Jwks::default();
        let stable_key = Key::generate("stable");
        jwks.publish(&stable_key);
        let url = jwks.clone().serve().await;
        let provider = || {
            Provider::builder("rot")
                .issuer(ISSUER)
                .audience(AUDIENCE)
                .jwks_url(url.clone())
                .algorithms([oauth2::Algorithm::EdDSA])
                // Rotations here come every period; the cooldown must be shorter.
                .unknown_kid_cooldown(settings.period / 3)
        };
        let stable: Arc<Vec<String>> = Arc::new(
            (0..settings.pool)
                .map(|i| stable_key.sign(&format!("user-{i}")))
                .collect(),
        );
        println!(
            "rotation under load: {} workers, a burst of {} every {:?}, JWKS answers after {:?}, {:?} per phase",
            settings.workers, settings.burst, settings.period, FETCH_DELAY, settings.phase
        );
        println!(
            "| tokens | phase | requests | p50 ms | p99 ms | max ms | p99 × steady | ≥ fetch delay | burst p50 ms | burst p99 ms | rotations | JWKS fetches |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
        for repeat in [true, false] {
            let auth = Authenticator::builder()
                .provider(provider())
                .token_cache(if repeat { 10_000 } else { 0 })
                .build()
                .unwrap();
            auth.ready().await;
            let app = Router::new()
                .route("/api", get(|| async { "ok" }))
                .layer(auth.layer());
            let mut steady_p99 = 0;
            for rotate in [false, true] {
                let o = phase(&app, &jwks, &stable, repeat, rotate, &settings).await;
                let p99 = percentile(&o.known, 0.99);
                if !rotate {
                    steady_p99 = p99;
                }
                let waited = o
                    .known
                    .iter()
                    .filter(|&&n| n >= FETCH_DELAY.as_nanos() as u64)
                    .count();
                println!(
                    "| {} | {} | {} | {} | {} | {} | {:.2} | {waited} | {} | {} | {} | {} |",
                    if repeat { "repeat" } else { "first-seen" },
                    if rotate { "rotating" } else { "steady" },
                    o.known.len(),
                    ms(percentile(&o.known, 0.5)),
                    ms(p99),
                    ms(o.known.last().copied().unwrap_or(0)),
                    p99 as f64 / steady_p99.max(1) as f64,
                    ms(percentile(&o.burst, 0.5)),
                    ms(percentile(&o.burst, 0.99)),
                    o.rotations,
                    o.fetches,
                );
                // What must hold in any run, timing aside.
                assert_eq!(o.failed, 0, "every request is accepted");
                assert!(!o.known.is_empty() && !o.burst.is_empty());
                if rotate {
                    assert!(o.rotations > 0);
                    assert_eq!(
                        o.fetches, o.rotations,
                        "each rotation's burst of {} requests causes one JWKS fetch",
                        settings.burst
                    );
                } else {
                    assert_eq!(o.fetches, 0, "a known kid causes no fetch");
                }
            }
        }
        if !settings.full {
            println!("(test mode: a short pass; `cargo bench --bench rotation` for figures)");
        }
    });
}
