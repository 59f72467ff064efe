//! JWK sets, the per-issuer key cache, and the registry that shares one cache per issuer.
//!
//! A [`KeySet`] is parsed once per fetch: every usable signing key becomes a ready
//! verifying key, so the request path never parses a JWK. Keys with `use: "enc"`,
//! symmetric (`oct`) keys and keys of unsupported types are skipped.
//!
//! The cache behind each issuer loads keys in the background at startup (retrying
//! with capped backoff), refreshes them periodically (`Cache-Control: max-age` clamped to
//! [5 min, 24 h], else every hour), refetches at most once per cooldown (5 s) when a token
//! names an unknown `kid` (concurrent requests share one fetch), and keeps its previous
//! keys when a fetch fails. Once keys are held, fetches are conditional (`If-None-Match`
//! with the last `ETag`); a 304 or the same document keeps the set as it is, so tokens
//! cached as verified stay cached. Requests read the current set without taking a lock.
//!
//! ```
//! let jwks = r#"{"keys":[
//!   {"kty":"OKP","crv":"Ed25519","kid":"k1","alg":"EdDSA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
//!   {"kty":"RSA","use":"enc","kid":"enc-1","n":"AQAB","e":"AQAB"}
//! ]}"#;
//! let set = oauth2::jwks::KeySet::from_json(jwks.as_bytes()).unwrap();
//! assert_eq!(set.key_ids().collect::<Vec<_>>(), ["k1"]); // the encryption key is ignored
//! ```
//!
//! One [`KeyRegistry`] holds, per issuer, the discovery metadata and that cache; bearer
//! validation and browser login share it.

mod cache;
mod parsed;
mod registry;
mod set;
mod source;

pub(crate) use cache::KeyCache;
pub use cache::KeyStats;
pub use registry::KeyRegistry;
pub(crate) use registry::RegistryError;
pub(crate) use registry::default_http_client;
pub use set::{JwksError, KeySet};
pub(crate) use set::{KeyMiss, VerifyingKey};
pub use source::DEFAULT_UNKNOWN_KID_COOLDOWN;
pub(crate) use source::{KeySource, RefreshPolicy};
#[cfg(feature = "broker")]
pub(crate) use source::{LocalJwks, LocalKeys, LocalSource};
