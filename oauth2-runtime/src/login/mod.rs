//! Browser login as an OpenID Connect relying party. So far: the login
//! [`Transaction`] (PKCE, `state`, `nonce`) and the authorization request it makes;
//! the callback, the generated routes and the sessions come next.
//!
//! ```
//! use oauth2::login::{AuthorizationRequest, Transaction};
//!
//! let tx = Transaction::new("corp", Some("/reports".into())).unwrap();
//! let url = AuthorizationRequest {
//!     endpoint: "https://login.corp.example/authorize",
//!     client_id: "my-app",
//!     redirect_uri: "https://app.example/auth/corp/callback",
//!     scope: "openid profile email",
//!     extra: &[("prompt", "consent")],
//! }
//! .url(&tx)
//! .unwrap();
//! assert!(url.as_str().contains("code_challenge_method=S256"));
//! assert!(url.as_str().contains(&format!("state={}", tx.state)));
//! ```

mod transaction;

pub use transaction::{AuthorizationRequest, Transaction};
