//! Tower middleware: [`AuthLayer`] protects a whole router, [`RequireScopes`] one route.
//!
//! [`AuthLayer`] (from [`Authenticator::layer`](crate::Authenticator::layer)) lets public
//! paths and CORS preflights through, and requires a valid token everywhere else; from
//! [`Authenticator::extension`](crate::Authenticator::extension) (what
//! `providers.layer()` gives) it requires a token nowhere and leaves each route's
//! extractor (`#[protect]`) to check. Both send the fresh DPoP server nonce a check
//! leaves (`DPoP-Nonce`). On
//! success the [`Authenticated`](crate::Authenticated) token (provider name and claims)
//! is in the request extensions, where the extractors find it; on failure the request
//! never reaches the handler and gets an RFC 6750 response, or, for a WebSocket upgrade,
//! an accepted socket closed with code 1008. Keys are read without a lock; only a token
//! with an unknown `kid` waits, for at most one refetch shared with concurrent requests,
//! and an opaque token for its introspection (once, then cached).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use axum::{routing::get, Router};
//! use oauth2::{Authenticator, Provider, RequireScopes};
//! use tower_http::cors::CorsLayer;
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience("api"))
//!     .public_path("/")
//!     .build()
//!     .unwrap();
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "public" }))
//!     .route("/admin", get(|| async { "admin" }).route_layer(RequireScopes::new(["admin"])))
//!     .layer(auth.layer())
//!     .layer(CorsLayer::permissive()); // outside: it answers preflights
//! # }
//! ```

mod future;
mod scopes;
mod service;

pub use future::ResponseFuture;
pub use scopes::{RequireScopes, RequireScopesService};
pub use service::AuthService;

use tower::Layer;

use crate::Authenticator;

/// Requires a valid bearer token on every non-public path of the service it wraps
/// ([`Authenticator::layer`]), or on none, leaving each route to decide
/// ([`Authenticator::extension`]). Either way the authenticator is in the request
/// extensions for the extractors, and a fresh DPoP server nonce left by a check is sent
/// with the response.
#[derive(Clone, Debug)]
pub struct AuthLayer {
    auth: Authenticator,
    /// Whether non-public paths need a token (`false`: every path is public here).
    require: bool,
}

impl AuthLayer {
    /// A layer for this authenticator; same as [`Authenticator::layer`].
    pub fn new(auth: Authenticator) -> Self {
        Self {
            auth,
            require: true,
        }
    }

    /// A layer that requires a token nowhere; same as [`Authenticator::extension`].
    pub fn optional(auth: Authenticator) -> Self {
        Self {
            auth,
            require: false,
        }
    }
}

impl Authenticator {
    /// A tower layer that requires a valid token on every non-public path.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.clone())
    }

    /// A layer that makes this authenticator available to extractors and `#[protect]`
    /// handlers without requiring a token anywhere: each route decides for itself. It
    /// also sends the fresh DPoP server nonce (`DPoP-Nonce`) that a handler's check
    /// leaves, as [`layer`](Self::layer) does.
    pub fn extension(&self) -> AuthLayer {
        AuthLayer::optional(self.clone())
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService::new(inner, self.auth.clone(), self.require)
    }
}
