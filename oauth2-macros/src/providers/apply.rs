//! How one checked setting becomes calls on a runtime builder (`__b`): literals as
//! they are, `env(...)` read when the configuration is loaded, expressions spanned on the
//! user's tokens.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Lit};

use super::keys::{Key, Kind};
use super::valid::{Checked, EnvMode, Value};

/// Statements that apply one setting to the builder `__b`.
pub(super) fn apply(krate: &TokenStream, checked: &Checked, provider: Option<&str>) -> TokenStream {
    // An old key name: a use of its deprecated stand-in, so that rustc warns at it.
    let deprecated = checked.old_name.as_ref().map(|old| {
        let path = quote_spanned!(old.span()=> #krate::__private::renamed::#old);
        quote_spanned!(old.span()=> let _ = #path;)
    });
    let set = set(krate, checked, provider);
    quote!(#deprecated #set)
}

/// The builder call of one setting.
fn set(krate: &TokenStream, checked: &Checked, provider: Option<&str>) -> TokenStream {
    let key = checked.key;
    let method = Ident::new(key.method, Span::call_site());
    // The builder, named with the macro's own hygiene even inside spanned code.
    let bb = quote!(__b);
    match &checked.value {
        Value::Env { var, mode } => {
            let field = key.name;
            let provider = match provider {
                Some(p) => quote!(::core::option::Option::Some(#p)),
                None => quote!(::core::option::Option::None),
            };
            let use_value = from_text(krate, key, &method, var, &provider);
            match mode {
                EnvMode::Required => quote! {{
                    let __v = #krate::__private::env(#var, #provider, #field)?;
                    #use_value
                }},
                EnvMode::Default(default) => quote! {{
                    let __v = #krate::__private::env_or(#var, #default, #provider, #field)?;
                    #use_value
                }},
                EnvMode::Optional => quote! {
                    if let ::core::option::Option::Some(__v) = #krate::__private::env_opt(#var, #provider, #field)? {
                        #use_value
                    }
                },
            }
        }
        Value::Lit(Lit::Bool(b)) => {
            if b.value {
                quote!(__b = __b.#method();)
            } else {
                TokenStream::new()
            }
        }
        Value::Lit(lit) => quote!(__b = __b.#method(#lit);),
        Value::Strings(lits) if key.each => quote!(#( __b = __b.#method(#lits); )*),
        Value::Strings(lits) => quote!(__b = __b.#method([#(#lits),*]);),
        Value::Algorithms(ids) => quote!(#bb = #bb.#method([#(#krate::Algorithm::#ids),*]);),
        Value::Duration(ms, span) => {
            quote_spanned!(*span=> #bb = #bb.#method(::core::time::Duration::from_millis(#ms));)
        }
        Value::DurationPair(a, b, span) => quote_spanned! {*span=>
            #bb = #bb.#method(
                ::core::time::Duration::from_millis(#a),
                ::core::time::Duration::from_millis(#b),
            );
        },
        Value::Choice(ident, choice) => {
            let ty = choice
                .runtime_type
                .split("::")
                .map(|seg| Ident::new(seg, Span::call_site()));
            let variant = choice.variant(&ident.to_string()).unwrap_or_default();
            let variant = Ident::new(variant, ident.span());
            quote!(#bb = #bb.#method(#krate::#(#ty)::*::#variant);)
        }
        Value::ScopeMap(entries, _) => {
            let calls = entries.iter().map(|(name, scopes)| {
                let n = scopes.len();
                quote! {
                    __b = __b.#method(#name, ::core::convert::identity::<[&'static ::core::primitive::str; #n]>([#(#scopes),*]));
                }
            });
            quote!(#(#calls)*)
        }
        Value::Expr(expr) => {
            let span = expr.span();
            match key.kind {
                Kind::Bool => quote_spanned!(span=> if #expr { #bb = #bb.#method(); }),
                Kind::StrList if key.each => {
                    quote_spanned!(span=> for __p in #expr { #bb = #bb.#method(__p); })
                }
                Kind::DurationPair => quote_spanned! {span=>
                    {
                        let (__initial, __max) = #expr;
                        #bb = #bb.#method(__initial, __max);
                    }
                },
                _ => quote_spanned!(span=> #bb = #bb.#method(#expr);),
            }
        }
    }
}

/// Statements that apply the environment variable's text `__v` to `__b`.
fn from_text(
    krate: &TokenStream,
    key: &Key,
    method: &Ident,
    var: &syn::LitStr,
    provider: &TokenStream,
) -> TokenStream {
    let field = key.name;
    match key.kind {
        Kind::StrList if key.each => {
            quote!(for __p in #krate::__private::list(&__v) { __b = __b.#method(__p); })
        }
        Kind::StrList => quote!(__b = __b.#method(#krate::__private::list(&__v));),
        Kind::Algorithms => {
            quote!(__b = __b.#method(#krate::__private::algorithms(#var, &__v, #provider, #field)?);)
        }
        Kind::Duration => {
            quote!(__b = __b.#method(#krate::__private::duration(#var, &__v, #provider, #field)?);)
        }
        Kind::Number => {
            quote!(__b = __b.#method(#krate::__private::number(#var, &__v, #provider, #field)?);)
        }
        _ => quote!(__b = __b.#method(__v);),
    }
}
