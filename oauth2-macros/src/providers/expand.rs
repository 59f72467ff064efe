//! Generates the code for checked `providers!` input: one type per provider, the
//! `Providers` type that holds the runtime state, and the `__oauth2_providers!` registry
//! through which `#[protect]` checks provider names at compile time.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Ident, Lit};

use super::keys::{Key, Kind, Target};
use super::valid::{Checked, Config, EnvMode, Value};

/// The settings of `target` (keys for both targets count for each).
fn of(settings: &[Checked], target: Target) -> impl Iterator<Item = &Checked> {
    settings
        .iter()
        .filter(move |c| c.key.target == target || c.key.target == Target::Both)
}

fn has(settings: &[Checked], keys: &[&str]) -> bool {
    settings.iter().any(|c| keys.contains(&c.key.name))
}

pub(crate) fn expand(krate: &TokenStream, config: &Config) -> TokenStream {
    let names: Vec<String> = config
        .providers
        .iter()
        .map(|p| p.name.to_string())
        .collect();
    let types: Vec<Ident> = config
        .providers
        .iter()
        .map(|p| type_name(&p.name))
        .collect();
    let is_bearer: Vec<bool> = config
        .providers
        .iter()
        .map(|p| has(&p.settings, &["audience", "danger_accept_any_audience"]))
        .collect();
    let is_login: Vec<bool> = config
        .providers
        .iter()
        .map(|p| has(&p.settings, &["client_id"]))
        .collect();
    let any_bearer = is_bearer.contains(&true);
    let any_login = is_login.contains(&true);

    let provider_items = config.providers.iter().enumerate().map(|(i, p)| {
        let ty = &types[i];
        let name = p.name.to_string();
        let doc = format!(
            " The `{name}` identity provider declared in `providers!`: \
             `#[protect(provider = \"{name}\")]` accepts its tokens."
        );
        let bearer = is_bearer[i].then(|| {
            let stmts = of(&p.settings, Target::Bearer).map(|c| apply(krate, c, Some(&name)));
            quote! {
                /// The provider's bearer-token configuration, with its `env(...)` values
                /// read now.
                #[allow(unused_mut)]
                pub fn builder() -> ::core::result::Result<#krate::ProviderBuilder, #krate::ConfigError> {
                    let mut __b = #krate::Provider::builder(#name);
                    #(#stmts)*
                    ::core::result::Result::Ok(__b)
                }
            }
        });
        let login = is_login[i].then(|| {
            let stmts = of(&p.settings, Target::Login).map(|c| apply(krate, c, Some(&name)));
            quote! {
                /// The provider's browser-login configuration, with its `env(...)`
                /// values read now.
                #[allow(unused_mut)]
                pub fn login_builder() -> ::core::result::Result<#krate::login::LoginProviderBuilder, #krate::ConfigError> {
                    let mut __b = #krate::login::LoginProvider::builder(#name);
                    #(#stmts)*
                    ::core::result::Result::Ok(__b)
                }
            }
        });
        quote! {
            #[doc = #doc]
            #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
            pub struct #ty;

            impl #ty {
                /// The provider's name, as `#[protect(provider = "...")]` writes it.
                pub const NAME: &'static ::core::primitive::str = #name;
                #bearer
                #login
            }
        }
    });

    let providers_doc = format!(
        " The identity providers declared in `providers!`: {}.\n\n \
         `Providers::load()?` reads the configuration and starts loading keys; \
         `.layer(providers.layer())` on the router lets `#[protect]` handlers use them.",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let registry_arms = names.iter().map(|name| {
        quote! { (($($krate:tt)*) #name) => {}; }
    });

    let bearer_types: Vec<&Ident> = types
        .iter()
        .zip(&is_bearer)
        .filter(|(_, b)| **b)
        .map(|(t, _)| t)
        .collect();
    let login_types: Vec<&Ident> = types
        .iter()
        .zip(&is_login)
        .filter(|(_, b)| **b)
        .map(|(t, _)| t)
        .collect();

    let mut fields = Vec::new();
    let mut field_names = Vec::new();
    let mut params = Vec::new();
    let mut inits = Vec::new();
    let mut loads = Vec::new();
    let mut methods = Vec::new();
    if any_bearer {
        let app_stmts = of(&config.settings, Target::Bearer).map(|c| apply(krate, c, None));
        fields.push(quote!(authenticator: #krate::Authenticator));
        field_names.push(quote!(authenticator));
        params.push(quote!(bearer: #krate::AuthenticatorBuilder));
        inits.push(quote!(let authenticator = bearer.build()?;));
        loads.push(quote!(Self::builder()?));
        methods.push(quote! {
            /// The bearer-token configuration of every provider with an `audience` and
            /// the app-wide settings, with `env(...)` values read now; add what the
            /// macro does not set (an error handler, say), then pass it to
            /// [`build`](Self::build).
            #[allow(unused_mut)]
            pub fn builder() -> ::core::result::Result<#krate::AuthenticatorBuilder, #krate::ConfigError> {
                let mut __b = #krate::Authenticator::builder();
                #( __b = __b.provider(#bearer_types::builder()?); )*
                #(#app_stmts)*
                ::core::result::Result::Ok(__b)
            }

            /// The runtime state of bearer tokens: key caches and validation.
            pub fn authenticator(&self) -> &#krate::Authenticator {
                &self.authenticator
            }

            /// A layer that requires a valid token on every path except the
            /// `public_paths` and `public_prefixes`, and also serves `#[protect]`.
            pub fn require_everywhere(&self) -> #krate::AuthLayer {
                self.authenticator.layer()
            }

            /// Waits until every provider's keys are loaded.
            pub async fn ready(&self) {
                self.authenticator.ready().await;
            }
        });
    }
    if any_login {
        let app_stmts = of(&config.settings, Target::Login).map(|c| apply(krate, c, None));
        fields.push(quote!(login: #krate::login::Login));
        field_names.push(quote!(login));
        params.push(quote!(login: #krate::login::LoginBuilder));
        // With bearer providers too, login shares their key registry: a provider used
        // for both then has one discovery document and one key cache.
        let login_builder = if any_bearer {
            quote!(login.registry(::core::clone::Clone::clone(authenticator.registry())))
        } else {
            quote!(login)
        };
        inits.push(quote!(let login = #login_builder.build()?;));
        loads.push(quote!(Self::login_builder()?));
        methods.push(quote! {
            /// The browser-login configuration of every provider with a `client_id`
            /// and the app-wide login settings, with `env(...)` values read now; add
            /// what the macro does not set (a store that needs `.await` to connect,
            /// say), then pass it to [`build`](Self::build).
            #[allow(unused_mut)]
            pub fn login_builder() -> ::core::result::Result<#krate::login::LoginBuilder, #krate::ConfigError> {
                let mut __b = #krate::login::Login::builder();
                #( __b = __b.provider(#login_types::login_builder()?); )*
                #(#app_stmts)*
                ::core::result::Result::Ok(__b)
            }

            /// The browser-login state: providers, sessions, hook.
            pub fn login(&self) -> &#krate::login::Login {
                &self.login
            }

            /// The login routes (`{prefix}/{provider}/login`, `.../callback`,
            /// `{prefix}/logout`, `{prefix}/userinfo`): merge them into the app's router.
            pub fn router<S>(&self) -> #krate::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                self.login.router()
            }
        });
    }
    let (layer_type, layer_value) = match (any_bearer, any_login) {
        (true, true) => (
            quote!((#krate::__private::axum::Extension<#krate::Authenticator>, #krate::login::SessionLayer)),
            quote!((self.authenticator.extension(), self.login.layer())),
        ),
        (false, true) => (
            quote!(#krate::login::SessionLayer),
            quote!(self.login.layer()),
        ),
        _ => (
            quote!(#krate::__private::axum::Extension<#krate::Authenticator>),
            quote!(self.authenticator.extension()),
        ),
    };
    let from_authenticator = (any_bearer && !any_login).then(|| {
        quote! {
            impl ::core::convert::From<#krate::Authenticator> for Providers {
                fn from(authenticator: #krate::Authenticator) -> Self {
                    Self { authenticator }
                }
            }
        }
    });

    quote! {
        #[doc = #providers_doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        pub struct Providers {
            #(#fields,)*
        }

        #(#provider_items)*

        impl Providers {
            /// The names of the declared providers.
            pub const NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];

            #(#methods)*

            /// Builds the runtime state from the configuration builders and starts
            /// loading keys in the background. Call it inside a Tokio runtime.
            pub fn build(#(#params),*) -> ::core::result::Result<Self, #krate::ConfigError> {
                #(#inits)*
                ::core::result::Result::Ok(Self { #(#field_names),* })
            }

            /// Reads the configuration and starts loading every provider's keys in the
            /// background. Call it inside a Tokio runtime.
            pub fn load() -> ::core::result::Result<Self, #krate::ConfigError> {
                Self::build(#(#loads),*)
            }

            /// The layer that lets `#[protect]` handlers and the extractors on this
            /// router validate tokens and read login sessions. Routes without
            /// `#[protect]` stay open.
            pub fn layer(&self) -> #layer_type {
                #layer_value
            }
        }

        #from_authenticator

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __oauth2_providers {
            #(#registry_arms)*
            (($($krate:tt)*) $other:tt) => {
                $($krate)*::__private::unknown_provider! { $other [#(#names),*] }
            };
        }
    }
}

/// `google` → `Google`, `my_idp` → `MyIdp`.
fn type_name(name: &Ident) -> Ident {
    let camel: String = name
        .to_string()
        .split('_')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let mut c = s.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    format_ident!("{}", camel, span = name.span())
}

/// Statements that apply one setting to the builder `__b`.
fn apply(krate: &TokenStream, checked: &Checked, provider: Option<&str>) -> TokenStream {
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
        Value::Strings(lits) => match lits.as_slice() {
            [one] if key.target != Target::Login => quote!(__b = __b.#method(#one);),
            many => quote!(__b = __b.#method([#(#many),*]);),
        },
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
