//! Procedural macros for `oauth2-runtime`.
//!
//! Do not depend on this crate directly: the runtime re-exports everything
//! here, and generated code refers to the runtime by path.
