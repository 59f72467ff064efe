//! Rejections as HTTP responses (RFC 6750).
//!
//! | status | `error` | when |
//! |---|---|---|
//! | 400 | `invalid_request` | no token, an `Authorization` header that is not `Bearer`, or a malformed one |
//! | 401 | `invalid_token` | the token fails validation (expired, wrong audience, unknown key, ...) |
//! | 401 | `invalid_dpop_proof` | the `DPoP` proof of a DPoP-bound token is missing or does not fit the request or the token (RFC 9449) |
//! | 401 | `use_dpop_nonce` | the server hands out DPoP nonces and the proof lacks the current one: `DPoP-Nonce` gives it |
//! | 401 | `insufficient_user_authentication` | the user's login is not strong or recent enough for the route (RFC 9470): `acr_values="..."` and `max_age="..."` say what would pass |
//! | 403 | `insufficient_scope` | a required scope is missing (`scope="..."` lists every scope the request needs) |
//! | 503 | `temporarily_unavailable` | the provider's keys are not loaded yet (`Retry-After` set) |
//! | 500 | `server_error` | an extractor is used where no authenticator is installed |
//!
//! 400, 401 and 403 carry `WWW-Authenticate: Bearer realm="...", error="...",
//! error_description="..."`; when the request used DPoP, or the provider needs it, the
//! scheme is `DPoP` and `algs="..."` lists the proof algorithms accepted. With
//! [`missing_token_challenge`](crate::AuthenticatorBuilder::missing_token_challenge), a
//! request without any token gets what RFC 6750 §3.1 recommends instead: 401 with a bare
//! `WWW-Authenticate: Bearer realm="..."`. When the authenticator has a
//! [`resource`](crate::resource), every 401 and 403 (`access_denied` too, with a challenge
//! without an error code) names its metadata: `resource_metadata="..."` (RFC 9728 §5.1).
//! Every response has a JSON body
//! `{"error": ..., "error_description": ...}`. Replace them all with
//! [`AuthenticatorBuilder::on_error`](crate::AuthenticatorBuilder::on_error).
//!
//! ```
//! use axum::{http::StatusCode, response::IntoResponse};
//! use oauth2::error::{AuthError, AuthErrorKind};
//!
//! let err = AuthError::insufficient_scope(&["admin"]);
//! assert_eq!(err.kind(), AuthErrorKind::InsufficientScope);
//! let res = err.into_response();
//! assert_eq!(res.status(), StatusCode::FORBIDDEN);
//! assert_eq!(
//!     res.headers()["www-authenticate"],
//!     r#"Bearer realm="api", error="insufficient_scope", error_description="missing scope: admin", scope="admin""#
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::claims::ClaimError;
use crate::validation::{ErrorKind, StepUpError, ValidationError};

/// Builds the response for every rejection; set with
/// [`AuthenticatorBuilder::on_error`](crate::AuthenticatorBuilder::on_error).
pub type ErrorHandler = Arc<dyn Fn(&AuthError) -> Response + Send + Sync>;

/// The class of a rejection, which decides its status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// No token was sent (400 `invalid_request`).
    MissingToken,
    /// The `Authorization` header is not a well-formed `Bearer` header (400).
    InvalidRequest,
    /// The token failed validation (401 `invalid_token`).
    InvalidToken,
    /// The DPoP proof of a DPoP-bound token is missing, malformed, or does not fit the
    /// request or the token (401 `invalid_dpop_proof`, RFC 9449).
    InvalidDpopProof,
    /// The DPoP proof must carry the server's nonce, given in the `DPoP-Nonce` header
    /// of this answer (401 `use_dpop_nonce`, RFC 9449 §9).
    UseDpopNonce,
    /// A required scope was not granted (403 `insufficient_scope`).
    InsufficientScope,
    /// The token is valid, but the user's authentication is not strong or recent
    /// enough for the route (401 `insufficient_user_authentication`, RFC 9470).
    InsufficientUserAuthentication,
    /// The application refused a valid token, e.g. a `require` condition is false
    /// (403 `access_denied`).
    Forbidden,
    /// Keys are not loaded yet (503).
    Unavailable,
    /// The application is wired wrong, e.g. no authenticator installed (500).
    Misconfigured,
}

