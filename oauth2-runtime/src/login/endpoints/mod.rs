//! The app's own endpoints, for clients that are not browsers: the token endpoint
//! (refresh, device code, native clients' codes), device authorization, native and CLI
//! logins (RFC 8252), and the broker's grants.

#[cfg(feature = "broker")]
pub(crate) mod broker_grants;
pub(crate) mod native;
pub(crate) mod token;
