//! The keys `providers!` understands: where each may stand, what value it takes, and
//! which runtime builder it sets (bearer validation, browser login, or both) and with
//! which method.

/// What a key's value is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An `https://` URL (http on loopback): checked when it is a literal.
    Url,
    /// A string.
    Str,
    /// A secret: never a literal in source code.
    Secret,
    /// One string or a list of strings.
    StrList,
    /// A list of JWS algorithm names: `[RS256, ES256]`.
    Algorithms,
    /// A duration with a unit: `30s`.
    Duration,
    /// Two durations: `[1s, 5m]`.
    DurationPair,
    /// `true` or `false`, written in code.
    Bool,
    /// A whole number.
    Number,
    /// A Rust expression only.
    Expr,
    /// A provider preset's name: `google`, `github`, ...
    Preset,
}

/// Where a key stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Inside a provider block.
    Provider,
    /// At the top level, for the whole application.
    App,
}

/// Which runtime builder a key configures.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// Bearer-token validation: `ProviderBuilder` / `AuthenticatorBuilder`.
    Bearer,
    /// Browser login: `LoginProviderBuilder` / `LoginBuilder`.
    Login,
    /// Both (`issuer`).
    Both,
}

/// One key.
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) scope: Scope,
    pub(crate) kind: Kind,
    /// The builder method it calls.
    pub(crate) method: &'static str,
    /// Lists call the method once per element (`public_path`) instead of once.
    pub(crate) each: bool,
    pub(crate) target: Target,
}

const fn key(name: &'static str, scope: Scope, kind: Kind, method: &'static str) -> Key {
    Key {
        name,
        scope,
        kind,
        method,
        each: false,
        target: Target::Bearer,
    }
}

const fn login(name: &'static str, scope: Scope, kind: Kind, method: &'static str) -> Key {
    Key {
        target: Target::Login,
        ..key(name, scope, kind, method)
    }
}

const fn each(name: &'static str, method: &'static str) -> Key {
    Key {
        each: true,
        ..key(name, Scope::App, Kind::StrList, method)
    }
}

use Kind::*;
use Scope::{App, Provider};

pub(crate) const KEYS: &[Key] = &[
    Key {
        target: Target::Both,
        ..key("issuer", Provider, Url, "issuer")
    },
    key("audience", Provider, StrList, "audience"),
    key(
        "danger_accept_any_audience",
        Provider,
        Bool,
        "danger_accept_any_audience",
    ),
    key("jwks", Provider, Url, "jwks_url"),
    key("jwks_file", Provider, Str, "jwks_file"),
    key("jwks_json", Provider, Str, "jwks_json"),
    key("hmac_secret", Provider, Secret, "hmac_secret"),
    key("algorithms", Provider, Algorithms, "algorithms"),
    key("leeway", Provider, Duration, "leeway"),
    key("required_typ", Provider, Str, "required_typ"),
    key("refresh_interval", Provider, Duration, "refresh_interval"),
    key(
        "unknown_kid_cooldown",
        Provider,
        Duration,
        "unknown_kid_cooldown",
    ),
    key("fetch_timeout", Provider, Duration, "fetch_timeout"),
    key("retry_backoff", Provider, DurationPair, "retry_backoff"),
    key("http_client", Provider, Expr, "http_client"),
    each("public_paths", "public_path"),
    each("public_prefixes", "public_prefix"),
    key("cookie", App, Str, "cookie"),
    key("realm", App, Str, "realm"),
    key("max_token_size", App, Number, "max_token_size"),
    key("http_client", App, Expr, "http_client"),
    // Browser login: a provider with `client_id` is a login provider.
    login("client_id", Provider, Str, "client_id"),
    login("preset", Provider, Preset, "preset"),
    login("client_secret", Provider, Secret, "client_secret"),
    login("scopes", Provider, StrList, "scopes"),
    login("prompt", Provider, Str, "prompt"),
    login("authorize_params", Provider, Expr, "params"),
    login("authorize_url", Provider, Url, "authorize_url"),
    login("token_url", Provider, Url, "token_url"),
    login("userinfo_url", Provider, Url, "userinfo_url"),
    login("base_url", App, Url, "base_url"),
    login("login_prefix", App, Str, "prefix"),
    login("session_secret", App, Secret, "session_secret"),
    login("old_session_secret", App, Secret, "old_session_secret"),
    login("session_cookie", App, Str, "cookie_name"),
    login("session_store", App, Expr, "store"),
    login("session_ttl", App, Duration, "session_ttl"),
    login("idle_timeout", App, Duration, "idle_timeout"),
    Key {
        target: Target::Login,
        ..each("allowed_origins", "allowed_origin")
    },
    login("on_login", App, Expr, "on_login"),
    login("app_token", App, Expr, "app_token"),
];

/// The presets `preset: ...` accepts, and the runtime's `Preset` variants.
pub(crate) const PRESETS: &[(&str, &str)] = &[
    ("google", "Google"),
    ("microsoft", "Microsoft"),
    ("github", "GitHub"),
    ("gitlab", "GitLab"),
    ("auth0", "Auth0"),
    ("okta", "Okta"),
    ("keycloak", "Keycloak"),
];

/// Presets that know their issuer or endpoints.
pub(crate) const PRESETS_WITH_ISSUER: &[&str] = &["google", "github", "gitlab"];

/// Keys from which a provider's verification keys come; at most one per provider.
pub(crate) const KEY_SOURCES: &[&str] = &["jwks", "jwks_file", "jwks_json", "hmac_secret"];

/// The JWS algorithms the runtime verifies.
pub(crate) const ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

pub(crate) fn find(name: &str, scope: Scope) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name && k.scope == scope)
}

pub(crate) fn names(scope: Scope) -> impl Iterator<Item = &'static str> + Clone {
    KEYS.iter()
        .filter(move |k| k.scope == scope)
        .map(|k| k.name)
}

/// Parses `<digits><unit>` into milliseconds; `None` for an unknown unit.
pub(crate) fn duration_millis(digits: &str, unit: &str) -> Option<u64> {
    let n: u64 = digits.parse().ok()?;
    match unit {
        "ms" => Some(n),
        "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    }
}

/// Why `value` is not an acceptable issuer or JWKS URL, if it is not.
pub(crate) fn url_problem(value: &str) -> Option<&'static str> {
    let Some((scheme, rest)) = value.split_once("://") else {
        return Some("must be an https:// URL");
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Some("has no host");
    }
    match scheme {
        "https" => None,
        "http" if host == "localhost" || host == "::1" || host.starts_with("127.") => None,
        "http" => Some(
            "uses http: only https is allowed, except on loopback (127.0.0.1, [::1], localhost)",
        ),
        _ => Some("must be an https:// URL"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(url_problem("https://accounts.google.com"), None);
        assert_eq!(url_problem("http://127.0.0.1:3001/realms/x"), None);
        assert_eq!(url_problem("http://[::1]:80"), None);
        assert_eq!(url_problem("http://localhost"), None);
        assert!(url_problem("http://login.corp.example").is_some());
        assert!(url_problem("https://").is_some());
        assert!(url_problem("ftp://x").is_some());
        assert!(url_problem("accounts.google.com").is_some());
        assert_eq!(duration_millis("30", "s"), Some(30_000));
        assert_eq!(duration_millis("30", "d"), None);
    }
}
