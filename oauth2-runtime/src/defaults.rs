#![doc = include_str!("defaults.md")]
//!
//! ```
//! use std::time::Duration;
//! use oauth2::defaults;
//!
//! assert_eq!(defaults::DEFAULT_LEEWAY, Duration::from_secs(60));
//! assert_eq!(defaults::DEFAULT_UNKNOWN_KID_COOLDOWN, Duration::from_secs(5));
//! ```
//!
//! The constants are also where the settings they belong to are documented (e.g.
//! `oauth2::config::DEFAULT_LEEWAY`); this module is their one home.

use std::time::Duration;

use crate::Algorithm;

/// Algorithms accepted when none are configured: every asymmetric JWS algorithm
/// (HMAC only with an explicit secret).
pub const DEFAULT_ALGORITHMS: [Algorithm; 9] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The algorithms of a provider with an HMAC secret.
pub(crate) const HMAC_ALGORITHMS: [Algorithm; 3] =
    [Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];

/// Clock skew allowed on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);

/// How often keys are fetched again when the JWKS response says nothing.
pub const DEFAULT_REFRESH_INTERVAL: Duration = Duration::from_secs(3600);

/// The least refresh interval a JWKS `Cache-Control: max-age` can ask for.
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(300);

/// The longest refresh interval a JWKS `Cache-Control: max-age` can ask for.
pub const MAX_REFRESH_INTERVAL: Duration = Duration::from_secs(24 * 3600);

/// The default least time between two refetches caused by unknown `kid`s: a key the
/// provider adds is picked up within it even while tokens with made-up `kid`s keep
/// arriving, and those tokens cost the provider at most one conditional request (a 304
/// when nothing changed) per cooldown.
pub const DEFAULT_UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(5);

/// The time limit of one discovery or JWKS request.
pub const DEFAULT_FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The first and the largest delay between retries after a failed key fetch.
pub const DEFAULT_RETRY_BACKOFF: (Duration, Duration) =
    (Duration::from_millis(500), Duration::from_secs(60));

/// How many tenants' key caches a multi-tenant provider keeps.
pub const DEFAULT_MAX_TENANTS: usize = 256;

/// The realm of `WWW-Authenticate` challenges.
pub const DEFAULT_REALM: &str = "api";

/// The longest token accepted, checked before any decoding.
pub const DEFAULT_MAX_TOKEN_SIZE: usize = 8 * 1024;

/// How many verified tokens the token cache keeps.
pub const DEFAULT_TOKEN_CACHE_SIZE: usize = 10_000;

/// The longest a verified token stays cached (never past its `exp`).
pub const DEFAULT_TOKEN_CACHE_MAX_AGE: Duration = Duration::from_secs(3600);

/// The default algorithms of DPoP proofs: every asymmetric one supported.
pub const DEFAULT_DPOP_ALGORITHMS: [Algorithm; 9] = DEFAULT_ALGORITHMS;

/// The default window around now in which a proof's `iat` must lie.
pub const DEFAULT_DPOP_MAX_AGE: Duration = Duration::from_secs(60);

/// The default time between two server nonces: a nonce is good in its period and the
/// next.
pub const DEFAULT_NONCE_PERIOD: Duration = Duration::from_secs(60);

/// The default number of proof `jti`s the in-memory replay cache holds.
pub const DEFAULT_REPLAY_CACHE_SIZE: usize = 100_000;

/// Scopes a login asks for when none are configured.
pub const DEFAULT_SCOPES: &str = "openid profile email";

/// The login routes' prefix.
pub const DEFAULT_PREFIX: &str = "/auth";

/// The session cookie's name.
pub const DEFAULT_SESSION_COOKIE: &str = "session";

/// A session's absolute lifetime: 8 hours.
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// Idle timeout: 1 hour without a request ends the session.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(3600);

/// The bound of the parsed-session cache, in bytes.
pub const DEFAULT_SESSION_CACHE_BYTES: usize = 16 << 20;

/// How long a login may take between the redirect and the callback.
pub const TRANSACTION_TTL: Duration = Duration::from_secs(600);

/// How long a session store request (a connection, a command) may take before it
/// fails: session requests then get 503 `temporarily_unavailable` while the store is
/// down, not a hang.
pub const STORE_TIMEOUT: Duration = Duration::from_secs(3);

/// The lifetime of the broker's access tokens.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(600);

/// The lifetime of the broker's refresh tokens.
pub const DEFAULT_REFRESH_TTL: Duration = Duration::from_secs(14 * 24 * 3600);

/// How often the broker's signing key changes.
pub const DEFAULT_ROTATE_EVERY: Duration = Duration::from_secs(30 * 24 * 3600);

#[cfg(test)]
mod tests {
    use super::*;

