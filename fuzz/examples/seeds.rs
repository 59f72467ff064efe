//! Writes the seed corpora to `fuzz/seeds/<target>/`: inputs that pass each entry
//! point's first checks, so that the fuzzer starts deep (a valid HS256 token, a
//! session cookie from a real login through the dev issuer, a callback with its
//! sealed transaction, the grammar of every `providers!` block in the repository).
//! `cargo run --example seeds` from `fuzz/`; the output is committed.

use std::fs;
use std::path::{Path, PathBuf};

use axum::http::header::{LOCATION, SET_COOKIE};
use oauth2_fuzz::{HS_AUDIENCE, HS_ISSUER, app, request, sign_hs256};
use serde_json::json;

/// Far in the future (2100-01-01), so that committed tokens stay unexpired.
const LATER: u64 = 4_102_444_800;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seeds = root.join("seeds");
    let write = |target: &str, inputs: Vec<Vec<u8>>| {
        let dir = seeds.join(target);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        for (i, input) in inputs.iter().enumerate() {
            fs::write(dir.join(format!("seed-{i:02}")), input).unwrap();
        }
        println!("{target}: {} seeds", inputs.len());
    };

    let header = json!({ "alg": "HS256", "typ": "JWT" }).to_string();
    let claims = [
        json!({ "iss": HS_ISSUER, "aud": HS_AUDIENCE, "sub": "alice", "exp": LATER, "iat": 1 }),
        json!({ "iss": HS_ISSUER, "aud": [HS_AUDIENCE, "other"], "azp": "x", "sub": "bob",
                "exp": LATER, "nbf": 1, "scope": "read write", "roles": ["a"] }),
        json!({ "iss": HS_ISSUER, "aud": HS_AUDIENCE, "exp": 1 }),
        json!({ "iss": "https://unknown.invalid", "aud": HS_AUDIENCE, "exp": LATER }),
    ];
    let headers = [
        header.clone(),
        json!({ "alg": "HS256", "kid": "k1", "crit": ["b64"], "jku": "https://x.invalid" })
            .to_string(),
        json!({ "alg": "none" }).to_string(),
        json!({ "alg": "RS256", "kid": "unknown" }).to_string(),
    ];
    let mut signed: Vec<String> = claims
        .iter()
        .map(|c| sign_hs256(header.as_bytes(), c.to_string().as_bytes()))
        .collect();
    signed.extend(
        headers[1..]
            .iter()
            .map(|h| sign_hs256(h.as_bytes(), claims[0].to_string().as_bytes())),
    );
    signed.push(app().dev.token().subject("carol").scope("read").sign());

    let mut bearer: Vec<Vec<u8>> = signed.iter().map(|t| t.clone().into_bytes()).collect();
    bearer.push(format!("Bearer {}", signed[0]).into_bytes());
    bearer.push(b"Basic dXNlcjpwYXNz".to_vec());
    bearer.push(b"a.b.c".to_vec());
    write("bearer_token", bearer);

    let mut pairs = Vec::new();
    for h in &headers {
        for c in &claims {
            let mut input = h.clone().into_bytes();
            input.push(0);
            input.extend_from_slice(c.to_string().as_bytes());
            pairs.push(input);
        }
    }
    write("bearer_claims", pairs);

    let mut jwks = vec![app().dev.jwks().to_string().into_bytes()];
    jwks.push(br#"{"keys":[]}"#.to_vec());
    jwks.push(br#"{"keys":[{"kty":"oct","k":"c2VjcmV0","alg":"HS256"},{"kty":"RSA","n":"AQAB","e":"AQAB","use":"enc"}]}"#.to_vec());
    write("jwks", jwks);

    let issuer = "https://issuer.fuzz.invalid";
    let discovery = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "end_session_endpoint": format!("{issuer}/logout"),
        "device_authorization_endpoint": format!("{issuer}/device"),
        "revocation_endpoint": format!("{issuer}/revoke"),
        "response_types_supported": ["code"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
    });
    write(
        "discovery",
        vec![
            discovery.to_string().into_bytes(),
            json!({ "issuer": issuer, "jwks_uri": "http://evil.invalid/jwks" })
                .to_string()
                .into_bytes(),
        ],
    );

    let login = log_in();
    write(
        "session_cookie",
        vec![
            login.session.clone().into_bytes(),
            b"session=2.abc; session.1=def".to_vec(),
            b"session=0.x".to_vec(),
        ],
    );
    write(
        "callback",
        vec![
            format!(
                "code=not-issued&state={}&iss=x\n{}",
                login.state, login.transaction
            )
            .into_bytes(),
            format!(
                "error=access_denied&error_description=no&state={}\n{}",
                login.state, login.transaction
            )
            .into_bytes(),
            b"code=a&state=b\n".to_vec(),
        ],
    );
    let form = "application/x-www-form-urlencoded";
    write(
        "token_endpoint",
        vec![
            format!("{form}\ngrant_type=refresh_token&refresh_token=abc&scope=read").into_bytes(),
            format!("{form}\ngrant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=d").into_bytes(),
            format!("{form}\ngrant_type=authorization_code&code=c&code_verifier=v&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcb").into_bytes(),
            format!("{form}\ngrant_type=refresh_token&grant_type=password").into_bytes(),
            b"application/json\n{\"grant_type\":\"refresh_token\"}".to_vec(),
        ],
    );
    let logout = app()
        .dev
        .token()
        .claim(
            "events",
            json!({ "http://schemas.openid.net/event/backchannel-logout": {} }),
        )
        .claim("sid", "s1")
        .claim("jti", "j1")
        .without_claim("exp")
        .sign();
    write(
        "logout_token",
        vec![
            format!("logout_token={logout}").into_bytes(),
            format!("logout_token={}", signed[0]).into_bytes(),
            b"logout_token=a.b.c&logout_token=d".to_vec(),
        ],
    );

    let repo = root.parent().unwrap();
    let blocks: Vec<Vec<u8>> =
        rust_files(&[repo.join("examples"), repo.join("tests/ui/providers")])
            .iter()
            .flat_map(|f| providers_blocks(&fs::read_to_string(f).unwrap()))
            .map(String::into_bytes)
            .collect();
    write("providers_grammar", blocks);
}

