//! Generates the code for checked `providers!` input: one type per provider, the
//! `Providers` type that holds the runtime state, and the `__oauth2_providers!` registry
//! through which `#[protect]` checks provider names at compile time.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, LitStr};

use super::apply::apply;
use super::keys::{BROKER, Target};
use super::valid::{Checked, Config, Provider, Value};

/// The settings of `target` (keys for both targets count for each).
fn of(settings: &[Checked], target: Target) -> impl Iterator<Item = &Checked> {
    settings
        .iter()
        .filter(move |c| c.key.target == target || c.key.target == Target::Both)
}

fn has(settings: &[Checked], keys: &[&str]) -> bool {
    settings.iter().any(|c| keys.contains(&c.key.name))
}

/// One declared provider, as the generated code sees it.
struct Declared<'a> {
    provider: &'a Provider,
    name: String,
    ty: Ident,
    /// It has an `audience`: it accepts bearer tokens.
    bearer: bool,
    /// It has a `client_id`: it logs browsers in.
    login: bool,
}

pub(crate) fn expand(krate: &TokenStream, config: &Config) -> TokenStream {
    let declared: Vec<Declared<'_>> = config
        .providers
        .iter()
        .map(|p| Declared {
            provider: p,
            name: p.name.to_string(),
            ty: type_name(&p.name),
            bearer: has(&p.settings, &["audience", "danger_accept_any_audience"]),
            login: has(&p.settings, &["client_id"]),
        })
        .collect();
    let mut names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
    if config.broker.is_some() {
        names.push(BROKER);
    }
    let provider_items = declared.iter().map(|d| provider_item(krate, d));
    let broker = config.broker.as_ref().map(|b| broker_item(krate, b));
    let providers = providers_type(krate, config, &declared);
    let logins: Vec<&str> = declared
        .iter()
        .filter(|d| d.login)
        .map(|d| d.name.as_str())
        .collect();
    let registry = registry(&names, &logins, declared_scopes(config).as_deref());
    quote! {
        #providers
        #(#provider_items)*
        #broker
        #registry
    }
}

/// The unit type `Broker` of the `broker` block, with `NAME` and its builder.
fn broker_item(krate: &TokenStream, b: &Provider) -> TokenStream {
    let ty = type_name(&b.name);
    let stmts = b.settings.iter().map(|c| apply(krate, c, Some(BROKER)));
    quote! {
        /// The app as an issuer of its own tokens, declared in `providers!`:
        /// `#[protect(provider = "broker")]` accepts its access tokens (and its trusted
        /// issuers').
        #[derive(::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::default::Default)]
        pub struct #ty;

        impl #ty {
            /// The provider's name, as `#[protect(provider = "...")]` writes it.
            pub const NAME: &'static ::core::primitive::str = #BROKER;

            /// The broker's configuration, with its `env(...)` values read now.
            #[allow(unused_mut)]
            pub fn broker_builder() -> ::core::result::Result<#krate::issuer::BrokerBuilder, #krate::ConfigError> {
                let mut __b = #krate::issuer::Broker::builder();
                #(#stmts)*
                ::core::result::Result::Ok(__b)
            }
        }
    }
}

