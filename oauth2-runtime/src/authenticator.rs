//! The [`Authenticator`]: providers plus the HTTP-side options, shared by the layer
//! and the extractors.
//!
//! It finds the token in a request (the `Authorization: Bearer` header; an optional
//! cookie; for WebSocket upgrades only, the `access_token` query parameter or the
//! `Sec-WebSocket-Protocol` pair `access_token, <token>`), validates it, and turns
//! failures into [`AuthError`]s that use the configured realm and error handler.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{Authenticator, Provider};
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience("api"))
//!     .public_path("/health")
//!     .public_prefix("/docs")
//!     .cookie("access_token")
//!     .realm("corp-api")
//!     .build()
//!     .unwrap();
//! assert!(auth.is_public("/docs/index.html"));
//! assert!(!auth.is_public("/docsearch"));
//! let app: axum::Router = axum::Router::new().layer(auth.layer());
//! # }
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::response::Response;

use crate::claims::Authenticated;
use crate::config::{ConfigError, ProviderBuilder};
use crate::error::{AuthError, ErrorHandler};
use crate::jwks::KeyStats;
use crate::layer::AuthLayer;
use crate::validation::{DEFAULT_MAX_TOKEN_SIZE, Validator};

/// The subprotocol that precedes the token in `Sec-WebSocket-Protocol`.
pub const WEBSOCKET_TOKEN_PROTOCOL: &str = "access_token";

