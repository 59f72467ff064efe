//! Authorization server discovery: reads `jwks_uri` (and, for browser login, the other
//! endpoints) from the issuer's metadata, by OAuth 2.0 Authorization Server Metadata
//! (RFC 8414) or OpenID Connect Discovery, whichever the issuer serves.
//!
//! The URLs are tried in the order MCP clients use ([`metadata_urls`]): for an issuer
//! with a path, `/.well-known/oauth-authorization-server{path}`, then
//! `/.well-known/openid-configuration{path}`, then
//! `{issuer}/.well-known/openid-configuration`; for one without,
//! `/.well-known/oauth-authorization-server`, then `/.well-known/openid-configuration`.
//! The next is tried only when one answers with a 4xx status. The discovered `issuer`
//! must equal the configured one exactly (RFC 8414 §3.3, OpenID Connect Discovery §4.3),
//! and every endpoint must be `https://` unless it is on a loopback host. The key cache
//! calls this; applications rarely need it directly.
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
    /// Authorization responses carry the issuer as `iss` (RFC 9207), which clients must
    /// then check is there.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
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

/// Finds and checks the issuer's metadata (5 s timeout per request), trying the URLs
/// of [`metadata_urls`] in turn.
pub async fn discover(
    client: &reqwest::Client,
    issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    fetch_first(client, issuer, DISCOVERY_TIMEOUT).await
}

/// `{issuer}/.well-known/openid-configuration` (OpenID Connect Discovery §4).
pub(crate) fn metadata_url(issuer: &str) -> Result<Url, url::ParseError> {
    let base = issuer.trim_end_matches('/');
    Url::parse(&format!("{base}/.well-known/openid-configuration"))
}

/// Where the metadata of `issuer` may be, in the order they are tried: RFC 8414 §3.1
/// (the well-known path inserted before the issuer's path), then OpenID Connect
/// Discovery with the same insertion, then OpenID Connect Discovery §4 (appended).
///
/// ```
/// let urls = oauth2::discovery::metadata_urls("https://login.example.com/tenant1").unwrap();
/// let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
/// assert_eq!(urls, [
///     "https://login.example.com/.well-known/oauth-authorization-server/tenant1",
///     "https://login.example.com/.well-known/openid-configuration/tenant1",
///     "https://login.example.com/tenant1/.well-known/openid-configuration",
/// ]);
/// ```
pub fn metadata_urls(issuer: &str) -> Result<Vec<Url>, url::ParseError> {
    let parsed = Url::parse(issuer)?;
    let origin = parsed.origin().ascii_serialization();
    let path = parsed.path().trim_end_matches('/');
    let mut urls = vec![Url::parse(&format!(
        "{origin}/.well-known/oauth-authorization-server{path}"
    ))?];
    if path.is_empty() {
        urls.push(metadata_url(issuer)?);
    } else {
        urls.push(Url::parse(&format!(
            "{origin}/.well-known/openid-configuration{path}"
        ))?);
        urls.push(metadata_url(issuer)?);
    }
    Ok(urls)
}

/// The metadata of `issuer` from the first of [`metadata_urls`] that has it: a 4xx
/// answer moves on to the next; any other failure (no answer, a 5xx, a document that
/// does not parse or names another issuer) ends the search with that error.
pub(crate) async fn fetch_first(
    client: &reqwest::Client,
    issuer: &str,
    timeout: Duration,
) -> Result<ProviderMetadata, DiscoveryError> {
    let urls = metadata_urls(issuer).map_err(|e| DiscoveryError::Invalid {
        url: issuer.to_owned(),
        reason: e.to_string(),
    })?;
    let mut status = 404;
    for url in &urls {
        match fetch(client, url, issuer, timeout).await {
            Err(DiscoveryError::Status { status: miss, .. }) if (400..500).contains(&miss) => {
                status = miss;
            }
            done => return done,
        }
    }
    let tried: Vec<&str> = urls.iter().map(Url::as_str).collect();
    Err(DiscoveryError::Status {
        url: tried.join(", "),
        status,
    })
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
