//! The [`Authenticator`]: providers plus the HTTP-side options, shared by the layer
//! and the extractors ([`Authenticator::layer`] and [`Authenticator::extension`] are
//! in [`layer`](crate::layer)).
//!
//! It finds the token in a request (the `Authorization: Bearer` header; an optional
//! cookie; for WebSocket upgrades only, the `access_token` query parameter or the
//! `Sec-WebSocket-Protocol` pair `access_token, <token>`), validates it, and turns
//! failures into [`AuthError`](crate::AuthError)s that use the configured realm and error handler.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{Authenticator, Provider};
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience("api"))
//!     .public_path("/health")
//!     .public_prefix("/docs")
//!     .cookie("access_token")
//!     .realm("corp-api")
//!     .build()
//!     .unwrap();
//! assert!(auth.is_public("/docs/index.html"));
//! assert!(!auth.is_public("/docsearch"));
//! let app: axum::Router = axum::Router::new().layer(auth.layer());
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

mod builder;
mod request;

pub use self::builder::AuthenticatorBuilder;
pub(crate) use self::request::Begun;
use crate::claims::{Authenticated, ScopeHierarchy};
use crate::error::ErrorHandler;
pub use crate::http::WEBSOCKET_TOKEN_PROTOCOL;
use crate::jwks::{KeyRegistry, KeyStats};
use crate::mcp::McpScopes;
use crate::resource::{Resource, ResourceMetadata};
use crate::validation::{TokenCacheStats, Validator};

/// Validates requests for a set of providers. Cheap to clone.
#[derive(Clone)]
pub struct Authenticator {
    inner: Arc<Inner>,
}

struct Inner {
    validator: Validator,
    public_exact: Vec<String>,
    public_prefixes: Vec<String>,
    cookie: Option<String>,
    realm: Arc<str>,
    /// A missing token gets a bare 401 challenge instead of a 400.
    challenge_missing: bool,
    /// WebSocket upgrades may carry the token in the `access_token` query parameter.
    websocket_query: bool,
    handler: Option<ErrorHandler>,
    /// The DPoP rules, and whether some or every provider accepts or requires DPoP.
    dpop: crate::dpop::Settings,
    /// The API's resource identifier and metadata (RFC 9728).
    resource: Option<Resource>,
    /// Scopes that imply others.
    hierarchy: ScopeHierarchy,
    /// The MCP mode and its operation rules.
    mcp: Option<McpScopes>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("validator", &self.inner.validator)
            .field("public_exact", &self.inner.public_exact)
            .field("public_prefixes", &self.inner.public_prefixes)
            .field("cookie", &self.inner.cookie)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The provider a refusal is logged and counted for: the only one, when there is
    /// one (a refused token's `iss` is not trusted to name one).
    pub(crate) fn sole_provider(&self) -> Option<&str> {
        let mut providers = self.inner.validator.providers();
        match (providers.next(), providers.next()) {
            (Some(p), None) => Some(p.name()),
            _ => None,
        }
    }

    /// The validation core.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The registry of the providers' key caches, to share with browser login.
    pub fn registry(&self) -> &KeyRegistry {
        self.inner.validator.registry()
    }

    /// The key cache state of provider `name`.
    pub fn key_stats(&self, provider: &str) -> Option<KeyStats> {
        self.inner.validator.key_stats(provider)
    }

    /// The verified-token cache's hits, misses, evictions and size; `None` when it is
    /// off.
    pub fn token_cache_stats(&self) -> Option<TokenCacheStats> {
        self.inner.validator.token_cache_stats()
    }

    /// Waits until every provider's keys are loaded.
    pub async fn ready(&self) {
        self.inner.validator.ready().await;
    }

    /// The protected resource metadata (RFC 9728) this authenticator serves, when it
    /// has a [`resource`](AuthenticatorBuilder::resource).
    pub fn resource_metadata(&self) -> Option<&ResourceMetadata> {
        self.inner.resource.as_ref().map(|r| &*r.metadata)
    }

    /// The routes this authenticator serves: the protected resource metadata at
    /// `/.well-known/oauth-protected-resource{path}` when it has a resource (none
    /// otherwise). Merge them into the app's router, outside the auth layer or not:
    /// they are public either way.
    pub fn router<S>(&self) -> axum::Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        match &self.inner.resource {
            Some(resource) => resource.router(),
            None => axum::Router::new(),
        }
    }

    /// The scopes among `required` that `granted` holds neither directly nor through
    /// a scope that implies them ([`scope_implies`](AuthenticatorBuilder::scope_implies)).
    pub fn missing_scopes<'a>(
        &self,
        granted: &Authenticated,
        required: impl IntoIterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        self.inner.hierarchy.missing(&granted.scopes(), required)
    }

    /// In the MCP mode, its operation rules.
    pub(crate) fn mcp_rules(&self) -> Option<&McpScopes> {
        self.inner.mcp.as_ref()
    }

    /// In the MCP mode, the MCP endpoint's path.
    pub(crate) fn mcp_route(&self) -> Option<&str> {
        self.inner.mcp.as_ref()?;
        Some(self.inner.resource.as_ref()?.endpoint_path())
    }

    /// In the MCP mode, for a request to the MCP endpoint (the resource's path): the
    /// operation rules.
    pub(crate) fn mcp_endpoint(&self, path: &str) -> Option<&McpScopes> {
        (self.mcp_route()? == path).then_some(self.inner.mcp.as_ref()?)
    }

    /// Whether `path` is public (no token needed).
    pub fn is_public(&self, path: &str) -> bool {
        self.inner.public_exact.iter().any(|p| p == path)
            || self.inner.public_prefixes.iter().any(|p| {
                path.strip_prefix(p.as_str())
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('/') || p.is_empty())
            })
    }
}
