//! Metrics of the auth decisions, the caches, key fetches and the login flows
//! (feature `metrics`), through the [`metrics`](https://docs.rs/metrics) facade: install
//! any recorder in the app (`metrics-exporter-prometheus`, StatsD, ...) and these series
//! appear. Without a recorder, or without the feature, nothing is recorded.
//!
//! | Name | Kind | Labels |
//! |---|---|---|
//! | `oauth2_validations_total` | counter | `provider`, `outcome` (`accepted` or the RFC 6750 error code: `invalid_request`, `invalid_token`, `insufficient_scope`, `temporarily_unavailable`) |
//! | `oauth2_validation_seconds` | histogram | `provider`, `outcome`: the time a token check took |
//! | `oauth2_token_cache_total` | counter | `result` (`hit`, `miss`): lookups in the verified-token cache |
//! | `oauth2_key_fetches_total` | counter | `provider`, `reason` (`load`, `refresh`, `unknown_kid`), `result` (`updated`, `unchanged`, `failed`) |
//! | `oauth2_logins_total` | counter | `provider`, `outcome` |
//! | `oauth2_refreshes_total` | counter | `provider`, `via` (`session`, `token_endpoint`), `outcome` |
//! | `oauth2_logouts_total` | counter | `provider`, `channel` (`front`, `back`), `outcome` |
//!
//! The login flows' `outcome` is `ok`, `refused` (a 4xx answer: a bad request, a
//! refused grant or token) or `unavailable` (a 503: the provider or the store could not
//! be reached). `provider` is always a declared provider's name (`unknown` for a
//! request naming none), never a value from the request, so every label has few values.
//!
//! ```
//! use oauth2::metrics;
//!
//! // A Prometheus query for the share of refused requests, by provider:
//! let refused = format!(
//!     "sum by (provider) (rate({0}{{outcome!=\"accepted\"}}[5m])) \
//!      / sum by (provider) (rate({0}[5m]))",
//!     metrics::VALIDATIONS,
//! );
//! assert!(refused.contains("oauth2_validations_total{outcome!=\"accepted\"}"));
//! ```

use std::time::Instant;

/// The `tracing` target of the one event per request that records its auth decision
/// (the operator's log of who was let in or refused, and why), to filter on
/// (`RUST_LOG=oauth2::decision=debug`).
pub const DECISION_TARGET: &str = "oauth2::decision";

/// Validations by `provider` and `outcome` (counter).
pub const VALIDATIONS: &str = "oauth2_validations_total";
/// The time a token check took, in seconds, by `provider` and `outcome` (histogram).
pub const VALIDATION_SECONDS: &str = "oauth2_validation_seconds";
/// Verified-token cache lookups by `result`: `hit` or `miss` (counter).
pub const TOKEN_CACHE: &str = "oauth2_token_cache_total";
/// Key fetches by `provider`, `reason` and `result` (counter).
pub const KEY_FETCHES: &str = "oauth2_key_fetches_total";
/// Finished login callbacks by `provider` and `outcome` (counter).
pub const LOGINS: &str = "oauth2_logins_total";
/// Token refreshes at the provider by `provider`, `via` and `outcome` (counter).
pub const REFRESHES: &str = "oauth2_refreshes_total";
/// Logouts by `provider`, `channel` and `outcome` (counter).
pub const LOGOUTS: &str = "oauth2_logouts_total";

/// Whether anything is recorded: a validation then reads the clock.
pub(crate) const ENABLED: bool = cfg!(feature = "metrics");

/// The `provider` label of a request that named no declared provider.
#[cfg(any(feature = "metrics", feature = "login"))]
pub(crate) const UNKNOWN_PROVIDER: &str = "unknown";

#[cfg(feature = "metrics")]
fn label(value: &str) -> metrics::SharedString {
    metrics::SharedString::from(value.to_owned())
}

/// One token check: its provider (`None` before one was known), its outcome, and
/// when it started.
#[allow(unused_variables)]
pub(crate) fn validation(provider: Option<&str>, outcome: &'static str, started: Option<Instant>) {
    #[cfg(feature = "metrics")]
    {
        let provider = label(provider.unwrap_or(UNKNOWN_PROVIDER));
        metrics::counter!(VALIDATIONS, "provider" => provider.clone(), "outcome" => outcome)
            .increment(1);
        if let Some(started) = started {
            metrics::histogram!(VALIDATION_SECONDS, "provider" => provider, "outcome" => outcome)
                .record(started.elapsed().as_secs_f64());
        }
    }
}

/// One verified-token cache lookup.
#[allow(unused_variables)]
pub(crate) fn token_cache(hit: bool) {
    #[cfg(feature = "metrics")]
    metrics::counter!(TOKEN_CACHE, "result" => if hit { "hit" } else { "miss" }).increment(1);
}

/// One key fetch and what it found: `updated`, `unchanged` or `failed`.
#[allow(unused_variables)]
pub(crate) fn key_fetch(provider: &str, reason: &'static str, result: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(KEY_FETCHES, "provider" => label(provider), "reason" => reason, "result" => result)
        .increment(1);
}

/// A login flow's outcome from the status it answered with.
#[cfg(feature = "login")]
pub(crate) fn outcome(status: axum::http::StatusCode) -> &'static str {
    if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
        "unavailable"
    } else if status.is_client_error() || status.is_server_error() {
        "refused"
    } else {
        "ok"
    }
}

/// One finished login callback.
#[cfg(feature = "login")]
#[allow(unused_variables)]
pub(crate) fn login(provider: &str, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(LOGINS, "provider" => label(provider), "outcome" => outcome).increment(1);
}

/// One refresh at the provider, for a session or through the token endpoint.
#[cfg(feature = "login")]
#[allow(unused_variables)]
pub(crate) fn refresh(provider: &str, via: &'static str, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(REFRESHES, "provider" => label(provider), "via" => via, "outcome" => outcome)
        .increment(1);
}

/// One logout, by the browser (`front`) or by the provider (`back`).
#[cfg(feature = "login")]
#[allow(unused_variables)]
pub(crate) fn logout(provider: &str, channel: &'static str, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(LOGOUTS, "provider" => label(provider), "channel" => channel, "outcome" => outcome)
        .increment(1);
}
