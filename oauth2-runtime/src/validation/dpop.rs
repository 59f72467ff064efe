//! DPoP proofs (RFC 9449 §4.3): the checks of a `DPoP` proof JWT against the request it
//! came with and the access token it accompanies. No HTTP here: the adapter gives the
//! method, the URLs the request may have had and the token; the `jti` replay check,
//! which needs a shared store, is the adapter's too.

use std::time::Duration;

use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::{Map, Value};

use super::{ErrorKind, ValidationError, steps};
use crate::config::normalize_typ;

/// The longest proof accepted, checked before decoding.
const MAX_PROOF_SIZE: usize = 8 * 1024;

/// The longest `jti` accepted.
const MAX_JTI: usize = 256;

/// JWK members that only a private key has (RFC 7518 §6): a proof carrying one is
/// refused, as the client has just published its private key.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

pub use crate::defaults::DEFAULT_DPOP_ALGORITHMS;

pub use crate::defaults::DEFAULT_DPOP_MAX_AGE;

/// What a proof is checked against: the request and the access token.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProofRequest<'a> {
    /// The request method (`GET`, ...).
    pub(crate) method: &'a str,
    /// The URLs the request may have been sent to (without query and fragment): one
    /// when the public base URL is configured, else one per scheme.
    pub(crate) urls: &'a [String],
    /// The access token the proof must hash (`ath`).
    pub(crate) access_token: &'a str,
    /// Accepted `alg` values.
    pub(crate) algorithms: &'a [crate::Algorithm],
    /// `iat` must be within this of `now`.
    pub(crate) max_age: Duration,
    /// Seconds since the epoch.
    pub(crate) now: u64,
}

/// A proof that passed: its key's thumbprint, its `jti` for the replay check, and its
/// `nonce` for a server that hands out nonces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Proof {
    /// The RFC 7638 SHA-256 thumbprint of the proof's `jwk`, base64url.
    pub(crate) jkt: String,
    pub(crate) jti: String,
    pub(crate) nonce: Option<String>,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> ValidationError {
    ValidationError::new(ErrorKind::DpopProof, message)
}

/// The base64url SHA-256 of `token`: a proof's `ath`, and how tokens are named in
/// `cnf`.
fn token_hash(token: &str) -> String {
    crate::util::sha256_base64url(token)
}

/// `url` as RFC 9449 §4.3 compares it (RFC 3986 §6.2.2 and §6.2.3): scheme and host
/// lowercase, no default port, dot segments resolved, percent-encoding normalised
/// (hex digits uppercase, unreserved characters decoded), no query, no fragment.
pub(crate) fn normalize_htu(url: &str) -> Option<String> {
    let mut url = url::Url::parse(url).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.set_query(None);
    url.set_fragment(None);
    let path = normalize_percent_encoding(url.path());
    url.set_path(&path);
    Some(url.to_string())
}

/// RFC 3986 §6.2.2.1 and §6.2.2.2: in each `%XX` triplet the hex digits are uppercase,
/// and a triplet that encodes an unreserved character (`A-Z a-z 0-9 - . _ ~`) is that
/// character. Anything else is left as it is.
fn normalize_percent_encoding(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < bytes.len() {
        let triplet = bytes.get(i + 1..i + 3).filter(|_| bytes[i] == b'%');
        let decoded = triplet.and_then(|hex| {
            let hex = std::str::from_utf8(hex).ok()?;
            u8::from_str_radix(hex, 16).ok()
        });
        match decoded {
            Some(c) if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') => {
                out.push(char::from(c));
                i += 3;
            }
            Some(c) => {
                out.push_str(&format!("%{c:02X}"));
                i += 3;
            }
            None => {
                // '%' is ASCII, so the next one is on a char boundary.
                let next = path[i + 1..].find('%').map_or(path.len(), |n| i + 1 + n);
                out.push_str(&path[i..next]);
                i = next;
            }
        }
    }
    out
}

