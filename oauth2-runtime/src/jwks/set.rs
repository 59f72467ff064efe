//! A parsed JWK set: the verifying keys of one fetch, and key selection by `kid` and `alg`.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Why a JWK set could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The text is not a JSON object with a `keys` array.
    #[error("is not a JWK set: {0}")]
    NotAJwkSet(String),
    /// The set holds no key that can verify signatures.
    #[error("contains no usable signing key ({skipped} skipped)")]
    NoUsableKey {
        /// Keys that were present but skipped (encryption keys, unsupported types).
        skipped: usize,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn of(jwk: &Jwk) -> Option<Self> {
        match &jwk.algorithm {
            AlgorithmParameters::RSA(_) => Some(Self::Rsa),
            AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
                EllipticCurve::P256 => Some(Self::P256),
                EllipticCurve::P384 => Some(Self::P384),
                _ => None,
            },
            AlgorithmParameters::OctetKeyPair(okp) => {
                (okp.curve == EllipticCurve::Ed25519).then_some(Self::Ed25519)
            }
            // Symmetric keys are never taken from a JWKS: HMAC needs an explicit secret.
            _ => None,
        }
    }

    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::*;
        match self {
            Self::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            Self::P256 => alg == ES256,
            Self::P384 => alg == ES384,
            Self::Ed25519 => alg == EdDSA,
        }
    }
}

/// One key of a set: for `jsonwebtoken`, and parsed once for its algorithm by the
/// crypto backend (aws-lc-rs, or RustCrypto alone).
pub(crate) struct VerifyingKey {
    kid: Option<String>,
    alg: Option<Algorithm>,
    kind: KeyKind,
    key: DecodingKey,
    parsed: Option<super::parsed::Parsed>,
}

impl VerifyingKey {
    fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }

    /// The key as `jsonwebtoken` takes it.
    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.key
    }

    /// Whether `signature` (base64url) is `alg`'s signature of `message`, checked with
    /// the key parsed when the set loaded; `None` when there is none for `alg`.
    pub(crate) fn verify_parsed(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &str,
    ) -> Option<bool> {
        self.parsed.as_ref()?.verify(alg, message, signature)
    }
}

impl KeyKind {
    /// The algorithm a key of this kind is parsed for when its JWK names none.
    fn usual(self) -> Algorithm {
        match self {
            Self::Rsa => Algorithm::RS256,
            Self::P256 => Algorithm::ES256,
            Self::P384 => Algorithm::ES384,
            Self::Ed25519 => Algorithm::EdDSA,
        }
    }
}

/// Why no key was found for a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyMiss {
    /// No key has the token's `kid`.
    UnknownKid,
    /// The key with that `kid` is of another type or algorithm.
    Mismatch,
    /// No `kid`, and several keys fit the algorithm.
    Ambiguous,
    /// No `kid`, and no key fits the algorithm.
    NoneFits,
}

/// A parsed JWK set: the verifying keys of one fetch.
pub struct KeySet {
    keys: Vec<VerifyingKey>,
    pub(super) generation: u64,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field(
                "kids",
                &self.keys.iter().map(|k| &k.kid).collect::<Vec<_>>(),
            )
            .field("generation", &self.generation)
            .finish()
    }
}

impl KeySet {
    /// Parses a JWK set, keeping the keys that can verify signatures.
    pub fn from_json(json: &[u8]) -> Result<Self, JwksError> {
        #[derive(Deserialize)]
        struct Raw {
            keys: Vec<serde_json::Value>,
        }
        let raw: Raw =
            serde_json::from_slice(json).map_err(|e| JwksError::NotAJwkSet(e.to_string()))?;
        let total = raw.keys.len();
        let keys: Vec<_> = raw.keys.into_iter().filter_map(parse_key).collect();
        if keys.is_empty() {
            return Err(JwksError::NoUsableKey { skipped: total });
        }
        Ok(Self {
            keys,
            generation: 0,
        })
    }

    /// The number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set has no usable key (never true for a set that was built).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The `kid` of each usable key that has one.
    pub fn key_ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().filter_map(|k| k.kid.as_deref())
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    /// The key to verify a token with this `kid` and `alg`.
    pub(crate) fn select(
        &self,
        kid: Option<&str>,
        alg: Algorithm,
    ) -> Result<&VerifyingKey, KeyMiss> {
        match kid {
            Some(kid) => {
                let mut found = false;
                for key in self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)) {
                    found = true;
                    if key.fits(alg) {
                        return Ok(key);
                    }
                }
                Err(if found {
                    KeyMiss::Mismatch
                } else {
                    KeyMiss::UnknownKid
                })
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(key), None) => Ok(key),
                    (Some(_), Some(_)) => Err(KeyMiss::Ambiguous),
                    (None, _) => Err(KeyMiss::NoneFits),
                }
            }
        }
    }
}

