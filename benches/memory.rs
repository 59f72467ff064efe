//! Memory under a flood of distinct valid tokens: the verified-token cache must keep the
//! resident size within its bound plus a constant, and keep the tokens that are used
//! again.
//!
//! One `Validator` (an HS256 provider, so that a million tokens sign and verify in
//! seconds; the cache holds the same entries for every algorithm) validates a stream of
//! distinct valid tokens, each made just before it is sent and dropped after, with a few
//! hot tokens mixed in (one request in 50). It prints the resident size
//! (`/proc/self/statm`) as the flood goes on, next to the same flood with the cache off
//! (the baseline: what the process needs without it), the cache's entries and
//! evictions, and how often the hot tokens hit.
//!
//! `cargo bench -p oauth2-benches --bench memory` (`MEMORY_TOKENS`, default 1,000,000;
//! `MEMORY_CACHE`, default 10,000 entries); `cargo test --benches` runs a short pass that
//! checks the cache never holds more than its bound and the hot tokens stay in it.

use std::time::Duration;

use jsonwebtoken::{EncodingKey, Header};
use oauth2::Provider;
use oauth2::validation::Validator;
use serde_json::json;

const SECRET: &[u8] = b"the memory benchmark's HS256 secret, 32+ bytes";
const HOT: usize = 8;

/// The resident set size of this process, in bytes.
fn resident() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1 << 20) as f64)
}

/// A token as a real provider issues it: a few hundred bytes of claims.
fn token(key: &EncodingKey, i: usize) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({
        "iss": "https://issuer.memory.bench", "aud": "memory-bench",
        "sub": format!("user-{i}"), "email": format!("user-{i}@example.com"),
        "name": "A. N. Example", "scope": "openid profile email read write",
        "iat": now, "exp": now + 3600, "jti": format!("{i:016x}"),
    });
    jsonwebtoken::encode(&Header::default(), &claims, key).unwrap()
}

struct Run {
    /// (tokens sent, resident bytes)
    samples: Vec<(usize, u64)>,
    hot_hits: usize,
    hot_sent: usize,
    entries: usize,
    evictions: u64,
}

async fn flood(tokens: usize, cache: usize) -> Run {
    let provider = Provider::builder("flood")
        .issuer("https://issuer.memory.bench")
        .audience("memory-bench")
        .hmac_secret(SECRET)
        .build()
        .unwrap();
    let mut validator = Validator::new(vec![provider]).unwrap();
    if cache > 0 {
        validator = validator.with_token_cache(cache, Duration::from_secs(3600));
    }
    let key = EncodingKey::from_secret(SECRET);
    let hot: Vec<String> = (0..HOT).map(|i| token(&key, usize::MAX - i)).collect();
    for t in &hot {
        // Used twice before the flood, as a client that keeps its token does.
        validator.validate(t).await.unwrap();
        validator.validate(t).await.unwrap();
    }
    let every = (tokens / 20).max(1);
    let mut run = Run {
        samples: vec![(0, resident())],
        hot_hits: 0,
        hot_sent: 0,
        entries: 0,
        evictions: 0,
    };
    for i in 0..tokens {
        validator.validate(&token(&key, i)).await.unwrap();
        if i % 50 == 0 {
            let before = validator.token_cache_stats().map_or(0, |s| s.hits);
            validator.validate(&hot[i / 50 % HOT]).await.unwrap();
            let after = validator.token_cache_stats().map_or(0, |s| s.hits);
            run.hot_sent += 1;
            run.hot_hits += usize::from(after > before);
        }
        if (i + 1) % every == 0 {
            run.samples.push((i + 1, resident()));
        }
    }
    if let Some(stats) = validator.token_cache_stats() {
        run.entries = stats.entries;
        run.evictions = stats.evictions;
        assert!(
            stats.entries <= stats.capacity,
            "{} entries, capacity {}",
            stats.entries,
            stats.capacity
        );
    }
    run
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let (tokens, cache) = if full {
        (env("MEMORY_TOKENS", 1_000_000), env("MEMORY_CACHE", 10_000))
    } else {
        (20_000, 1_000)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    // The baseline first: what the flood costs without a cache.
    let off = rt.block_on(flood(tokens, 0));
    let on = rt.block_on(flood(tokens, cache));

    println!("{tokens} distinct valid tokens, cache of {cache} entries");
    println!("| tokens sent | resident MiB, cache off | resident MiB, cache on | difference MiB |");
    println!("|---|---|---|---|");
    for ((n, a), (_, b)) in off.samples.iter().zip(&on.samples) {
        println!(
            "| {n} | {} | {} | {} |",
            mib(*a),
            mib(*b),
            mib(b.saturating_sub(*a))
        );
    }
    // After the cache has filled (a tenth of the run is many times its size), the
    // resident size must stay flat.
    let settled: Vec<u64> = on
        .samples
        .iter()
        .filter(|(n, _)| *n >= tokens / 10)
        .map(|(_, r)| *r)
        .collect();
    let (low, high) = (
        settled.iter().min().copied().unwrap_or(0),
        settled.iter().max().copied().unwrap_or(0),
    );
    let filled = settled.first().copied().unwrap_or(0);
    let per_entry = filled.saturating_sub(on.samples[0].1) / cache.max(1) as u64;
    println!(
        "cache on: {} entries at the end, {} evictions; resident {}–{} MiB after it filled \
         (growth over the rest of the run: {} MiB); about {} bytes per cached token",
        on.entries,
        on.evictions,
        mib(low),
        mib(high),
        mib(high.saturating_sub(filled)),
        per_entry,
    );
    println!(
        "hot tokens: {} of {} requests were cache hits during the flood",
        on.hot_hits, on.hot_sent
    );
    assert!(on.entries <= cache);
    assert!(
        on.hot_hits * 10 >= on.hot_sent * 9,
        "the hot tokens stay cached: {} of {}",
        on.hot_hits,
        on.hot_sent
    );
    if !full {
        println!("(test mode: a short pass; `cargo bench --bench memory` for figures)");
    }
}
