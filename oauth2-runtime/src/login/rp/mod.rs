//! The relying party: the login a browser goes through at the provider (start,
//! callback, logout), its transaction, pushed authorization requests, and the
//! back-channel logouts the provider sends.

pub(crate) mod backchannel;
pub(crate) mod callback;
pub(crate) mod logout;
pub(crate) mod par;
pub(crate) mod start;
pub(crate) mod transaction;