/// The unit type of one provider (`google` → `Google`) with `NAME` and its builders.
fn provider_item(krate: &TokenStream, d: &Declared<'_>) -> TokenStream {
    let Declared { ty, name, .. } = d;
    let settings = &d.provider.settings;
    let doc = format!(
        " The `{name}` identity provider declared in `providers!`: \
         `#[protect(provider = \"{name}\")]` accepts its tokens."
    );
    let bearer = d.bearer.then(|| {
        let stmts = of(settings, Target::Bearer).map(|c| apply(krate, c, Some(name)));
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
    let login = d.login.then(|| {
        let stmts = of(settings, Target::Login).map(|c| apply(krate, c, Some(name)));
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
}

/// The parts of `Providers` that one side (bearer or login) adds: the parameter of
/// `build`, the builder call on the `App`, what `load` passes, and the side's methods.
#[derive(Default)]
struct Side {
    params: Vec<TokenStream>,
    app_calls: Vec<TokenStream>,
    loads: Vec<TokenStream>,
    methods: Vec<TokenStream>,
}

/// The bearer side: the `Authenticator` of every provider with an `audience` (and of
/// the broker's tokens, which the runtime's `App` adds).
fn bearer_side(krate: &TokenStream, config: &Config, types: &[&Ident], side: &mut Side) {
    let app_stmts = of(&config.settings, Target::Bearer).map(|c| apply(krate, c, None));
    // The `mcp` block: its rules, built in a block of their own (the statements name
    // the builder `__b`, as every setting does).
    let mcp = config.mcp.as_ref().map(|m| {
        let stmts = m.settings.iter().map(|c| apply(krate, c, None));
        quote! {
            __b = __b.mcp({
                let mut __b = #krate::mcp::McpScopes::new();
                #(#stmts)*
                __b
            });
        }
    });
    side.params
        .push(quote!(bearer: #krate::AuthenticatorBuilder));
    side.app_calls.push(quote!(.bearer(bearer)));
    side.loads.push(quote!(Self::builder()?));
    side.methods.push(quote! {
        /// The bearer-token configuration of every provider with an `audience` and
        /// the app-wide settings, with `env(...)` values read now; add what the
        /// macro does not set (an error handler, say), then pass it to
        /// [`build`](Self::build).
        #[allow(unused_mut)]
        pub fn builder() -> ::core::result::Result<#krate::AuthenticatorBuilder, #krate::ConfigError> {
            let mut __b = #krate::Authenticator::builder();
            #( __b = __b.provider(#types::builder()?); )*
            #(#app_stmts)*
            #mcp
            ::core::result::Result::Ok(__b)
        }

        /// The runtime state of bearer tokens: key caches and validation.
        pub fn authenticator(&self) -> &#krate::Authenticator {
            self.app.authenticator()
        }

        /// A layer that requires a valid token on every path except the
        /// `public_paths` and `public_prefixes`, and also serves `#[protect]`.
        pub fn require_everywhere(&self) -> #krate::AuthLayer {
            self.app.require_everywhere()
        }

        /// Waits until every provider's keys are loaded.
        pub async fn ready(&self) {
            self.app.ready().await;
        }
    });
}

/// The login side: the `Login` of every provider with a `client_id`.
fn login_side(krate: &TokenStream, config: &Config, types: &[&Ident], side: &mut Side) {
    let app_stmts = of(&config.settings, Target::Login).map(|c| apply(krate, c, None));
    let broker = config.broker.as_ref().map(|b| {
        let ty = type_name(&b.name);
        quote!(__b = __b.broker(#ty::broker_builder()?);)
    });
    side.params.push(quote!(login: #krate::login::LoginBuilder));
    side.app_calls.push(quote!(.login(login)));
    side.loads.push(quote!(Self::login_builder()?));
    side.methods.push(quote! {
        /// The browser-login configuration of every provider with a `client_id`
        /// and the app-wide login settings, with `env(...)` values read now; add
        /// what the macro does not set (a store that needs `.await` to connect,
        /// say), then pass it to [`build`](Self::build).
        #[allow(unused_mut)]
        pub fn login_builder() -> ::core::result::Result<#krate::login::LoginBuilder, #krate::ConfigError> {
            let mut __b = #krate::login::Login::builder();
            #( __b = __b.provider(#types::login_builder()?); )*
            #(#app_stmts)*
            #broker
            ::core::result::Result::Ok(__b)
        }

        /// The browser-login state: providers, sessions, hook.
        pub fn login(&self) -> &#krate::login::Login {
            self.app.login()
        }
    });
}

/// `Providers`: a typed wrapper over the runtime's `App`, with `load`, `build`, `layer`
/// and each side's methods. The runtime decides the build order and the sharing; the
/// wrapper only says which sides were declared.
fn providers_type(krate: &TokenStream, config: &Config, declared: &[Declared<'_>]) -> TokenStream {
    let mut names: Vec<&str> = declared.iter().map(|d| d.name.as_str()).collect();
    if config.broker.is_some() {
        names.push(BROKER);
    }
    let bearer_types: Vec<&Ident> = declared
        .iter()
        .filter(|d| d.bearer)
        .map(|d| &d.ty)
        .collect();
    let login_types: Vec<&Ident> = declared.iter().filter(|d| d.login).map(|d| &d.ty).collect();
    let any_bearer = !bearer_types.is_empty() || config.broker.is_some();
    let any_login = !login_types.is_empty();
    let mut side = Side::default();
    if any_bearer {
        bearer_side(krate, config, &bearer_types, &mut side);
    }
    if any_login {
        login_side(krate, config, &login_types, &mut side);
    }
    let Side {
        params,
        app_calls,
        loads,
        methods,
    } = side;
    let app_type = app_type(krate, any_bearer, any_login);
    let layer_type = layer_type(krate, any_bearer, any_login);
    let from_authenticator = (any_bearer && !any_login).then(|| {
        quote! {
            impl ::core::convert::From<#krate::Authenticator> for Providers {
                fn from(authenticator: #krate::Authenticator) -> Self {
                    Self { app: ::core::convert::From::from(authenticator) }
                }
            }
        }
    });
    let doc = format!(
        " The identity providers declared in `providers!`: {}.\n\n \
         `Providers::load()?` reads the configuration and starts loading keys; \
         `.layer(providers.layer())` on the router lets `#[protect]` handlers use them.",
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    quote! {
        #[doc = #doc]
        #[derive(::core::clone::Clone, ::core::fmt::Debug)]
        pub struct Providers {
            app: #app_type,
        }

        impl Providers {
            /// The names of the declared providers.
            pub const NAMES: &'static [&'static ::core::primitive::str] = &[#(#names),*];

            #(#methods)*

            /// Builds the runtime state from the configuration builders and starts
            /// loading keys in the background. Call it inside a Tokio runtime.
            pub fn build(#(#params),*) -> ::core::result::Result<Self, #krate::ConfigError> {
                let app = #krate::App::builder() #(#app_calls)* .build()?;
                ::core::result::Result::Ok(Self { app })
            }

            /// Reads the configuration and starts loading every provider's keys in the
            /// background. Call it inside a Tokio runtime.
            pub fn load() -> ::core::result::Result<Self, #krate::ConfigError> {
                Self::build(#(#loads),*)
            }

            /// The app's routes: the login routes (`{prefix}/{provider}/login`,
            /// `.../callback`, `{prefix}/logout`, `{prefix}/userinfo`) when a provider
            /// logs browsers in, the protected resource metadata when a `resource` is
            /// declared: merge them into the app's router.
            pub fn router<S>(&self) -> #krate::__private::axum::Router<S>
            where
                S: ::core::clone::Clone + ::core::marker::Send + ::core::marker::Sync + 'static,
            {
                self.app.router()
            }

            /// The runtime's app: both sides over one key registry.
            pub fn app(&self) -> &#app_type {
                &self.app
            }

            /// The layer that lets `#[protect]` handlers and the extractors on this
            /// router validate tokens and read login sessions. Routes without
            /// `#[protect]` stay open.
            pub fn layer(&self) -> #layer_type {
                self.app.layer()
            }

            #krate::__private::with_utoipa! {
                /// The OpenAPI security schemes of the declared providers, by name (see
                /// `oauth2::openapi`): add them to a `utoipa` document with
                /// `.apply(&mut doc)`. Fetches the login providers' discovery documents
                /// if not fetched yet.
                pub async fn openapi(&self) -> ::core::result::Result<#krate::openapi::SecuritySchemes, #krate::discovery::DiscoveryError> {
                    self.app.openapi().await
                }
            }
        }

        #from_authenticator
    }
}

/// `App<B, L>` of the declared sides: `B` the `Authenticator` or `()`, `L` the
/// `Login` or `()`.
fn app_type(krate: &TokenStream, bearer: bool, login: bool) -> TokenStream {
    let b = if bearer {
        quote!(#krate::Authenticator)
    } else {
        quote!(())
    };
    let l = if login {
        quote!(#krate::login::Login)
    } else {
        quote!(())
    };
    quote!(#krate::App<#b, #l>)
}

/// The type of `App::layer` for the declared sides: the authenticator as an
/// extension, the session layer, or both.
fn layer_type(krate: &TokenStream, bearer: bool, login: bool) -> TokenStream {
    let extension = quote!(#krate::AuthLayer);
    let session = quote!(#krate::login::SessionLayer);
    match (bearer, login) {
        (true, true) => quote!((#extension, #session)),
        (false, true) => session,
        _ => extension,
    }
}

/// The hidden registry macro: a declared name expands to nothing, any other to
/// `unknown_provider!`, which reports it with the closest declared name. A name after
/// `session` (from `#[protect(session, ...)]`) must have a browser login; any other goes
/// to `session_provider!`, which says why it has none.
fn registry(names: &[&str], logins: &[&str], scopes: Option<&[String]>) -> TokenStream {
    let arms = names
        .iter()
        .map(|name| quote! { (($($krate:tt)*) #name) => {}; });
    // `scope "x"` (from `#[protect(scopes = [...])]`): with a resource whose scopes are
    // all literals, a scope it does not list goes to `unknown_scope!`.
    let scope_arms = match scopes {
        Some(scopes) => quote! {
            #( (($($krate:tt)*) scope #scopes) => {}; )*
            (($($krate:tt)*) scope $other:tt) => {
                $($krate)*::__private::unknown_scope! { $other [#(#scopes),*] }
            };
        },
        None => quote! { (($($krate:tt)*) scope $other:tt) => {}; },
    };
    let login_arms = logins
        .iter()
        .map(|name| quote! { (($($krate:tt)*) session #name) => {}; });
    quote! {
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __oauth2_providers {
            #(#arms)*
            #scope_arms
            #(#login_arms)*
            (($($krate:tt)*) session $other:tt) => {
                $($krate)*::__private::session_provider! { $other [#(#names),*] [#(#logins),*] }
            };
            (($($krate:tt)*) $other:tt) => {
                $($krate)*::__private::unknown_provider! { $other [#(#names),*] }
            };
        }
    }
}

/// The scopes the protected resource metadata will list, when `providers!` declares a
/// `resource` and each of them is a literal: `scopes_supported`, `scope_implies` and
/// the `mcp` rules. `None`: not known at compile time (no resource, or a list read from
/// the environment).
fn declared_scopes(config: &Config) -> Option<Vec<String>> {
    config.settings.iter().find(|c| c.key.name == "resource")?;
    let mcp = config.mcp.iter().flat_map(|m| &m.settings);
    let mut scopes = Vec::new();
    for c in config.settings.iter().chain(mcp) {
        match (c.key.name, &c.value) {
            ("scopes_supported", Value::Strings(lits)) => {
                scopes.extend(lits.iter().map(LitStr::value));
            }
            ("scopes_supported", _) => return None,
            (_, Value::ScopeMap(entries, _)) if c.key.name == "scope_implies" => {
                for (scope, implied) in entries {
                    scopes.push(scope.value());
                    scopes.extend(implied.iter().map(LitStr::value));
                }
            }
            (_, Value::ScopeMap(entries, _)) => {
                scopes.extend(
                    entries
                        .iter()
                        .flat_map(|(_, s)| s.iter().map(LitStr::value)),
                );
            }
            _ => {}
        }
    }
    scopes.sort();
    scopes.dedup();
    Some(scopes)
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
