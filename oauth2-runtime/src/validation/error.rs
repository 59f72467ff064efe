//! [`ValidationError`] and its [`ErrorKind`].

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

/// What kind of check a token failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not a compact JWS, bad base64url or JSON, a non-object payload.
    Malformed,
    /// Longer than the size limit.
    TooLarge,
    /// `alg` is `none`, unknown, or not allowed for the provider.
    Algorithm,
    /// A `crit` header lists an extension this library does not understand.
    CriticalHeader,
    /// The `typ` header is not the required one.
    Type,
    /// The token is an OpenID Connect ID token, not an access token (see
    /// [`ProviderBuilder::accept_id_tokens`](crate::ProviderBuilder::accept_id_tokens)).
    IdToken,
    /// The `iss` claim is missing or no configured provider has it.
    Issuer,
    /// No key for the token's `kid` (after a refetch, or during its cooldown).
    UnknownKey,
    /// The key named by `kid` does not fit `alg`, or no `kid` and no single fitting key.
    KeyMismatch,
    /// The signature does not verify.
    Signature,
    /// `exp` is in the past beyond the leeway.
    Expired,
    /// `nbf` is in the future beyond the leeway.
    NotYetValid,
    /// `iat` is in the future beyond the leeway.
    IssuedInFuture,
    /// `aud` holds none of the accepted audiences.
    Audience,
    /// A required claim is missing.
    MissingClaim,
    /// A claim has the wrong type.
    InvalidClaim,
    /// The provider's keys have not been loaded yet.
    KeysUnavailable,
    /// The provider's introspection endpoint says the opaque token is not active
    /// (revoked, expired, unknown).
    Inactive,
    /// A DPoP proof (RFC 9449) is missing, malformed, or does not fit the request or
    /// the token (answered as `invalid_dpop_proof`).
    DpopProof,
    /// The provider's introspection endpoint did not answer (unreachable, too slow, an
    /// error status): the token could not be checked.
    IntrospectionUnavailable,
}

/// A token that failed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    kind: ErrorKind,
    message: Cow<'static, str>,
    retry_after: Option<Duration>,
}

impl ValidationError {
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// What kind of check failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// What was wrong, for humans; never contains the token.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For [`ErrorKind::KeysUnavailable`] and [`ErrorKind::IntrospectionUnavailable`]:
    /// when to try again.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValidationError {}
