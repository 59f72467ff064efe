//! Declarative OAuth2 / OpenID Connect for axum, checked at compile time.
//!
//! Add one dependency, `oauth2-runtime`, and write `oauth2::...`: the library is named
//! `oauth2`. It accepts `Authorization: Bearer <JWT>` from clients of one or more
//! identity providers: OIDC discovery, a JWKS cache refreshed in the background,
//! validation by the JWT BCP (RFC 8725), a tower layer, and axum extractors.
//!
//! Declare the providers with [`providers!`], guard handlers with
//! [`#[protect]`](macro@protect), read claims with [`#[derive(FromClaims)]`](macro@FromClaims):
//!
//! ```
//! use axum::{routing::get, Router};
//! use oauth2::{protect, providers, FromClaims};
//!
//! providers! {
//!     google { issuer: "https://accounts.google.com", audience: "1234.apps.googleusercontent.com" }
//! }
//!
//! #[derive(FromClaims)]
//! struct User { sub: String, email: Option<String> }
//!
//! #[protect(provider = "google", claims = User)]
//! async fn me(user: User) -> String { user.sub }
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), oauth2::ConfigError> {
//! let providers = Providers::load()?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .route("/me", get(me))
//!     .layer(providers.layer());
//! # Ok(()) }
//! ```
//!
//! The same without macros:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! use oauth2::{Authenticator, Claims, Provider};
//!
//! #[derive(serde::Deserialize)]
//! struct User { sub: String }
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("google")
//!         .issuer("https://accounts.google.com")
//!         .audience("1234.apps.googleusercontent.com"))
//!     .public_path("/")
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .route("/me", get(|Claims(user): Claims<User>| async move { user.sub }))
//!     .layer(auth.layer());
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! The crate is built in layers, and imports only go down this list, never up (no
//! module imports one that imports it back):
//!
//! | layer | modules | what lives there |
//! |---|---|---|
//! | utilities | `util` (private), [`metrics`] | the clock, random tokens, printable text, URL rules (shared with the macros through `oauth2-syntax`); the metrics' names and their recording |
//! | discovery | [`discovery`] | OpenID Provider metadata |
//! | keys | [`jwks`], `introspection` (private) | JWK sets, the per-issuer key cache, and the [`KeyRegistry`](jwks::KeyRegistry) that holds one cache and one discovery document per issuer; the RFC 7662 client that asks a provider about opaque tokens |
//! | configuration | [`config`] | [`Provider`], its builder, [`Audience`], [`ConfigError`] |
//! | validation | [`validation`] | the [`Validator`](validation::Validator), in steps: compact form → provider → header → key → signature → claims; no axum, no HTTP client of its own |
//! | errors | [`error`] | [`AuthError`] and its RFC 6750 rendering |
//! | HTTP | `http` (private) | where a request's token is, request classifiers, the `Cookie` header |
//! | adapters | [`authenticator`], [`layer`], [`extract`], [`guard`] (what `#[protect]` generates), [`dpop`], [`resource`], [`mcp`], `ws`, `grpc` (feature `tonic`) | axum, tower and gRPC; DPoP proofs of requests and their replay cache; protected resource metadata (RFC 9728); the MCP mode's per-operation scopes |
//! | sessions | [`session`] | sealed cookies and session stores |
//! | client | `client` (feature `login`) | the app as an OAuth client: how each request it sends authenticates (secrets, signed assertions) |
//! | issuer | `issuer` (feature `broker`) | the broker's signing keys in the store, their rotation, its access tokens, sessions and JWKS |
//! | login | [`login`] | browser login as an OpenID Connect relying party |
//! | OpenAPI | `openapi` (feature `utoipa`) | the providers' OpenAPI security schemes |
//! | dev issuer | [`dev`] | the development identity provider |
//! | test kit | `test_kit` (feature `test-kit`) | tests of your app: providers retargeted to a dev issuer, browser logins |
//!
//! The macros generate builder calls and trait impls, naming this crate's items by
//! full path (`oauth2::...`, and its hidden `__private` module for what only generated
//! code uses): the runtime decides, the macros declare.
//!
//! # Features
//!
#![doc = document_features::document_features!()]
//!
//! One crypto backend is needed: without `aws-lc-rs` and `rust-crypto` the crate does
//! not compile, and says so. `rust-crypto` changes only how JWT signatures are verified.
//! HTTPS to the providers (discovery, JWKS, token endpoint) goes through reqwest with
//! rustls, whose crypto is aws-lc-rs whichever backend is chosen: building it needs a C
//! compiler (`cc`), as aws-lc-rs always does; no `cmake`, no OpenSSL. Every combination
//! in this table is built in CI.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "oauth2-runtime needs a crypto backend for JWT signatures: enable the `aws-lc-rs` feature \
     (the default) or `rust-crypto`"
);

/// The README's Rust examples, compiled as doc tests so they stay true (they use the
/// login, broker and utoipa features, on in `cargo test --workspace`).
#[cfg(all(doctest, feature = "broker", feature = "utoipa"))]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;

/// The provider guides' examples compile (`docs/providers/`).
#[cfg(all(doctest, feature = "login"))]
mod provider_guides {
    #[doc = include_str!("../../docs/providers/google.md")]
    struct Google;
    #[doc = include_str!("../../docs/providers/entra.md")]
    struct Entra;
    #[doc = include_str!("../../docs/providers/auth0.md")]
    struct Auth0;
    #[doc = include_str!("../../docs/providers/keycloak.md")]
    struct Keycloak;
    #[doc = include_str!("../../docs/providers/okta.md")]
    struct Okta;
    #[doc = include_str!("../../docs/providers/cognito.md")]
    struct Cognito;
    #[doc = include_str!("../../docs/providers/github.md")]
    struct GitHub;
}

/// The guides' examples (`docs/*.md`), compiled and run as doc tests like the README's.
#[cfg(all(doctest, feature = "broker", feature = "utoipa"))]
mod guides {
    #[doc = include_str!("../../docs/bearer.md")]
    struct Bearer;
    #[doc = include_str!("../../docs/login.md")]
    struct Login;
    #[doc = include_str!("../../docs/devices.md")]
    struct Devices;
    #[doc = include_str!("../../docs/backchannel-logout.md")]
    struct BackchannelLogout;
    #[doc = include_str!("../../docs/tenants.md")]
    struct Tenants;
    #[doc = include_str!("../../docs/introspection.md")]
    struct Introspection;
    #[doc = include_str!("../../docs/client.md")]
    struct Client;
    #[doc = include_str!("../../docs/dpop.md")]
    struct Dpop;
    #[doc = include_str!("../../docs/mcp.md")]
    struct Mcp;
    #[doc = include_str!("../../docs/par.md")]
    struct Par;
    #[doc = include_str!("../../docs/step-up.md")]
    struct StepUp;
    #[doc = include_str!("../../docs/grpc.md")]
    struct Grpc;
    #[doc = include_str!("../../docs/openapi.md")]
    struct Openapi;
    #[doc = include_str!("../../docs/scale-out.md")]
    struct ScaleOut;
    #[doc = include_str!("../../docs/broker.md")]
    struct Broker;
    #[doc = include_str!("../../docs/performance.md")]
    struct Performance;
    #[doc = include_str!("../../docs/configuration.md")]
    struct Configuration;
    #[doc = include_str!("../../docs/errors.md")]
    struct Errors;
    #[doc = include_str!("../../docs/observability.md")]
    struct Observability;
    #[doc = include_str!("../../docs/testing.md")]
    struct Testing;
    #[doc = include_str!("../../docs/fuzzing-and-soak.md")]
    struct FuzzingAndSoak;
    #[doc = include_str!("../../docs/layout.md")]
    struct Layout;
}

// Generated code names the runtime `::oauth2` (or as the user's Cargo.toml renames
// it); inside the crate that path must resolve too.
extern crate self as oauth2;

#[cfg(fuzzing)]
#[doc(hidden)]
pub mod __fuzz;
#[doc(hidden)]
pub mod __private;
pub mod algorithm;
pub mod app;
pub mod authenticator;
pub mod claims;
pub mod client;
pub mod config;
pub mod defaults;
pub mod discovery;
pub mod dpop;
pub mod error;
pub mod extract;
#[cfg(feature = "tonic")]
pub mod grpc;
pub mod guard;
mod http;
mod introspection;
#[cfg(feature = "broker")]
pub mod issuer;
#[cfg(all(feature = "dev-issuer", not(feature = "broker")))]
mod issuer;
pub mod jwks;
pub mod layer;
#[cfg(feature = "login")]
pub mod login;
pub mod mcp;
pub mod metrics;
pub mod resource;
#[cfg(feature = "session")]
pub mod session;
mod util;
pub mod validation;
#[cfg(feature = "ws")]
mod ws;

#[cfg(feature = "dev-issuer")]
pub mod dev;
#[cfg(feature = "utoipa")]
pub mod openapi;
#[cfg(feature = "test-kit")]
pub mod test_kit;

pub use algorithm::Algorithm;
pub use app::{App, AppBuilder};
pub use authenticator::{Authenticator, AuthenticatorBuilder};
pub use claims::{Authenticated, ClaimError, FromClaims, ScopeHierarchy, Scopes};
pub use config::{Audience, ConfigError, Preset, Provider, ProviderBuilder};
pub use error::AuthError;
pub use extract::{CallerToken, Claims};
/// Moved to [`metrics::DECISION_TARGET`], with the other names an operator reads.
#[deprecated(since = "0.1.0", note = "moved to `oauth2::metrics::DECISION_TARGET`")]
pub const DECISION_TARGET: &str = metrics::DECISION_TARGET;
pub use layer::{AuthLayer, RequireScopes};
/// Derives [`FromClaims`](trait@FromClaims): typed access to a token's claims.
///
/// Each field reads the claim of its name. On a field, `#[claim(...)]` takes:
///
/// | option | meaning |
/// |---|---|
/// | `rename = "name"` | read the top-level claim `name` (it may contain dots, as in `https://example.com/roles`) |
/// | `path = "a.b.c"` | read a nested claim, e.g. Keycloak's `realm_access.roles` |
/// | `default` | an absent claim gives `Default::default()` |
/// | `scopes` | read `scope` (a space-separated string) or `scp` (an array): the granted scopes, none when absent |
///
/// `Option<T>` fields may be absent (or `null`). `aud` reads as one value or many, so
/// `aud: String`, `aud: Vec<String>` and `aud: oauth2::Audience` all work. On the
/// struct, `#[claim(crate = "path")]` names the runtime crate if it is renamed.
///
/// A valid token whose claims do not fit is refused with 401 `invalid_token`, and the
/// description names the claim: `token has no `preferred_username` claim`.
/// See [`FromClaims`](trait@FromClaims) for an example.
pub use oauth2_macros::FromClaims;

/// Lets an axum handler run only for a valid token of the named provider(s).
///
/// ```
/// use axum::{routing::{get, post}, Json, Router};
/// use oauth2::{protect, providers, FromClaims};
///
/// providers! {
///     google { issuer: "https://accounts.google.com", audience: "1234.apps.googleusercontent.com" }
///     corp { issuer: "https://login.corp.example", audience: ["api://corp", "corp-cli"] }
/// }
///
/// #[derive(FromClaims)]
/// struct User {
///     sub: String,
///     #[claim(path = "realm_access.roles", default)]
///     roles: Vec<String>,
/// }
///
/// #[protect(provider = "google", claims = User)]
/// async fn me(user: User) -> String { user.sub }
///
/// #[protect(provider = "corp", claims = User, scopes = ["items:write"])]
/// async fn create(user: User, Json(item): Json<serde_json::Value>) -> Json<serde_json::Value> {
///     Json(item)
/// }
///
/// #[protect(provider = any("google", "corp"), claims = User, require = user.roles.iter().any(|r| r == "admin"))]
/// async fn admin(user: User) -> &'static str { "hello admin" }
///
/// #[protect(provider = "google", claims = User, optional)]
/// async fn maybe(user: Option<User>) -> String { user.map(|u| u.sub).unwrap_or_default() }
///
/// #[protect(provider = "google")]
/// async fn ping() -> &'static str { "pong" }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), oauth2::ConfigError> {
/// let providers = Providers::load()?;
/// let app: Router = Router::new()
///     .route("/me", get(me))
///     .route("/items", post(create))
///     .route("/admin", get(admin))
///     .route("/maybe", get(maybe))
///     .route("/ping", get(ping))
///     .layer(providers.layer());
/// # Ok(()) }
/// ```
///
/// # Arguments
///
/// | argument | meaning |
/// |---|---|
/// | `provider = "name"`, `provider = any("a", "b")` | the providers whose tokens are accepted; required; checked against `providers!` at compile time |
/// | `claims = T` | the claims parameter's type, `T: FromClaims`; without it the attribute is a guard only |
/// | `scopes = ["a", "b"]` | scopes the token must all have, else 403 `insufficient_scope` |
/// | `acr = ["urn:corp:mfa"]` | step-up (RFC 9470): the token's (or session's) `acr` must be one of these, else 401 `insufficient_user_authentication` with `acr_values`; a session route sends the browser to a new login that asks for them |
/// | `max_age = 5m` | step-up: the user authenticated (`auth_time`) at most this long ago, in whole seconds, else 401 with `max_age` (a new login with `max_age` for a session route) |
/// | `require = <condition>` | a `bool` expression over the claims parameter, else 403 `access_denied` |
/// | `optional` | the claims parameter is `Option<T>`: `None` without a (valid) token |
/// | `session` | the user comes from the browser login session ([`login::SessionProtected`]), not a bearer token; without one, 401 or a redirect to the login (feature `login`) |
/// | `crate = "path"` | the runtime crate's path, if it is renamed in `Cargo.toml` |
///
/// The claims parameter can stand anywhere among the handler's parameters; the macro
/// moves its extractor first, so the token is checked before the body is read. The
/// handler stays a plain `async fn` that `get(...)`, `post(...)` accept. The checks, in
/// order, and their answers are in [`guard`]. A `require` condition sees the claims
/// parameter (by reference), not the other parameters.
///
/// `#[protect]` finds provider names through a macro that `providers!` defines, so
/// `providers!` must come before the handlers: earlier in the same module, or in a
/// parent module before the `mod` that holds them (or in a `#[macro_use] mod`).
///
/// # OpenAPI
///
/// Above a `#[utoipa::path(...)]`, `#[protect]` writes the path's `security`: one
/// alternative per provider with the scopes (`("google" = ["items:read"])`), the
/// `session` scheme for session routes, `()` too when `optional`. A path that states its
/// own `security` must say the same, or the handler does not compile. The schemes those
/// names refer to come from `Providers::openapi()` (feature `utoipa`, see [`openapi`]).
/// Below `#[utoipa::path]` it cannot see the path: put it above.
///
/// # Compile-time errors
///
/// Mistakes are compile errors at the mistaken tokens: an unknown provider (with the
/// closest declared name), an unknown or repeated argument, a claims type that does
/// not implement `FromClaims`, a claims parameter whose type differs from `claims = T`,
/// `optional` without `Option<T>`, a handler that is not `async`, scopes that are not
/// string literals, `provider = any()` with no provider (a guard no token could pass),
/// `acr = []` or an `acr` value with spaces, a `max_age` without a unit, of zero or not in
/// whole seconds,
/// an OpenAPI `security` that disagrees with the guard.
pub use oauth2_macros::protect;

/// Declares the identity providers once: their configuration, one type per provider
/// (`google` → `Google`), and `Providers`, which holds the runtime state (key caches).
///
/// ```
/// use oauth2::providers;
///
/// providers! {
///     // App-wide settings come first, as `key: value,`.
///     public_paths: ["/", "/health"],
///
///     google {
///         issuer: "https://accounts.google.com",
///         audience: "1234.apps.googleusercontent.com",
///     }
///     corp {
///         issuer: env("CORP_ISSUER", default = "https://login.corp.example"),
///         audience: ["api://corp", "corp-cli"],
///         jwks_url: "https://login.corp.example/keys",
///         algorithms: [RS256, ES256],
///         leeway: 30s,
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), oauth2::ConfigError> {
/// assert_eq!(Providers::NAMES, ["google", "corp"]);
/// assert_eq!(Corp::NAME, "corp");
/// let providers = Providers::load()?; // reads env(...) values, starts loading keys
/// let app: axum::Router = axum::Router::new().layer(providers.layer());
/// # Ok(()) }
/// ```
///
/// # Values
///
/// A value is a literal, `env("VAR")`, or any Rust expression (evaluated by `load()`).
/// `env("VAR")` reads the variable when the configuration is loaded, and a missing one
/// is a [`ConfigError::Env`] that names it; `env("VAR", default = <literal>)` and
/// `env("VAR", optional)` (the key is left out when unset) are the other forms. List
/// keys read from the environment are comma-separated. Durations are a whole number
/// with a unit: `500ms`, `30s`, `5m`, `1h`.
///
/// # Provider keys
///
/// | key | value | default |
/// |---|---|---|
/// | `issuer` | the exact `iss`; an `https://` URL (http only on loopback) | required (but for plain OAuth 2.0 login) |
/// | `audience` | a string or a list: accepted `aud` values; makes the provider accept bearer tokens | required without `client_id` |
/// | `danger_accept_any_audience` | `true` to skip the audience check | `false` |
/// | `jwks_url` | the JWKS URL | OIDC discovery |
/// | `jwks_file`, `jwks_json` | a JWKS from a file, or as JSON text | |
/// | `hmac_secret` | an HS256/384/512 secret; never a literal | |
/// | `algorithms` | `[RS256, ES256, ...]` | [`defaults::DEFAULT_ALGORITHMS`] |
/// | `leeway` | clock skew allowed on `exp`, `nbf`, `iat` | [`defaults::DEFAULT_LEEWAY`] |
/// | `required_typ` | the required `typ` header, e.g. `"at+jwt"` | none |
/// | `refresh_interval` | how often keys are refetched (a JWKS `max-age` wins, within bounds) | [`defaults::DEFAULT_REFRESH_INTERVAL`] |
/// | `unknown_kid_cooldown` | the least time between refetches for unknown `kid`s | [`defaults::DEFAULT_UNKNOWN_KID_COOLDOWN`] |
/// | `fetch_timeout` | the time limit of one discovery or JWKS request | [`defaults::DEFAULT_FETCH_TIMEOUT`] |
/// | `retry_backoff` | `[initial, max]` delays between failed loads | [`defaults::DEFAULT_RETRY_BACKOFF`] |
/// | `http_client` | a `reqwest::Client` expression | rustls client |
/// | `client_id` | the client id for browser login; makes the provider a login provider (feature `login`) | |
/// | `client_secret` | its secret; never a literal; none for a public client | |
/// | `scopes` | the scopes asked at login | [`defaults::DEFAULT_SCOPES`] |
/// | `prompt` | the `prompt` parameter, e.g. `"consent"` | |
/// | `authorize_params` | extra authorization request parameters, `[("audience", "..."), ...]`; they cannot replace the flow's own | |
/// | `preset` | `google`, `microsoft`, `github`, `gitlab`, `auth0`, `okta`, `keycloak` or `cognito` ([`Preset`]): for login, endpoints, scopes and claim names; for bearer tokens, the trap it removes (Google's two `iss` forms, Auth0's trailing `/`, Cognito's `client_id`; GitHub refused) | |
/// | `userinfo` | `auto`, `required` or `never` ([`login::Userinfo`]): whether login reads userinfo and whether its refusal fails the login | `auto` |
/// | `pushed_authorization` | `auto`, `required` or `never` ([`login::PushedAuthorization`]): whether the login pushes its authorization request first (RFC 9126) | `auto`: when the provider has the endpoint |
/// | `token_endpoint` | `true`: serve `POST {prefix}/{provider}/token` (refresh grant) with the app's client authentication | `false` |
/// | `device_flow` | `true`: serve `POST {prefix}/{provider}/device` (RFC 8628) and the token endpoint with the device code grant | `false` |
/// | `authorize_url`, `token_url`, `userinfo_url` | a plain OAuth 2.0 provider's endpoints (no discovery, no ID token) | |
///
/// # App-wide settings
///
/// Every default, of these and of the provider keys, is in one table: [`defaults`].
///
/// | key | value |
/// |---|---|
/// | `public_paths`, `public_prefixes` | paths that [`Providers::require_everywhere`](#generated-items) lets through |
/// | `cookie` | also read the token from this cookie |
/// | `realm` | the `realm` of `WWW-Authenticate` |
/// | `max_token_size` | the longest accepted token, in bytes |
/// | `http_client` | a `reqwest::Client` expression for every provider |
/// | `base_url` | the app's public URL, for login callbacks; required with login |
/// | `session_secret`, `old_session_secret` | the key (32+ bytes) of session and transaction cookies; never a literal; required with login |
/// | `login_prefix` | where the login routes are |
/// | `session_cookie` | the session cookie's name |
/// | `session_store` | a [`session::SessionStore`] expression; default: the session in the cookie |
/// | `session_ttl`, `idle_timeout` | absolute and idle session lifetimes |
/// | `allowed_origins` | origins `return_to` may point to, besides the base URL's |
/// | `on_login` | an `async` closure over [`login::LoginEvent`]: provision, refuse, or return session data |
/// | `app_token` | a [`login::AppToken`]: also issue the app's own JWT cookie after login |
///
/// # Generated items
///
/// - `struct Providers`: `Providers::load()` (reads the configuration, starts loading
///   keys; call it in a Tokio runtime), `Providers::builder()` (the
///   [`AuthenticatorBuilder`], to add e.g. an error handler, then `Providers::from`),
///   `layer()` (for `#[protect]`; other routes stay open), `require_everywhere()` (a
///   token on every path but the public ones, as the Python middleware does),
///   `authenticator()`, `ready()`, `NAMES`. With login providers also `router()` (the
///   login routes), `login()`, `login_builder()` and `build(bearer, login)` (to finish
///   the builders by hand, e.g. with a store that connects asynchronously); `layer()`
///   then also serves the login session.
/// - One unit struct per provider, `google` → `Google`, with `NAME`, `builder()` (when
///   it has an `audience`) and `login_builder()` (when it has a `client_id`).
/// - A hidden macro through which `#[protect]` checks provider names.
///
/// Mistakes are compile errors at the mistaken tokens: a provider declared twice, a
/// missing `issuer` or `audience`, an unknown key (with the closest known one), an
/// `http://` URL off loopback, a query or fragment where the runtime refuses one, an
/// unknown algorithm, preset or userinfo mode, a duration without a unit or over a year,
/// a login key without `client_id`, a bearer key without `audience`, login without
/// `base_url` or `session_secret`, a literal secret. The literal rules are the runtime's
/// own (one crate, `oauth2-syntax`, defines them for both), so a literal that compiles
/// is never refused by `load()` for its syntax. A syntax error in `providers!` is
/// reported alone: stand-ins for `Providers` and the registry keep the rest quiet.
///
/// The generated code finds this crate under the name your `Cargo.toml` gives it (see
/// docs/bearer.md on using it next to the `oauth2` client crate).
#[macro_export]
macro_rules! providers {
    ($($input:tt)*) => {
        $crate::__private::providers_impl! { crate = $crate; $($input)* }
    };
}