fn parse_key(value: serde_json::Value) -> Option<VerifyingKey> {
    let jwk: Jwk = match serde_json::from_value(value) {
        Ok(jwk) => jwk,
        Err(e) => {
            tracing::debug!(error = %e, "skipping a JWK that cannot be parsed");
            return None;
        }
    };
    if matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption)) {
        return None;
    }
    let kind = KeyKind::of(&jwk)?;
    let alg = match jwk.common.key_algorithm {
        // A key declared for encryption (RSA-OAEP, ...) is no signing key.
        Some(ka) => Some(ka.to_string().parse::<Algorithm>().ok()?),
        None => None,
    };
    if alg.is_some_and(|a| !kind.fits(a)) {
        return None;
    }
    crate::util::crypto_backend();
    let key = DecodingKey::from_jwk(&jwk).ok()?;
    let parsed = super::parsed::parse(&jwk, alg.unwrap_or_else(|| kind.usual()));
    Some(VerifyingKey {
        kid: jwk.common.key_id,
        alg,
        kind,
        key,
        parsed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED_X: &str = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    const P256_X: &str = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
    const P256_Y: &str = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";

    fn ed(kid: &str, alg: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":kid,"x":ED_X});
        if let Some(a) = alg {
            v["alg"] = a.into();
        }
        v
    }

    fn ec(kid: Option<&str>) -> serde_json::Value {
        let mut v = serde_json::json!({"kty":"EC","crv":"P-256","x":P256_X,"y":P256_Y});
        if let Some(k) = kid {
            v["kid"] = k.into();
        }
        v
    }

    fn set(keys: Vec<serde_json::Value>) -> Result<KeySet, JwksError> {
        KeySet::from_json(serde_json::json!({ "keys": keys }).to_string().as_bytes())
    }

    #[test]
    fn skips_encryption_symmetric_and_unknown_keys() {
        let s = set(vec![
            ed("sig", Some("EdDSA")),
            serde_json::json!({"kty":"OKP","crv":"Ed25519","kid":"enc","use":"enc","x":ED_X}),
            serde_json::json!({"kty":"oct","kid":"hmac","k":"c2VjcmV0"}),
            serde_json::json!({"kty":"RSA","kid":"oaep","alg":"RSA-OAEP","n":"AQAB","e":"AQAB"}),
            serde_json::json!({"kty":"XYZ","kid":"weird"}),
            ed("wrong-alg", Some("ES256")),
        ])
        .unwrap();
        assert_eq!(s.key_ids().collect::<Vec<_>>(), ["sig"]);
    }

    #[test]
    fn rejects_non_sets_and_sets_without_usable_keys() {
        assert!(matches!(
            KeySet::from_json(b"<html>"),
            Err(JwksError::NotAJwkSet(_))
        ));
        assert!(matches!(
            KeySet::from_json(br#"{"no":"keys"}"#),
            Err(JwksError::NotAJwkSet(_))
        ));
        assert_eq!(
            set(vec![serde_json::json!({"kty":"oct","k":"c2VjcmV0"})]).unwrap_err(),
            JwksError::NoUsableKey { skipped: 1 }
        );
    }

    #[test]
    fn select_by_kid_checks_alg_and_type() {
        let s = set(vec![ed("a", Some("EdDSA")), ec(Some("b")), ed("c", None)]).unwrap();
        assert!(s.select(Some("a"), Algorithm::EdDSA).is_ok());
        assert_eq!(
            s.select(Some("a"), Algorithm::ES256).err(),
            Some(KeyMiss::Mismatch)
        );
        assert_eq!(
            s.select(Some("b"), Algorithm::RS256).err(),
            Some(KeyMiss::Mismatch)
        );
        assert!(s.select(Some("b"), Algorithm::ES256).is_ok());
        assert_eq!(
            s.select(Some("zz"), Algorithm::ES256).err(),
            Some(KeyMiss::UnknownKid)
        );
    }

    #[test]
    fn select_without_kid_needs_exactly_one_fitting_key() {
        let s = set(vec![ed("a", None), ec(None)]).unwrap();
        assert!(s.select(None, Algorithm::ES256).is_ok());
        assert_eq!(
            s.select(None, Algorithm::RS256).err(),
            Some(KeyMiss::NoneFits)
        );
        let two = set(vec![ed("a", None), ed("b", None)]).unwrap();
        assert_eq!(
            two.select(None, Algorithm::EdDSA).err(),
            Some(KeyMiss::Ambiguous)
        );
    }
}
