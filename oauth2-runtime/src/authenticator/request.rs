//! Authenticating one request, in one sequence that the layer, the extractors and the
//! gRPC adapter share: find the token → validate it (with the keys held, then after a
//! wait if it needs one) → confirm its binding (DPoP) → record the decision. The layer
//! runs the first part without a future ([`Authenticator::begin`]) and only boxes the
//! rest when a wait is needed ([`Authenticator::finish`]); a check added here holds
//! for every adapter.

use axum::http::request::Parts;

use super::Authenticator;
use crate::claims::Authenticated;
use crate::config::Dpop;
use crate::dpop::NonceSlot;
use crate::error::{AuthError, AuthErrorKind};
use crate::http::{Presented, Sources, decision, find_token};
use crate::validation::{NotYet, Pending};

/// What the first, synchronous part of authenticating a request decided.
pub(crate) enum Begun {
    /// Valid, with nothing left to check (the decision is recorded).
    Accepted(Authenticated),
    /// Refused (the decision is recorded).
    Refused(AuthError),
    /// Valid or not only after a wait: [`Authenticator::finish`] decides.
    Waiting(Waiting),
}

/// A request's authentication that waits: for a key refetch or an introspection, or
/// for the DPoP checks of a valid token (whose replay check may ask a store).
pub(crate) struct Waiting {
    presented: Presented<'static>,
    step: Step,
    started: Option<std::time::Instant>,
}

enum Step {
    Validate(Pending),
    Confirm(Authenticated),
}

impl Authenticator {
    /// Finds and validates the request's token, and checks its binding (DPoP).
    pub async fn authenticate(&self, parts: &Parts) -> Result<Authenticated, AuthError> {
        match self.begin(parts) {
            Begun::Accepted(auth) => Ok(auth),
            Begun::Refused(e) => Err(e),
            Begun::Waiting(waiting) => {
                let (auth, fresh) = self.finish(parts, waiting).await?;
                // Sent with the response by the layer (see `AuthService`).
                if let (Some(fresh), Some(slot)) = (fresh, parts.extensions.get::<NonceSlot>()) {
                    slot.leave(fresh);
                }
                Ok(auth)
            }
        }
    }

    /// The part of [`authenticate`](Self::authenticate) that needs no wait: the token,
    /// its validation with the keys held, and whether its binding needs checking.
    pub(crate) fn begin(&self, parts: &Parts) -> Begun {
        let started = decision::clock();
        let route = parts.uri.path();
        let presented = match self.token(parts) {
            Ok(presented) => presented,
            Err(e) => {
                decision::refused(route, None, self.sole_provider(), &e, started);
                return Begun::Refused(e);
            }
        };
        let token = &presented.token;
        let step = match self.inner.validator.validate_with_held_keys(token) {
            Ok(auth) if !self.needs_confirmation(&presented, &auth) => {
                decision::accepted(route, Some(token), &auth, started);
                return Begun::Accepted(auth);
            }
            Ok(auth) => Step::Confirm(auth),
            Err(NotYet::Invalid(e)) => {
                let e = self.refuse_token(&presented, e.into());
                decision::refused(route, Some(token), self.sole_provider(), &e, started);
                return Begun::Refused(e);
            }
            Err(NotYet::Pending(pending)) => Step::Validate(pending),
        };
        Begun::Waiting(Waiting {
            presented: presented.into_owned(),
            step,
            started,
        })
    }

    /// The rest of [`authenticate`](Self::authenticate) after [`begin`](Self::begin)
    /// found a wait: the validation's wait, then the binding, then the decision. With
    /// the token, a fresh DPoP server nonce to send with the response, if any.
    pub(crate) async fn finish(
        &self,
        parts: &Parts,
        waiting: Waiting,
    ) -> Result<(Authenticated, Option<String>), AuthError> {
        let Waiting {
            presented,
            step,
            started,
        } = waiting;
        let token = &presented.token;
        let valid = match step {
            Step::Confirm(valid) => Ok(valid),
            Step::Validate(pending) => self
                .inner
                .validator
                .finish(token, pending)
                .await
                .map_err(|e| self.refuse_token(&presented, e.into())),
        };
        let checked = match valid {
            Ok(valid) => self
                .confirm(parts, &presented, &valid)
                .await
                .map(|fresh| (valid, fresh)),
            Err(e) => Err(e),
        };
        let route = parts.uri.path();
        match &checked {
            Ok((valid, _)) => decision::accepted(route, Some(token), valid, started),
            Err(e) => decision::refused(route, Some(token), self.sole_provider(), e, started),
        }
        checked
    }

