//! Verifying keys parsed once, when the JWK set loads, into the crypto backend's own key
//! type, so that a signature check does not rebuild the RSA or EC public key from the
//! JWK's components on every request (as `jsonwebtoken` does): with aws-lc-rs
//! (`aws_lc.rs`), or with RustCrypto when `rust-crypto` is the only backend
//! (`rust_crypto.rs`).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::Jwk;

#[cfg(feature = "aws-lc-rs")]
mod aws_lc;
#[cfg(feature = "aws-lc-rs")]
use aws_lc as backend;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
mod rust_crypto;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
use rust_crypto as backend;

/// A key parsed for one algorithm.
pub(crate) struct Parsed {
    pub(crate) alg: Algorithm,
    key: backend::Key,
}

impl Parsed {
    /// Whether `signature` (base64url) is `alg`'s signature of `message` by this key;
    /// `None` when this key was parsed for another algorithm.
    pub(crate) fn verify(&self, alg: Algorithm, message: &[u8], signature: &str) -> Option<bool> {
        if alg != self.alg {
            return None;
        }
        let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
            return Some(false);
        };
        Some(self.key.verify(alg, message, &signature))
    }
}

/// `jwk` parsed for `alg`, if the backend takes it; otherwise `jsonwebtoken` verifies
/// (and refuses) as before.
pub(crate) fn parse(jwk: &Jwk, alg: Algorithm) -> Option<Parsed> {
    backend::parse(jwk, alg).map(|key| Parsed { alg, key })
}
