//! `#[protect]` above `#[utoipa::path(...)]`: the path's OpenAPI `security` comes from
//! the guard. Without one, `#[protect]` writes it; with one, it must say the same, or the
//! handler does not compile.
//!
//! The requirement of a bearer route is one alternative per provider, each with the
//! route's scopes (`("google" = ["items:read"]), ("corp" = ["items:read"])`); of a
//! session route, the `session` scheme with the scopes; `optional` adds the empty
//! alternative `()`. The scheme names are the ones `oauth2::openapi` declares.

use std::collections::BTreeSet;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, LitStr, Meta};

use super::attr::Args;
use crate::ctxt::Ctxt;

/// The name of the session scheme (`oauth2::openapi::SESSION_SCHEME`).
const SESSION_SCHEME: &str = "session";

/// One alternative: scheme names, each with its sorted scopes.
type Alternative = Vec<(String, Vec<String>)>;

/// Fills in or checks the `security` of the handler's `#[utoipa::path]`, if it has one.
pub(crate) fn apply(cx: &mut Ctxt, args: &Args, func: &mut ItemFn) {
    let Some(attr) = func.attrs.iter_mut().find(|a| is_utoipa_path(a)) else {
        return;
    };
    let Meta::List(list) = &mut attr.meta else {
        return; // utoipa reports a `#[utoipa::path]` without arguments itself.
    };
    let expected = requirement(args);
    let items = split_top_level(list.tokens.clone());
    match items.iter().find(|item| is_security(item)) {
        None => {
            let alternatives = expected.iter().map(alternative_tokens);
            let tokens = &list.tokens;
            let comma = (!tokens.is_empty()).then(|| quote!(,));
            list.tokens = quote!(#tokens #comma security(#(#alternatives),*));
        }
        Some(item) => {
            let span = item
                .iter()
                .next()
                .map_or_else(|| list.span(), TokenTree::span);
            match parse_security(item) {
                Err(e) => cx.push(e),
                Ok(written) if written == expected => {}
                Ok(written) => cx.push(syn::Error::new(
                    span,
                    format!(
                        "this OpenAPI security disagrees with #[protect]: it says {}, the guard \
                         requires {}\nleave `security` out and #[protect] writes it",
                        describe(&written),
                        describe(&expected),
                    ),
                )),
            }
        }
    }
}

/// `#[utoipa::path(...)]` (a bare `#[path]` would be the built-in attribute).
fn is_utoipa_path(attr: &Attribute) -> bool {
    let names: Vec<String> = attr
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    names == ["utoipa", "path"]
}

/// What the guard accepts, as the set of OpenAPI alternatives.
fn requirement(args: &Args) -> BTreeSet<Alternative> {
    let mut scopes: Vec<String> = args.scopes.iter().map(LitStr::value).collect();
    scopes.sort();
    scopes.dedup();
    let mut out = BTreeSet::new();
    if args.session.is_some() {
        out.insert(vec![(SESSION_SCHEME.to_owned(), scopes)]);
    } else {
        for provider in &args.providers {
            out.insert(vec![(provider.value(), scopes.clone())]);
        }
    }
    if args.optional.is_some() {
        out.insert(Vec::new());
    }
    out
}

fn alternative_tokens(alternative: &Alternative) -> TokenStream {
    let entries = alternative
        .iter()
        .map(|(name, scopes)| quote!(#name = [#(#scopes),*]));
    quote!((#(#entries),*))
}

/// The comma-separated items of an attribute's arguments.
fn split_top_level(tokens: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut items = vec![Vec::new()];
    for tt in tokens {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' => items.push(Vec::new()),
            _ => items.last_mut().expect("never empty").push(tt),
        }
    }
    items.retain(|item| !item.is_empty());
    items
}

fn is_security(item: &[TokenTree]) -> bool {
    matches!(item, [TokenTree::Ident(i), TokenTree::Group(_)] if i == "security")
}

/// `security((), ("a" = ["x", "y"], "b" = []))` as a set of alternatives.
fn parse_security(item: &[TokenTree]) -> syn::Result<BTreeSet<Alternative>> {
    let [_, TokenTree::Group(group)] = item else {
        unreachable!("checked by is_security");
    };
    let mut out = BTreeSet::new();
    for alternative in split_top_level(group.stream()) {
        let unreadable = || {
            syn::Error::new(
                alternative[0].span(),
                "#[protect] reads `security` alternatives written as `(\"name\" = [\"scope\", ...])` \
                 or `()`; leave `security` out and #[protect] writes it",
            )
        };
        let [TokenTree::Group(g)] = &alternative[..] else {
            return Err(unreadable());
        };
        if g.delimiter() != Delimiter::Parenthesis {
            return Err(unreadable());
        }
        let mut entries = Alternative::new();
        for entry in split_top_level(g.stream()) {
            let name_eq_scopes =
                syn::parse2::<NameScopes>(entry.into_iter().collect()).map_err(|_| unreadable())?;
            entries.push((name_eq_scopes.name, name_eq_scopes.scopes));
        }
        entries.sort();
        out.insert(entries);
    }
    Ok(out)
}

/// `"name" = ["scope", ...]`, scopes sorted.
struct NameScopes {
    name: String,
    scopes: Vec<String>,
}

impl syn::parse::Parse for NameScopes {
    fn parse(input: syn::parse::ParseStream<'_>) -> syn::Result<Self> {
        let name: LitStr = input.parse()?;
        input.parse::<syn::Token![=]>()?;
        let list;
        syn::bracketed!(list in input);
        let scopes =
            syn::punctuated::Punctuated::<LitStr, syn::Token![,]>::parse_terminated(&list)?;
        let mut scopes: Vec<String> = scopes.iter().map(LitStr::value).collect();
        scopes.sort();
        scopes.dedup();
        Ok(Self {
            name: name.value(),
            scopes,
        })
    }
}

/// `("google" = ["a"]) or ()`, for messages.
fn describe(alternatives: &BTreeSet<Alternative>) -> String {
    if alternatives.is_empty() {
        return "no security".into();
    }
    alternatives
        .iter()
        .map(|alt| {
            let entries: Vec<String> = alt
                .iter()
                .map(|(name, scopes)| {
                    let scopes: Vec<String> = scopes.iter().map(|s| format!("{s:?}")).collect();
                    format!("{name:?} = [{}]", scopes.join(", "))
                })
                .collect();
            format!("({})", entries.join(", "))
        })
        .collect::<Vec<_>>()
        .join(" or ")
}
