//! The aws-lc-rs backend of [`super`]: a JWK's key in the form aws-lc-rs parses (PKCS#1
//! DER for RSA, the uncompressed point for EC, the raw key for Ed25519).

use aws_lc_rs::signature::{self, ParsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};

/// A key parsed by aws-lc-rs.
pub(super) struct Key(ParsedPublicKey);

impl Key {
    /// Whether `signature` is a signature of `message` by this key, for the algorithm it
    /// was parsed for.
    pub(super) fn verify(&self, _: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        self.0.verify_sig(message, signature).is_ok()
    }
}

fn verification(alg: Algorithm) -> Option<&'static dyn VerificationAlgorithm> {
    use Algorithm::*;
    Some(match alg {
        RS256 => &signature::RSA_PKCS1_2048_8192_SHA256,
        RS384 => &signature::RSA_PKCS1_2048_8192_SHA384,
        RS512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        PS256 => &signature::RSA_PSS_2048_8192_SHA256,
        PS384 => &signature::RSA_PSS_2048_8192_SHA384,
        PS512 => &signature::RSA_PSS_2048_8192_SHA512,
        ES256 => &signature::ECDSA_P256_SHA256_FIXED,
        ES384 => &signature::ECDSA_P384_SHA384_FIXED,
        EdDSA => &signature::ED25519,
        _ => return None,
    })
}

/// A DER length.
fn der_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
}

/// A DER INTEGER of the unsigned big-endian `value`.
fn der_uint(value: &[u8], out: &mut Vec<u8>) {
    let value = match value.iter().position(|b| *b != 0) {
        Some(i) => &value[i..],
        None => &[0u8][..],
    };
    let pad = value[0] & 0x80 != 0;
    out.push(0x02);
    der_len(value.len() + usize::from(pad), out);
    if pad {
        out.push(0);
    }
    out.extend_from_slice(value);
}

/// PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_public_key(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    der_uint(n, &mut body);
    der_uint(e, &mut body);
    let mut out = vec![0x30];
    der_len(body.len(), &mut out);
    out.extend(body);
    out
}

/// A fixed-size big-endian coordinate: left-padded to `size`.
fn coordinate(b64: &str, size: usize) -> Option<Vec<u8>> {
    let raw = URL_SAFE_NO_PAD.decode(b64).ok()?;
    if raw.len() > size {
        return None;
    }
    let mut out = vec![0u8; size - raw.len()];
    out.extend(raw);
    Some(out)
}

/// The public key of `jwk` for `alg`, in the form aws-lc-rs parses; `None` if the JWK
/// does not hold one that fits (then `jsonwebtoken` verifies, and refuses, as before).
fn public_key_bytes(jwk: &Jwk, alg: Algorithm) -> Option<Vec<u8>> {
    match (&jwk.algorithm, alg) {
        (
            AlgorithmParameters::RSA(rsa),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512,
        ) => {
            let n = URL_SAFE_NO_PAD.decode(&rsa.n).ok()?;
            let e = URL_SAFE_NO_PAD.decode(&rsa.e).ok()?;
            Some(rsa_public_key(&n, &e))
        }
        (AlgorithmParameters::EllipticCurve(ec), Algorithm::ES256 | Algorithm::ES384) => {
            let size = if alg == Algorithm::ES256 { 32 } else { 48 };
            let mut point = vec![0x04];
            point.extend(coordinate(&ec.x, size)?);
            point.extend(coordinate(&ec.y, size)?);
            Some(point)
        }
        (AlgorithmParameters::OctetKeyPair(okp), Algorithm::EdDSA) => {
            URL_SAFE_NO_PAD.decode(&okp.x).ok()
        }
        _ => None,
    }
}

