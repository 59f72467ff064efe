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
        let mut headers = HeaderMap::new();
        let (scheme, proof) = match &self.inner.dpop {
            None => ("Bearer", None),
            Some(key) => {
                let proof = key
                    .proof(method.as_str(), url.as_str(), Some(&self.inner.value), None)
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
