//! `#[derive(FromClaims)]`: parse the struct and its `#[claim(...)]` attributes
//! (`attr.rs`) → generate the `FromClaims` impl.

mod attr;

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields};

use crate::ctxt::{Ctxt, with_errors};
use attr::Source;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::new();
    let krate =
        attr::container(&mut cx, &input.attrs).unwrap_or_else(crate::runtime_path::runtime_path);
    let output = expand_struct(&mut cx, &krate, &input);
    match cx.check() {
        Ok(()) => output,
        // A stub impl keeps uses of the type from adding errors of their own.
        Err(e) => with_errors(stub(&krate, &input), e),
    }
}

fn expand_struct(cx: &mut Ctxt, krate: &TokenStream, input: &DeriveInput) -> TokenStream {
    let needs = "#[derive(FromClaims)] needs a struct with named fields: each field reads the claim of its name";
    let fields = match &input.data {
        Data::Struct(data) => match &data.fields {
            Fields::Named(named) => &named.named,
            Fields::Unnamed(unnamed) => {
                cx.error_spanned_by(unnamed, format!("{needs}, and a tuple struct has none"));
                return TokenStream::new();
            }
            Fields::Unit => {
                cx.error_spanned_by(&input.ident, format!("{needs}, and a unit struct has none"));
                return TokenStream::new();
            }
        },
        Data::Enum(data) => {
            cx.error_spanned_by(data.enum_token, format!("{needs}, not an enum"));
            return TokenStream::new();
        }
        Data::Union(data) => {
            cx.error_spanned_by(data.union_token, format!("{needs}, not a union"));
            return TokenStream::new();
        }
    };

    // Generic structs need bounds on their field types; for concrete types the calls
    // below are checked where they stand, so an error points at the field's type.
    let generic = input.generics.type_params().next().is_some();
    let mut inits = Vec::new();
    let mut bounds = Vec::new();
    for field in fields {
        let ident = field.ident.as_ref().expect("named field");
        let ty = &field.ty;
        let attrs = attr::field(cx, ident, &field.attrs);
        let span = ty.span();
        if generic {
            bounds.push(quote_spanned!(span=> #ty: #krate::__private::serde::de::DeserializeOwned));
        }
        let value = match (&attrs.source, attrs.default) {
            (Source::Scopes, _) => {
                quote_spanned!(span=> #krate::__private::scopes_claim::<#ty>(__auth)?)
            }
            (Source::Claim(path), default) => {
                let name = path.join(".");
                let read = if default {
                    if generic {
                        bounds.push(quote_spanned!(span=> #ty: ::core::default::Default));
                    }
                    quote!(claim_or_default)
                } else {
                    quote!(claim)
                };
                quote_spanned!(span=> #krate::__private::#read::<#ty>(__auth, &[#(#path),*], #name)?)
            }
        };
        inits.push(quote!(#ident: #value));
    }

    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let predicates = where_clause.into_iter().flat_map(|w| w.predicates.iter());
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::FromClaims for #name #ty_generics
        where
            #(#predicates,)*
            #(#bounds,)*
        {
            fn from_claims(
                __auth: &#krate::Authenticated,
            ) -> ::core::result::Result<Self, #krate::ClaimError> {
                ::core::result::Result::Ok(Self {
                    #(#inits,)*
                })
            }
        }
    }
}

/// An impl that refuses every token, emitted next to the errors so that uses of the
/// type add no errors of their own. The crate does not compile with it anyway.
fn stub(krate: &TokenStream, input: &DeriveInput) -> TokenStream {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        impl #impl_generics #krate::FromClaims for #name #ty_generics #where_clause {
            fn from_claims(
                _: &#krate::Authenticated,
            ) -> ::core::result::Result<Self, #krate::ClaimError> {
                ::core::result::Result::Err(#krate::ClaimError::invalid(
                    "*",
                    "#[derive(FromClaims)] failed to compile",
                ))
            }
        }
    }
}
