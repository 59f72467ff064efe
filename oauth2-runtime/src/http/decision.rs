//! The auth decision of each request as a `tracing` event (target `oauth2::decision`):
//! accepted at `DEBUG`, refused at `INFO` (`WARN` when the keys are unavailable), with
//! the provider, the outcome (`accepted` or the error code), the validation error kind,
//! the token's `kid`, the route (the path, never the query) and the time the check took.
//! Never the token, a claim value or a secret.
//!
//! The `kid` is read from the token's header only when the event is enabled, so a
//! disabled level costs nothing but the check. The same calls count the decisions in
//! [`crate::metrics`] (feature `metrics`).

use std::time::Instant;

use tracing::Level;

use crate::claims::Authenticated;
use crate::error::{AuthError, AuthErrorKind};

use crate::metrics::DECISION_TARGET;

/// The `kid` of a token's header, if it has one (for logs only).
fn kid(token: Option<&str>) -> Option<String> {
    token
        .and_then(|t| jsonwebtoken::decode_header(t).ok())
        .and_then(|h| h.kid)
        .map(|kid| crate::util::printable(&kid, 64))
}

/// When a check starts: the time, if metrics are on or a decision event could be
/// emitted (reading the clock costs more than asking whether anyone listens).
pub(crate) fn clock() -> Option<Instant> {
    (crate::metrics::ENABLED || tracing::enabled!(target: DECISION_TARGET, Level::WARN))
        .then(Instant::now)
}

fn micros(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)
}

/// A request whose token was accepted.
pub(crate) fn accepted(
    route: &str,
    token: Option<&str>,
    auth: &Authenticated,
    started: Option<Instant>,
) {
    crate::metrics::validation(Some(auth.provider()), "accepted", started);
    if tracing::enabled!(target: DECISION_TARGET, Level::DEBUG) {
        tracing::debug!(
            target: DECISION_TARGET,
            provider = auth.provider(),
            outcome = "accepted",
            kid = kid(token).as_deref(),
            route,
            micros = started.map(micros),
            "request accepted"
        );
    }
}

/// A request refused with `error`; `started` when the refusal came from a token check
/// that began then (from [`clock`]; an authorization refusal after the check has no
/// time of its own).
pub(crate) fn refused(
    route: &str,
    token: Option<&str>,
    provider: Option<&str>,
    error: &AuthError,
    started: Option<Instant>,
) {
    crate::metrics::validation(provider, error.error_code(), started);
    let unavailable = error.kind() == AuthErrorKind::Unavailable;
    let level_on = if unavailable {
        tracing::enabled!(target: DECISION_TARGET, Level::WARN)
    } else {
        tracing::enabled!(target: DECISION_TARGET, Level::INFO)
    };
    if !level_on {
        return;
    }
    let kind = error.validation_kind().map(|k| format!("{k:?}"));
    let kid = kid(token);
    // Descriptions may quote what the client sent: keep a log line one line.
    let reason = crate::util::printable(error.description(), 300);
    macro_rules! event {
        ($level:ident) => {
            tracing::$level!(
                target: DECISION_TARGET,
                provider,
                outcome = error.error_code(),
                kind = kind.as_deref(),
                kid = kid.as_deref(),
                route,
                micros = started.map(micros),
                reason = reason.as_str(),
                "request refused"
            )
        };
    }
    if unavailable {
        event!(warn);
    } else {
        event!(info);
    }
}
