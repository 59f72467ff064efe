//! [`AccessToken`]: a token the app obtained to call another API, and how a request
//! carries it.

use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, Method, header};
use url::Url;

use super::{DpopKey, TokenError};
use crate::claims::Scopes;

/// An access token for calling an API: from [`TokenClient::token_for`] (the app's own,
/// client credentials) or [`TokenClient::exchange`] (on a caller's behalf). Cheap to
/// clone; `Debug` never shows the token.
///
/// [`authorize`](Self::authorize) puts it on a `reqwest` request: `Authorization:
/// Bearer ...`, or for a DPoP-bound token `Authorization: DPoP ...` and a fresh `DPoP`
/// proof of the request's method and URL (RFC 9449 §7.1).
///
/// [`TokenClient::token_for`]: super::TokenClient::token_for
/// [`TokenClient::exchange`]: super::TokenClient::exchange
#[derive(Clone)]
pub struct AccessToken {
    inner: Arc<Issued>,
}

struct Issued {
    value: String,
    expires_at: Option<u64>,
    scope: Option<String>,
    /// The key the token is bound to (`token_type` `DPoP`).
    dpop: Option<Arc<DpopKey>>,
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("expires_at", &self.inner.expires_at)
            .field("scope", &self.inner.scope)
            .field("dpop_bound", &self.inner.dpop.is_some())
            .finish_non_exhaustive()
    }
}

impl AccessToken {
    pub(crate) fn new(
        value: String,
        expires_at: Option<u64>,
        scope: Option<String>,
        dpop: Option<Arc<DpopKey>>,
    ) -> Self {
        Self {
            inner: Arc::new(Issued {
                value,
                expires_at,
                scope,
                dpop,
            }),
        }
    }

    /// The token itself, for a request made some other way than
    /// [`authorize`](Self::authorize). Never log it.
    pub fn secret(&self) -> &str {
        &self.inner.value
    }

    /// When it expires, in seconds since the Unix epoch, if the provider said.
    pub fn expires_at(&self) -> Option<u64> {
        self.inner.expires_at
    }

    /// The scopes granted, when the provider said (else those asked for were granted,
    /// RFC 6749 §5.1).
    pub fn scopes(&self) -> Option<Scopes> {
        self.inner.scope.as_deref().map(Scopes::parse)
    }

    /// Whether it is DPoP-bound: each request needs a proof, which
    /// [`authorize`](Self::authorize) and [`headers`](Self::headers) add.
    pub fn is_dpop_bound(&self) -> bool {
        self.inner.dpop.is_some()
    }

    /// The `Authorization` header and, for a DPoP-bound token, the `DPoP` proof of a
    /// `method` request to `url`.
    pub fn headers(&self, method: &Method, url: &Url) -> Result<HeaderMap, TokenError> {
        self.headers_with_nonce(method, url, None)
    }

    /// [`headers`](Self::headers) whose DPoP proof carries `nonce`: the API's
    /// `DPoP-Nonce`, from its 401 `use_dpop_nonce` (RFC 9449 §9) or an earlier response.
    /// Without DPoP the nonce has no use, and the headers are the same.
    pub fn headers_with_nonce(
        &self,
        method: &Method,
        url: &Url,
        nonce: Option<&str>,
    ) -> Result<HeaderMap, TokenError> {
        let mut headers = HeaderMap::new();
        let (scheme, proof) = match &self.inner.dpop {
            None => ("Bearer", None),
            Some(key) => {
                let proof = key
                    .proof(
                        method.as_str(),
                        url.as_str(),
                        Some(&self.inner.value),
                        nonce,
                    )
                    .map_err(|e| TokenError::config(format!("no DPoP proof: {e}")))?;
                ("DPoP", Some(proof))
            }
        };
        let value = HeaderValue::try_from(format!("{scheme} {}", self.inner.value))
            .map_err(|_| TokenError::invalid("the access token is not a valid header value"))?;
        headers.insert(header::AUTHORIZATION, value);
        if let Some(proof) = proof {
            let value = HeaderValue::try_from(proof)
                .map_err(|_| TokenError::config("the DPoP proof is not a header value"))?;
            headers.insert("dpop", value);
        }
        Ok(headers)
    }

    /// `request` with this token's headers ([`headers`](Self::headers)) for its method
    /// and URL.
    ///
    /// ```no_run
    /// # async fn call(tokens: oauth2::client::TokenClient) -> Result<(), Box<dyn std::error::Error>> {
    /// use oauth2::client::Target;
    ///
    /// let http = reqwest::Client::new();
    /// let token = tokens.token_for(&Target::resource("https://inventory.example"), &["read"]).await?;
    /// let items = token
    ///     .authorize(http.get("https://inventory.example/items"))?
    ///     .send()
    ///     .await?;
    /// # let _ = items; Ok(()) }
    /// ```
    pub fn authorize(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, TokenError> {
        let (client, request) = request.build_split();
        let mut request =
            request.map_err(|e| TokenError::config(format!("the request is not valid: {e}")))?;
        let headers = self.headers(request.method(), request.url())?;
        request.headers_mut().extend(headers);
        Ok(reqwest::RequestBuilder::from_parts(client, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    /// The P-256 key of the DPoP tests.
    const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwO
B09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXp
tqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER
-----END PRIVATE KEY-----";

    fn proof_claims(headers: &HeaderMap) -> serde_json::Value {
        let proof = headers["dpop"].to_str().unwrap();
        let payload = proof.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn a_bound_token_gets_a_proof_of_each_call_and_a_bearer_one_none() {
        let url = Url::parse("https://api.example/items?page=2").unwrap();
        let bearer = AccessToken::new("t1".into(), None, None, None);
        let h = bearer.headers(&Method::GET, &url).unwrap();
        assert_eq!(h[header::AUTHORIZATION], "Bearer t1");
        assert!(!h.contains_key("dpop"));
        assert!(!format!("{bearer:?}").contains("t1"), "no token in Debug");

        let key = Arc::new(DpopKey::from_pem(PEM).unwrap());
        let bound = AccessToken::new("t2".into(), None, None, Some(key));
        let h = bound.headers(&Method::POST, &url).unwrap();
        assert_eq!(h[header::AUTHORIZATION], "DPoP t2");
        let claims = proof_claims(&h);
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://api.example/items");
        assert_eq!(claims["ath"], crate::util::sha256_base64url("t2"));
        assert!(claims.get("nonce").is_none());
        let again = proof_claims(&bound.headers(&Method::POST, &url).unwrap());
        assert_ne!(again["jti"], claims["jti"], "a fresh proof per call");
        let with_nonce = bound
            .headers_with_nonce(&Method::POST, &url, Some("n-1"))
            .unwrap();
        assert_eq!(proof_claims(&with_nonce)["nonce"], "n-1");
    }
}