/// Validates requests for a set of providers. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    validator: Validator,
    public_exact: Vec<String>,
    public_prefixes: Vec<String>,
    cookie: Option<String>,
    realm: Arc<str>,
    handler: Option<ErrorHandler>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("validator", &self.inner.validator)
            .field("public_exact", &self.inner.public_exact)
            .field("public_prefixes", &self.inner.public_prefixes)
            .field("cookie", &self.inner.cookie)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Authenticator`].
#[must_use = "call `.build()`"]
pub struct AuthenticatorBuilder {
    providers: Vec<ProviderBuilder>,
    public_exact: Vec<String>,
    public_prefixes: Vec<String>,
    cookie: Option<String>,
    realm: String,
    max_token_size: usize,
    handler: Option<ErrorHandler>,
    http: Option<reqwest::Client>,
}

impl AuthenticatorBuilder {
    /// Adds a provider. Tokens are matched to providers by their exact `iss`.
    pub fn provider(mut self, provider: ProviderBuilder) -> Self {
        self.providers.push(provider);
        self
    }

    /// A path the layer lets through without a token (exact match).
    pub fn public_path(mut self, path: impl Into<String>) -> Self {
        self.public_exact.push(path.into());
        self
    }

    /// A path prefix the layer lets through without a token. Matches whole segments:
    /// `/docs` covers `/docs` and `/docs/a`, not `/docsearch`.
    pub fn public_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.public_prefixes
            .push(prefix.trim_end_matches('/').to_owned());
        self
    }

    /// Also reads the token from this cookie when there is no `Authorization` header
    /// (a leading `Bearer ` in the value is accepted).
    pub fn cookie(mut self, name: impl Into<String>) -> Self {
        self.cookie = Some(name.into());
        self
    }

    /// The `realm` of `WWW-Authenticate` challenges; default `api`.
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = realm.into();
        self
    }

    /// The limit on a token's length, checked before decoding; default 8 KiB.
    pub fn max_token_size(mut self, bytes: usize) -> Self {
        self.max_token_size = bytes;
        self
    }

    /// Replaces the response of every rejection (layer and extractors alike).
    /// [`AuthError::default_response`] gives the one it replaces.
    pub fn on_error<F>(mut self, handler: F) -> Self
    where
        F: Fn(&AuthError) -> Response + Send + Sync + 'static,
    {
        self.handler = Some(Arc::new(handler));
        self
    }

    /// The HTTP client for discovery and JWKS requests of every provider that sets
    /// none of its own.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Checks the configuration and starts loading keys in the background.
    /// Must be called inside a Tokio runtime.
    pub fn build(self) -> Result<Authenticator, ConfigError> {
        let providers = self
            .providers
            .into_iter()
            .map(ProviderBuilder::build)
            .collect::<Result<Vec<_>, _>>()?;
        let validator = Validator::with_options(providers, self.max_token_size, self.http)?;
        Ok(Authenticator {
            inner: Arc::new(Inner {
                validator,
                public_exact: self.public_exact,
                public_prefixes: self.public_prefixes,
                cookie: self.cookie,
                realm: self.realm.into(),
                handler: self.handler,
            }),
        })
    }
}

impl Authenticator {
    /// Starts the configuration.
    pub fn builder() -> AuthenticatorBuilder {
        AuthenticatorBuilder {
            providers: Vec::new(),
            public_exact: Vec::new(),
            public_prefixes: Vec::new(),
            cookie: None,
            realm: "api".into(),
            max_token_size: DEFAULT_MAX_TOKEN_SIZE,
            handler: None,
            http: None,
        }
    }

    /// A tower layer that requires a valid token on every non-public path.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone())
    }

    /// A layer that makes this authenticator available to extractors and `#[protect]`
    /// handlers without requiring a token anywhere: each route decides for itself.
    pub fn extension(&self) -> axum::Extension<Authenticator> {
        axum::Extension(self.clone())
    }

    /// The validation core.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The key cache state of provider `name`.
    pub fn key_stats(&self, provider: &str) -> Option<KeyStats> {
        self.inner.validator.key_stats(provider)
    }

    /// Waits until every provider's keys are loaded.
    pub async fn ready(&self) {
        self.inner.validator.ready().await;
    }

    /// Whether `path` is public (no token needed).
    pub fn is_public(&self, path: &str) -> bool {
        self.inner.public_exact.iter().any(|p| p == path)
            || self.inner.public_prefixes.iter().any(|p| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || p.is_empty())
            })
    }

    /// Finds and validates the request's token.
    pub async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, AuthError> {
        let token = self.token(parts)?;
        self.inner
            .validator
            .validate(&token)
            .await
            .map_err(|e| self.reject(e.into()))
    }

    /// Gives an error this authenticator's realm and error handler.
    pub(crate) fn reject(&self, error: AuthError) -> AuthError {
        error.with_context(&self.inner.realm, self.inner.handler.as_ref())
    }

    /// The token of a request, from the first source that has one.
    pub(crate) fn token<'a>(&self, parts: &'a Parts) -> Result<Cow<'a, str>, AuthError> {
        find_token(parts, self.inner.cookie.as_deref()).map_err(|e| self.reject(e))
    }
}

fn find_token<'a>(parts: &'a Parts, cookie: Option<&str>) -> Result<Cow<'a, str>, AuthError> {
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    if let Some(value) = values.next() {
        if values.next().is_some() {
            return Err(AuthError::invalid_request("several Authorization headers"));
        }
        let value = value
            .to_str()
            .map_err(|_| AuthError::invalid_request("Authorization header is not visible ASCII"))?;
        return bearer(value).map(Cow::Borrowed);
    }
    if let Some(token) = cookie.and_then(|name| cookie_value(&parts.headers, name)) {
        let token = strip_bearer(token);
        if !token.is_empty() {
            return Ok(Cow::Borrowed(token));
        }
    }
    if is_websocket_upgrade(parts) {
        if let Some(token) = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        }) {
            return Ok(Cow::Owned(token));
        }
        if let Some(token) = protocol_token(&parts.headers) {
            return Ok(Cow::Owned(token));
        }
    }
    Err(AuthError::missing_token())
}

/// Parses `Bearer <token>` (scheme case-insensitive, RFC 7235).
fn bearer(value: &str) -> Result<&str, AuthError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::invalid_request(
            "Authorization header must use the Bearer scheme",
        ));
    }
    let token = rest.trim_start();
    if token.is_empty() {
        return Err(AuthError::invalid_request("Bearer token is empty"));
    }
    if token.contains(char::is_whitespace) {
        return Err(AuthError::invalid_request("Bearer token is malformed"));
    }
    Ok(token)
}

