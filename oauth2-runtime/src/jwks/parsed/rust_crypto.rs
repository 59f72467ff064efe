//! The RustCrypto backend of [`super`], for builds with the `rust-crypto` feature alone:
//! the crates `jsonwebtoken`'s `rust_crypto` backend uses (`rsa`, `p256`, `p384`,
//! `ed25519-dalek`), whose keys `jsonwebtoken` builds from the JWK's bytes on every
//! verification.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use rsa::signature::Verifier as _;
use rsa::traits::PublicKeyParts as _;
use rsa::{BigUint, Pkcs1v15Sign, Pss, RsaPublicKey};
use sha2::{Digest as _, Sha256, Sha384, Sha512};

/// The smallest RSA modulus that verifies anything, in bits (RFC 7518 §3.3; aws-lc-rs
/// and `parsed.rs` refuse smaller ones too).
const MIN_RSA_BITS: usize = 2048;

/// A key parsed by RustCrypto.
pub(super) enum Key {
    Rsa(RsaPublicKey),
    /// An RSA key below [`MIN_RSA_BITS`]: verifies nothing.
    TooSmall,
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl Key {
    /// Whether `signature` is `alg`'s signature of `message` by this key.
    pub(super) fn verify(&self, alg: Algorithm, message: &[u8], signature: &[u8]) -> bool {
        use Algorithm::*;
        match self {
            Key::Rsa(key) => {
                let result = match alg {
                    RS256 => key.verify(
                        Pkcs1v15Sign::new::<Sha256>(),
                        &Sha256::digest(message),
                        signature,
                    ),
                    RS384 => key.verify(
                        Pkcs1v15Sign::new::<Sha384>(),
                        &Sha384::digest(message),
                        signature,
                    ),
                    RS512 => key.verify(
                        Pkcs1v15Sign::new::<Sha512>(),
                        &Sha512::digest(message),
                        signature,
                    ),
                    PS256 => key.verify(Pss::new::<Sha256>(), &Sha256::digest(message), signature),
                    PS384 => key.verify(Pss::new::<Sha384>(), &Sha384::digest(message), signature),
                    PS512 => key.verify(Pss::new::<Sha512>(), &Sha512::digest(message), signature),
                    _ => return false,
                };
                result.is_ok()
            }
            Key::TooSmall => false,
            Key::P256(key) => p256::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
            Key::P384(key) => p384::ecdsa::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
            Key::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|s| key.verify(message, &s).is_ok()),
        }
    }
}

