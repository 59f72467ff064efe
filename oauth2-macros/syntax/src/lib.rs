//! The syntax rules of `providers!` values, defined once for the macro (which checks
//! literals at compile time) and the runtime (which checks the same values read from
//! the environment or given to the builders), so that the two cannot disagree.
//!
//! ```
//! use oauth2_syntax::{parse_duration, url_problem, UrlUse};
//!
//! assert_eq!(url_problem("https://login.example", UrlUse::Issuer), None);
//! assert!(url_problem("http://127.0.0.1.example.com", UrlUse::Issuer).is_some());
//! assert_eq!(parse_duration("30s"), Some(std::time::Duration::from_secs(30)));
//! ```
//!
//! No dependencies: the proc-macro crate must stay light.

mod names;
mod presets;
mod rules;
mod time;
mod url;

pub use names::{
    ALGORITHMS, ASSERTION_AUDIENCES, BROKER, BROKER_ALGORITHMS, CLIENT_AUTH_METHODS, Choice,
    DPOP_MODES, MCP, PUSHED_AUTHORIZATION_MODES, USERINFO_MODES, provider_name_problem,
};
pub use presets::{CLIENT, OAuth2Endpoints, PRESET_TABLE, PRESETS, PresetInfo, preset};
pub use rules::{Fact, Facts, PROVIDER_RULES, Rule, broken_rules};
pub use time::{MAX_DURATION, duration_problem, parse_duration};
pub use url::{UrlUse, is_loopback_host, url_problem};
