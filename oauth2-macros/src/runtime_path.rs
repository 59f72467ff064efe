//! The path generated code uses for the runtime crate: the name the user's
//! `Cargo.toml` gives it, so that a renamed dependency (say, next to the `oauth2` client
//! crate, which has the same library name) needs no `crate = "..."` anywhere.

use proc_macro_crate::{FoundCrate, crate_name};
use proc_macro2::{Span, TokenStream};
use quote::quote;

/// The package whose library generated code names.
const PACKAGE: &str = "oauth2-runtime";
/// Its library name, which a dependency that is not renamed goes by.
const LIBRARY: &str = "oauth2";

/// `::<name>` for the runtime as the user's `Cargo.toml` names it: `::oauth2` when it is
/// not renamed (or cannot be read), `::auth` for `auth = { package = "oauth2-runtime" }`.
pub(crate) fn runtime_path() -> TokenStream {
    let name = match crate_name(PACKAGE) {
        // A dependency that is not renamed goes by its library name.
        Ok(FoundCrate::Name(name)) if name != PACKAGE.replace('-', "_") => name,
        // The runtime itself (its doc tests) has `extern crate self as oauth2`.
        Ok(_) | Err(_) => LIBRARY.to_owned(),
    };
    let ident = syn::Ident::new(&name, Span::call_site());
    quote!(::#ident)
}
