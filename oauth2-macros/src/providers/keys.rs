//! The keys `providers!` understands: where each may stand, what value it takes, and
//! which runtime builder it sets (bearer validation, browser login, or both) and with
//! which method.

/// What a key's value is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// An `https://` URL (http on loopback), used as the rules of [`UrlUse`] say:
    /// checked when it is a literal.
    Url(UrlUse),
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
    /// Names to scopes: `{ deploy: "mcp:deploy", "tools/list": ["a", "b"] }`; the
    /// method is called once per name.
    ScopeMap,
    /// One name of a fixed set: a preset (`google`, `github`, ...), a userinfo mode.
    Choice(&'static Choice),
}

/// Where a key stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// Inside a provider block.
    Provider,
    /// At the top level, for the whole application.
    App,
    /// Inside the `broker { ... }` block: the app's own issuer.
    Broker,
    /// Inside the `mcp { ... }` block: the scopes of MCP operations.
    Mcp,
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
    /// The broker: `issuer::BrokerBuilder`.
    Broker,
    /// The MCP rules: `mcp::McpScopes`.
    Mcp,
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

const fn broker(name: &'static str, kind: Kind, method: &'static str) -> Key {
    Key {
        target: Target::Broker,
        ..key(name, Scope::Broker, kind, method)
    }
}