/// Why a request was rejected; renders as an RFC 6750 response.
#[derive(Clone)]
pub struct AuthError {
    kind: AuthErrorKind,
    description: Cow<'static, str>,
    validation: Option<ErrorKind>,
    /// The challenge's rarer parameters; boxed, as rejections are returned by value on
    /// the request path.
    params: Option<Box<Params>>,
    retry_after: Option<Duration>,
    realm: Option<Arc<str>>,
    handler: Option<ErrorHandler>,
    /// Answer a missing token with a bare 401 challenge (RFC 6750 §3.1).
    challenge_missing: bool,
    /// The URL of the API's protected resource metadata (RFC 9728 §5.1).
    resource_metadata: Option<Arc<str>>,
}

/// Parameters of some challenges.
#[derive(Clone, Default)]
struct Params {
    /// The missing scopes (`insufficient_scope`).
    scope: Option<String>,
    /// What would pass a step-up check: `acr_values` and `max_age` (seconds).
    acr_values: Option<String>,
    max_age: Option<u64>,
    /// The challenge is `DPoP` with these proof algorithms (space-separated).
    dpop_algs: Option<Arc<str>>,
    /// The nonce the next DPoP proof must carry (`DPoP-Nonce`).
    dpop_nonce: Option<String>,
}

impl fmt::Debug for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthError")
            .field("kind", &self.kind)
            .field("description", &self.description)
            .field("validation", &self.validation)
            .field("scope", &self.scope())
            .finish_non_exhaustive()
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.description)
    }
}

impl std::error::Error for AuthError {}

