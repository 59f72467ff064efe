//! What `providers!` emits when its input does not parse: stand-ins for `Providers` and
//! the provider registry, so that the crate reports the syntax error and not also every
//! use of `Providers` and every `#[protect]` (as tokio's macros re-emit the item).

use proc_macro2::TokenStream;
use quote::quote;

/// The runtime crate's path from the input's leading `crate = <path>;`, or `::oauth2`.
pub(crate) fn krate(input: &TokenStream) -> TokenStream {
    let mut tokens = input.clone().into_iter();
    let starts = matches!(
        (tokens.next(), tokens.next()),
        (Some(proc_macro2::TokenTree::Ident(c)), Some(proc_macro2::TokenTree::Punct(eq)))
            if c == "crate" && eq.as_char() == '='
    );
    if !starts {
        return crate::runtime_path::runtime_path();
    }
    tokens
        .take_while(|t| !matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == ';'))
        .collect()
}

/// `Providers` with the usual methods (never run: the crate does not compile) and a
/// registry that accepts every provider name.
pub(crate) fn items(krate: &TokenStream) -> TokenStream {
    let never = quote!(::core::unreachable!("`providers!` has errors"));
    quote! {
        /// Stands in for the providers while `providers!` has errors.
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        pub struct Providers;

        #[allow(dead_code, unused_variables, unreachable_code)]
        impl Providers {
            /// No names while `providers!` has errors.
            pub const NAMES: &'static [&'static ::core::primitive::str] = &[];

            /// Stands in for `Providers::load`.
            pub fn load() -> ::core::result::Result<Self, #krate::ConfigError> {
                #never
            }

            /// Stands in for `Providers::layer`.
            pub fn layer(&self) -> #krate::__private::Identity {
                #never
            }

            /// Stands in for `Providers::require_everywhere`.
            pub fn require_everywhere(&self) -> #krate::__private::Identity {
                #never
            }

            /// Stands in for `Providers::router`.
            pub fn router<S>(&self) -> #krate::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                #never
            }

            /// Stands in for `Providers::authenticator`.
            pub fn authenticator(&self) -> &#krate::Authenticator {
                #never
            }

            /// Stands in for `Providers::ready`.
            pub async fn ready(&self) {}
        }

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __oauth2_providers {
            (($($krate:tt)*) $($other:tt)*) => {};
        }
    }
}
