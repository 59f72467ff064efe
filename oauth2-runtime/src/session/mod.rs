//! Browser sessions: where the login flow ([`crate::login`]) keeps who is logged in.
//!
//! - [`SessionCookie`] keeps a session in the browser as encrypted, authenticated
//!   cookies: the stateless default, no store needed.
//! - A [`SessionStore`] keeps it on the server, and the cookie only a random id:
//!   [`MemoryStore`], `RedisStore` (feature `redis`), `PostgresStore` (feature
//!   `postgres`), or your own.
//!
//! ```
//! use std::time::Duration;
//! use axum::http::{HeaderMap, HeaderValue, header};
//! use oauth2::session::SessionCookie;
//!
//! #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
//! struct Session { sub: String, name: String }
//!
//! let cookies = SessionCookie::builder("session")
//!     .secret(b"0123456789abcdef0123456789abcdef-current")
//!     .old_secret(b"0123456789abcdef0123456789abcdef-previous") // still decrypts
//!     .build()
//!     .unwrap();
//! let session = Session { sub: "alice".into(), name: "Alice".into() };
//! let set_cookie = cookies.seal(&session, Duration::from_secs(3600)).unwrap();
//! assert!(set_cookie[0].to_string().contains("HttpOnly; SameSite=Lax; Secure"));
//!
//! // The browser sends them back.
//! let mut request = HeaderMap::new();
//! let sent: Vec<String> = set_cookie.iter().map(|c| format!("{}={}", c.name(), c.value())).collect();
//! request.insert(header::COOKIE, HeaderValue::from_str(&sent.join("; ")).unwrap());
//! assert_eq!(cookies.open::<Session>(&request).unwrap(), Some(session));
//! ```

pub(crate) mod cookie;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
mod store;

pub use self::cookie::{SessionCookie, SessionCookieBuilder, SessionError};
#[cfg(feature = "postgres")]
pub use self::postgres::{PostgresStore, SCHEMA};
#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use self::store::{BoxFuture, MemoryStore, SessionStore, StoreError};

/// How long `RedisStore::connect` and `PostgresStore::connect` let a request wait
/// for the store (a connection, a command) before it fails: session requests then get
/// 503 `temporarily_unavailable` while the store is down, not a hang.
#[cfg(any(feature = "redis", feature = "postgres"))]
pub use crate::defaults::STORE_TIMEOUT;