impl AuthError {
    fn new(kind: AuthErrorKind, description: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            description: description.into(),
            validation: None,
            params: None,
            retry_after: None,
            realm: None,
            handler: None,
            challenge_missing: false,
            resource_metadata: None,
        }
    }

    /// No token in the request.
    pub fn missing_token() -> Self {
        Self::new(
            AuthErrorKind::MissingToken,
            "no bearer token: send `Authorization: Bearer <token>`",
        )
    }

    /// A token refused before validation (401 `invalid_token`).
    pub(crate) fn invalid_token(description: &'static str) -> Self {
        Self::new(AuthErrorKind::InvalidToken, description)
    }

    /// A malformed `Authorization` header.
    pub fn invalid_request(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::InvalidRequest, description)
    }

    /// The scopes in `required` that were not granted.
    pub fn insufficient_scope(missing: &[&str]) -> Self {
        Self::insufficient_scope_of(missing, missing)
    }

    /// A request that needs every scope of `required` and lacks those of `missing`: the
    /// challenge's `scope` lists all of `required` (RFC 6750 §3: the scope necessary to
    /// access the resource, so that a client asking for it again keeps what it had),
    /// the description names the missing ones.
    pub fn insufficient_scope_of(required: &[&str], missing: &[&str]) -> Self {
        let mut e = Self::new(
            AuthErrorKind::InsufficientScope,
            format!("missing scope: {}", missing.join(" ")),
        );
        e.params_mut().scope = Some(required.join(" "));
        e
    }

    /// The user's authentication is not strong or recent enough (RFC 9470): the
    /// challenge names the `acr_values` and `max_age` that would pass.
    pub fn insufficient_user_authentication(e: &StepUpError) -> Self {
        let mut out = Self::new(
            AuthErrorKind::InsufficientUserAuthentication,
            e.description().to_owned(),
        );
        let params = out.params_mut();
        params.acr_values = e.acr_values().map(str::to_owned);
        params.max_age = e.max_age();
        out
    }

    /// A DPoP proof that is missing or does not fit (RFC 9449 §7.1).
    pub fn invalid_dpop_proof(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::InvalidDpopProof, description)
    }

    /// A DPoP proof without the server's current nonce: the answer gives `nonce` in
    /// `DPoP-Nonce` (RFC 9449 §9).
    pub(crate) fn use_dpop_nonce(description: &'static str, nonce: String) -> Self {
        let mut e = Self::new(AuthErrorKind::UseDpopNonce, description);
        e.params_mut().dpop_nonce = Some(nonce);
        e
    }

    /// For [`AuthErrorKind::UseDpopNonce`]: the nonce the next proof must carry.
    pub fn dpop_nonce(&self) -> Option<&str> {
        self.params.as_deref()?.dpop_nonce.as_deref()
    }

    /// The same error with a `DPoP` challenge naming the accepted proof `algs`.
    pub(crate) fn with_dpop_challenge(mut self, algs: &Arc<str>) -> Self {
        self.params_mut().dpop_algs = Some(algs.clone());
        self
    }

    /// For a `DPoP` challenge: the accepted proof algorithms, space-separated.
    pub fn dpop_algs(&self) -> Option<&str> {
        self.params.as_deref()?.dpop_algs.as_deref()
    }

    fn params_mut(&mut self) -> &mut Params {
        self.params.get_or_insert_with(Box::default)
    }

    /// The token is valid but the application refuses it (a `require` condition).
    pub fn forbidden(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Forbidden, description)
    }

    /// Something the check needs does not answer (503).
    pub(crate) fn unavailable(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Unavailable, description)
    }

    /// The application is wired wrong.
    pub fn misconfigured(description: impl Into<Cow<'static, str>>) -> Self {
        Self::new(AuthErrorKind::Misconfigured, description)
    }

    /// The class of the rejection.
    pub fn kind(&self) -> AuthErrorKind {
        self.kind
    }

    /// For a token that failed validation: which check failed.
    pub fn validation_kind(&self) -> Option<ErrorKind> {
        self.validation
    }

    /// What was wrong, for humans; never contains the token.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// For [`AuthErrorKind::InsufficientScope`]: the scopes the request needs,
    /// space-separated.
    pub fn scope(&self) -> Option<&str> {
        self.params.as_deref()?.scope.as_deref()
    }

    /// For [`AuthErrorKind::InsufficientUserAuthentication`]: the accepted `acr`
    /// values, space-separated.
    pub fn acr_values(&self) -> Option<&str> {
        self.params.as_deref()?.acr_values.as_deref()
    }

    /// For [`AuthErrorKind::InsufficientUserAuthentication`]: the longest accepted time
    /// since the user authenticated, in seconds.
    pub fn max_age(&self) -> Option<u64> {
        self.params.as_deref()?.max_age
    }

    /// For [`AuthErrorKind::Unavailable`]: when to retry.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The HTTP status of the default response.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            AuthErrorKind::MissingToken if self.challenge_missing => StatusCode::UNAUTHORIZED,
            AuthErrorKind::MissingToken | AuthErrorKind::InvalidRequest => StatusCode::BAD_REQUEST,
            AuthErrorKind::InvalidToken
            | AuthErrorKind::InvalidDpopProof
            | AuthErrorKind::UseDpopNonce
            | AuthErrorKind::InsufficientUserAuthentication => StatusCode::UNAUTHORIZED,
            AuthErrorKind::InsufficientScope | AuthErrorKind::Forbidden => StatusCode::FORBIDDEN,
            AuthErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AuthErrorKind::Misconfigured => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The OAuth error code of the default response.
    pub fn error_code(&self) -> &'static str {
        match self.kind {
            AuthErrorKind::MissingToken | AuthErrorKind::InvalidRequest => "invalid_request",
            AuthErrorKind::InvalidToken => "invalid_token",
            AuthErrorKind::InvalidDpopProof => "invalid_dpop_proof",
            AuthErrorKind::UseDpopNonce => "use_dpop_nonce",
            AuthErrorKind::InsufficientScope => "insufficient_scope",
            AuthErrorKind::InsufficientUserAuthentication => "insufficient_user_authentication",
            AuthErrorKind::Forbidden => "access_denied",
            AuthErrorKind::Unavailable => "temporarily_unavailable",
            AuthErrorKind::Misconfigured => "server_error",
        }
    }

    pub(crate) fn with_context(
        mut self,
        realm: &Arc<str>,
        handler: Option<&ErrorHandler>,
        challenge_missing: bool,
    ) -> Self {
        self.realm = Some(realm.clone());
        self.handler = handler.cloned();
        self.challenge_missing = challenge_missing;
        self
    }

    /// The same error naming the API's protected resource metadata in its challenge.
    pub(crate) fn with_resource_metadata(mut self, url: Option<&Arc<str>>) -> Self {
        self.resource_metadata = url.cloned();
        self
    }

    /// The URL of the API's protected resource metadata (RFC 9728), which the
    /// challenge names as `resource_metadata`, when the API has a resource.
    pub fn resource_metadata(&self) -> Option<&str> {
        self.resource_metadata.as_deref()
    }

    /// The RFC 6750 `WWW-Authenticate` value of this error (`Bearer realm=..., error=...`),
    /// for errors a token can cure; `None` for 503, 500 and 403 `access_denied` (which
    /// has a challenge without an error code when the API has a resource, so that every
    /// 401 and 403 names its metadata, RFC 9728 §5.1).
    pub fn challenge(&self) -> Option<String> {
        let bare = match self.kind {
            AuthErrorKind::MissingToken => self.challenge_missing,
            AuthErrorKind::Forbidden => true,
            AuthErrorKind::InvalidRequest
            | AuthErrorKind::InvalidToken
            | AuthErrorKind::InvalidDpopProof
            | AuthErrorKind::UseDpopNonce
            | AuthErrorKind::InsufficientScope
            | AuthErrorKind::InsufficientUserAuthentication => false,
            AuthErrorKind::Unavailable | AuthErrorKind::Misconfigured => return None,
        };
        if self.kind == AuthErrorKind::Forbidden && self.resource_metadata.is_none() {
            return None;
        }
        let realm = self.realm.as_deref().unwrap_or("api");
        let (scheme, algs) = match self.dpop_algs() {
            Some(algs) => ("DPoP", format!(r#", algs="{}""#, quoted(algs))),
            None => ("Bearer", String::new()),
        };
        let resource = self
            .resource_metadata
            .as_deref()
            .map(|url| format!(r#", resource_metadata="{}""#, quoted(url)))
            .unwrap_or_default();
        if bare {
            // No credentials, no error code (RFC 6750 §3.1).
            return Some(format!(
                r#"{scheme} realm="{}"{algs}{resource}"#,
                quoted(realm)
            ));
        }
        let mut value = format!(
            r#"{scheme} realm="{}"{algs}{resource}, error="{}", error_description="{}""#,
            quoted(realm),
            self.error_code(),
            quoted(&self.description)
        );
        if let Some(scope) = self.scope() {
            value.push_str(&format!(r#", scope="{}""#, quoted(scope)));
        }
        if let Some(acr_values) = self.acr_values() {
            value.push_str(&format!(r#", acr_values="{}""#, quoted(acr_values)));
        }
        if let Some(max_age) = self.max_age() {
            value.push_str(&format!(r#", max_age="{max_age}""#));
        }
        Some(value)
    }

    /// The response this library sends unless an error handler replaces it.
    pub fn default_response(&self) -> Response {
        let mut response = (
            self.status(),
            axum::Json(serde_json::json!({
                "error": self.error_code(),
                "error_description": self.description,
            })),
        )
            .into_response();
        let headers = response.headers_mut();
        if let Some(v) = self
            .challenge()
            .and_then(|c| HeaderValue::from_str(&c).ok())
        {
            headers.insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(nonce) = self
            .dpop_nonce()
            .and_then(|n| HeaderValue::from_str(n).ok())
        {
            headers.insert("dpop-nonce", nonce);
        }
        if let Some(after) = self.retry_after {
            headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
        }
        response
    }
}

/// Keeps the characters RFC 6750 allows inside a quoted parameter.
fn quoted(s: &str) -> String {
    crate::util::printable(s, usize::MAX)
}

impl From<ValidationError> for AuthError {
    fn from(e: ValidationError) -> Self {
        let kind = match e.kind() {
            ErrorKind::KeysUnavailable | ErrorKind::IntrospectionUnavailable => {
                AuthErrorKind::Unavailable
            }
            ErrorKind::DpopProof => AuthErrorKind::InvalidDpopProof,
            _ => AuthErrorKind::InvalidToken,
        };
        let mut out = Self::new(kind, e.message().to_owned());
        out.validation = Some(e.kind());
        out.retry_after = e.retry_after();
        out
    }
}

impl From<ClaimError> for AuthError {
    fn from(e: ClaimError) -> Self {
        let kind = if e.is_missing() {
            ErrorKind::MissingClaim
        } else {
            ErrorKind::InvalidClaim
        };
        ValidationError::new(kind, e.to_string()).into()
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match &self.handler {
            Some(handler) => handler(&self),
            None => self.default_response(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_headers() {
        let e: AuthError = ValidationError::new(ErrorKind::Expired, "token has expired").into();
        let res = e
            .with_context(&Arc::from("corp"), None, false)
            .into_response();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()["www-authenticate"],
            r#"Bearer realm="corp", error="invalid_token", error_description="token has expired""#
        );
        let e = ValidationError::new(ErrorKind::KeysUnavailable, "not loaded")
            .with_retry_after(Duration::from_millis(2500));
        let res = AuthError::from(e).into_response();
        assert_eq!(res.status(), 503);
        assert_eq!(res.headers()["retry-after"], "2");
        assert!(res.headers().get("www-authenticate").is_none());
        assert_eq!(AuthError::missing_token().into_response().status(), 400);
    }

    #[test]
    fn a_dpop_challenge_names_the_scheme_and_the_proof_algorithms() {
        let algs: Arc<str> = Arc::from("ES256 EdDSA");
        let e = AuthError::invalid_dpop_proof("the DPoP proof was used before")
            .with_dpop_challenge(&algs)
            .with_context(&Arc::from("api"), None, false);
        assert_eq!(e.dpop_algs(), Some("ES256 EdDSA"));
        let res = e.into_response();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()["www-authenticate"],
            r#"DPoP realm="api", algs="ES256 EdDSA", error="invalid_dpop_proof", error_description="the DPoP proof was used before""#
        );
        // No token, bare challenge: still the DPoP scheme.
        let e = AuthError::missing_token()
            .with_dpop_challenge(&algs)
            .with_context(&Arc::from("api"), None, true);
        assert_eq!(
            e.challenge().unwrap(),
            r#"DPoP realm="api", algs="ES256 EdDSA""#
        );
    }

    #[test]
    fn step_up_challenge_names_what_would_pass() {
        let step_up = crate::validation::StepUp {
            acr_values: &["urn:example:mfa", "hwk"],
            max_age: Some(Duration::from_secs(300)),
        };
        let claims = serde_json::json!({"acr": "pwd", "auth_time": 0});
        let e = step_up.check(claims.as_object().unwrap(), 10).unwrap_err();
        let res = AuthError::insufficient_user_authentication(&e)
            .with_context(&Arc::from("api"), None, false)
            .into_response();
        assert_eq!(res.status(), 401);
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"api\", error=\"insufficient_user_authentication\", \
             error_description=\"the authentication context `pwd` is not one this route accepts\", \
             acr_values=\"urn:example:mfa hwk\", max_age=\"300\""
        );
    }

    #[test]
    fn quoting_keeps_headers_valid() {
        assert_eq!(quoted("a \"b\" \\ é"), "a 'b' ' ");
    }

    #[test]
    fn handler_replaces_response() {
        let handler: ErrorHandler = Arc::new(|e: &AuthError| {
            (StatusCode::IM_A_TEAPOT, e.description().to_owned()).into_response()
        });
        let res = AuthError::missing_token()
            .with_context(&Arc::from("x"), Some(&handler), false)
            .into_response();
        assert_eq!(res.status(), StatusCode::IM_A_TEAPOT);
    }
}
