//! A DPoP client (RFC 9449): two fixed P-256 keys, and proofs signed with them.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sha2::{Digest, Sha256};

/// A client's DPoP key.
pub struct DpopKey {
    pkcs8: &'static str,
    x: &'static str,
    y: &'static str,
}

/// The client's key.
pub const KEY: DpopKey = DpopKey {
    pkcs8: "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwOB09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXptqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER",
    x: "ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI",
    y: "vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE",
};

/// Another key: an attacker's, or the same client's next one.
pub const OTHER_KEY: DpopKey = DpopKey {
    pkcs8: "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgnuYZ5H+lQn9D1SF64fkwys94m/XYat/xJ2bYW6cvwbChRANCAATpJlXuT/I1MRi4qWg+C3577WTdDrXgnXCZiied5jXEpGvqLAuoZ30uNlhl89X+WLTgkazp7yetxLhjU5ael1hu",
    x: "6SZV7k_yNTEYuKloPgt-e-1k3Q614J1wmYonneY1xKQ",
    y: "a-osC6hnfS42WGXz1f5YtOCRrOnvJ63EuGNTlp6XWG4",
};

static JTI: AtomicU64 = AtomicU64::new(0);

/// The base64url SHA-256 of `token`: a proof's `ath`.
pub fn ath(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

impl DpopKey {
    /// The RFC 7638 thumbprint of its public key: the `jkt` tokens are bound to.
    pub fn jkt(&self) -> String {
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.x, self.y
        );
        URL_SAFE_NO_PAD.encode(Sha256::digest(members.as_bytes()))
    }

    /// The public JWK.
    pub fn jwk(&self) -> serde_json::Value {
        json!({"kty": "EC", "crv": "P-256", "x": self.x, "y": self.y})
    }

    /// A proof for `method` `url` with a fresh `jti` and `iat` now; `ath` of `token`
    /// when given (requests to an API, not to the token endpoint).
    pub fn proof(&self, method: &str, url: &str, token: Option<&str>) -> String {
        self.proof_with_nonce(method, url, token, None)
    }

    /// The same with the server's `nonce`, when given.
    pub fn proof_with_nonce(
        &self,
        method: &str,
        url: &str,
        token: Option<&str>,
        nonce: Option<&str>,
    ) -> String {
        let mut claims = json!({
            "jti": format!("{}-{}", crate::nanos(), JTI.fetch_add(1, Ordering::Relaxed)),
            "htm": method,
            "htu": url,
            "iat": std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
        });
        if let Some(token) = token {
            claims["ath"] = json!(ath(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        self.sign(&claims)
    }

    /// `claims` signed as a DPoP proof (`typ` dpop+jwt, ES256, this key's `jwk`).
    pub fn sign(&self, claims: &serde_json::Value) -> String {
        let der = STANDARD.decode(self.pkcs8).unwrap();
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk()).unwrap());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&der)).unwrap()
    }
}
