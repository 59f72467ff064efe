//! [`Options`]: the app-wide DPoP settings of an authenticator, checked in one place and
//! turned into the [`Settings`](super::Settings) its requests are checked with.

use std::sync::Arc;
use std::time::Duration;

use super::{MemoryReplayCache, Nonces, ReplayCache, Settings};
use crate::config::{ConfigError, Dpop, Provider};
use crate::util::url::{UrlUse, check_url};
use crate::validation::{DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_MAX_AGE};

/// What [`AuthenticatorBuilder`](crate::AuthenticatorBuilder)'s `dpop_*` setters give.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) base_url: Option<String>,
    pub(crate) replay: Option<Arc<dyn ReplayCache>>,
    pub(crate) max_age: Duration,
    pub(crate) nonce_secret: Option<Vec<u8>>,
    pub(crate) nonce_period: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            base_url: None,
            replay: None,
            max_age: DEFAULT_DPOP_MAX_AGE,
            nonce_secret: None,
            nonce_period: None,
        }
    }
}

fn field(field: &'static str, problem: String) -> ConfigError {
    ConfigError::Setting { field, problem }
}

impl Options {
    /// The rules of an authenticator of `providers`: each setting checked (a wrong one
    /// is a [`ConfigError`] naming it), and whether some, or every, provider accepts or
    /// requires DPoP.
    pub(crate) fn build(self, providers: &[Provider]) -> Result<Settings, ConfigError> {
        if let Some(url) = &self.base_url {
            check_url(url, UrlUse::Base).map_err(|p| field("dpop_base_url", p))?;
        }
        if self.max_age.is_zero() || self.max_age > Duration::from_secs(3600) {
            return Err(field(
                "dpop_proof_max_age",
                "must be more than zero and at most an hour".into(),
            ));
        }
        let period = self.nonce_period.unwrap_or(super::DEFAULT_NONCE_PERIOD);
        if period < Duration::from_secs(1)
            || period > Duration::from_secs(3600)
            || period.subsec_nanos() != 0
        {
            return Err(field(
                "dpop_nonce_period",
                format!("is {period:?}; it must be whole seconds, from 1 s to an hour"),
            ));
        }
        let nonces = match &self.nonce_secret {
            Some(secret) if secret.len() < 32 => {
                return Err(field(
                    "dpop_nonce_secret",
                    format!("is {} bytes; at least 32 are required", secret.len()),
                ));
            }
            Some(secret) => Some(Nonces::new(secret, period)),
            None if self.nonce_period.is_some() => {
                return Err(field(
                    "dpop_nonce_period",
                    "is set without dpop_nonce_secret: there are no server nonces to hand out"
                        .into(),
                ));
            }
            None => None,
        };
        let replay = self
            .replay
            .unwrap_or_else(|| Arc::new(MemoryReplayCache::default()));
        let mut settings = Settings::new(
            self.base_url,
            replay,
            self.max_age,
            DEFAULT_DPOP_ALGORITHMS.to_vec(),
            nonces,
        );
        settings.accepted = providers.iter().any(|p| p.dpop() != Dpop::Disabled);
        settings.required = providers.iter().any(|p| p.dpop() == Dpop::Required);
        settings.only = providers.iter().all(|p| p.dpop() == Dpop::Required);
        Ok(settings)
    }
}