const fn mcp(name: &'static str, kind: Kind, method: &'static str) -> Key {
    Key {
        target: Target::Mcp,
        ..key(name, Scope::Mcp, kind, method)
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
use oauth2_syntax::{
    ASSERTION_AUDIENCES, BROKER_ALGORITHMS, CLIENT_AUTH_METHODS, DPOP_MODES, PRESETS,
    PUSHED_AUTHORIZATION_MODES, USERINFO_MODES,
};
pub(crate) use oauth2_syntax::{Choice, UrlUse};

const ISSUER: Kind = Url(UrlUse::Issuer);
const ENDPOINT: Kind = Url(UrlUse::Endpoint);

pub(crate) const KEYS: &[Key] = &[
    Key {
        target: Target::Both,
        ..key("issuer", Provider, ISSUER, "issuer")
    },
    key("audience", Provider, StrList, "audience"),
    key("audience_claim", Provider, Str, "audience_claim"),
    key(
        "danger_accept_any_audience",
        Provider,
        Bool,
        "danger_accept_any_audience",
    ),
    key("jwks_url", Provider, ENDPOINT, "jwks_url"),
    key("jwks_file", Provider, Str, "jwks_file"),
    key("jwks_json", Provider, Str, "jwks_json"),
    key("hmac_secret", Provider, Secret, "hmac_secret"),
    key("algorithms", Provider, Algorithms, "algorithms"),
    key("leeway", Provider, Duration, "leeway"),
    key("required_typ", Provider, Str, "required_typ"),
    key("accept_id_tokens", Provider, Bool, "accept_id_tokens"),
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
    key("dpop", Provider, Choice(&DPOP_MODES), "dpop"),
    Key {
        each: true,
        ..key("tenants", Provider, StrList, "tenant")
    },
    key("any_tenant", Provider, Bool, "any_tenant"),
    key("max_tenants", Provider, Number, "max_tenants"),
    key(
        "introspection_client_id",
        Provider,
        Str,
        "introspection_client_id",
    ),
    key(
        "introspection_client_secret",
        Provider,
        Secret,
        "introspection_client_secret",
    ),
    key(
        "introspection_client_key",
        Provider,
        Secret,
        "introspection_client_key_pem",
    ),
    key(
        "introspection_client_auth",
        Provider,
        Choice(&CLIENT_AUTH_METHODS),
        "introspection_client_auth",
    ),
    key(
        "introspection_endpoint",
        Provider,
        ENDPOINT,
        "introspection_endpoint",
    ),
    each("public_paths", "public_path"),
    each("public_prefixes", "public_prefix"),
    key("cookie", App, Str, "cookie"),
    key("realm", App, Str, "realm"),
    key(
        "missing_token_challenge",
        App,
        Bool,
        "missing_token_challenge",
    ),
    key(
        "allow_websocket_query_token",
        App,
        Bool,
        "allow_websocket_query_token",
    ),
    key("max_token_size", App, Number, "max_token_size"),
    key("token_cache", App, Number, "token_cache"),
    key("token_cache_max_age", App, Duration, "token_cache_max_age"),
    key("dpop_base_url", App, Url(UrlUse::Base), "dpop_base_url"),
    key("dpop_replay_store", App, Expr, "dpop_replay_store"),
    key("dpop_proof_max_age", App, Duration, "dpop_proof_max_age"),
    key("dpop_nonce_secret", App, Secret, "dpop_nonce_secret"),
    key("dpop_nonce_period", App, Duration, "dpop_nonce_period"),
    key("http_client", App, Expr, "http_client"),
    key("resource", App, Url(UrlUse::Resource), "resource"),
    key("scopes_supported", App, StrList, "scopes_supported"),
    key("scope_implies", App, ScopeMap, "scope_implies"),
    // Browser login: a provider with `client_id` is a login provider.
    login("client_id", Provider, Str, "client_id"),
    Key {
        target: Target::Both,
        ..key("preset", Provider, Choice(&PRESETS), "preset")
    },
    login("client_secret", Provider, Secret, "client_secret"),
    login(
        "client_auth",
        Provider,
        Choice(&CLIENT_AUTH_METHODS),
        "client_auth",
    ),
    login("client_key", Provider, Secret, "client_key_pem"),
    login(
        "client_assertion_file",
        Provider,
        Str,
        "client_assertion_path",
    ),
    login(
        "assertion_audience",
        Provider,
        Choice(&ASSERTION_AUDIENCES),
        "assertion_audience",
    ),
    login("fapi2", Provider, Bool, "fapi2"),
    login(
        "keep_refresh_token_at_logout",
        Provider,
        Bool,
        "keep_refresh_token_at_logout",
    ),
    login("scopes", Provider, StrList, "scopes"),
    login(
        "id_token_algorithms",
        Provider,
        Algorithms,
        "id_token_algorithms",
    ),
    login("prompt", Provider, Str, "prompt"),
    login("authorize_params", Provider, Expr, "authorize_params"),
    login("authorize_url", Provider, ENDPOINT, "authorize_url"),
    login("token_url", Provider, ENDPOINT, "token_url"),
    login("userinfo_url", Provider, ENDPOINT, "userinfo_url"),
    login("userinfo", Provider, Choice(&USERINFO_MODES), "userinfo"),
    login(
        "pushed_authorization",
        Provider,
        Choice(&PUSHED_AUTHORIZATION_MODES),
        "pushed_authorization",
    ),
    login("dpop_key", Provider, Secret, "dpop_key"),
    login("token_endpoint", Provider, Bool, "token_endpoint"),
    login("device_flow", Provider, Bool, "device_flow"),
    login("backchannel_logout", Provider, Bool, "backchannel_logout"),
    login("base_url", App, Url(UrlUse::Base), "base_url"),
    login("login_prefix", App, Str, "login_prefix"),
    login("session_secret", App, Secret, "session_secret"),
    login("old_session_secret", App, Secret, "old_session_secret"),
    login("session_cookie", App, Str, "session_cookie"),
    login("session_store", App, Expr, "session_store"),
    login("logout_store", App, Expr, "logout_store"),
    login("session_ttl", App, Duration, "session_ttl"),
    login("idle_timeout", App, Duration, "idle_timeout"),
    login("session_cache", App, Number, "session_cache"),
    login("allow_get_logout", App, Bool, "allow_get_logout"),
    Key {
        target: Target::Login,
        ..each("allowed_origins", "allowed_origin")
    },
    login("on_login", App, Expr, "on_login"),
    login("error_page", App, Expr, "error_page"),
    login("error_redirect", App, Str, "error_redirect"),
    login("app_token", App, Expr, "app_token"),
    // The broker: the block named `broker`.
    broker("audience", Str, "audience"),
    broker("store", Expr, "store"),
    broker("token_ttl", Duration, "token_ttl"),
    broker("refresh_ttl", Duration, "refresh_ttl"),
    broker("algorithm", Choice(&BROKER_ALGORITHMS), "algorithm"),
    broker("rotate_every", Duration, "rotate_every"),
    broker("claims", StrList, "claims"),
    Key {
        each: true,
        ..broker("trusted_issuers", StrList, "trusted_issuer")
    },
    // MCP: the block named `mcp`.
    mcp("methods", ScopeMap, "method"),
    mcp("tools", ScopeMap, "tool"),
    mcp("resources", ScopeMap, "resource"),
    mcp("prompts", ScopeMap, "prompt"),
    mcp("max_body", Number, "max_body"),
];

/// The name of the block that turns on the MCP mode.
pub(crate) use oauth2_syntax::MCP;

/// The name of the block that declares the broker (and of its provider in
/// `#[protect(provider = "broker")]`).
pub(crate) use oauth2_syntax::BROKER;

/// Keys from which a provider's verification keys come; at most one per provider.
pub(crate) const KEY_SOURCES: &[&str] = &["jwks_url", "jwks_file", "jwks_json", "hmac_secret"];

pub(crate) use oauth2_syntax::ALGORITHMS;

/// Keys renamed to their builder method's name: the old name is still read, as the new
/// key, and the generated code names a deprecated item so that rustc warns at it.
pub(crate) const RENAMED: &[(&str, &str)] = &[
    ("jwks", "jwks_url"),
    ("websocket_query_token", "allow_websocket_query_token"),
    ("get_logout", "allow_get_logout"),
];

/// A key's name today: the new name of a renamed key, else itself.
pub(crate) fn current_name(name: &str) -> &str {
    RENAMED
        .iter()
        .find(|(old, _)| *old == name)
        .map_or(name, |(_, new)| new)
}

pub(crate) fn find(name: &str, scope: Scope) -> Option<&'static Key> {
    KEYS.iter().find(|k| k.name == name && k.scope == scope)
}

pub(crate) fn names(scope: Scope) -> impl Iterator<Item = &'static str> + Clone {
    KEYS.iter()
        .filter(move |k| k.scope == scope)
        .map(|k| k.name)
}
