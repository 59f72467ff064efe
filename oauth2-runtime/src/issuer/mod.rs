//! Broker mode (feature `broker`): the app issues its own short-lived access tokens
//! (JWT, RFC 9068), signs them with keys that live in the store and rotate, and
//! publishes them as an issuer: `{base_url}{prefix}`, with its discovery document at
//! `{prefix}/.well-known/openid-configuration` and its keys at
//! `{prefix}/.well-known/jwks.json`.
//!
//! ```
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use oauth2::issuer::Broker;
//! use oauth2::login::{Login, LoginProvider};
//!
//! let login = Login::builder()
//!     .base_url("https://app.example")
//!     .session_secret("a secret of 32 bytes or more, from the environment")
//!     .provider(
//!         LoginProvider::builder("corp")
//!             .issuer("https://login.corp.example")
//!             .client_id("my-app"),
//!     )
//!     .broker(
//!         Broker::builder()
//!             .audience("https://api.app.example")
//!             .token_ttl(Duration::from_secs(300))
//!             .claims(["email", "groups"]),
//!     )
//!     .build()?;
//! let broker = login.broker().unwrap();
//! assert_eq!(broker.issuer(), "https://app.example/auth");
//! let claims = serde_json::json!({"sub": "alice", "email": "alice@corp.example"});
//! let token = broker.access_token(claims.as_object().unwrap(), Some("read")).await?;
//! assert_eq!(token.token.split('.').count(), 3);
//! # Ok(()) }
//! ```
//!
//! Key lifetimes (defaults): access tokens 10 minutes, refresh tokens 14 days, a new
//! signing key every 30 days; a key is published one generation before it signs and
//! one after, and the JWKS is cacheable for a tenth of a generation (at most an hour).

pub(crate) mod signing_key;

#[cfg(feature = "broker")]
mod broker;
#[cfg(feature = "broker")]
pub(crate) mod families;
#[cfg(feature = "broker")]
mod key_ring;
#[cfg(feature = "broker")]
mod routes;
#[cfg(feature = "broker")]
mod seal;

#[cfg(feature = "broker")]
pub use broker::{
    Broker, BrokerBuilder, BrokerError, DEFAULT_REFRESH_TTL, DEFAULT_ROTATE_EVERY,
    DEFAULT_TOKEN_TTL, IssuedToken,
};
