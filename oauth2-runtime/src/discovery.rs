//! OpenID Connect discovery: reads `jwks_uri` (and, for browser login, the other
//! endpoints) from the issuer's metadata.
//!
//! The discovered `issuer` must equal the configured one exactly (OpenID Connect
//! Discovery §4.3), and every endpoint must be `https://` unless it is on a loopback host.
//! The key cache calls this; applications rarely need it directly.
//!
//! ```no_run
//! # async fn run() -> Result<(), oauth2::discovery::DiscoveryError> {
//! let client = reqwest::Client::new();
//! let meta = oauth2::discovery::discover(&client, "https://accounts.google.com").await?;
//! println!("keys at {}", meta.jwks_uri);
//! # Ok(()) }
//! ```

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::util::url::{UrlUse, check_url};

/// The part of the OpenID Provider metadata this crate uses.
#[derive(Debug, Clone, Deserialize)]
#[non_exhaustive]
pub struct ProviderMetadata {
    /// The issuer identifier; equal to the configured issuer.
    pub issuer: String,
    /// Where the provider publishes its JWK set.
    pub jwks_uri: String,
    /// Where browsers are sent to log in (authorization code flow).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// Where codes and refresh tokens are exchanged for tokens.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// Where the user's claims can be read with an access token.
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
    /// Where devices start a login (RFC 8628 device authorization).
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
    /// Where browsers are sent to log out at the provider (RP-Initiated Logout).
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
    /// Where tokens are revoked (RFC 7009).
    #[serde(default)]
    pub revocation_endpoint: Option<String>,
    /// Where clients push authorization requests (RFC 9126).
    #[serde(default)]
    pub pushed_authorization_request_endpoint: Option<String>,
    /// The provider accepts authorization requests only through that endpoint.
    #[serde(default)]
    pub require_pushed_authorization_requests: bool,
    /// The JWS algorithms the provider accepts in DPoP proofs (RFC 9449 §5.1).
    #[serde(default)]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Where resource servers ask whether a token is active (RFC 7662).
    #[serde(default)]
    pub introspection_endpoint: Option<String>,
    /// How clients may authenticate at the introspection endpoint (RFC 8414 §2).
    #[serde(default)]
    pub introspection_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// How clients may authenticate at the token endpoint; absent means
    /// `client_secret_basic` (OpenID Connect Discovery §3).
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// Why discovery failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The request failed or timed out.
    #[error("discovery request to {url} failed: {source}")]
    Http {
        /// The metadata URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The provider answered with an error status.
    #[error("discovery at {url} answered HTTP {status}")]
    Status {
        /// The metadata URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The document is not the expected JSON.
    #[error("discovery document at {url} is invalid: {reason}")]
    Invalid {
        /// The metadata URL.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The document names another issuer.
    #[error("discovery document names issuer `{found}`, but `{expected}` is configured")]
    IssuerMismatch {
        /// The configured issuer.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
}

/// Timeout of [`discover`].
const DISCOVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches `{issuer}/.well-known/openid-configuration` and checks it (5 s timeout).
pub async fn discover(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    let url = metadata_url(issuer).map_err(|e| DiscoveryError::Invalid {
        url: issuer.to_owned(),
        reason: e.to_string(),
    })?;
    fetch(client, &url, issuer, DISCOVERY_TIMEOUT).await
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub(crate) fn metadata_url(issuer: &str) -> Result<Url, url::ParseError> {
    let base = issuer.trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/openid-configuration"))
}

pub(crate) async fn fetch(
    client: &reqwest::Client,
    url: &Url,
    issuer: &str,
    timeout: Duration,
) -> Result<ProviderMetadata, DiscoveryError> {
    let http = |source| DiscoveryError::Http {
        url: url.to_string(),
        source,
    };
    let response = client
        .get(url.clone())
        .timeout(timeout)
        .send()
        .await
        .map_err(http)?;
    if !response.status().is_success() {
        return Err(DiscoveryError::Status {
            url: url.to_string(),
            status: response.status().as_u16(),
        });
    }
    let body = response.bytes().await.map_err(http)?;
    parse(url, issuer, &body)
}

/// Checks a discovery document fetched from `url` for `issuer`: valid JSON with the
/// required members, the same issuer (§4.3), and every endpoint an allowed URL.
pub(crate) fn parse(
    url: &Url,
    issuer: &str,
    body: &[u8],
) -> Result<ProviderMetadata, DiscoveryError> {
    let meta: ProviderMetadata =
        serde_json::from_slice(body).map_err(|e| DiscoveryError::Invalid {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    if meta.issuer != issuer {
        return Err(DiscoveryError::IssuerMismatch {
            expected: issuer.to_owned(),
            found: meta.issuer,
        });
    }
    let endpoints = [
        ("jwks_uri", Some(&meta.jwks_uri)),
        (
            "authorization_endpoint",
            meta.authorization_endpoint.as_ref(),
        ),
        ("token_endpoint", meta.token_endpoint.as_ref()),
        ("userinfo_endpoint", meta.userinfo_endpoint.as_ref()),
        ("end_session_endpoint", meta.end_session_endpoint.as_ref()),
        (
            "device_authorization_endpoint",
            meta.device_authorization_endpoint.as_ref(),
        ),
        ("revocation_endpoint", meta.revocation_endpoint.as_ref()),
        (
            "introspection_endpoint",
            meta.introspection_endpoint.as_ref(),
        ),
    ];
    for (name, value) in endpoints {
        if let Some(value) = value {
            check_url(value, UrlUse::Endpoint).map_err(|reason| DiscoveryError::Invalid {
                url: url.to_string(),
                reason: format!("{name} {reason}"),
            })?;
        }
    }
    Ok(meta)
}