/// Checks `proof` (the `DPoP` header) for `request`: §4.3 steps 2 to 12, `jti` aside.
pub(crate) fn check_proof(
    proof: &str,
    request: &ProofRequest<'_>,
) -> Result<Proof, ValidationError> {
    let compact = steps::split(proof, MAX_PROOF_SIZE).map_err(|e| match e.kind() {
        ErrorKind::TooLarge => invalid("DPoP proof is too large"),
        _ => invalid("DPoP proof is not a signed JWT"),
    })?;
    let decoded = steps::decode(&compact).map_err(|_| invalid("DPoP proof is not a JWT"))?;
    let (header_bytes, claims) = decoded;
    let Ok(Value::Object(header)) = serde_json::from_slice::<Value>(&header_bytes) else {
        return Err(invalid("DPoP proof header is not a JSON object"));
    };
    // RFC 7515 §4.1.11: a JWS whose `crit` lists an extension the recipient does not
    // understand MUST be refused; a proof has none this library understands.
    if let Some(crit) = header.get("crit") {
        let first = crit
            .as_array()
            .and_then(|c| c.first())
            .and_then(Value::as_str);
        return Err(invalid(match first {
            Some(name) => format!(
                "DPoP proof header lists critical extension `{}`, which is not understood",
                printable(name)
            ),
            None => "DPoP proof has a `crit` header, which is not allowed".to_owned(),
        }));
    }
    let typ = header.get("typ").and_then(Value::as_str);
    if typ.map(normalize_typ).as_deref() != Some("dpop+jwt") {
        return Err(invalid("DPoP proof `typ` is not dpop+jwt"));
    }
    let alg = header
        .get("alg")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("DPoP proof has no `alg`"))?;
    let alg = steps::parse_alg(alg, request.algorithms).map_err(|_| {
        invalid(format!(
            "DPoP proof `alg` {} is not accepted",
            printable(alg)
        ))
    })?;
    let jwk = public_jwk(&header)?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| invalid("DPoP proof `jwk` is not a usable public key"))?;
    crate::util::crypto_backend();
    let valid = jsonwebtoken::crypto::verify(
        compact.signature,
        compact.signing_input.as_bytes(),
        &key,
        alg,
    );
    if !matches!(valid, Ok(true)) {
        return Err(invalid(
            "DPoP proof signature does not verify with its `jwk`",
        ));
    }
    let jti = check_claims(&claims, request)?;
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| invalid("DPoP proof `jwk` has no thumbprint"))?;
    let nonce = claims
        .get("nonce")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Ok(Proof { jkt, jti, nonce })
}

/// The header's `jwk`: present, public (no private member), of a supported type.
fn public_jwk(header: &Map<String, Value>) -> Result<Jwk, ValidationError> {
    let Some(Value::Object(jwk)) = header.get("jwk") else {
        return Err(invalid("DPoP proof has no `jwk` header"));
    };
    if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| jwk.contains_key(**m)) {
        return Err(invalid(format!(
            "DPoP proof `jwk` holds a private or symmetric key (`{member}`)"
        )));
    }
    serde_json::from_value(Value::Object(jwk.clone()))
        .map_err(|_| invalid("DPoP proof `jwk` is not a JWK"))
}

/// `jti`, `htm`, `htu`, `iat` and `ath`; gives the `jti`.
fn check_claims(
    claims: &Map<String, Value>,
    request: &ProofRequest<'_>,
) -> Result<String, ValidationError> {
    let string = |name: &'static str| {
        claims
            .get(name)
            .and_then(Value::as_str)
            .ok_or_else(|| invalid(format!("DPoP proof has no `{name}` string")))
    };
    let jti = string("jti")?;
    if jti.is_empty() || jti.len() > MAX_JTI {
        return Err(invalid("DPoP proof `jti` is empty or too long"));
    }
    if string("htm")? != request.method {
        return Err(invalid(format!(
            "DPoP proof `htm` is not the request method {}",
            request.method
        )));
    }
    let htu = normalize_htu(string("htu")?)
        .ok_or_else(|| invalid("DPoP proof `htu` is not an http(s) URL"))?;
    if !request.urls.contains(&htu) {
        return Err(invalid("DPoP proof `htu` is not this request's URL"));
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_f64)
        .ok_or_else(|| invalid("DPoP proof has no numeric `iat`"))?;
    let (now, window) = (request.now as f64, request.max_age.as_secs_f64());
    if iat < now - window {
        return Err(invalid("DPoP proof is too old (`iat`)"));
    }
    if iat > now + window {
        return Err(invalid("DPoP proof is issued in the future (`iat`)"));
    }
    if string("ath")? != token_hash(request.access_token) {
        return Err(invalid(
            "DPoP proof `ath` is not the hash of the access token",
        ));
    }
    Ok(jti.to_owned())
}

