//! One form POST to a provider endpoint as its client: authenticated, with a DPoP proof
//! when asked, and the answer read as RFC 6749 §5 says.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use super::DpopKey;
use super::auth::{Authentication, ClientAuth, Credentials};

/// A provider's error answer (RFC 6749 §5.2).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ProviderError {
    pub(crate) error: String,
    #[serde(default)]
    pub(crate) error_description: Option<String>,
}

impl ProviderError {
    /// `error: description`, printable, for messages.
    pub(crate) fn message(&self) -> String {
        let p = |s: &str| crate::util::printable(s, 200);
        match &self.error_description {
            Some(d) => format!("{}: {}", p(&self.error), p(d)),
            None => p(&self.error),
        }
    }
}

/// What a provider endpoint answered to a form POST: its JSON, or its error.
pub(crate) enum Answer {
    /// A 2xx answer's body.
    Ok(axum::body::Bytes),
    /// An error answer in the RFC 6749 §5.2 form.
    Refused(ProviderError),
}

/// A successful token response (RFC 6749 §5.1; RFC 8693 §2.2.1 adds
/// `issued_token_type`).
#[derive(Debug, Deserialize)]
pub(crate) struct TokenResponse {
    pub(crate) access_token: String,
    pub(crate) token_type: String,
    #[serde(default)]
    pub(crate) expires_in: Option<u64>,
    // The login's; a token client's grants return neither.
    #[serde(default)]
    #[cfg_attr(not(feature = "login"), allow(dead_code))]
    pub(crate) refresh_token: Option<String>,
    #[serde(default)]
    #[cfg_attr(not(feature = "login"), allow(dead_code))]
    pub(crate) id_token: Option<String>,
    #[serde(default)]
    pub(crate) scope: Option<String>,
    #[serde(default)]
    pub(crate) issued_token_type: Option<String>,
}

impl TokenResponse {
    /// The token response in `bytes`.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, String> {
        serde_json::from_slice(bytes).map_err(|e| format!("token response is invalid: {e}"))
    }

    /// Whether its access token is DPoP-bound; `proof_sent`: the request carried a
    /// DPoP proof. Bearer, or after a proof DPoP; any other type is refused.
    pub(crate) fn dpop_bound(&self, proof_sent: bool) -> Result<bool, String> {
        let bound = proof_sent && self.token_type.eq_ignore_ascii_case("dpop");
        if !bound && !self.token_type.eq_ignore_ascii_case("bearer") {
            return Err(format!(
                "token type `{}` is not supported (only Bearer{})",
                crate::util::printable(&self.token_type, 40),
                if proof_sent { " and DPoP" } else { "" }
            ));
        }
        Ok(bound)
    }
}

/// Why a POST got no answer to read.
#[derive(Debug, Clone)]
pub(crate) enum PostError {
    /// The request could not be made: a credential could not be used (an assertion file
    /// that expired, a key that does not sign).
    Credentials(String),
    /// The endpoint could not be reached, or its answer not read.
    Unreachable(String),
    /// An error status without an RFC 6749 error body.
    Status(String),
}

impl PostError {
    /// What went wrong, for logs and error pages.
    pub(crate) fn message(&self) -> &str {
        match self {
            Self::Credentials(m) | Self::Unreachable(m) | Self::Status(m) => m,
        }
    }
}

/// A request to send: where, as whom, how long it may take.
#[derive(Clone, Copy)]
pub(crate) struct Post<'a> {
    pub(crate) http: &'a reqwest::Client,
    pub(crate) credentials: Credentials<'a>,
    pub(crate) method: ClientAuth,
    pub(crate) url: &'a Url,
    pub(crate) timeout: Duration,
}

/// POSTs `form` (a token, device authorization, pushed authorization, introspection or
/// revocation request), authenticated as the client (a fresh assertion for the JWT
/// methods); with `dpop`, with a proof of that key and the provider's last nonce,
/// signed again with a new nonce if the provider asks for one (`use_dpop_nonce`,
/// RFC 9449 §8).
pub(crate) async fn post_form(
    post: Post<'_>,
    form: &[(&str, &str)],
    dpop: Option<&DpopKey>,
) -> Result<Answer, PostError> {
    let mut nonce = dpop.and_then(DpopKey::provider_nonce);
    let mut signed_again = false;
    loop {
        let proof = match dpop {
            Some(key) => Some(
                key.proof("POST", post.url.as_str(), None, nonce.as_deref())
                    .map_err(PostError::Credentials)?,
            ),
            None => None,
        };
        let (answer, handed) = post_once(post, form, proof).await?;
        if let (Some(key), Some(handed)) = (dpop, &handed) {
            key.remember_provider_nonce(handed);
        }
        match (answer, handed) {
            (Answer::Refused(e), Some(asked)) if e.error == "use_dpop_nonce" && !signed_again => {
                nonce = Some(asked);
                signed_again = true;
            }
            (answer, _) => return Ok(answer),
        }
    }
}

/// One POST of [`post_form`]: the answer, and the `DPoP-Nonce` the provider sent
/// (with an error, or with a success when its nonce changed).
async fn post_once(
    post: Post<'_>,
    form: &[(&str, &str)],
    proof: Option<String>,
) -> Result<(Answer, Option<String>), PostError> {
    let url = post.url;
    let mut body: Vec<(&str, &str)> = form.to_vec();
    let mut request = post
        .http
        .post(url.clone())
        .timeout(post.timeout)
        .header(reqwest::header::ACCEPT, "application/json");
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let authentication = post
        .credentials
        .authenticate(post.method, url.as_str())
        .map_err(PostError::Credentials)?;
    let fields;
    match authentication {
        Authentication::Header(value) => {
            request = request.header(reqwest::header::AUTHORIZATION, value);
        }
        Authentication::Form(form_fields) => {
            fields = form_fields;
            body.retain(|(k, _)| *k != "client_id");
            body.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
        }
    }
    let response = crate::util::with_form(request, body)
        .send()
        .await
        .map_err(|e| PostError::Unreachable(format!("{url} is unreachable: {e}")))?;
    let status = response.status();
    let nonce = response
        .headers()
        .get("dpop-nonce")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = response
        .bytes()
        .await
        .map_err(|e| PostError::Unreachable(format!("{url} answered badly: {e}")))?;
    if status.is_success() {
        return Ok((Answer::Ok(bytes), nonce));
    }
    match serde_json::from_slice::<ProviderError>(&bytes) {
        Ok(e) => Ok((Answer::Refused(e), nonce)),
        Err(_) => Err(PostError::Status(format!(
            "{url} answered HTTP {status}{}",
            if matches!(status.as_u16(), 401 | 403) {
                " without an OAuth error (a refused client authentication? check the client \
                 id, its credential and, for signed assertions, `assertion_audience`)"
            } else {
                ""
            }
        ))),
    }
}