fn strip_bearer(value: &str) -> &str {
    let value = value.trim().trim_matches('"');
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// The entry after `access_token` in `Sec-WebSocket-Protocol`.
fn protocol_token(headers: &HeaderMap) -> Option<String> {
    let entries: Vec<&str> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let at = entries
        .iter()
        .position(|e| *e == WEBSOCKET_TOKEN_PROTOCOL)?;
    entries.get(at + 1).map(|t| (*t).to_owned())
}

/// Whether the request is a WebSocket upgrade (HTTP/1.1 `Upgrade: websocket`).
pub(crate) fn is_websocket_upgrade(parts: &Parts) -> bool {
    parts.method == Method::GET
        && parts
            .headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the request is a CORS preflight, which must reach the CORS layer untouched.
pub(crate) fn is_cors_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(header::ORIGIN)
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AuthErrorKind;
    use axum::http::Request;

    fn parts(
        f: impl FnOnce(axum::http::request::Builder) -> axum::http::request::Builder,
    ) -> Parts {
        f(Request::builder().uri("/x"))
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    fn token(p: &Parts, cookie: Option<&str>) -> Result<String, AuthErrorKind> {
        find_token(p, cookie)
            .map(|t| t.into_owned())
            .map_err(|e| e.kind())
    }

    #[test]
    fn header_scheme_is_case_insensitive() {
        for h in ["Bearer abc", "bearer abc", "BEARER   abc", " Bearer abc "] {
            assert_eq!(
                token(&parts(|b| b.header("authorization", h)), None),
                Ok("abc".into())
            );
        }
    }

    #[test]
    fn bad_headers_are_invalid_requests() {
        for h in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearerabc",
            "Token abc",
        ] {
            assert_eq!(
                token(&parts(|b| b.header("authorization", h)), None),
                Err(AuthErrorKind::InvalidRequest),
                "{h}"
            );
        }
        let p = parts(|b| {
            b.header("authorization", "Bearer a")
                .header("authorization", "Bearer b")
        });
        assert_eq!(token(&p, None), Err(AuthErrorKind::InvalidRequest));
        assert_eq!(token(&parts(|b| b), None), Err(AuthErrorKind::MissingToken));
    }

    #[test]
    fn cookie_source() {
        let p = parts(|b| b.header("cookie", "a=1; at=Bearer%20x; tok=\"Bearer xyz\""));
        assert_eq!(token(&p, Some("tok")), Ok("xyz".into()));
        assert_eq!(token(&p, Some("a")), Ok("1".into()));
        assert_eq!(token(&p, None), Err(AuthErrorKind::MissingToken));
    }

    #[test]
    fn websocket_sources_only_on_upgrade() {
        let ws = |b: axum::http::request::Builder| {
            b.header("upgrade", "websocket")
                .header("connection", "upgrade")
        };
        let q = parts(|b| ws(b.uri("/ws?x=1&access_token=q.t.s")));
        assert_eq!(token(&q, None), Ok("q.t.s".into()));
        let q = parts(|b| b.uri("/ws?access_token=q.t.s"));
        assert_eq!(token(&q, None), Err(AuthErrorKind::MissingToken));
        let p = parts(|b| ws(b).header("sec-websocket-protocol", "chat, access_token, p.t.s"));
        assert_eq!(token(&p, None), Ok("p.t.s".into()));
        let p = parts(|b| ws(b).header("sec-websocket-protocol", "access_token"));
        assert_eq!(token(&p, None), Err(AuthErrorKind::MissingToken));
    }

    #[test]
    fn preflight_detection() {
        let p = parts(|b| {
            b.method("OPTIONS")
                .header("origin", "https://a.example")
                .header("access-control-request-method", "GET")
        });
        assert!(is_cors_preflight(&p));
        assert!(!is_cors_preflight(&parts(|b| b.method("OPTIONS"))));
    }
}
