//! Declarative OAuth2 / OpenID Connect for axum.
//!
//! Add one dependency, `oauth2-runtime`, and write `oauth2::...`: the library is named
//! `oauth2`. It accepts `Authorization: Bearer <JWT>` from clients of one or more
//! identity providers: OIDC discovery, a JWKS cache refreshed in the background,
//! validation by the JWT BCP (RFC 8725), a tower layer, and axum extractors.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{routing::get, Router};
//! use oauth2::{Authenticator, Claims, Provider};
//!
//! #[derive(serde::Deserialize)]
//! struct User { sub: String }
//!
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("google")
//!         .issuer("https://accounts.google.com")
//!         .audience("1234.apps.googleusercontent.com"))
//!     .public_path("/")
//!     .build()?;
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "hello" }))
//!     .route("/me", get(|Claims(user): Claims<User>| async move { user.sub }))
//!     .layer(auth.layer());
//! # Ok(()) }
//! ```
//!
//! # Modules
//!
//! Dependencies point one way: [`config`] → [`jwks`] → [`validation`] → [`layer`] and
//! [`extract`]. The validation core knows nothing of HTTP.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `aws-lc-rs` | yes | the fast crypto backend for `jsonwebtoken` |
//! | `rust-crypto` | no | the pure-Rust backend instead (disable default features) |
//! | `ws` | yes | WebSocket token sources and close code 1008 on rejection |
//! | `dev-issuer` | no | [`dev::DevIssuer`], an in-process identity provider for demos and tests |

#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod authenticator;
pub mod claims;
pub mod config;
pub mod discovery;
pub mod error;
pub mod extract;
pub mod jwks;
pub mod layer;
pub mod validation;
#[cfg(feature = "ws")]
mod ws;

#[cfg(feature = "dev-issuer")]
pub mod dev;

pub use authenticator::{Authenticator, AuthenticatorBuilder};
pub use claims::{Authenticated, Scopes};
pub use config::{Audience, ConfigError, Provider, ProviderBuilder};
pub use error::AuthError;
pub use extract::Claims;
pub use jsonwebtoken::Algorithm;
pub use layer::{AuthLayer, RequireScopes};