/// `jwk` parsed for `alg`, if aws-lc-rs takes it.
pub(super) fn parse(jwk: &Jwk, alg: Algorithm) -> Option<Key> {
    let algorithm = verification(alg)?;
    let bytes = public_key_bytes(jwk, alg)?;
    match ParsedPublicKey::new(algorithm, bytes) {
        Ok(key) => Some(Key(key)),
        Err(e) => {
            tracing::debug!(error = %e, "a JWK is verified through jsonwebtoken: aws-lc-rs refuses it");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
    use aws_lc_rs::signature::{
        ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair,
        Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256, RSA_PSS_SHA256,
    };
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Signs a message, base64url.
    type Signer = Box<dyn Fn(&[u8]) -> String>;

    /// A JWK of a fresh key, and a signer of `message` for `alg`.
    fn key(alg: Algorithm) -> (Jwk, Signer) {
        let rng = SystemRandom::new();
        let (jwk, sign): (serde_json::Value, Signer) = match alg {
            Algorithm::RS256 | Algorithm::PS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
                let public = pair.public_key();
                let jwk = json!({"kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero())});
                let padding: &'static dyn aws_lc_rs::signature::RsaEncoding =
                    if alg == Algorithm::RS256 {
                        &RSA_PKCS1_SHA256
                    } else {
                        &RSA_PSS_SHA256
                    };
                (
                    jwk,
                    Box::new(move |m| {
                        let mut sig = vec![0; pair.public_modulus_len()];
                        pair.sign(padding, &rng, m, &mut sig).unwrap();
                        b64(&sig)
                    }),
                )
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let (signing, crv, size) = if alg == Algorithm::ES256 {
                    (&ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                } else {
                    (&ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                };
                let pair = EcdsaKeyPair::generate(signing).unwrap();
                let point = pair.public_key().as_ref().to_vec();
                let jwk = json!({"kty": "EC", "crv": crv,
                    "x": b64(&point[1..=size]), "y": b64(&point[size + 1..])});
                (
                    jwk,
                    Box::new(move |m| b64(pair.sign(&rng, m).unwrap().as_ref())),
                )
            }
            _ => {
                let pair = Ed25519KeyPair::generate().unwrap();
                let jwk =
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
                (jwk, Box::new(move |m| b64(pair.sign(m).as_ref())))
            }
        };
        (serde_json::from_value(jwk).unwrap(), sign)
    }

    #[test]
    fn each_kind_of_key_is_parsed_once_and_verifies_exactly_its_signatures() {
        use Algorithm::*;
        for alg in [RS256, PS256, ES256, ES384, EdDSA] {
            let (jwk, sign) = key(alg);
            let parsed = parse(&jwk, alg).unwrap_or_else(|| panic!("{alg:?} is parsed"));
            let signature = sign(b"header.payload");
            assert_eq!(
                parsed.verify(alg, b"header.payload", &signature),
                Some(true),
                "{alg:?}"
            );
            assert_eq!(
                parsed.verify(alg, b"header.other", &signature),
                Some(false),
                "{alg:?}"
            );
            assert_eq!(
                parsed.verify(alg, b"header.payload", "!!"),
                Some(false),
                "{alg:?}"
            );
            let other = if alg == EdDSA { ES256 } else { EdDSA };
            assert_eq!(
                parsed.verify(other, b"header.payload", &signature),
                None,
                "{alg:?}"
            );
            // A key of another signer does not verify it.
            let (_, stranger) = key(alg);
            assert_eq!(
                parsed.verify(alg, b"header.payload", &stranger(b"header.payload")),
                Some(false),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_not_parsed_and_small_rsa_keys_verify_nothing() {
        let (ec, _) = key(Algorithm::ES256);
        assert!(parse(&ec, Algorithm::RS256).is_none());
        // The RSA parameters are jsonwebtoken's (2048 to 8192 bits), checked on
        // verification: a 1024-bit key verifies nothing.
        let small: Jwk = serde_json::from_value(json!({"kty": "RSA",
            "n": b64(&[0xc5; 128]), "e": "AQAB"}))
        .unwrap();
        if let Some(p) = parse(&small, Algorithm::RS256) {
            assert_eq!(
                p.verify(Algorithm::RS256, b"m", &b64(&[1; 128])),
                Some(false)
            );
        }
    }
}
