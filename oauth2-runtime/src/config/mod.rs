//! Provider configuration: issuer, audience, where keys come from, algorithms, leeway.
//!
//! Everything is checked when [`ProviderBuilder::build`] runs, so a mistake fails at
//! startup with an error that names the provider and the field, never at the first request.
//!
//! ```
//! use std::time::Duration;
//! use oauth2::{Algorithm, Provider};
//!
//! let corp = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience(["api://corp", "corp-cli"])
//!     .jwks_url("https://login.corp.example/keys")
//!     .algorithms([Algorithm::RS256, Algorithm::ES256])
//!     .leeway(Duration::from_secs(30))
//!     .build()
//!     .unwrap();
//! assert_eq!(corp.name(), "corp");
//!
//! let err = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience(Vec::<String>::new())
//!     .build()
//!     .unwrap_err();
//! assert_eq!(err.to_string(), r#"provider "corp": audience is empty"#);
//! ```

mod audience;
mod dpop;
mod introspection;
mod issuer;
mod preset;
mod provider;
mod tenants;

pub use audience::Audience;
pub use dpop::Dpop;
pub(crate) use issuer::IssuerSetting;
pub use preset::Preset;
pub(crate) use preset::gather_roles;
pub(crate) use provider::normalize_typ;
pub use provider::{DEFAULT_ALGORITHMS, DEFAULT_LEEWAY, Provider, ProviderBuilder};
pub(crate) use tenants::Tenants;
pub use tenants::{DEFAULT_MAX_TENANTS, TENANT_PLACEHOLDER};

use std::time::Duration;

/// The longest duration any setting accepts (a year): longer ones are mistakes, and
/// would overflow the clock arithmetic of timers and cookies.
pub const MAX_DURATION: Duration = oauth2_syntax::MAX_DURATION;

/// Checks a configured duration: not longer than [`MAX_DURATION`] and, when `nonzero`,
/// not zero. The problem, if any, reads after the setting's name.
pub(crate) fn check_duration(value: Duration, nonzero: bool) -> Result<(), String> {
    oauth2_syntax::duration_problem(value, nonzero).map_or(Ok(()), Err)
}

/// An invalid configuration, reported when the configuration is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// One field of one provider is wrong.
    #[error("provider \"{provider}\": {field} {problem}")]
    Field {
        /// The provider's name.
        provider: String,
        /// The configuration key, e.g. `audience`.
        field: &'static str,
        /// What is wrong with it, e.g. `is empty`.
        problem: String,
    },
    /// An app-wide setting (not a provider's) is wrong.
    #[error("{field} {problem}")]
    Setting {
        /// The setting, e.g. `session_secret`.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// A setting read from the environment is absent or invalid.
    #[error("environment variable {variable} ({}) {problem}", setting_name(.provider.as_deref(), .field))]
    Env {
        /// The variable's name.
        variable: String,
        /// The provider it configures, if it configures one.
        provider: Option<String>,
        /// The configuration key it gives, e.g. `issuer`.
        field: &'static str,
        /// What is wrong, e.g. `is not set`.
        problem: String,
    },
    /// Two providers have the same name.
    #[error("provider \"{0}\" is declared twice")]
    DuplicateProvider(String),
    /// Two providers have the same issuer, so a token's `iss` cannot pick one.
    #[error("providers \"{first}\" and \"{second}\" have the same issuer {issuer}")]
    DuplicateIssuer {
        /// The provider declared first.
        first: String,
        /// The provider declared second.
        second: String,
        /// The shared issuer.
        issuer: String,
    },
    /// An authenticator needs at least one provider.
    #[error("no provider is configured")]
    NoProvider,
    /// Key loading runs in the background on the Tokio runtime.
    #[error(
        "the authenticator must be built inside a Tokio runtime (it loads keys in the background)"
    )]
    NoRuntime,
}

impl ConfigError {
    /// The provider this error is about, if it is about one.
    pub fn provider(&self) -> Option<&str> {
        match self {
            Self::Field { provider, .. } => Some(provider),
            Self::DuplicateProvider(p) => Some(p),
            Self::DuplicateIssuer { second, .. } => Some(second),
            Self::Env { provider, .. } => provider.as_deref(),
            Self::NoProvider | Self::NoRuntime | Self::Setting { .. } => None,
        }
    }

    /// The configuration key this error is about, if it is about one.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Self::Field { field, .. } | Self::Env { field, .. } | Self::Setting { field, .. } => {
                Some(field)
            }
            Self::DuplicateIssuer { .. } => Some("issuer"),
            _ => None,
        }
    }
}

fn setting_name(provider: Option<&str>, field: &str) -> String {
    match provider {
        Some(provider) => format!("`{field}` of provider \"{provider}\""),
        None => format!("`{field}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_bounded() {
        assert!(check_duration(Duration::from_secs(1), true).is_ok());
        assert!(check_duration(Duration::ZERO, false).is_ok());
        assert_eq!(
            check_duration(Duration::ZERO, true).unwrap_err(),
            "must be longer than zero"
        );
        assert!(
            check_duration(Duration::MAX, false)
                .unwrap_err()
                .contains("more than a year")
        );
    }
}
