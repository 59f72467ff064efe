//! Step-up authentication (RFC 9470): what a route asks of the way the user logged in,
//! checked on a validated token's (or a login session's) `acr` and `auth_time`.
//!
//! ```
//! use std::time::Duration;
//! use oauth2::validation::StepUp;
//!
//! let strong = StepUp { acr_values: &["urn:example:mfa"], max_age: Some(Duration::from_secs(300)) };
//! let claims = serde_json::json!({"acr": "urn:example:mfa", "auth_time": 1_000});
//! let claims = claims.as_object().unwrap();
//! assert!(strong.check(claims, 1_200).is_ok());
//!
//! // Six minutes after the login, the route asks for a new one.
//! let err = strong.check(claims, 1_360).unwrap_err();
//! assert!(err.max_age_exceeded() && !err.acr_refused());
//! assert_eq!(err.max_age(), Some(300));
//! assert_eq!(err.acr_values(), Some("urn:example:mfa"));
//! ```

use std::fmt;
use std::time::Duration;

use serde_json::{Map, Value};

/// What a route asks of the user's authentication: an `acr` among `acr_values` (any
/// of them), and an `auth_time` no older than `max_age`. The default asks nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepUp<'a> {
    /// Accepted authentication context class references; empty accepts any `acr` (or
    /// none).
    pub acr_values: &'a [&'a str],
    /// The longest time since the user authenticated (`auth_time`). There is no leeway:
    /// a limit of five minutes is five minutes of the server's clock.
    pub max_age: Option<Duration>,
}

impl StepUp<'_> {
    /// Asks nothing: what a route without `acr` or `max_age` has.
    pub const NONE: StepUp<'static> = StepUp {
        acr_values: &[],
        max_age: None,
    };

    /// Whether this asks nothing (every validated token passes).
    pub fn is_empty(&self) -> bool {
        self.acr_values.is_empty() && self.max_age.is_none()
    }

    /// Checks `claims` at `now` (seconds since the Unix epoch).
    pub fn check(&self, claims: &Map<String, Value>, now: u64) -> Result<(), StepUpError> {
        if self.is_empty() {
            return Ok(());
        }
        let mut problems = Vec::new();
        let mut acr_refused = false;
        if !self.acr_values.is_empty() {
            match claims.get("acr").and_then(Value::as_str) {
                Some(acr) if self.acr_values.contains(&acr) => {}
                Some(acr) => {
                    acr_refused = true;
                    problems.push(format!(
                        "the authentication context `{}` is not one this route accepts",
                        crate::util::printable(acr, 64)
                    ));
                }
                None => {
                    acr_refused = true;
                    problems.push(
                        "the token does not say how the user authenticated (no `acr` claim)"
                            .to_owned(),
                    );
                }
            }
        }
        let mut max_age_exceeded = false;
        if let Some(max_age) = self.max_age {
            match claims.get("auth_time").and_then(Value::as_u64) {
                Some(auth_time) if now.saturating_sub(auth_time) <= max_age.as_secs() => {}
                Some(auth_time) => {
                    max_age_exceeded = true;
                    problems.push(format!(
                        "the user authenticated {} s ago; this route needs an authentication within {} s",
                        now.saturating_sub(auth_time),
                        max_age.as_secs()
                    ));
                }
                None => {
                    max_age_exceeded = true;
                    problems.push(
                        "the token does not say when the user authenticated (no `auth_time` claim)"
                            .to_owned(),
                    );
                }
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(StepUpError {
            description: problems.join("; "),
            acr_values: (!self.acr_values.is_empty()).then(|| self.acr_values.join(" ")),
            max_age: self.max_age.map(|d| d.as_secs()),
            acr_refused,
            max_age_exceeded,
        })
    }
}

/// The user's authentication is not strong or recent enough for the route; carries
/// what would pass, for the `WWW-Authenticate` challenge or the login redirect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepUpError {
    description: String,
    acr_values: Option<String>,
    max_age: Option<u64>,
    acr_refused: bool,
    max_age_exceeded: bool,
}

impl StepUpError {
    /// What was wrong, for humans.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The route's accepted `acr` values, space-separated (the challenge's and the
    /// authorization request's `acr_values`).
    pub fn acr_values(&self) -> Option<&str> {
        self.acr_values.as_deref()
    }

    /// The route's `max_age` in seconds.
    pub fn max_age(&self) -> Option<u64> {
        self.max_age
    }

    /// Whether the `acr` was absent or not accepted.
    pub fn acr_refused(&self) -> bool {
        self.acr_refused
    }

    /// Whether `auth_time` was absent or too old.
    pub fn max_age_exceeded(&self) -> bool {
        self.max_age_exceeded
    }
}

impl fmt::Display for StepUpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::error::Error for StepUpError {}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(step_up: StepUp<'_>, claims: Value, now: u64) -> Result<(), StepUpError> {
        step_up.check(claims.as_object().unwrap(), now)
    }

    const MFA: StepUp<'static> = StepUp {
        acr_values: &["mfa", "hwk"],
        max_age: None,
    };

    #[test]
    fn the_acr_must_be_one_of_the_list() {
        assert!(check(MFA, json!({"acr": "hwk"}), 0).is_ok());
        let weak = check(MFA, json!({"acr": "pwd"}), 0).unwrap_err();
        assert!(weak.acr_refused() && !weak.max_age_exceeded());
        assert_eq!(weak.acr_values(), Some("mfa hwk"));
        assert_eq!(weak.max_age(), None);
        assert!(weak.description().contains("`pwd`"), "{weak}");
        let absent = check(MFA, json!({"sub": "a"}), 0).unwrap_err();
        assert!(absent.description().contains("no `acr`"), "{absent}");
        // Not a string: as absent.
        assert!(check(MFA, json!({"acr": ["mfa"]}), 0).is_err());
    }

    #[test]
    fn auth_time_must_be_within_max_age_without_leeway() {
        let recent = StepUp {
            acr_values: &[],
            max_age: Some(Duration::from_secs(60)),
        };
        assert!(check(recent, json!({"auth_time": 1000}), 1060).is_ok());
        // A provider clock slightly ahead: not refused.
        assert!(check(recent, json!({"auth_time": 1010}), 1000).is_ok());
        let old = check(recent, json!({"auth_time": 1000}), 1061).unwrap_err();
        assert!(old.max_age_exceeded() && !old.acr_refused());
        assert_eq!((old.max_age(), old.acr_values()), (Some(60), None));
        assert!(old.description().contains("61 s ago"), "{old}");
        let absent = check(recent, json!({"acr": "mfa"}), 1000).unwrap_err();
        assert!(absent.description().contains("no `auth_time`"), "{absent}");
    }

    #[test]
    fn both_problems_are_reported_and_nothing_asked_passes_everything() {
        let both = StepUp {
            acr_values: &["mfa"],
            max_age: Some(Duration::from_secs(10)),
        };
        let e = check(both, json!({"acr": "pwd", "auth_time": 0}), 100).unwrap_err();
        assert!(e.acr_refused() && e.max_age_exceeded());
        assert_eq!((e.acr_values(), e.max_age()), (Some("mfa"), Some(10)));
        assert!(StepUp::default().is_empty());
        assert!(check(StepUp::default(), json!({}), 0).is_ok());
    }

    #[test]
    fn the_token_value_is_kept_printable() {
        let e = check(MFA, json!({"acr": "a\"b\nc"}), 0).unwrap_err();
        assert!(e.description().contains("`a'bc`"), "{e}");
    }
}
