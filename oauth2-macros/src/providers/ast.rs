//! The syntax of `providers! { ... }`: top-level settings (`key: value,`) and provider
//! blocks (`name { key: value, ... }`). Values stay expressions (or, in braces, maps of
//! names to expressions) here; `valid.rs` decides what each one means for its key.

use proc_macro2::{Delimiter, Spacing};
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitStr, Token, braced};

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
    pub(crate) value: RawValue,
}

/// A value as written.
pub(crate) enum RawValue {
    Expr(Expr),
    /// `{ name: value, "a/b": value, ... }`: names (identifiers or strings) to values.
    Map(Map),
}

pub(crate) struct Map {
    pub(crate) brace: syn::token::Brace,
    pub(crate) entries: Vec<(LitStr, Expr)>,
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
    let value = if is_map(input) {
        RawValue::Map(parse_map(input)?)
    } else {
        RawValue::Expr(input.parse()?)
    };
    Ok(Setting { key, value })
}

/// Whether a map follows: braces that are empty or start with `name:` or `"name":`
/// (a block expression never starts so; `name::path` is a path).
fn is_map(input: ParseStream<'_>) -> bool {
    let Some((inner, _, _)) = input.cursor().group(Delimiter::Brace) else {
        return false;
    };
    if inner.eof() {
        return true;
    }
    let after_name = inner.ident().map(|(_, rest)| rest).or_else(|| {
        inner
            .literal()
            .filter(|(lit, _)| lit.to_string().starts_with('"'))
            .map(|(_, rest)| rest)
    });
    after_name
        .and_then(|rest| rest.punct())
        .is_some_and(|(p, _)| p.as_char() == ':' && p.spacing() == Spacing::Alone)
}

fn parse_map(input: ParseStream<'_>) -> syn::Result<Map> {
    let body;
    let brace = braced!(body in input);
    let mut entries = Vec::new();
    while !body.is_empty() {
        let name = if body.peek(LitStr) {
            body.parse::<LitStr>()?
        } else {
            let ident: Ident = body.parse().map_err(|e| {
                syn::Error::new(e.span(), "expected a name or a string: `deploy: \"scope\"`")
            })?;
            LitStr::new(&ident.to_string(), ident.span())
        };
        body.parse::<Token![:]>()?;
        entries.push((name, body.parse()?));
        if !body.is_empty() {
            body.parse::<Token![,]>()?;
        }
    }
    Ok(Map { brace, entries })
}
