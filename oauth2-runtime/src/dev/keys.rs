//! Generated signing keys of the dev issuer.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

enum Pair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

/// One generated key pair, with its public JWK.
pub(crate) struct SigningKey {
    pub(crate) kid: String,
    pub(crate) alg: Algorithm,
    pub(crate) jwk: Value,
    pair: Pair,
}

/// The algorithms the dev issuer has keys for.
pub const DEV_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl SigningKey {
    pub(crate) fn generate(alg: Algorithm, kid: String) -> Self {
        let (pair, mut jwk) = match alg {
            Algorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("RSA key generation");
                let public = pair.public_key();
                let jwk = json!({
                    "kty": "RSA",
                    "n": b64(public.modulus().big_endian_without_leading_zero()),
                    "e": b64(public.exponent().big_endian_without_leading_zero()),
                });
                (Pair::Rsa(pair), jwk)
            }
            Algorithm::ES256 => {
                let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING)
                    .expect("P-256 key generation");
                let point = pair.public_key().as_ref();
                let jwk = json!({
                    "kty": "EC", "crv": "P-256",
                    "x": b64(&point[1..33]), "y": b64(&point[33..65]),
                });
                (Pair::Ec(pair), jwk)
            }
            Algorithm::EdDSA => {
                let pair = Ed25519KeyPair::generate().expect("Ed25519 key generation");
                let jwk =
                    json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
                (Pair::Ed(pair), jwk)
            }
            other => panic!("the dev issuer has no {other:?} key; use one of {DEV_ALGORITHMS:?}"),
        };
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

    /// Signs `message` (the JWS signing input) and returns the base64url signature.
    pub(crate) fn sign(&self, message: &[u8]) -> String {
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
}
