//! Server nonces (RFC 9449 §9): an HMAC of the current period under a secret every
//! instance has, so that no store is needed; and the slot through which an extractor
//! hands a fresh one to the layer for the response.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use crate::defaults::DEFAULT_NONCE_PERIOD;

/// How many bytes of the MAC a nonce carries.
const NONCE_TAG: usize = 16;

/// Server nonces: an HMAC-SHA-256 of the period number under a secret.
pub(crate) struct Nonces {
    mac: Hmac<Sha256>,
    /// The period, in whole seconds (at least one: checked by the builder).
    period: u64,
}

/// Where a proof's nonce stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NonceAge {
    /// Handed out in this period.
    Current,
    /// Handed out in the previous period: still accepted, and the response hands the
    /// client the current one (RFC 9449 §8.2), so it never meets `use_dpop_nonce`.
    Previous,
    /// Older, made up, or not this server's.
    Refused,
}

impl Nonces {
    /// Nonces under `secret` (at least 32 bytes: checked by the builder), a new one
    /// each `period` (whole seconds, at least one).
    pub(crate) fn new(secret: &[u8], period: Duration) -> Self {
        Self {
            mac: Hmac::new_from_slice(secret).expect("HMAC takes keys of any length"),
            period: period.as_secs().max(1),
        }
    }

    /// The MAC of period `period`, ready to finalize or verify.
    fn mac(&self, period: u64) -> Hmac<Sha256> {
        let mut mac = self.mac.clone();
        mac.update(b"dpop-nonce");
        mac.update(&period.to_be_bytes());
        mac
    }

    /// The nonce of period `period`: the period number and 16 bytes of its MAC.
    fn of_period(&self, period: u64) -> String {
        let tag = self.mac(period).finalize().into_bytes();
        let mut bytes = period.to_be_bytes().to_vec();
        bytes.extend_from_slice(&tag[..NONCE_TAG]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// The nonce to hand out at `now` (seconds since the epoch).
    pub(crate) fn current(&self, now: u64) -> String {
        self.of_period(now / self.period)
    }

    /// Whether `nonce` was handed out in this period, the last, or neither.
    pub(crate) fn age(&self, nonce: &str, now: u64) -> NonceAge {
        let Ok(bytes) = URL_SAFE_NO_PAD.decode(nonce) else {
            return NonceAge::Refused;
        };
        let Some((period, tag)) = bytes.split_first_chunk::<8>() else {
            return NonceAge::Refused;
        };
        let period = u64::from_be_bytes(*period);
        let this = now / self.period;
        let age = if period == this {
            NonceAge::Current
        } else if period.checked_add(1) == Some(this) {
            NonceAge::Previous
        } else {
            return NonceAge::Refused;
        };
        // The length first: a shorter tag would be easier to guess.
        if tag.len() == NONCE_TAG && self.mac(period).verify_truncated_left(tag).is_ok() {
            age
        } else {
            NonceAge::Refused
        }
    }
}

/// Where a check made by an extractor leaves a fresh nonce for the layer to send with
/// the response (the layer puts one in the request's extensions for a request with a
/// `DPoP` header to a public path, where the handler's extractors check the token).
#[derive(Clone, Debug, Default)]
pub(crate) struct NonceSlot(Arc<std::sync::OnceLock<String>>);

impl NonceSlot {
    /// Leaves `nonce` for the response (the first one left stays).
    pub(crate) fn leave(&self, nonce: String) {
        let _ = self.0.set(nonce);
    }

    /// The nonce left, if any.
    pub(crate) fn get(&self) -> Option<&str> {
        self.0.get().map(String::as_str)
    }
}
