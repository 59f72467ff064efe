//! Procedural macros of `oauth2-runtime`, re-exported there as `oauth2::providers!`,
//! `#[oauth2::protect]` and `#[derive(oauth2::FromClaims)]`: see their documentation
//! in that crate. Do not depend on this crate directly.
//!
//! Each entry point parses its input, calls one `expand` function, and turns errors
//! into `compile_error!` once. On error the user's item is still emitted, so the rest
//! of the crate keeps compiling and the IDE keeps working.

mod ctxt;
mod from_claims;
mod protect;
mod providers;
mod runtime_path;
mod suggest;

use proc_macro::TokenStream;

/// Declares identity providers. Use it as `oauth2::providers!`, which passes the
/// runtime crate's path.
#[proc_macro]
pub fn providers_impl(input: TokenStream) -> TokenStream {
    providers::expand(input.into()).into()
}

/// Reports a provider name that `providers!` did not declare: called by the registry
/// macro that `providers!` generates.
#[proc_macro]
pub fn unknown_provider(input: TokenStream) -> TokenStream {
    providers::unknown_provider(input.into()).into()
}

/// Reports a `#[protect(scopes = [...])]` scope that the declared resource does not list:
/// called by the registry macro that `providers!` generates.
#[proc_macro]
pub fn unknown_scope(input: TokenStream) -> TokenStream {
    providers::unknown_scope(input.into()).into()
}

/// Reports the provider of a `#[protect(session, ...)]` that has no browser login:
/// called by the registry macro that `providers!` generates.
#[proc_macro]
pub fn session_provider(input: TokenStream) -> TokenStream {
    providers::session_provider(input.into()).into()
}

/// Lets an axum handler run only for a valid token of the named provider(s).
/// Documented in `oauth2-runtime`.
#[proc_macro_attribute]
pub fn protect(args: TokenStream, item: TokenStream) -> TokenStream {
    protect::expand(args.into(), item.into()).into()
}

/// Implements `FromClaims`: typed access to a token's claims.
/// Documented in `oauth2-runtime`.
#[proc_macro_derive(FromClaims, attributes(claim))]
pub fn derive_from_claims(input: TokenStream) -> TokenStream {
    from_claims::expand(input.into()).into()
}