    /// A duration as the table writes it: `500 ms`, `60 s`, `10 min`, `8 h`, `14 d`.
    fn human(d: Duration) -> String {
        let (ms, s) = (d.as_millis(), d.as_secs());
        match () {
            _ if ms < 1000 => format!("{ms} ms"),
            _ if s % 86_400 == 0 && s > 86_400 => format!("{} d", s / 86_400),
            _ if s % 3600 == 0 && s >= 3600 => format!("{} h", s / 3600),
            _ if s % 60 == 0 && s > 60 => format!("{} min", s / 60),
            _ => format!("{s} s"),
        }
    }

    fn names(algs: &[Algorithm]) -> String {
        algs.iter().map(|a| a.name()).collect::<Vec<_>>().join(", ")
    }

    /// The table's row of `constant`: its default column.
    fn row(constant: &str) -> String {
        let table = include_str!("defaults.md");
        let line = table
            .lines()
            .find(|l| l.trim_end().ends_with(&format!("`{constant}` |")))
            .unwrap_or_else(|| panic!("the table has no row for {constant}"));
        line.split('|').nth(2).unwrap().trim().to_owned()
    }

    #[test]
    fn the_table_says_what_the_constants_hold() {
        let durations = [
            ("DEFAULT_LEEWAY", DEFAULT_LEEWAY),
            ("DEFAULT_REFRESH_INTERVAL", DEFAULT_REFRESH_INTERVAL),
            ("DEFAULT_UNKNOWN_KID_COOLDOWN", DEFAULT_UNKNOWN_KID_COOLDOWN),
            ("DEFAULT_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT),
            ("DEFAULT_TOKEN_CACHE_MAX_AGE", DEFAULT_TOKEN_CACHE_MAX_AGE),
            ("DEFAULT_DPOP_MAX_AGE", DEFAULT_DPOP_MAX_AGE),
            ("DEFAULT_NONCE_PERIOD", DEFAULT_NONCE_PERIOD),
            ("DEFAULT_SESSION_TTL", DEFAULT_SESSION_TTL),
            ("DEFAULT_IDLE_TIMEOUT", DEFAULT_IDLE_TIMEOUT),
            ("TRANSACTION_TTL", TRANSACTION_TTL),
            ("STORE_TIMEOUT", STORE_TIMEOUT),
            ("DEFAULT_TOKEN_TTL", DEFAULT_TOKEN_TTL),
            ("DEFAULT_REFRESH_TTL", DEFAULT_REFRESH_TTL),
            ("DEFAULT_ROTATE_EVERY", DEFAULT_ROTATE_EVERY),
        ];
        for (name, value) in durations {
            assert_eq!(row(name), human(value), "{name}");
        }
        let (first, max) = DEFAULT_RETRY_BACKOFF;
        assert_eq!(
            row("DEFAULT_RETRY_BACKOFF"),
            format!("{} → {}", human(first), human(max))
        );
        assert_eq!(
            row("MIN_REFRESH_INTERVAL`, `MAX_REFRESH_INTERVAL"),
            format!(
                "clamped to {} – {}",
                human(MIN_REFRESH_INTERVAL),
                human(MAX_REFRESH_INTERVAL)
            )
        );
        let counts = [
            ("DEFAULT_MAX_TENANTS", DEFAULT_MAX_TENANTS.to_string()),
            (
                "DEFAULT_MAX_TOKEN_SIZE",
                format!("{DEFAULT_MAX_TOKEN_SIZE} bytes"),
            ),
            (
                "DEFAULT_TOKEN_CACHE_SIZE",
                format!("{DEFAULT_TOKEN_CACHE_SIZE} tokens"),
            ),
            (
                "DEFAULT_REPLAY_CACHE_SIZE",
                format!("{DEFAULT_REPLAY_CACHE_SIZE} proofs"),
            ),
            (
                "DEFAULT_SESSION_CACHE_BYTES",
                format!("{DEFAULT_SESSION_CACHE_BYTES} bytes"),
            ),
            ("DEFAULT_REALM", format!("`{DEFAULT_REALM}`")),
            ("DEFAULT_SCOPES", format!("`{DEFAULT_SCOPES}`")),
            ("DEFAULT_PREFIX", format!("`{DEFAULT_PREFIX}`")),
            (
                "DEFAULT_SESSION_COOKIE",
                format!("`{DEFAULT_SESSION_COOKIE}`"),
            ),
        ];
        for (name, value) in counts {
            assert_eq!(row(name), value, "{name}");
        }
        assert_eq!(
            row("DEFAULT_ALGORITHMS"),
            format!(
                "{} ({} with `hmac_secret`)",
                names(&DEFAULT_ALGORITHMS),
                names(&HMAC_ALGORITHMS)
            )
        );
        assert!(DEFAULT_DPOP_ALGORITHMS.iter().all(|a| !a.is_hmac()));
        assert_eq!(
            row("DEFAULT_DPOP_ALGORITHMS"),
            "as `algorithms`, without HMAC"
        );
        assert_eq!(DEFAULT_DPOP_ALGORITHMS, DEFAULT_ALGORITHMS);
    }
}
