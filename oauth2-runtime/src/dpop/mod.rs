//! DPoP-bound access tokens (RFC 9449) on the API side.
//!
//! A provider set to [`Dpop::Allowed`](crate::config::Dpop) or
//! [`Dpop::Required`](crate::config::Dpop) accepts `Authorization: DPoP <token>` with a
//! `DPoP` header: a proof JWT signed by the client's key. The token (a JWT, or an
//! introspected one) must be bound to that key (`cnf.jkt`, its RFC 7638 thumbprint), and
//! the proof must be for this request: `htm` the method, `htu` the URL (normalised, no
//! query; behind a proxy, from [`dpop_base_url`](crate::AuthenticatorBuilder::dpop_base_url)),
//! `ath` the token's hash, `iat` within [`dpop_proof_max_age`](crate::AuthenticatorBuilder::dpop_proof_max_age)
//! of now, and a `jti` not seen before. A stolen token is then useless without the key,
//! and a stolen proof is good for one request to one URL.
//!
//! With [`dpop_nonce_secret`](crate::AuthenticatorBuilder::dpop_nonce_secret), proofs
//! must also carry a nonce the server handed out (RFC 9449 §9): a proof without a current
//! one is answered 401 `use_dpop_nonce` with the nonce in `DPoP-Nonce`, and the client
//! signs its proof again with it. A nonce is an HMAC of the current minute (or
//! [`dpop_nonce_period`](crate::AuthenticatorBuilder::dpop_nonce_period)) under the
//! secret, so every instance that has the secret accepts every other's, and it stays
//! good for one to two minutes. A proof made in advance, or with a wrong clock, then
//! cannot be used. A proof with the previous minute's nonce passes, and the response
//! hands out the current one in `DPoP-Nonce` (RFC 9449 §8.2).
//!
//! Where DPoP lives: this module is the API side's home (the app-wide settings and their
//! checks in `options`, replay in `replay`, server nonces in `nonces`, the confirmation
//! of a request here); a provider's mode is [`config::Dpop`](crate::config::Dpop); the
//! proof check itself, which knows no HTTP request, is in `validation`; the login's own
//! key, a client's, is in `login`.
//!
//! The `jti`s seen are kept in memory (per process, bounded) unless
//! [`dpop_replay_store`](crate::AuthenticatorBuilder::dpop_replay_store) names a store
//! that every instance shares: each session store (Redis, PostgreSQL, memory) is one.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{Authenticator, Provider, config::Dpop};
//!
//! let auth = Authenticator::builder()
//!     .provider(
//!         Provider::builder("corp")
//!             .issuer("https://login.corp.example")
//!             .audience("api")
//!             .dpop(Dpop::Required),
//!     )
//!     .dpop_base_url("https://api.corp.example")
//!     .build()
//!     .unwrap();
//! let app: axum::Router = axum::Router::new().layer(auth.layer());
//! # }
//! ```

mod nonces;
mod options;
mod replay;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::OriginalUri;
use axum::http::request::Parts;

pub use self::nonces::DEFAULT_NONCE_PERIOD;
pub(crate) use self::nonces::{NonceAge, NonceSlot, Nonces};
pub(crate) use self::options::Options;
pub use self::replay::{
    BoxFuture, DEFAULT_REPLAY_CACHE_SIZE, MemoryReplayCache, ReplayCache, ReplayError,
};
use crate::Algorithm;
use crate::claims::Authenticated;
use crate::config::Dpop;
use crate::error::AuthError;
use crate::http::Presented;
use crate::util::{now, store_key};
use crate::validation::{ErrorKind, ProofRequest, ValidationError, check_proof, normalize_htu};

/// `response` with `nonce` in `DPoP-Nonce` (RFC 9449 §8.2: the client uses it in its
/// next proof).
pub(crate) fn with_nonce<B>(
    mut response: axum::http::Response<B>,
    nonce: Option<&str>,
) -> axum::http::Response<B> {
    if let Some(value) = nonce.and_then(|n| axum::http::HeaderValue::from_str(n).ok()) {
        response.headers_mut().insert("dpop-nonce", value);
    }
    response
}

/// The DPoP rules of one authenticator.
pub(crate) struct Settings {
    /// The API's public URL (scheme, host, port, path prefix), without a trailing `/`.
    pub(crate) base_url: Option<String>,
    pub(crate) replay: Arc<dyn ReplayCache>,
    pub(crate) max_age: Duration,
    pub(crate) algorithms: Vec<Algorithm>,
    /// The `algs` of the challenge.
    pub(crate) algs: Arc<str>,
    /// Server nonces, when proofs must carry one.
    pub(crate) nonces: Option<Nonces>,
    /// Some provider accepts DPoP: `Authorization: DPoP` is read.
    pub(crate) accepted: bool,
    /// Some provider requires DPoP: every valid token's binding is checked.
    pub(crate) required: bool,
    /// Every provider requires DPoP: every challenge is a `DPoP` one.
    pub(crate) only: bool,
}

