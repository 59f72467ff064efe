//! The syntax of `providers! { ... }`: top-level settings (`key: value,`) and provider
//! blocks (`name { key: value, ... }`). Values stay expressions here; `valid.rs` decides
//! what each one means for its key.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token, braced};

pub(crate) struct Input {
    pub(crate) settings: Vec<Setting>,
    pub(crate) providers: Vec<ProviderBlock>,
}

pub(crate) struct ProviderBlock {
    pub(crate) name: Ident,
    pub(crate) settings: Vec<Setting>,
}

pub(crate) struct Setting {
    pub(crate) key: Ident,
    pub(crate) value: Expr,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        // The runtime crate's path, passed by the `oauth2::providers!` wrapper (read by
        // `fallback::krate`, which also serves input that does not parse).
        input.parse::<Token![crate]>()?;
        input.parse::<Token![=]>()?;
        while !input.peek(Token![;]) {
            input.parse::<proc_macro2::TokenTree>()?;
        }
        input.parse::<Token![;]>()?;

        let mut settings = Vec::new();
        let mut providers = Vec::new();
        while !input.is_empty() {
            let name: Ident = input.parse().map_err(|e| {
                syn::Error::new(
                    e.span(),
                    "expected a provider block `name { issuer: ..., audience: ... }` or an app-wide setting `key: value,`",
                )
            })?;
            if input.peek(syn::token::Brace) {
                let body;
                braced!(body in input);
                providers.push(ProviderBlock {
                    name,
                    settings: parse_settings(&body)?,
                });
                let _ = input.parse::<Option<Token![,]>>()?;
            } else if input.peek(Token![:]) {
                settings.push(parse_setting(name, input)?);
                if !input.is_empty() {
                    input.parse::<Token![,]>()?;
                }
            } else {
                return Err(input.error(format!(
                    "expected `{{` after provider name `{name}`, or `:` after setting `{name}`"
                )));
            }
        }
        Ok(Self {
            settings,
            providers,
        })
    }
}

fn parse_settings(input: ParseStream<'_>) -> syn::Result<Vec<Setting>> {
    let mut settings = Vec::new();
    while !input.is_empty() {
        let key: Ident = input.parse()?;
        if !input.peek(Token![:]) {
            return Err(input.error(format!("expected `:` after `{key}`")));
        }
        settings.push(parse_setting(key, input)?);
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(settings)
}

fn parse_setting(key: Ident, input: ParseStream<'_>) -> syn::Result<Setting> {
    input.parse::<Token![:]>()?;
    let value = input.parse()?;
    Ok(Setting { key, value })
}