/// What a browser holds after one login through the dev issuer: the session cookie,
/// and the `state` and transaction cookie of a second login it started.
struct LoggedIn {
    session: String,
    state: String,
    transaction: String,
}

fn log_in() -> LoggedIn {
    let start = |cookie: &str| {
        let req = request(
            "GET",
            "/auth/dev/login",
            &[("cookie", cookie.as_bytes())],
            Vec::new(),
        );
        let response = app().send(req.unwrap());
        let to = response.headers()[LOCATION].to_str().unwrap().to_owned();
        let state = url_param(&to, "state");
        (to, state, cookies(&response))
    };
    let (authorize, state, transaction) = start("");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let answer = app().block_on(async { client.get(&authorize).send().await.unwrap() });
    let callback = answer.headers()[LOCATION].to_str().unwrap().to_owned();
    let path = &callback[callback.find("/auth/").unwrap()..];
    let req = request(
        "GET",
        path,
        &[("cookie", transaction.as_bytes())],
        Vec::new(),
    );
    let done = app().send(req.unwrap());
    if done.status() != 303 {
        let body = app()
            .block_on(axum::body::to_bytes(done.into_body(), 1 << 16))
            .unwrap();
        panic!("the seed login failed: {}", String::from_utf8_lossy(&body));
    }
    let session = cookies(&done);
    let (_, state2, transaction2) = start("");
    assert_ne!(state, state2);
    LoggedIn {
        session,
        state: state2,
        transaction: transaction2,
    }
}

/// The `Set-Cookie` values of a response (not removals), as one `Cookie` header.
fn cookies(response: &axum::http::Response<axum::body::Body>) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_owned())
        .filter(|c| {
            c.split_once('=')
                .is_some_and(|(_, value)| !value.is_empty())
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn url_param(url: &str, name: &str) -> String {
    let url = url::Url::parse(url).unwrap();
    url.query_pairs()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

fn rust_files(dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in dirs {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(rust_files(&[path]));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The text between the braces of each `providers! { ... }` in `source`.
fn providers_blocks(source: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("providers! {") {
        let body = &rest[at + "providers! {".len()..];
        let mut depth = 1;
        let end = body
            .char_indices()
            .find(|(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(body.len(), |(i, _)| i);
        blocks.push(body[..end].to_owned());
        rest = &body[end..];
    }
    blocks
}
