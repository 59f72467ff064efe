//! The app as an OAuth client: how every request it sends to a provider authenticates
//! (code exchange, refresh, pushed and device authorization, introspection,
//! revocation), and tokens for calling other APIs (client credentials, token exchange
//! on behalf of a caller).
//!
//! | [`ClientAuth`] | the request carries | needs |
//! |---|---|---|
//! | `SecretBasic` (default with a secret) | `Authorization: Basic` (RFC 6749 §2.3.1) | a secret |
//! | `SecretPost` | `client_id` and `client_secret` in the form | a secret |
//! | `SecretJwt` | an HS256 assertion keyed with the secret (RFC 7523, OpenID Connect Core §9 `client_secret_jwt`) | a secret of 32 bytes or more |
//! | `PrivateKeyJwt` | an assertion signed with the client's [`ClientKey`] (`private_key_jwt`; FAPI 2.0, Entra certificate credentials), or the JWT of an [`AssertionFile`] (federated credentials) | a key or an assertion file |
//! | `None` (default without a secret) | `client_id` only; PKCE protects the code | — |
//!
//! An assertion has `iss` = `sub` = the client id, `aud` = the issuer (rfc7523bis,
//! FAPI 2.0) or, with [`AssertionAudience::Endpoint`] or for a plain OAuth 2.0 provider
//! without an issuer, the URL it is sent to (what Entra ID wants), a fresh `jti`, `iat`
//! now and `exp` 60 s later; each request gets its own.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth2::client::{AssertionAudience, ClientCredentials, ClientKey};
//!
//! // A key made for this example with `openssl genpkey -algorithm EC -pkeyopt
//! // ec_paramgen_curve:P-256`; read yours from a file or a secret store.
//! let pem = "-----BEGIN PRIVATE KEY-----
//! MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglXb57tRdXrpxaUqb
//! /tB3f6MrESHvhd5fAQC0QYR+OR6hRANCAARZdWBEB8T5AFci2/OKx00Ty8TA33VE
//! 2XFc8isoKOXnfdEGoxAacAQNC15jR1S3EjTVMBy+pIh23d69Terg+CY+
//! -----END PRIVATE KEY-----";
//! let key = ClientKey::from_pem(pem)?;
//! // Register this at the provider (its `kid` is the RFC 7638 thumbprint).
//! println!("{}", serde_json::json!({ "keys": [key.public_jwk()] }));
//! let credentials = ClientCredentials::new("web")
//!     .key(key)
//!     .assertion_audience(AssertionAudience::Issuer);
//! credentials.check()?;
//! # Ok(()) }
//! ```

mod access_token;
mod assertion_file;
mod auth;
pub(crate) mod credentials;
mod dpop;
mod error;
mod key;
mod private_jwk;
pub(crate) mod request;
mod token_cache;
mod token_client;

pub use self::access_token::AccessToken;
pub use self::assertion_file::AssertionFile;
pub use self::auth::{ASSERTION_TYPE, AssertionAudience, ClientAuth};
#[cfg(feature = "login")]
pub(crate) use self::auth::{Credentials, choose};
pub use self::credentials::ClientCredentials;
pub(crate) use self::dpop::DpopKey;
pub use self::error::{TokenError, TokenErrorKind};
pub use self::key::{ClientConfigError, ClientKey};
pub use self::token_client::{
    DEFAULT_RENEW_BEFORE, DEFAULT_TOKEN_RETRY_BACKOFF, ExchangeGrant, Target, TokenClient,
    TokenClientBuilder,
};
