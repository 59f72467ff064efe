//! Sealing what the broker stores (its private keys): AES-256-GCM with a random nonce,
//! under a key derived from the app's secret by HKDF-SHA256, bound to a label (the
//! `kid`) as associated data, so a sealed key cannot be moved to another name.

use aws_lc_rs::aead::{AES_256_GCM, Aad, Nonce, RandomizedNonceKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The HKDF salt and info: this purpose only, so the session cookies' key differs.
const SALT: &[u8] = b"oauth2-runtime broker";
const INFO: &[u8] = b"signing keys at rest v1";

/// Seals and opens with the key derived from one secret.
pub(crate) struct Sealer(RandomizedNonceKey);

impl Sealer {
    /// The sealer of `secret` (the app's session secret, 32 bytes or more).
    pub(crate) fn new(secret: &[u8]) -> Self {
        let prk = Salt::new(HKDF_SHA256, SALT).extract(secret);
        let mut key = [0u8; 32];
        prk.expand(&[INFO], &AES_256_GCM)
            .and_then(|okm| okm.fill(&mut key))
            .expect("HKDF-SHA256 gives 32 bytes");
        Self(RandomizedNonceKey::new(&AES_256_GCM, &key).expect("an AES-256 key is 32 bytes"))
    }

    /// `plaintext` sealed under `label`: base64url of nonce, ciphertext and tag.
    pub(crate) fn seal(&self, label: &str, plaintext: &[u8]) -> String {
        let mut data = plaintext.to_vec();
        let nonce = self
            .0
            .seal_in_place_append_tag(Aad::from(label.as_bytes()), &mut data)
            .expect("AES-GCM sealing");
        let mut out = nonce.as_ref().to_vec();
        out.extend_from_slice(&data);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// What [`seal`](Self::seal) sealed under `label`; `None` if it was sealed with
    /// another secret or label, or changed.
    pub(crate) fn open(&self, label: &str, sealed: &str) -> Option<Vec<u8>> {
        let mut data = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        let len = AES_256_GCM.nonce_len();
        if data.len() < len {
            return None;
        }
        let nonce = Nonce::try_assume_unique_for_key(&data[..len]).ok()?;
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(label.as_bytes()), &mut data[len..])
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_same_secret_and_label_open_what_was_sealed() {
        let sealer = Sealer::new(b"a secret of the app, 32 bytes or more");
        let sealed = sealer.seal("kid-1", b"private key");
        assert_ne!(
            sealed,
            sealer.seal("kid-1", b"private key"),
            "a fresh nonce"
        );
        assert_eq!(sealer.open("kid-1", &sealed).unwrap(), b"private key");
        assert!(sealer.open("kid-2", &sealed).is_none(), "another label");
        let other = Sealer::new(b"another secret of the app, 32 bytes");
        assert!(other.open("kid-1", &sealed).is_none(), "another secret");
        let mut changed = URL_SAFE_NO_PAD.decode(&sealed).unwrap();
        *changed.last_mut().unwrap() ^= 1;
        assert!(
            sealer
                .open("kid-1", &URL_SAFE_NO_PAD.encode(changed))
                .is_none()
        );
        assert!(sealer.open("kid-1", "short").is_none());
    }
}
