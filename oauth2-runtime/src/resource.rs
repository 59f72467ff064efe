//! Protected Resource Metadata (RFC 9728): the document that tells any OAuth client
//! which authorization servers issue tokens for this API, which scopes it knows, and how
//! to send a token, served at `/.well-known/oauth-protected-resource{path}`.
//!
//! Give the authenticator the API's canonical URL with
//! [`AuthenticatorBuilder::resource`](crate::AuthenticatorBuilder::resource) (`resource:`
//! in `providers!`). Then:
//! - [`Authenticator::router`](crate::Authenticator::router) serves the document: public
//!   even under [`require_everywhere`](crate::Authenticator::layer), readable from any
//!   origin (browser clients fetch it), cached for an hour;
//! - every 401 and 403 names it: `WWW-Authenticate: Bearer ...,
//!   resource_metadata="https://api.example.com/.well-known/oauth-protected-resource/mcp"`
//!   (RFC 9728 §5.1), so a client that knows nothing but the API's URL finds where to
//!   get a token;
//! - the configuration is checked at build: some provider must accept the resource as
//!   an audience (a token issued for it would be refused otherwise).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth2::{Authenticator, Provider};
//!
//! let resource = "https://mcp.example.com/mcp";
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience(resource))
//!     .resource(resource)
//!     .scopes_supported(["mcp:tools"])
//!     .build()?;
//! let meta = auth.resource_metadata().unwrap();
//! assert_eq!(meta.resource, resource);
//! assert_eq!(meta.authorization_servers, ["https://login.corp.example"]);
//! assert_eq!(
//!     oauth2::resource::metadata_url(resource)?,
//!     "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"
//! );
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|| async { "called" }))
//!     .layer(auth.layer())
//!     .merge(auth.router());
//! # Ok(()) }
//! ```

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::config::{ConfigError, Provider, TENANT_PLACEHOLDER};
use crate::util::url::{UrlUse, check_url};

/// The path prefix of protected resource metadata (RFC 9728 §3).
pub const WELL_KNOWN: &str = "/.well-known/oauth-protected-resource";

/// How long clients and caches may keep the document.
const CACHE_CONTROL: &str = "public, max-age=3600";

/// A protected resource's metadata document (RFC 9728 §2): the members this library
/// writes, and reads back in tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// The resource identifier, exactly as configured.
    pub resource: String,
    /// The issuers of the providers that accept the resource as an audience.
    pub authorization_servers: Vec<String>,
    /// The scopes the API's routes and rules use.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes_supported: Vec<String>,
    /// How a token may be sent: `header`, and `query` only when WebSocket upgrades may
    /// carry it there.
    pub bearer_methods_supported: Vec<String>,
    /// The DPoP proof algorithms accepted, when some provider accepts DPoP (RFC 9449).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dpop_signing_alg_values_supported: Vec<String>,
    /// Whether every token must be DPoP-bound.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens_required: bool,
}

/// `/.well-known/oauth-protected-resource{path}`: where the metadata of `resource` is
/// served (RFC 9728 §3.1; the root form for a resource without a path).
///
/// ```
/// use oauth2::resource::well_known_path;
/// assert_eq!(well_known_path("https://api.example.com/mcp").unwrap(), "/.well-known/oauth-protected-resource/mcp");
/// assert_eq!(well_known_path("https://api.example.com").unwrap(), "/.well-known/oauth-protected-resource");
/// ```
pub fn well_known_path(resource: &str) -> Result<String, ConfigError> {
    let url = parse(resource)?;
    Ok(path_of(&url))
}

/// The absolute URL of the metadata of `resource` (RFC 9728 §3.1), as the
/// `resource_metadata` parameter of challenges gives it.
pub fn metadata_url(resource: &str) -> Result<String, ConfigError> {
    let url = parse(resource)?;
    Ok(format!(
        "{}{}",
        url.origin().ascii_serialization(),
        path_of(&url)
    ))
}

fn setting(problem: String) -> ConfigError {
    ConfigError::Setting {
        field: "resource",
        problem,
    }
}

/// A resource identifier: an `https://` URL (`http://` on loopback) without query or
/// fragment.
fn parse(resource: &str) -> Result<Url, ConfigError> {
    check_url(resource, UrlUse::Resource).map_err(setting)
}

fn path_of(url: &Url) -> String {
    match url.path() {
        "/" => WELL_KNOWN.to_owned(),
        path => format!("{WELL_KNOWN}{path}"),
    }
}

/// An authenticator's resource: its identifier, where its metadata is, and the document.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    /// The route of the document.
    pub(crate) path: String,
    /// The resource's own path: the MCP endpoint in the MCP mode.
    endpoint: String,
    /// The absolute URL of the document, for challenges.
    pub(crate) metadata_url: Arc<str>,
    pub(crate) metadata: Arc<ResourceMetadata>,
    /// The document as served.
    document: Bytes,
}

/// What the metadata says besides the resource and its authorization servers.
pub(crate) struct Described<'a> {
    pub(crate) scopes: Vec<String>,
    pub(crate) websocket_query: bool,
    pub(crate) dpop: &'a crate::dpop::Settings,
}

