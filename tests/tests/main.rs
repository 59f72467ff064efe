//! The integration tests, one module per file, in one test binary: one link and one
//! compilation of the dependencies' generics instead of one per file (that took most of
//! a CI run). Run one file's tests with `cargo test -p oauth2-tests --test integration login::`.

mod backchannel_logout;
mod bearer;
mod broker;
mod broker_example;
mod broker_keys;
mod broker_tokens;
mod browser;
mod decisions;
mod discovery;
mod dpop;
mod dpop_login;
mod dsl;
mod dsl_broker;
mod dsl_login;
mod examples;
mod glewlwyd;
mod grpc;
mod id_tokens_as_bearer;
mod interop;
mod introspection;
mod keys;
mod login;
mod login_error_pages;
mod login_id_token;
mod logout_races;
mod mcp_server;
mod metrics;
mod openapi;
mod par;
mod presets;
mod provider_signing;
mod readme_example;
mod redis_cluster;
mod registry;
mod session_stores;
mod shared_issuer;
mod step_up;
mod step_up_interop;
mod store_outage;
mod tenants;
mod test_kit;
mod token_cache;
mod token_endpoint;
mod websocket;
