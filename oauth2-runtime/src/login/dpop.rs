//! The login's own DPoP key (RFC 9449): proofs for its token requests and its userinfo
//! calls, and for the app's API calls with a session's DPoP-bound access token.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

/// The end of a P-256 PKCS #8 key that carries its public key: the `[1]` tag, the BIT
/// STRING header, and the uncompressed point marker; 64 bytes of `x` and `y` follow.
const PUBLIC_KEY_MARK: [u8; 6] = [0xa1, 0x44, 0x03, 0x42, 0x00, 0x04];

/// A P-256 key that signs DPoP proofs (ES256).
pub(crate) struct ClientKey {
    key: EncodingKey,
    /// The public JWK, as it goes in each proof's header.
    jwk: Value,
    /// Its RFC 7638 thumbprint (SHA-256, base64url): the `jkt` tokens are bound to.
    jkt: String,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("ClientKey")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

impl ClientKey {
    /// The key of a PEM `PRIVATE KEY` (PKCS #8, P-256, with its public key, as
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes).
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        if !pem.contains("-----BEGIN PRIVATE KEY-----") {
            return Err("is not a PEM `PRIVATE KEY` (PKCS #8)".into());
        }
        let der = STANDARD
            .decode(body)
            .map_err(|_| "is not valid PEM (its base64 does not decode)".to_owned())?;
        let at = der.len().checked_sub(PUBLIC_KEY_MARK.len() + 64);
        let Some(point) = at
            .filter(|&at| der[at..at + PUBLIC_KEY_MARK.len()] == PUBLIC_KEY_MARK)
            .map(|at| &der[at + PUBLIC_KEY_MARK.len()..])
        else {
            return Err(
                "is not a P-256 key with its public key (PKCS #8, as openssl \
                        genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 writes)"
                    .into(),
            );
        };
        let (x, y) = point.split_at(32);
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        });
        crate::util::crypto_backend();
        let jkt = serde_json::from_value::<jsonwebtoken::jwk::Jwk>(jwk.clone())
            .map_err(|e| format!("has a public key that is not a JWK: {e}"))?
            .thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256)
            .map_err(|e| format!("has a public key without a thumbprint: {e}"))?;
        let key = Self {
            key: EncodingKey::from_ec_der(&der),
            jwk,
            jkt,
        };
        // A key whose public half does not match, or that does not sign, fails now.
        let probe = key.proof("POST", "https://probe.invalid/", None, None)?;
        crate::validation::verify_own_proof(&probe, &key.jwk)
            .map_err(|_| "does not sign proofs its public key verifies".to_owned())?;
        Ok(key)
    }

    /// The key's RFC 7638 thumbprint: the authorization request's `dpop_jkt` (RFC 9449
    /// §10), which binds the code to this key.
    pub(crate) fn jkt(&self) -> &str {
        &self.jkt
    }

    /// A proof for `method` `url` (without its query): a fresh `jti`, `iat` now, `ath`
    /// of `access_token` and the server's `nonce` when given.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, String> {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let jti = crate::util::random_token().map_err(|e| e.to_string())?;
        let mut claims = json!({"jti": jti, "htm": method, "htu": htu, "iat": crate::util::now()});
        if let Some(token) = access_token {
            claims["ath"] = json!(crate::validation::token_hash(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let mut header = Header::new(Algorithm::ES256);
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).map_err(|e| e.to_string())?);
        crate::util::crypto_backend();
        jsonwebtoken::encode(&header, &claims, &self.key).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The P-256 test key of the validation tests, as PEM.
    pub(crate) const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwO
B09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXp
tqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER
-----END PRIVATE KEY-----";

    #[test]
    fn a_pem_key_gives_its_public_jwk_and_signs_proofs() {
        let key = ClientKey::from_pem(PEM).unwrap();
        assert_eq!(key.jwk["x"], "ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI");
        assert_eq!(key.jwk["y"], "vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE");
        // RFC 7638: SHA-256 of {"crv","kty","x","y"} in that order, no whitespace.
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            key.jwk["x"].as_str().unwrap(),
            key.jwk["y"].as_str().unwrap()
        );
        let digest = <sha2::Sha256 as sha2::Digest>::digest(members.as_bytes());
        assert_eq!(key.jkt(), URL_SAFE_NO_PAD.encode(digest));
        assert!(!format!("{key:?}").contains("MIGH"));
        let proof = key
            .proof("GET", "https://api.example/x?y=1", Some("at"), Some("n"))
            .unwrap();
        let (_, payload, _) = {
            let mut parts = proof.split('.');
            (parts.next(), parts.next().unwrap(), parts.next())
        };
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["htu"], "https://api.example/x");
        assert_eq!(claims["nonce"], "n");
        assert_eq!(claims["ath"], crate::validation::token_hash("at"));
        for bad in [
            "not a key",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----",
        ] {
            assert!(ClientKey::from_pem(bad).is_err(), "{bad}");
        }
    }
}