    /// A slot for the server nonce a handler's extractors may leave for the response,
    /// when `parts` is a DPoP request and proofs need server nonces.
    pub(crate) fn nonce_slot(&self, parts: &Parts) -> Option<NonceSlot> {
        (self.inner.dpop.has_nonces() && parts.headers.contains_key("dpop"))
            .then(NonceSlot::default)
    }

    /// Whether `auth`, validated from `presented`, still needs [`confirm`](Self::confirm):
    /// it was sent with DPoP, is DPoP-bound, or some provider requires DPoP. Cheap: the
    /// layer's fast path asks it for every request.
    pub(crate) fn needs_confirmation(
        &self,
        presented: &Presented<'_>,
        auth: &Authenticated,
    ) -> bool {
        presented.dpop || self.inner.dpop.required || auth.dpop_jkt().is_some()
    }

    /// Checks that a validated token was presented as its binding requires: a
    /// DPoP-bound token with `Authorization: DPoP` and a proof of its key for this
    /// request (RFC 9449), any other as `Bearer` unless its provider requires DPoP.
    /// `Some(nonce)`: a server nonce to send with the response (`DPoP-Nonce`).
    pub(crate) async fn confirm(
        &self,
        parts: &Parts,
        presented: &Presented<'_>,
        auth: &Authenticated,
    ) -> Result<Option<String>, AuthError> {
        if !self.needs_confirmation(presented, auth) {
            return Ok(None);
        }
        let mode = self
            .inner
            .validator
            .providers()
            .find(|p| p.name() == auth.provider())
            .map_or(Dpop::Disabled, |p| p.dpop());
        self.inner
            .dpop
            .confirm(parts, presented, auth, mode)
            .await
            .map_err(|e| self.reject(e))
    }

    /// `e`, the refusal of the token `presented`, with this authenticator's realm and
    /// error handler, and with the `DPoP` challenge when the request used DPoP or every
    /// provider requires it: the client then learns which scheme, and which proof
    /// algorithms, to use.
    pub(crate) fn refuse_token(&self, presented: &Presented<'_>, e: AuthError) -> AuthError {
        if presented.dpop || self.inner.dpop.only {
            self.reject(self.inner.dpop.challenge(e))
        } else {
            self.reject(e)
        }
    }

    /// `e` with this authenticator's `DPoP` challenge (a route that needs DPoP-bound
    /// tokens refused one) and its realm and error handler.
    pub(crate) fn dpop_challenge(&self, e: AuthError) -> AuthError {
        self.reject(self.inner.dpop.challenge(e))
    }

    /// Gives an error this authenticator's realm and error handler.
    pub(crate) fn reject(&self, error: AuthError) -> AuthError {
        error
            .with_context(
                &self.inner.realm,
                self.inner.handler.as_ref(),
                self.inner.challenge_missing,
            )
            .with_resource_metadata(self.inner.resource.as_ref().map(|r| &r.metadata_url))
    }

    /// The token of a request, from the first source that has one.
    pub(crate) fn token<'a>(&self, parts: &'a Parts) -> Result<Presented<'a>, AuthError> {
        let sources = Sources {
            cookie: self.inner.cookie.as_deref(),
            websocket_query: self.inner.websocket_query,
            dpop: self.inner.dpop.accepted,
            header_only: self.inner.mcp.is_some(),
        };
        find_token(parts, sources).map_err(|e| {
            let e = match e.kind() {
                AuthErrorKind::MissingToken if self.inner.dpop.only => self.inner.dpop.challenge(e),
                _ => e,
            };
            self.reject(e)
        })
    }
}