impl Resource {
    /// The resource `url` of an authenticator of `providers`. Fails when `url` is not a
    /// resource identifier, or when no provider accepts it as an audience.
    pub(crate) fn new(
        url: &str,
        providers: &[Provider],
        described: Described<'_>,
    ) -> Result<Self, ConfigError> {
        let parsed = parse(url)?;
        let servers = authorization_servers(url, providers);
        if servers.is_empty() {
            return Err(setting(format!(
                "no provider accepts `{url}` as an audience, so every token issued for the \
                 resource would be refused: add it to a provider's `audience`"
            )));
        }
        let mut scopes = described.scopes;
        scopes.sort();
        scopes.dedup();
        let mut methods = vec!["header".to_owned()];
        if described.websocket_query {
            methods.push("query".to_owned());
        }
        let dpop = described.dpop;
        let metadata = ResourceMetadata {
            resource: url.to_owned(),
            authorization_servers: servers,
            scopes_supported: scopes,
            bearer_methods_supported: methods,
            dpop_signing_alg_values_supported: if dpop.accepted {
                dpop.algorithms.iter().map(|a| format!("{a:?}")).collect()
            } else {
                Vec::new()
            },
            dpop_bound_access_tokens_required: dpop.only,
        };
        let document = serde_json::to_vec(&metadata).map_err(|e| setting(e.to_string()))?;
        Ok(Self {
            path: path_of(&parsed),
            endpoint: parsed.path().to_owned(),
            metadata_url: format!(
                "{}{}",
                parsed.origin().ascii_serialization(),
                path_of(&parsed)
            )
            .into(),
            metadata: Arc::new(metadata),
            document: Bytes::from(document),
        })
    }

    /// The path of the resource itself (`/mcp`; `/` for a resource without one).
    pub(crate) fn endpoint_path(&self) -> &str {
        &self.endpoint
    }

    /// The route of the document: `GET` answers it, `OPTIONS` answers a CORS preflight.
    pub(crate) fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let document = self.document.clone();
        Router::new().route(
            &self.path,
            get(move || {
                let document = document.clone();
                async move { serve(document) }
            })
            .options(|| async { preflight() }),
        )
    }
}

/// The issuers whose tokens may be for `resource`: each provider that accepts it as an
/// audience (or any audience); a multi-tenant provider gives its listed tenants'.
fn authorization_servers(resource: &str, providers: &[Provider]) -> Vec<String> {
    let mut servers = Vec::new();
    for p in providers {
        if p.audience().is_some_and(|aud| !aud.contains(resource)) {
            continue;
        }
        let issuers: Vec<String> = if p.issuer().contains(TENANT_PLACEHOLDER) {
            let tenants = p.tenants().unwrap_or_default();
            tenants
                .iter()
                .map(|t| p.issuer().replacen(TENANT_PLACEHOLDER, t, 1))
                .collect()
        } else {
            vec![p.issuer().to_owned()]
        };
        for issuer in issuers {
            if !servers.contains(&issuer) {
                servers.push(issuer);
            }
        }
    }
    servers
}

fn serve(document: Bytes) -> Response {
    let mut response = (StatusCode::OK, document).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// Any origin may read the document, with any request headers (the MCP clients send
/// `MCP-Protocol-Version`); it carries no credentials.
fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, OPTIONS"),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "*"),
        (header::ACCESS_CONTROL_MAX_AGE, "86400"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authorization_servers_are_the_issuers_that_accept_the_resource() {
        let resource = "https://mcp.example.com/mcp";
        let provider = |name: &str, issuer: &str, audience: &str| {
            Provider::builder(name).issuer(issuer).audience(audience)
        };
        let providers = [
            provider("a", "https://a.example", resource).build(),
            provider("a2", "https://a.example", resource).build(),
            provider("other_api", "https://b.example", "https://other.example").build(),
            provider(
                "entra",
                "https://login.microsoftonline.com/{tenantid}/v2.0",
                resource,
            )
            .tenant("t1")
            .tenant("t2")
            .build(),
        ]
        .map(Result::unwrap);
        assert_eq!(
            authorization_servers(resource, &providers),
            [
                "https://a.example",
                "https://login.microsoftonline.com/t1/v2.0",
                "https://login.microsoftonline.com/t2/v2.0",
            ]
        );
    }

    #[test]
    fn the_well_known_path_is_inserted_before_the_resource_path() {
        for (resource, url) in [
            (
                "https://mcp.example.com/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://mcp.example.com",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://mcp.example.com/",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ),
            (
                "https://mcp.example.com/{id}",
                "https://mcp.example.com/.well-known/oauth-protected-resource/%7Bid%7D",
            ),
            (
                "http://127.0.0.1:3001/api/v1/",
                "http://127.0.0.1:3001/.well-known/oauth-protected-resource/api/v1/",
            ),
        ] {
            assert_eq!(metadata_url(resource).unwrap(), url, "{resource}");
        }
        for bad in [
            "https://mcp.example.com/mcp?x=1",
            "https://mcp.example.com/mcp#f",
            "http://mcp.example.com/mcp",
            "mcp",
        ] {
            let e = metadata_url(bad).unwrap_err().to_string();
            assert!(e.contains("resource"), "{bad}: {e}");
        }
    }
}
