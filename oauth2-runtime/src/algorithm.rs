//! [`Algorithm`]: the JWS signature algorithms this crate verifies and signs with, as
//! its own type (the JWT crate underneath is an implementation detail, not part of the
//! API).
//!
//! ```
//! use oauth2::Algorithm;
//!
//! let alg: Algorithm = "ES256".parse().unwrap();
//! assert_eq!(alg, Algorithm::ES256);
//! assert_eq!(alg.to_string(), "ES256");
//! assert!(!alg.is_hmac());
//! assert!("none".parse::<Algorithm>().is_err());
//! ```

use std::fmt;
use std::str::FromStr;

/// A JWS signature algorithm (RFC 7518, RFC 8037). There is no `none`: unsigned tokens
/// are never accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC with SHA-256 (a shared secret).
    HS256,
    /// HMAC with SHA-384.
    HS384,
    /// HMAC with SHA-512.
    HS512,
    /// ECDSA with P-256 and SHA-256.
    ES256,
    /// ECDSA with P-384 and SHA-384.
    ES384,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    RS512,
    /// RSASSA-PSS with SHA-256.
    PS256,
    /// RSASSA-PSS with SHA-384.
    PS384,
    /// RSASSA-PSS with SHA-512.
    PS512,
    /// EdDSA with Ed25519.
    EdDSA,
}

/// Every algorithm, in the order of [`Algorithm`]'s variants.
const ALL: [(Algorithm, &str); 12] = [
    (Algorithm::HS256, "HS256"),
    (Algorithm::HS384, "HS384"),
    (Algorithm::HS512, "HS512"),
    (Algorithm::ES256, "ES256"),
    (Algorithm::ES384, "ES384"),
    (Algorithm::RS256, "RS256"),
    (Algorithm::RS384, "RS384"),
    (Algorithm::RS512, "RS512"),
    (Algorithm::PS256, "PS256"),
    (Algorithm::PS384, "PS384"),
    (Algorithm::PS512, "PS512"),
    (Algorithm::EdDSA, "EdDSA"),
];

impl Algorithm {
    /// Its name in a JWS header (`alg`), e.g. `"RS256"`.
    pub fn name(self) -> &'static str {
        ALL.iter()
            .find(|(a, _)| *a == self)
            .map_or("", |(_, name)| name)
    }

    /// Whether it is an HMAC (a shared secret, not a public key).
    pub fn is_hmac(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The JWT crate's name for it.
    pub(crate) fn jwt(self) -> jsonwebtoken::Algorithm {
        use jsonwebtoken::Algorithm as J;
        match self {
            Self::HS256 => J::HS256,
            Self::HS384 => J::HS384,
            Self::HS512 => J::HS512,
            Self::ES256 => J::ES256,
            Self::ES384 => J::ES384,
            Self::RS256 => J::RS256,
            Self::RS384 => J::RS384,
            Self::RS512 => J::RS512,
            Self::PS256 => J::PS256,
            Self::PS384 => J::PS384,
            Self::PS512 => J::PS512,
            Self::EdDSA => J::EdDSA,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a supported JWS algorithm (`none` included).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a supported JWS algorithm")]
pub struct UnknownAlgorithm(String);

impl FromStr for Algorithm {
    type Err = UnknownAlgorithm;

    /// Exactly as a JWS header writes it (`RS256`, `EdDSA`).
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ALL.iter()
            .find(|(_, n)| *n == name)
            .map(|(a, _)| *a)
            .ok_or_else(|| UnknownAlgorithm(crate::util::printable(name, 40)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_match_the_jwt_crate() {
        for (alg, name) in ALL {
            assert_eq!(alg.name(), name);
            assert_eq!(name.parse::<Algorithm>(), Ok(alg));
            assert_eq!(
                name.parse::<jsonwebtoken::Algorithm>().ok(),
                Some(alg.jwt())
            );
        }
        for bad in ["none", "rs256", "HS1", ""] {
            assert!(bad.parse::<Algorithm>().is_err(), "{bad}");
        }
    }
}
