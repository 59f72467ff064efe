//! The HTTP side shared by every adapter (the tower layer, the axum extractors, the
//! gRPC layer): where a request's token is, what kind of request it is, the
//! `Cookie` header, and the event that records each request's auth decision. Private to
//! the crate; it knows requests, not validation.

mod classify;
mod cookies;
pub(crate) mod decision;
mod token;

pub(crate) use classify::{is_cors_preflight, is_websocket_upgrade};
pub(crate) use cookies::cookie;
#[cfg(feature = "session")]
pub(crate) use cookies::cookies;
pub use token::WEBSOCKET_TOKEN_PROTOCOL;
#[cfg(feature = "ws")]
pub(crate) use token::offers_token_protocol;
pub(crate) use token::{Presented, Sources, find_token};
