//! Signing keys that this crate makes itself (the broker's, the dev issuer's): generated
//! with aws-lc-rs, kept as PKCS#8, published as public JWKs whose `kid` is the RFC 7638
//! thumbprint unless a name is given.

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One key pair, with its public JWK (`kid`, `alg`, `use: sig`; no private member).
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: Algorithm,
    pub(crate) jwk: Value,
    pair: Pair,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// The algorithms there are keys for.
pub(crate) const SIGNING_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

/// A key could not be made or read back.
#[derive(Debug, thiserror::Error)]
#[error("signing key: {0}")]
pub(crate) struct KeyError(String);

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The public JWK members of `pair` (those RFC 7638 hashes, and no other).
fn public_members(pair: &Pair) -> Value {
    match pair {
        Pair::Rsa(pair) => {
            let public = pair.public_key();
            json!({
                "e": b64(public.exponent().big_endian_without_leading_zero()),
                "kty": "RSA",
                "n": b64(public.modulus().big_endian_without_leading_zero()),
            })
        }
        Pair::Ec(pair) => {
            let point = pair.public_key().as_ref();
            json!({
                "crv": "P-256", "kty": "EC",
                "x": b64(&point[1..33]), "y": b64(&point[33..65]),
            })
        }
        Pair::Ed(pair) => {
            json!({"crv": "Ed25519", "kty": "OKP", "x": b64(pair.public_key().as_ref())})
        }
    }
}

/// The RFC 7638 JWK thumbprint (SHA-256, base64url) of a JWK's required members, given
/// in lexicographic order as `public_members` writes them.
fn thumbprint(members: &Value) -> String {
    // serde_json writes object members in key order (no `preserve_order`), without
    // whitespace: the canonical form §3.3 asks for.
    b64(&Sha256::digest(members.to_string().as_bytes()))
}

fn unsupported(alg: Algorithm) -> KeyError {
    KeyError(format!(
        "no {alg:?} keys; use one of {SIGNING_ALGORITHMS:?}"
    ))
}

impl SigningKey {
    /// A new key for `alg`; its `kid` is `kid`, or else its thumbprint.
    pub(crate) fn generate(alg: Algorithm, kid: Option<String>) -> Result<Self, KeyError> {
        let failed =
            |e: aws_lc_rs::error::Unspecified| KeyError(format!("{alg:?} generation: {e}"));
        let pair = match alg {
            Algorithm::RS256 => Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?),
            Algorithm::ES256 => {
                Pair::Ec(EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).map_err(failed)?)
            }
            Algorithm::EdDSA => Pair::Ed(Ed25519KeyPair::generate().map_err(failed)?),
            other => return Err(unsupported(other)),
        };
        Ok(Self::with_pair(alg, pair, kid))
    }

    /// The key stored as [`to_pkcs8`](Self::to_pkcs8) returned it.
    #[cfg_attr(not(feature = "broker"), allow(dead_code))]
    pub(crate) fn from_pkcs8(alg: Algorithm, der: &[u8]) -> Result<Self, KeyError> {
        let bad = |e: aws_lc_rs::error::KeyRejected| KeyError(format!("stored {alg:?} key: {e}"));
        let pair = match alg {
            Algorithm::RS256 => Pair::Rsa(RsaKeyPair::from_pkcs8(der).map_err(bad)?),
            Algorithm::ES256 => Pair::Ec(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der).map_err(bad)?,
            ),
            Algorithm::EdDSA => Pair::Ed(Ed25519KeyPair::from_pkcs8(der).map_err(bad)?),
            other => return Err(unsupported(other)),
        };
        Ok(Self::with_pair(alg, pair, None))
    }

    fn with_pair(alg: Algorithm, pair: Pair, kid: Option<String>) -> Self {
        let mut jwk = public_members(&pair);
        let kid = kid.unwrap_or_else(|| thumbprint(&jwk));
        jwk["kid"] = kid.clone().into();
        jwk["alg"] = format!("{alg:?}").into();
        jwk["use"] = "sig".into();
        Self {
            kid,
            alg,
            jwk,
            pair,
        }
    }

    /// The private key as PKCS#8 DER, to store (sealed).
    #[cfg_attr(not(feature = "broker"), allow(dead_code))]
    pub(crate) fn to_pkcs8(&self) -> Result<Vec<u8>, KeyError> {
        let failed = |e: aws_lc_rs::error::Unspecified| KeyError(format!("PKCS#8 export: {e}"));
        Ok(match &self.pair {
            Pair::Rsa(pair) => pair.as_der().map_err(failed)?.as_ref().to_vec(),
            Pair::Ec(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
            Pair::Ed(pair) => pair.to_pkcs8v1().map_err(failed)?.as_ref().to_vec(),
        })
    }

    /// Signs `message` (the JWS signing input) and returns the base64url signature.
    fn sign(&self, message: &[u8]) -> String {
        let rng = SystemRandom::new();
        match &self.pair {
            Pair::Rsa(pair) => {
                let mut sig = vec![0; pair.public_modulus_len()];
                pair.sign(&RSA_PKCS1_SHA256, &rng, message, &mut sig)
                    .expect("RSA signing");
                b64(&sig)
            }
            Pair::Ec(pair) => b64(pair.sign(&rng, message).expect("ECDSA signing").as_ref()),
            Pair::Ed(pair) => b64(pair.sign(message).as_ref()),
        }
    }

    /// The compact JWS of `claims` under `header`, signed with this key (the header
    /// is taken as given: it names the algorithm and key itself).
    pub(crate) fn sign_jws(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.sign(input.as_bytes());
        format!("{input}.{signature}")
    }

    /// A JWT of `claims` with header `alg`, `kid` and `typ`.
    #[cfg_attr(not(feature = "broker"), allow(dead_code))]
    pub(crate) fn jwt(&self, typ: &str, claims: &Value) -> String {
        let header = json!({"alg": format!("{:?}", self.alg), "kid": self.kid, "typ": typ});
        self.sign_jws(&header, claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thumbprint_is_rfc_7638s() {
        // RFC 7638 §3.1.
        let members = json!({
            "e": "AQAB",
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
        });
        assert_eq!(
            thumbprint(&members),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_key_comes_back_from_pkcs8_with_the_same_kid_and_signs_verifiably() {
        crate::util::crypto_backend();
        for alg in SIGNING_ALGORITHMS {
            let key = SigningKey::generate(alg, None).unwrap();
            let again = SigningKey::from_pkcs8(alg, &key.to_pkcs8().unwrap()).unwrap();
            assert_eq!(again.kid, key.kid, "{alg:?}");
            assert_eq!(again.jwk, key.jwk, "{alg:?}");
            for private in ["d", "p", "q", "dp", "dq", "qi"] {
                assert!(key.jwk.get(private).is_none(), "{alg:?}: {private}");
            }
            let token = again.jwt("at+jwt", &json!({"sub": "alice", "exp": 4_000_000_000u64}));
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.jwk.clone()).unwrap();
            let decoding = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let mut validation = jsonwebtoken::Validation::new(alg);
            validation.validate_aud = false;
            let data = jsonwebtoken::decode::<Value>(&token, &decoding, &validation).unwrap();
            assert_eq!(data.claims["sub"], "alice");
            assert_eq!(data.header.kid.as_deref(), Some(key.kid.as_str()));
        }
        assert!(SigningKey::generate(Algorithm::HS256, None).is_err());
    }
}
