//! One login attempt: the secrets it needs between the redirect to the provider and the
//! callback, and the authorization request that carries their public halves.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::util::random_token;

/// The state of one login between the redirect and the callback. It is kept in an
/// encrypted cookie named after its `state`, so parallel logins in several tabs do
/// not overwrite each other, and nothing is kept in process memory.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transaction {
    /// The provider the login goes to.
    pub provider: String,
    /// Binds the callback to this browser (CSRF); 256 random bits.
    pub state: String,
    /// Binds the ID token to this login (replay); 256 random bits.
    pub nonce: String,
    /// The PKCE code verifier (RFC 7636): 43 characters from 256 random bits.
    pub verifier: String,
    /// Where to go after login, if the request asked and it is allowed.
    pub return_to: Option<String>,
    /// A step-up login (RFC 9470): the `acr` values asked for, space-separated; the
    /// ID token's `acr` must be one of them.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// A step-up login: the `max_age` asked for, in seconds; the ID token's
    /// `auth_time` must be within it.
    #[serde(default)]
    pub max_age: Option<u64>,
}

impl std::fmt::Debug for Transaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secrets stay out of logs.
        f.debug_struct("Transaction")
            .field("provider", &self.provider)
            .field("return_to", &self.return_to)
            .field("acr_values", &self.acr_values)
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl Transaction {
    /// A new login to `provider` with fresh `state`, `nonce` and PKCE verifier. Fails
    /// only if the operating system has no randomness to give.
    pub fn new(
        provider: impl Into<String>,
        return_to: Option<String>,
    ) -> Result<Self, getrandom::Error> {
        Ok(Self {
            provider: provider.into(),
            state: random_token()?,
            nonce: random_token()?,
            verifier: random_token()?,
            return_to,
            acr_values: None,
            max_age: None,
        })
    }

    /// The PKCE `code_challenge` for `code_challenge_method=S256`.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.verifier.as_bytes()))
    }
}

/// The parts of an OIDC authorization request (authorization code flow) that do not
/// change between logins.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationRequest<'a> {
    /// The provider's `authorization_endpoint`.
    pub endpoint: &'a str,
    /// The application's client id.
    pub client_id: &'a str,
    /// The callback URL registered with the provider.
    pub redirect_uri: &'a str,
    /// Space-separated scopes, e.g. `openid profile email`.
    pub scope: &'a str,
    /// Further parameters (`prompt`, `audience`, ...). They cannot replace the ones
    /// above or the transaction's: those are set last.
    pub extra: &'a [(&'a str, &'a str)],
}

impl AuthorizationRequest<'_> {
    /// The URL to redirect the browser to for transaction `tx`.
    pub fn url(&self, tx: &Transaction) -> Result<Url, url::ParseError> {
        self.url_for(&tx.state, Some(&tx.nonce), &tx.challenge())
    }

    /// The URL for a login whose `state`, `nonce` and S256 `code_challenge` someone
    /// else keeps (a native client, RFC 8252).
    pub(crate) fn url_for(
        &self,
        state: &str,
        nonce: Option<&str>,
        challenge: &str,
    ) -> Result<Url, url::ParseError> {
        const OWN: &[&str] = &[
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "nonce",
            "code_challenge",
            "code_challenge_method",
        ];
        let mut url = Url::parse(self.endpoint)?;
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in self.extra.iter().filter(|(k, _)| !OWN.contains(k)) {
                query.append_pair(k, v);
            }
            query
                .append_pair("response_type", "code")
                .append_pair("client_id", self.client_id)
                .append_pair("redirect_uri", self.redirect_uri)
                .append_pair("scope", self.scope)
                .append_pair("state", state);
            if let Some(nonce) = nonce {
                query.append_pair("nonce", nonce);
            }
            query
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        Ok(url)
    }
}

impl crate::login::Login {
    /// The transaction cookie of the login with this `state`: its own name, so that
    /// logins in several tabs do not overwrite each other; sent only to the provider's
    /// login and callback routes.
    pub(crate) fn transaction_cookie(
        &self,
        provider: &str,
        state: &str,
    ) -> crate::session::SessionCookie {
        let path = format!("{}/{provider}/", self.inner.site.prefix);
        self.inner
            .sessions
            .cookie
            .renamed(format!("oauth2_tx_{state}"), &path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn pkce_s256_matches_rfc_7636_appendix_b() {
        let tx = Transaction {
            provider: "p".into(),
            state: String::new(),
            nonce: String::new(),
            verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into(),
            return_to: None,
            acr_values: None,
            max_age: None,
        };
        assert_eq!(
            tx.challenge(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn every_transaction_has_fresh_256_bit_secrets() {
        let a = Transaction::new("corp", None).unwrap();
        let b = Transaction::new("corp", None).unwrap();
        for s in [&a.state, &a.nonce, &a.verifier] {
            assert_eq!(s.len(), 43, "256 bits in base64url");
            assert!(
                s.bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
            );
        }
        assert!(a.state != a.nonce && a.nonce != a.verifier);
        assert!(a.state != b.state && a.nonce != b.nonce && a.verifier != b.verifier);
        let shown = format!("{a:?}");
        assert!(
            !shown.contains(&a.state) && !shown.contains(&a.verifier),
            "{shown}"
        );
    }

    #[test]
    fn authorization_url_carries_the_flow_and_extra_parameters_cannot_override_it() {
        let tx = Transaction::new("corp", None).unwrap();
        let url = AuthorizationRequest {
            endpoint: "https://login.corp.example/authorize?tenant=7",
            client_id: "app",
            redirect_uri: "https://app.example/auth/corp/callback",
            scope: "openid email",
            extra: &[
                ("prompt", "consent"),
                ("state", "attacker"),
                ("redirect_uri", "https://evil.example"),
            ],
        }
        .url(&tx)
        .unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let query: HashMap<_, _> = pairs.iter().cloned().collect();
        assert_eq!(pairs.len(), query.len(), "no parameter twice: {pairs:?}");
        assert_eq!(query["tenant"], "7");
        assert_eq!(query["prompt"], "consent");
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "app");
        assert_eq!(
            query["redirect_uri"],
            "https://app.example/auth/corp/callback"
        );
        assert_eq!(query["scope"], "openid email");
        assert_eq!(query["state"], tx.state);
        assert_eq!(query["nonce"], tx.nonce);
        assert_eq!(query["code_challenge"], tx.challenge());
        assert_eq!(query["code_challenge_method"], "S256");
        assert!(
            !url.as_str().contains(&tx.verifier),
            "the verifier never leaves the server"
        );
    }
}