/// `jwk` parsed for `alg`, if it holds a key that fits; otherwise `jsonwebtoken`
/// verifies (and refuses) as before.
pub(super) fn parse(jwk: &Jwk, alg: Algorithm) -> Option<Key> {
    let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).ok();
    use Algorithm::*;
    let key = match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(r), RS256 | RS384 | RS512 | PS256 | PS384 | PS512) => {
            let n = BigUint::from_bytes_be(&b64(&r.n)?);
            let e = BigUint::from_bytes_be(&b64(&r.e)?);
            let key = RsaPublicKey::new(n, e).ok()?;
            if key.size() * 8 < MIN_RSA_BITS {
                Key::TooSmall
            } else {
                Key::Rsa(key)
            }
        }
        (AlgorithmParameters::EllipticCurve(ec), ES256 | ES384) => {
            let point = [vec![0x04], b64(&ec.x)?, b64(&ec.y)?].concat();
            match (&ec.curve, alg) {
                (EllipticCurve::P256, ES256) => {
                    Key::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?)
                }
                (EllipticCurve::P384, ES384) => {
                    Key::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(&point).ok()?)
                }
                _ => return None,
            }
        }
        (AlgorithmParameters::OctetKeyPair(okp), EdDSA) => {
            let x: [u8; 32] = b64(&okp.x)?.try_into().ok()?;
            Key::Ed25519(ed25519_dalek::VerifyingKey::from_bytes(&x).ok()?)
        }
        _ => return None,
    };
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::signature::{RandomizedSigner as _, SignatureEncoding as _, Signer as _};
    use serde_json::json;

    fn b64(bytes: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Salts for PSS: any bytes do for a test.
    struct Counter(u8);

    impl rsa::rand_core::RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            rsa::rand_core::impls::next_u32_via_fill(self)
        }
        fn next_u64(&mut self) -> u64 {
            rsa::rand_core::impls::next_u64_via_fill(self)
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for b in dest {
                self.0 = self.0.wrapping_add(1);
                *b = self.0;
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }

    impl rsa::rand_core::CryptoRng for Counter {}

    /// Signs a message, base64url.
    type Signer = Box<dyn Fn(&[u8]) -> String>;

    /// A JWK of a fixed test key (`seed` picks one of several), and a signer for `alg`.
    fn key(alg: Algorithm, seed: u8) -> (Jwk, Signer) {
        use Algorithm::*;
        let (jwk, sign): (serde_json::Value, Signer) = match alg {
            RS256 | PS256 => {
                let pem = include_str!("testdata/rsa-2048.pem");
                let private = rsa::RsaPrivateKey::from_pkcs1_pem(pem).unwrap();
                let public = private.to_public_key();
                // Another key: the same modulus with another exponent signs nothing of it.
                let e = if seed == 0 {
                    public.e().to_bytes_be()
                } else {
                    vec![3]
                };
                let jwk = json!({"kty": "RSA", "n": b64(&public.n().to_bytes_be()), "e": b64(&e)});
                let sign: Signer = if alg == RS256 {
                    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(private);
                    Box::new(move |m| b64(&signer.sign(m).to_bytes()))
                } else {
                    let signer = rsa::pss::SigningKey::<Sha256>::new(private);
                    Box::new(move |m| b64(&signer.sign_with_rng(&mut Counter(0), m).to_bytes()))
                };
                (jwk, sign)
            }
            ES256 => {
                let signer = p256::ecdsa::SigningKey::from_slice(&[seed + 7; 32]).unwrap();
                let point = signer.verifying_key().to_encoded_point(false);
                let jwk = json!({"kty": "EC", "crv": "P-256",
                    "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
                let sign = move |m: &[u8]| {
                    let s: p256::ecdsa::Signature = signer.sign(m);
                    b64(&s.to_bytes())
                };
                (jwk, Box::new(sign))
            }
            ES384 => {
                let signer = p384::ecdsa::SigningKey::from_slice(&[seed + 7; 48]).unwrap();
                let point = signer.verifying_key().to_encoded_point(false);
                let jwk = json!({"kty": "EC", "crv": "P-384",
                    "x": b64(point.x().unwrap()), "y": b64(point.y().unwrap())});
                let sign = move |m: &[u8]| {
                    let s: p384::ecdsa::Signature = signer.sign(m);
                    b64(&s.to_bytes())
                };
                (jwk, Box::new(sign))
            }
            _ => {
                let signer = ed25519_dalek::SigningKey::from_bytes(&[seed + 7; 32]);
                let jwk = json!({"kty": "OKP", "crv": "Ed25519",
                    "x": b64(signer.verifying_key().as_bytes())});
                (jwk, Box::new(move |m| b64(&signer.sign(m).to_bytes())))
            }
        };
        (serde_json::from_value(jwk).unwrap(), sign)
    }

    #[test]
    fn each_kind_of_key_is_parsed_once_and_verifies_exactly_its_signatures() {
        use Algorithm::*;
        for alg in [RS256, PS256, ES256, ES384, EdDSA] {
            let (jwk, sign) = key(alg, 0);
            let parsed = parse(&jwk, alg).unwrap_or_else(|| panic!("{alg:?} is parsed"));
            let signature = sign(b"header.payload");
            let verify = |m: &[u8], s: &str| parsed.verify(alg, m, s);
            assert_eq!(verify(b"header.payload", &signature), Some(true), "{alg:?}");
            assert_eq!(verify(b"header.other", &signature), Some(false), "{alg:?}");
            assert_eq!(verify(b"header.payload", "!!"), Some(false), "{alg:?}");
            let other = if alg == EdDSA { ES256 } else { EdDSA };
            assert_eq!(parsed.verify(other, b"header.payload", &signature), None);
            // Another key does not verify it.
            let (stranger, _) = key(alg, 1);
            let stranger = parse(&stranger, alg).unwrap();
            assert_eq!(
                stranger.verify(alg, b"header.payload", &signature),
                Some(false),
                "{alg:?}"
            );
        }
    }

    #[test]
    fn a_key_of_the_wrong_kind_is_not_parsed_and_small_rsa_keys_verify_nothing() {
        let (ec, _) = key(Algorithm::ES256, 0);
        assert!(parse(&ec, Algorithm::RS256).is_none());
        assert!(
            parse(&ec, Algorithm::ES384).is_none(),
            "a P-256 key is no P-384 key"
        );
        let small: Jwk = serde_json::from_value(json!({"kty": "RSA",
            "n": b64(&[0xc5; 128]), "e": "AQAB"}))
        .unwrap();
        let small = parse(&small, Algorithm::RS256).expect("parsed, to refuse");
        assert_eq!(
            small.verify(Algorithm::RS256, b"m", &b64(&[1; 128])),
            Some(false)
        );
    }
}