fn printable(s: &str) -> String {
    crate::util::printable(s, 20)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;
    use sha2::{Digest, Sha256};

    /// A P-256 key: its PKCS #8 form signs, its JWK (`x`, `y`) is the public half.
    const PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwOB09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXptqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER";
    const X: &str = "ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI";
    const Y: &str = "vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE";
    const NOW: u64 = 1_800_000_000;

    fn jwk() -> Value {
        json!({"kty": "EC", "crv": "P-256", "x": X, "y": Y})
    }

    /// A proof with this header and these claims, signed ES256 with the test key.
    fn sign(header: Value, claims: Value) -> String {
        crate::util::crypto_backend();
        let der = base64::engine::general_purpose::STANDARD
            .decode(PKCS8)
            .unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_der(&der);
        let h = URL_SAFE_NO_PAD.encode(header.to_string());
        let c = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{h}.{c}");
        let signature =
            jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::ES256)
                .unwrap();
        format!("{input}.{signature}")
    }

    fn header() -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk()})
    }

    fn claims() -> Value {
        json!({"jti": "j1", "htm": "GET", "htu": "https://api.example/orders",
               "iat": NOW, "ath": token_hash("the-token")})
    }

    fn check(proof: &str) -> Result<Proof, String> {
        let urls = ["https://api.example/orders".to_owned()];
        let request = ProofRequest {
            method: "GET",
            urls: &urls,
            access_token: "the-token",
            algorithms: &DEFAULT_DPOP_ALGORITHMS,
            max_age: DEFAULT_DPOP_MAX_AGE,
            now: NOW,
        };
        check_proof(proof, &request).map_err(|e| {
            assert_eq!(e.kind(), ErrorKind::DpopProof);
            e.message().to_owned()
        })
    }

    #[test]
    fn a_good_proof_gives_its_key_thumbprint_and_jti() {
        let proof = check(&sign(header(), claims())).unwrap();
        assert_eq!(proof.jti, "j1");
        // RFC 7638: SHA-256 over {"crv","kty","x","y"} in that order.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{X}","y":"{Y}"}}"#);
        assert_eq!(
            proof.jkt,
            URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
        );
        // The htu is compared normalised: case of scheme and host, default port.
        let mut c = claims();
        c["htu"] = json!("HTTPS://API.example:443/orders?x=1#f");
        assert!(check(&sign(header(), c)).is_ok());
    }

    #[test]
    fn every_check_of_rfc_9449_refuses_with_its_reason() {
        let with_header = |k: &str, v: Value| {
            let mut h = header();
            if v.is_null() {
                h.as_object_mut().unwrap().remove(k);
            } else {
                h[k] = v;
            }
            check(&sign(h, claims())).unwrap_err()
        };
        let with_claim = |k: &str, v: Value| {
            let mut c = claims();
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v;
            }
            check(&sign(header(), c)).unwrap_err()
        };
        let cases = [
            (with_header("typ", json!("JWT")), "typ"),
            (with_header("typ", Value::Null), "typ"),
            (
                with_header("crit", json!(["urn:example:unknown"])),
                "critical extension `urn:example:unknown`",
            ),
            (with_header("crit", json!([])), "crit"),
            (with_header("alg", json!("none")), "alg"),
            (with_header("alg", json!("HS256")), "alg"),
            // An ES256 signature checked as ES384 does not verify.
            (with_header("alg", json!("ES384")), "signature"),
            (with_header("jwk", Value::Null), "jwk"),
            (with_header("jwk", json!("key")), "jwk"),
            (
                with_header("jwk", {
                    let mut j = jwk();
                    j["d"] = json!("jLPMqFco2v9DkYwOB09NQLYvdgTSbmXGCpuUo-pZrY4");
                    j
                }),
                "private",
            ),
            (
                with_header("jwk", json!({"kty": "oct", "k": "c2VjcmV0"})),
                "private",
            ),
            (
                with_header("jwk", {
                    let mut j = jwk();
                    j["x"] = json!(Y);
                    j
                }),
                "jwk",
            ),
            (with_claim("jti", Value::Null), "jti"),
            (with_claim("jti", json!("")), "jti"),
            (with_claim("htm", json!("POST")), "htm"),
            (with_claim("htm", json!("get")), "htm"),
            (with_claim("htu", json!("https://api.example/other")), "htu"),
            (
                with_claim("htu", json!("https://evil.example/orders")),
                "htu",
            ),
            (with_claim("htu", json!("/orders")), "htu"),
            (with_claim("iat", json!(NOW - 61)), "too old"),
            (with_claim("iat", json!(NOW + 61)), "future"),
            (with_claim("iat", json!("now")), "iat"),
            (with_claim("ath", Value::Null), "ath"),
            (with_claim("ath", json!(token_hash("another-token"))), "ath"),
        ];
        for (message, expected) in cases {
            assert!(message.contains(expected), "{message} (wanted {expected})");
        }
        // Tampered and malformed proofs.
        let good = sign(header(), claims());
        let (signed, signature) = good.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{signed}.{flipped}{}", &signature[1..]);
        assert!(check(&tampered).unwrap_err().contains("signature"));
        assert!(check("not-a-jwt").unwrap_err().contains("not"));
        assert!(check(&"a".repeat(9000)).unwrap_err().contains("too large"));
    }

    #[test]
    fn htu_normalisation() {
        let n = |u: &str| normalize_htu(u);
        assert_eq!(
            n("HTTPS://Api.Example:443/a/../b?q#f").as_deref(),
            Some("https://api.example/b")
        );
        assert_eq!(
            n("http://127.0.0.1:8080/x").as_deref(),
            Some("http://127.0.0.1:8080/x")
        );
        assert_eq!(n("ftp://x/y"), None);
        assert_eq!(n("/relative"), None);
        // RFC 3986 §6.2.2: unreserved characters decoded, hex digits uppercase, other
        // encodings kept.
        assert_eq!(
            n("https://api.example/%6De").as_deref(),
            Some("https://api.example/me")
        );
        assert_eq!(
            n("https://api.example/items/caf%c3%a9").as_deref(),
            Some("https://api.example/items/caf%C3%A9")
        );
        assert_eq!(
            n("https://api.example/a%2fb%7E%41%25").as_deref(),
            Some("https://api.example/a%2Fb~A%25")
        );
        assert_eq!(
            n("https://api.example/50%/%zz/%4").as_deref(),
            Some("https://api.example/50%/%zz/%4")
        );
        assert_eq!(
            n("https://api.example/café").as_deref(),
            Some("https://api.example/caf%C3%A9")
        );
    }
}