impl Settings {
    /// Rules with these proof algorithms.
    pub(crate) fn new(
        base_url: Option<String>,
        replay: Arc<dyn ReplayCache>,
        max_age: Duration,
        algorithms: Vec<Algorithm>,
        nonces: Option<Nonces>,
    ) -> Self {
        let algs = algorithms
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            base_url: base_url.map(|u| u.trim_end_matches('/').to_owned()),
            replay,
            max_age,
            algorithms,
            algs: algs.into(),
            nonces,
            accepted: false,
            required: false,
            only: false,
        }
    }

    /// `e` with the `DPoP` challenge.
    pub(crate) fn challenge(&self, e: AuthError) -> AuthError {
        e.with_dpop_challenge(&self.algs)
    }

    /// Whether proofs must carry server nonces.
    pub(crate) fn has_nonces(&self) -> bool {
        self.nonces.is_some()
    }

    /// Checks that `auth` (the validated token of `presented`, of a provider in `mode`)
    /// was presented as its binding requires, and for a DPoP-bound token the request's
    /// proof, `jti` included. `Some(nonce)`: the proof's nonce was the previous
    /// period's, and the response should hand the client this current one.
    pub(crate) async fn confirm(
        &self,
        parts: &Parts,
        presented: &Presented<'_>,
        auth: &Authenticated,
        mode: Dpop,
    ) -> Result<Option<String>, AuthError> {
        let invalid_token = |message: String| -> AuthError {
            self.challenge(ValidationError::new(ErrorKind::InvalidClaim, message).into())
        };
        let bound = auth.dpop_jkt();
        if !presented.dpop {
            if bound.is_some() && mode == Dpop::Disabled {
                // No DPoP challenge: this provider's tokens cannot be sent with DPoP here.
                return Err(ValidationError::new(
                    ErrorKind::InvalidClaim,
                    "the token is DPoP-bound, and DPoP is not accepted for its provider",
                )
                .into());
            }
            if bound.is_some() {
                return Err(invalid_token(
                    "the token is DPoP-bound: send it as `Authorization: DPoP <token>` with a \
                     DPoP proof"
                        .into(),
                ));
            }
            if mode == Dpop::Required {
                return Err(invalid_token(format!(
                    "provider `{}` accepts only DPoP-bound tokens, sent with a DPoP proof",
                    auth.provider()
                )));
            }
            return Ok(None);
        }
        if mode == Dpop::Disabled {
            return Err(invalid_token(format!(
                "provider `{}` does not accept DPoP: send its tokens as Bearer",
                auth.provider()
            )));
        }
        let Some(jkt) = bound else {
            return Err(invalid_token(
                "the token is not DPoP-bound (it has no `cnf.jkt`): send it as Bearer".into(),
            ));
        };
        let invalid_proof =
            |message: &'static str| self.challenge(AuthError::invalid_dpop_proof(message));
        let mut proofs = parts.headers.get_all("dpop").iter();
        let proof = match (proofs.next(), proofs.next()) {
            (None, _) => return Err(invalid_proof("no DPoP proof: send the `DPoP` header")),
            (Some(_), Some(_)) => return Err(invalid_proof("several DPoP headers")),
            (Some(proof), None) => proof
                .to_str()
                .map_err(|_| invalid_proof("the DPoP header is not visible ASCII"))?,
        };
        let urls = self.urls(parts);
        let request = ProofRequest {
            method: parts.method.as_str(),
            urls: &urls,
            access_token: &presented.token,
            algorithms: &self.algorithms,
            max_age: self.max_age,
            now: now(),
        };
        let proof = check_proof(proof, &request).map_err(|e| self.challenge(e.into()))?;
        let mut fresh = None;
        if let Some(nonces) = &self.nonces {
            let age = proof
                .nonce
                .as_deref()
                .map_or(NonceAge::Refused, |n| nonces.age(n, request.now));
            let why = match (age, &proof.nonce) {
                (NonceAge::Current, _) => None,
                (NonceAge::Previous, _) => {
                    fresh = Some(nonces.current(request.now));
                    None
                }
                (NonceAge::Refused, None) => {
                    Some("the DPoP proof must carry the nonce given in DPoP-Nonce")
                }
                (NonceAge::Refused, Some(_)) => {
                    Some("the DPoP proof's nonce is not current: use the one in DPoP-Nonce")
                }
            };
            if let Some(why) = why {
                let e = AuthError::use_dpop_nonce(why, nonces.current(request.now));
                return Err(self.challenge(e));
            }
        }
        if proof.jkt != jkt {
            return Err(invalid_proof(
                "the proof's key is not the key the token is bound to (`cnf.jkt`)",
            ));
        }
        // Accepted while `iat` is within the window on either side of now: remembered
        // for the whole of it.
        let key = format!("dpop-jti:{}", store_key(&format!("{jkt}\n{}", proof.jti)));
        match self.replay.first_use(&key, self.max_age * 2).await {
            Ok(true) => Ok(fresh),
            Ok(false) => Err(invalid_proof("the DPoP proof was used before (its `jti`)")),
            Err(e) => {
                tracing::warn!(error = %e, "a DPoP proof could not be checked for replay");
                Err(AuthError::unavailable(
                    "the DPoP proof cannot be checked now: the replay store did not answer",
                ))
            }
        }
    }

    /// The URLs the request may have been sent to, normalised: the public base URL and
    /// the path when configured; else the `Host` and the path, with the request's
    /// scheme when it is known (HTTP/2, absolute form) or either.
    fn urls(&self, parts: &Parts) -> Vec<String> {
        let path = parts
            .extensions
            .get::<OriginalUri>()
            .map_or(parts.uri.path(), |original| original.path());
        if let Some(base) = &self.base_url {
            return normalize_htu(&format!("{base}{path}"))
                .into_iter()
                .collect();
        }
        let host = parts.uri.authority().map(|a| a.as_str()).or_else(|| {
            parts
                .headers
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
        });
        let Some(host) = host else {
            return Vec::new();
        };
        let schemes: &[&str] = match parts.uri.scheme_str() {
            Some(scheme) => &[scheme][..],
            None => &["https", "http"],
        };
        schemes
            .iter()
            .filter_map(|scheme| normalize_htu(&format!("{scheme}://{host}{path}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    #[tokio::test]
    async fn the_memory_cache_accepts_a_jti_once_and_stays_bounded() {
        let cache = MemoryReplayCache::new(2);
        let ttl = Duration::from_secs(60);
        assert!(cache.first_use("a", ttl).await.unwrap());
        assert!(!cache.first_use("a", ttl).await.unwrap());
        assert!(cache.first_use("b", ttl).await.unwrap());
        // Full of live entries: refuse rather than forget one.
        assert!(cache.first_use("c", ttl).await.is_err());
        // Expired entries make room (dropped at most once a second).
        let cache = MemoryReplayCache::new(1);
        assert!(cache.first_use("a", Duration::ZERO).await.unwrap());
        assert!(cache.first_use("b", ttl).await.unwrap());
        assert!(cache.first_use("a", ttl).await.is_err());
    }

    #[test]
    fn a_nonce_is_good_in_its_period_and_the_next_under_the_same_secret() {
        use NonceAge::{Current, Previous, Refused};
        let minute = DEFAULT_NONCE_PERIOD;
        let nonces = Nonces::new(&[7; 32], minute);
        let now = 1_800_000_000;
        let nonce = nonces.current(now);
        assert_eq!(nonces.age(&nonce, now), Current);
        assert_eq!(nonces.age(&nonce, now + 59), Current);
        assert_eq!(nonces.age(&nonce, now + 60), Previous);
        assert_eq!(nonces.age(&nonce, now + 2 * 60), Refused);
        assert_eq!(nonces.age(&nonce, now - 60), Refused);
        // Another instance with the secret agrees; one without it does not.
        assert_eq!(Nonces::new(&[7; 32], minute).age(&nonce, now), Current);
        assert_eq!(Nonces::new(&[8; 32], minute).age(&nonce, now), Refused);
        // A nonce made up for a period, or cut short, is refused.
        let bytes = URL_SAFE_NO_PAD.decode(&nonce).unwrap();
        let short = URL_SAFE_NO_PAD.encode(&bytes[..9]);
        assert_eq!(nonces.age(&short, now), Refused);
        let mut forged = bytes.clone();
        forged[8] ^= 1;
        assert_eq!(nonces.age(&URL_SAFE_NO_PAD.encode(forged), now), Refused);
        assert_eq!(nonces.age("not base64!", now), Refused);
        // Another period length.
        let short_lived = Nonces::new(&[7; 32], Duration::from_secs(5));
        let nonce = short_lived.current(now);
        assert_eq!(short_lived.age(&nonce, now + 5), Previous);
        assert_eq!(short_lived.age(&nonce, now + 10), Refused);
    }

    #[test]
    fn the_request_url_comes_from_the_base_url_or_the_host() {
        let parts = |uri: &str, host: &str| {
            axum::http::Request::builder()
                .uri(uri)
                .header("host", host)
                .body(())
                .unwrap()
                .into_parts()
                .0
        };
        let settings = |base: Option<&str>| {
            Settings::new(
                base.map(str::to_owned),
                Arc::new(MemoryReplayCache::default()),
                Duration::from_secs(60),
                vec![Algorithm::ES256],
                None,
            )
        };
        let p = parts("/orders?page=2", "API.example:8443");
        assert_eq!(
            settings(None).urls(&p),
            [
                "https://api.example:8443/orders",
                "http://api.example:8443/orders"
            ]
        );
        assert_eq!(
            settings(Some("https://public.example/api/")).urls(&p),
            ["https://public.example/api/orders"]
        );
        assert_eq!(settings(None).algs.as_ref(), "ES256");
    }
}
