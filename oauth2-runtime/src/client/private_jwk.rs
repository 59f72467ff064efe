//! A private JWK (RFC 7517, RFC 7518 §6) as the DER `jsonwebtoken` signs with: RSA as
//! PKCS #1, EC and Ed25519 as PKCS #8.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::Value;
use simple_asn1::{ASN1Block, ASN1Class, BigInt, BigUint, oid, to_der};

use crate::Algorithm;

/// The signing key of a private JWK, and the algorithm its type usually signs (its
/// `alg` when it names one).
pub(super) fn encoding_key(jwk: &Value) -> Result<(EncodingKey, Option<Algorithm>), String> {
    let alg = match jwk.get("alg").and_then(Value::as_str) {
        Some(name) => Some(
            name.parse::<Algorithm>()
                .map_err(|_| format!("JWK names the algorithm `{name}`, which is unknown"))?,
        ),
        None => None,
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let crv = jwk.get("crv").and_then(Value::as_str).unwrap_or_default();
    let member = |name: &str| -> Result<Vec<u8>, String> {
        let text = jwk.get(name).and_then(Value::as_str).ok_or_else(|| {
            if name == "d" {
                "JWK has no `d`: it is a public key, and signing needs the private one".to_owned()
            } else {
                format!("JWK has no `{name}`")
            }
        })?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("JWK's `{name}` is not base64url"))
    };
    let built = match (kty, crv) {
        ("RSA", _) => {
            let names = ["n", "e", "d", "p", "q", "dp", "dq", "qi"];
            let mut fields = vec![integer(&[0])];
            for name in names {
                fields.push(integer(&member(name).map_err(|e| {
                    format!("{e} (an RSA private JWK needs n, e, d, p, q, dp, dq and qi)")
                })?));
            }
            return der(&ASN1Block::Sequence(0, fields)).map(|der| {
                (
                    EncodingKey::from_rsa_der(&der),
                    alg.or(Some(Algorithm::RS256)),
                )
            });
        }
        ("EC", "P-256" | "P-384") => {
            let (curve, default) = if crv == "P-256" {
                (oid!(1, 2, 840, 10045, 3, 1, 7), Algorithm::ES256)
            } else {
                (oid!(1, 3, 132, 0, 34), Algorithm::ES384)
            };
            let mut point = vec![4];
            point.extend(member("x")?);
            point.extend(member("y")?);
            let ec_private = der(&ASN1Block::Sequence(
                0,
                vec![
                    integer(&[1]),
                    ASN1Block::OctetString(0, member("d")?),
                    ASN1Block::Explicit(
                        ASN1Class::ContextSpecific,
                        0,
                        BigUint::from(1u8),
                        Box::new(ASN1Block::BitString(0, point.len() * 8, point)),
                    ),
                ],
            ))?;
            let algorithm = vec![
                ASN1Block::ObjectIdentifier(0, oid!(1, 2, 840, 10045, 2, 1)),
                ASN1Block::ObjectIdentifier(0, curve),
            ];
            (pkcs8(algorithm, ec_private)?, alg.or(Some(default)), true)
        }
        ("OKP", "Ed25519") => {
            let seed = der(&ASN1Block::OctetString(0, member("d")?))?;
            let algorithm = vec![ASN1Block::ObjectIdentifier(0, oid!(1, 3, 101, 112))];
            (
                pkcs8(algorithm, seed)?,
                alg.or(Some(Algorithm::EdDSA)),
                false,
            )
        }
        _ => {
            return Err(format!(
                "JWK is of type `{kty}`{}; a client key is RSA, EC P-256 or P-384, or OKP Ed25519",
                if crv.is_empty() {
                    String::new()
                } else {
                    format!(" on `{crv}`")
                }
            ));
        }
    };
    let (bytes, alg, ec) = built;
    Ok((
        if ec {
            EncodingKey::from_ec_der(&bytes)
        } else {
            EncodingKey::from_ed_der(&bytes)
        },
        alg,
    ))
}

/// A non-negative DER INTEGER of big-endian `bytes`.
fn integer(bytes: &[u8]) -> ASN1Block {
    ASN1Block::Integer(0, BigInt::from(BigUint::from_bytes_be(bytes)))
}

/// PKCS #8 `PrivateKeyInfo` v1 of `algorithm` (the identifier's parts) and `key`.
fn pkcs8(algorithm: Vec<ASN1Block>, key: Vec<u8>) -> Result<Vec<u8>, String> {
    der(&ASN1Block::Sequence(
        0,
        vec![
            integer(&[0]),
            ASN1Block::Sequence(0, algorithm),
            ASN1Block::OctetString(0, key),
        ],
    ))
}

fn der(block: &ASN1Block) -> Result<Vec<u8>, String> {
    to_der(block).map_err(|e| format!("JWK cannot be encoded: {e}"))
}
