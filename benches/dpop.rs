//! A request with a DPoP-bound token and its proof, through the layer, next to the same
//! request with a bearer token: what DPoP costs per request (one ES256 proof check, the
//! `jti` recorded in memory) on top of a verified-token cache hit. Requests go through
//! `tower::ServiceExt::oneshot`, no sockets. Each DPoP request needs a proof of its
//! own: they are signed in criterion's setup, outside the measurement. Report the ratio
//! `dpop / bearer`, and `dpop / jsonwebtoken-es256` (a bare ES256 JWT decode, about the
//! proof check's own cost).
//!
//! `cargo bench -p oauth2-benches --bench dpop`

use std::hint::black_box;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use oauth2::config::Dpop;
use oauth2::dev::DevIssuer;
use oauth2::{Authenticated, Authenticator};
use serde_json::json;
use tower::ServiceExt;

/// The client's P-256 key (PKCS #8) and its public point.
const PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwOB09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXptqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER";
const X: &str = "ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI";
const Y: &str = "vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE";
const URL: &str = "https://api.example/me";

fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data))
}

fn dpop(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let key = EncodingKey::from_ec_der(&STANDARD.decode(PKCS8).unwrap());
    let jwk = json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y});
    let jkt = sha256_b64(format!(r#"{{"crv":"P-256","kty":"EC","x":"{X}","y":"{Y}"}}"#).as_bytes());
    let (idp, app) = rt.block_on(async {
        let idp = DevIssuer::start().await.unwrap();
        let auth = Authenticator::builder()
            .provider(idp.provider("dev").dpop(Dpop::Allowed))
            .dpop_base_url("https://api.example")
            // Every proof of the run is remembered: room for all of them.
            .dpop_replay_store(oauth2::dpop::MemoryReplayCache::new(5_000_000))
            .build()
            .unwrap();
        auth.ready().await;
        let app = Router::new()
            .route(
                "/me",
                get(|a: Authenticated| async move { a.subject().unwrap().to_owned() }),
            )
            .layer(auth.layer());
        (idp, app)
    });
    let bearer = idp.token().algorithm(oauth2::Algorithm::ES256).sign();
    let bound = idp
        .token()
        .algorithm(oauth2::Algorithm::ES256)
        .claim("cnf", json!({"jkt": jkt}))
        .sign();
    let ath = sha256_b64(bound.as_bytes());
    let mut n = 0u64;
    let mut proof = || {
        n += 1;
        let claims = json!({"jti": format!("j{n}"), "htm": "GET", "htu": URL, "ath": ath,
                            "iat": std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()});
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(jwk.clone()).unwrap());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let call = |authorization: String, proof: Option<String>| {
        let mut request = Request::get(URL).header("authorization", authorization);
        if let Some(proof) = proof {
            request = request.header("dpop", proof);
        }
        let response = rt.block_on(app.clone().oneshot(request.body(Body::empty()).unwrap()));
        assert_eq!(response.unwrap().status(), 200);
    };
    // Sanity (and the token cache warmed for both).
    call(format!("Bearer {bearer}"), None);
    call(format!("DPoP {bound}"), Some(proof()));

    let mut group = c.benchmark_group("request");
    group.bench_function("bearer", |b| {
        b.iter(|| call(format!("Bearer {bearer}"), None))
    });
    group.bench_function("dpop", |b| {
        b.iter_batched(
            &mut proof,
            |p| call(format!("DPoP {bound}"), Some(p)),
            BatchSize::SmallInput,
        )
    });
    // A bare ES256 decode, about what checking the proof's signature costs.
    let proof_jwt = proof();
    let decoding = DecodingKey::from_ec_components(X, Y).unwrap();
    let mut checks = Validation::new(Algorithm::ES256);
    checks.required_spec_claims.clear();
    checks.validate_exp = false;
    checks.validate_aud = false;
    group.bench_function("jsonwebtoken-es256", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&proof_jwt), &decoding, &checks)
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, dpop);
criterion_main!(benches);
