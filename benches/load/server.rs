//! The load benchmark's server (see `benches/load/run.sh`): one process, one core, with
//! the same handler behind each way of checking a bearer token.
//!
//! | route | check |
//! |---|---|
//! | `/open` | none (the baseline) |
//! | `/layer` | this crate's layer (`Authenticator::layer`) |
//! | `/protect` | a `#[protect]` handler |
//! | `/jsonwebtoken` | a hand-written middleware: `jsonwebtoken::decode` with keys parsed at startup |
//! | `/limit` | the machine's limit: split and parse the token, verify with an aws-lc-rs key parsed at startup, no claim checks |
//!
//! It starts a dev issuer in process, writes tokens to `--tokens DIR` (`{alg}-repeat` with
//! one token, `{alg}-distinct` with `--distinct N` tokens, one per line), the JWKS URL to
//! `DIR/jwks-url`, then serves on `--port`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use oauth2::dev::{DEFAULT_AUDIENCE, DevIssuer};
use oauth2::{Authenticated, FromClaims, protect, providers};

static ISSUER: OnceLock<String> = OnceLock::new();

fn issuer() -> String {
    ISSUER.get().expect("set before load").clone()
}

providers! {
    dev {
        issuer: issuer(),
        audience: DEFAULT_AUDIENCE,
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
}

#[protect(provider = "dev", claims = User)]
async fn protected(user: User) -> String {
    user.sub
}

async fn layered(auth: Extension<Authenticated>) -> String {
    auth.subject().unwrap_or_default().to_owned()
}

/// The hand-written middleware most apps have: find the key by `kid`, decode.
#[derive(Clone)]
struct Plain {
    keys: Arc<HashMap<String, DecodingKey>>,
    validations: Arc<HashMap<Algorithm, Validation>>,
}

async fn plain_middleware(
    State(plain): State<Plain>,
    mut request: Request,
    next: Next,
) -> Response {
    let Some(token) = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let Ok(header) = jsonwebtoken::decode_header(token) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    let (Some(key), Some(validation)) = (
        header.kid.as_ref().and_then(|kid| plain.keys.get(kid)),
        plain.validations.get(&header.alg),
    ) else {
        return StatusCode::UNAUTHORIZED.into_response();
    };
    match jsonwebtoken::decode::<serde_json::Value>(token, key, validation) {
        Ok(data) => {
            request.extensions_mut().insert(data.claims);
            next.run(request).await
        }
        Err(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// The least any validator must do: the header's `kid`, the payload parsed, one
/// signature check with a key parsed at startup (aws-lc-rs). No claim is checked.
#[derive(Clone)]
struct Limit {
    keys: Arc<HashMap<String, ParsedPublicKey>>,
}

impl Limit {
    fn new(jwks: &JwkSet) -> Self {
        let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
        let keys = jwks
            .keys
            .iter()
            .filter_map(|k| {
                let (alg, bytes): (&'static dyn VerificationAlgorithm, Vec<u8>) =
                    match (&k.algorithm, k.common.key_algorithm) {
                        (AlgorithmParameters::RSA(r), Some(KeyAlgorithm::RS256)) => (
                            &signature::RSA_PKCS1_2048_8192_SHA256,
                            rsa_der(&b64(&r.n), &b64(&r.e)),
                        ),
                        (AlgorithmParameters::EllipticCurve(ec), Some(KeyAlgorithm::ES256)) => (
                            &signature::ECDSA_P256_SHA256_FIXED,
                            [vec![4], b64(&ec.x), b64(&ec.y)].concat(),
                        ),
                        (AlgorithmParameters::OctetKeyPair(okp), Some(KeyAlgorithm::EdDSA)) => {
                            (&signature::ED25519, b64(&okp.x))
                        }
                        _ => return None,
                    };
                let key = ParsedPublicKey::new(alg, bytes).unwrap();
                Some((k.common.key_id.clone()?, key))
            })
            .collect();
        Limit {
            keys: Arc::new(keys),
        }
    }

    fn verify(&self, token: &str) -> Option<serde_json::Value> {
        #[derive(serde::Deserialize)]
        struct JoseHeader {
            kid: String,
        }
        let (message, signature) = token.rsplit_once('.')?;
        let (header, payload) = message.split_once('.')?;
        let header: JoseHeader =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        let claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let key = self.keys.get(&header.kid)?;
        key.verify_sig(message.as_bytes(), &signature).ok()?;
        Some(claims)
    }
}

/// PKCS#1 `RSAPublicKey` DER of a modulus and an exponent (big-endian, no leading zeros).
fn rsa_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let len = body.len();
        let mut out = match len {
            0..0x80 => vec![tag, len as u8],
            0x80..0x100 => vec![tag, 0x81, len as u8],
            _ => vec![tag, 0x82, (len >> 8) as u8, len as u8],
        };
        out.extend_from_slice(body);
        out
    }
    let integer = |v: &[u8]| {
        let sign = if v[0] & 0x80 != 0 { &[0u8][..] } else { &[] };
        tlv(0x02, &[sign, v].concat())
    };
    tlv(0x30, &[integer(n), integer(e)].concat())
}

async fn limit_middleware(
    State(limit): State<Limit>,
    mut request: Request,
    next: Next,
) -> Response {
    let claims = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| limit.verify(token));
    match claims {
        Some(claims) => {
            request.extensions_mut().insert(claims);
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn plain_handler(Extension(claims): Extension<serde_json::Value>) -> String {
    claims["sub"].as_str().unwrap_or_default().to_owned()
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

const ALGORITHMS: [(&str, Algorithm); 3] = [
    ("RS256", Algorithm::RS256),
    ("ES256", Algorithm::ES256),
    ("EdDSA", Algorithm::EdDSA),
];

/// Writes the token files: generated on every core before the server is pinned.
fn write_tokens(idp: &DevIssuer, dir: &std::path::Path, distinct: usize) {
    for (name, _) in ALGORITHMS {
        let ours: oauth2::Algorithm = name.parse().unwrap();
        let one = idp.token().algorithm(ours).subject("repeat").sign();
        std::fs::write(dir.join(format!("{name}-repeat")), format!("{one}\n")).unwrap();
        let threads = std::thread::available_parallelism().map_or(2, usize::from);
        let chunks: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        let mut out = String::new();
                        for i in (t..distinct).step_by(threads) {
                            let token = idp
                                .token()
                                .algorithm(ours)
                                .subject(&format!("user-{i}"))
                                .sign();
                            out.push_str(&token);
                            out.push('\n');
                        }
                        out
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        std::fs::write(dir.join(format!("{name}-distinct")), chunks.concat()).unwrap();
    }
}

fn main() {
    let port: u16 = arg("--port").map_or(8700, |p| p.parse().unwrap());
    let dir = std::path::PathBuf::from(arg("--tokens").unwrap_or_else(|| "target/load".into()));
    let distinct: usize = arg("--distinct").map_or(1000, |n| n.parse().unwrap());
    std::fs::create_dir_all(&dir).unwrap();
    // One worker thread: the run script pins the process to one core.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let idp = DevIssuer::start().await.unwrap();
        ISSUER.set(idp.issuer().to_owned()).unwrap();
        write_tokens(&idp, &dir, distinct);
        let providers = Providers::load().unwrap();
        providers.ready().await;

        let jwks: JwkSet = serde_json::from_value(idp.jwks()).unwrap();
        let keys = jwks
            .keys
            .iter()
            .map(|k| {
                (
                    k.common.key_id.clone().unwrap(),
                    DecodingKey::from_jwk(k).unwrap(),
                )
            })
            .collect();
        let validations = ALGORITHMS
            .iter()
            .map(|(_, alg)| {
                let mut v = Validation::new(*alg);
                v.set_issuer(&[idp.issuer()]);
                v.set_audience(&[DEFAULT_AUDIENCE]);
                (*alg, v)
            })
            .collect();
        let limit = Limit::new(&jwks);
        let plain = Plain {
            keys: Arc::new(keys),
            validations: Arc::new(validations),
        };

        let app = Router::new()
            .route("/open", get(|| async { "open" }))
            .route("/protect", get(protected))
            .layer(providers.layer())
            .merge(
                Router::new()
                    .route("/layer", get(layered))
                    .route_layer(providers.authenticator().layer()),
            )
            .merge(
                Router::new()
                    .route("/jsonwebtoken", get(plain_handler))
                    .route_layer(middleware::from_fn_with_state(plain, plain_middleware)),
            )
            .merge(
                Router::new()
                    .route("/limit", get(plain_handler))
                    .route_layer(middleware::from_fn_with_state(limit, limit_middleware)),
            );
        std::fs::write(dir.join("jwks-url"), idp.jwks_url()).unwrap();
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        std::fs::write(dir.join("ready"), "").unwrap();
        axum::serve(listener, app).await.unwrap();
        drop(idp);
    });
}
