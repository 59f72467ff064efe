//! The validation path for RS256, ES256 and EdDSA tokens next to raw `jsonwebtoken`
//! decoding of the same tokens with the same key and checks. Report the ratios
//! `oauth2 / jsonwebtoken` (a token seen first: the full check) and
//! `oauth2-cached / jsonwebtoken` (a repeated token: a verified-token cache hit, with
//! the time checks still made) per algorithm: all run in the same process, so the
//! ratios hold on a noisy machine where absolute times do not.
//!
//!
//! `keys` parses the dev issuer's JWK set (one key per algorithm it signs with) as a
//! fetch does: `KeySet::from_json`, which also parses each key into aws-lc-rs's verifying
//! key, next to `jsonwebtoken` parsing the set and making a `DecodingKey` per key. It is
//! paid once per fetch, not per request.
//!
//! `cargo bench -p oauth2-benches`

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::dev::{DEFAULT_AUDIENCE, DevIssuer};
use oauth2::jwks::KeySet;
use oauth2::validation::Validator;

fn validation(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (idp, validator, cached) = rt.block_on(async {
        let idp = DevIssuer::start().await.unwrap();
        let provider = idp.provider("dev").build().unwrap();
        let validator = Validator::new(vec![provider.clone()]).unwrap();
        validator.ready().await;
        let cached = Validator::new(vec![provider])
            .unwrap()
            .with_token_cache(1024, std::time::Duration::from_secs(3600));
        cached.ready().await;
        (idp, validator, cached)
    });
    let jwks: JwkSet = serde_json::from_value(idp.jwks()).unwrap();

    let mut group = c.benchmark_group("validate");
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let ours: oauth2::Algorithm = format!("{alg:?}").parse().unwrap();
        let token = idp
            .token()
            .algorithm(ours)
            .claim("email", "alice@example.com")
            .scope("read write")
            .sign();
        let kid = jsonwebtoken::decode_header(&token).unwrap().kid.unwrap();
        let key = DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
        let mut checks = Validation::new(alg);
        checks.set_issuer(&[idp.issuer()]);
        checks.set_audience(&[DEFAULT_AUDIENCE]);
        checks.leeway = 60;

        // Sanity: both accept the token.
        assert!(rt.block_on(validator.validate(&token)).is_ok());
        assert!(jsonwebtoken::decode::<serde_json::Value>(&token, &key, &checks).is_ok());

        group.bench_with_input(
            BenchmarkId::new("jsonwebtoken", format!("{alg:?}")),
            &token,
            |b, t| {
                b.iter(|| {
                    jsonwebtoken::decode::<serde_json::Value>(black_box(t), &key, &checks).unwrap()
                })
            },
        );
        group.bench_with_input(
            BenchmarkId::new("oauth2", format!("{alg:?}")),
            &token,
            |b, t| b.iter(|| rt.block_on(validator.validate(black_box(t))).unwrap()),
        );
        assert!(rt.block_on(cached.validate(&token)).is_ok());
        group.bench_with_input(
            BenchmarkId::new("oauth2-cached", format!("{alg:?}")),
            &token,
            |b, t| b.iter(|| rt.block_on(cached.validate(black_box(t))).unwrap()),
        );
    }
    group.finish();

    let json = serde_json::to_vec(&idp.jwks()).unwrap();
    let mut group = c.benchmark_group("keys");
    group.bench_function("jsonwebtoken", |b| {
        b.iter(|| {
            let set: JwkSet = serde_json::from_slice(black_box(&json)).unwrap();
            let keys: Vec<DecodingKey> = set
                .keys
                .iter()
                .map(|k| DecodingKey::from_jwk(k).unwrap())
                .collect();
            keys
        })
    });
    group.bench_function("oauth2", |b| {
        b.iter(|| KeySet::from_json(black_box(&json)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
