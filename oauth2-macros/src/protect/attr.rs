//! The arguments of `#[protect(...)]`, parsed with every problem recorded.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt;
use syn::parse::ParseStream;
use syn::{Expr, Ident, LitInt, LitStr, Token, Type};

use crate::ctxt::{Ctxt, skip_to_comma};
use crate::suggest;

const ARGUMENTS: &[&str] = &[
    "provider", "claims", "scopes", "acr", "max_age", "dpop", "require", "optional", "session",
    "crate",
];

pub(crate) struct Args {
    /// The provider names, each with its span; empty when `provider` is missing.
    pub(crate) providers: Vec<LitStr>,
    pub(crate) claims: Option<Type>,
    pub(crate) scopes: Vec<LitStr>,
    /// Accepted `acr` values (RFC 9470 step-up); empty accepts any.
    pub(crate) acr: Vec<LitStr>,
    /// The longest time since the user authenticated, in seconds.
    pub(crate) max_age: Option<u64>,
    pub(crate) require: Option<(Ident, Expr)>,
    pub(crate) optional: Option<Ident>,
    /// The user comes from the login session instead of a bearer token.
    pub(crate) session: Option<Ident>,
    /// Only DPoP-bound tokens (RFC 9449), with their proofs.
    pub(crate) dpop: Option<Ident>,
    pub(crate) krate: Option<TokenStream>,
}

pub(crate) fn parse(cx: &mut Ctxt, input: ParseStream<'_>) -> Args {
    let mut args = Args {
        providers: Vec::new(),
        claims: None,
        scopes: Vec::new(),
        acr: Vec::new(),
        max_age: None,
        require: None,
        optional: None,
        session: None,
        dpop: None,
        krate: None,
    };
    let mut seen: Vec<String> = Vec::new();
    while !input.is_empty() {
        if let Err(e) = parse_one(cx, input, &mut args, &mut seen) {
            cx.push(e);
            skip_to_comma(input);
        }
        if !input.is_empty()
            && let Err(e) = input.parse::<Token![,]>()
        {
            cx.push(e);
            break;
        }
    }
    if args.providers.is_empty() && !seen.iter().any(|s| s == "provider") {
        cx.push(syn::Error::new(
            Span::call_site(),
            "#[protect] needs a provider: `#[protect(provider = \"name\")]` or `provider = any(\"a\", \"b\")`",
        ));
    }
    args
}

fn parse_one(
    cx: &mut Ctxt,
    input: ParseStream<'_>,
    args: &mut Args,
    seen: &mut Vec<String>,
) -> syn::Result<()> {
    let key = Ident::parse_any(input)?;
    let name = key.to_string();
    if !ARGUMENTS.contains(&name.as_str()) {
        return Err(syn::Error::new(
            key.span(),
            format!(
                "unknown argument `{name}`{}\nexpected one of {}",
                suggest::did_you_mean(&name, ARGUMENTS.iter().copied()),
                suggest::list(ARGUMENTS.iter().copied()),
            ),
        ));
    }
    if seen.contains(&name) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{name}` is given twice"),
        ));
    }
    seen.push(name.clone());
    if matches!(name.as_str(), "optional" | "session" | "dpop") && input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{name}` takes no value: write `{name}` alone, or leave it out"),
        ));
    }
    if name == "optional" {
        args.optional = Some(key);
        return Ok(());
    }
    if name == "session" {
        args.session = Some(key);
        return Ok(());
    }
    if name == "dpop" {
        args.dpop = Some(key);
        return Ok(());
    }
    input
        .parse::<Token![=]>()
        .map_err(|e| syn::Error::new(e.span(), format!("expected `=` after `{name}`")))?;
    match name.as_str() {
        "provider" => args.providers = providers(input)?,
        "claims" => args.claims = Some(input.parse()?),
        "scopes" => args.scopes = words(cx, input, SCOPES)?,
        "acr" => args.acr = words(cx, input, ACR)?,
        "max_age" => args.max_age = max_age(input)?,
        "require" => args.require = Some((key, input.parse()?)),
        "crate" => {
            let path: LitStr = input.parse()?;
            let parsed: syn::Path = path.parse().map_err(|_| {
                syn::Error::new(
                    path.span(),
                    "`crate` takes the path of the runtime crate: `crate = \"my_oauth2\"`",
                )
            })?;
            args.krate = Some(quote::quote_spanned!(path.span()=> #parsed));
        }
        _ => unreachable!("checked against ARGUMENTS"),
    }
    Ok(())
}

fn providers(input: ParseStream<'_>) -> syn::Result<Vec<LitStr>> {
    let usage = "expected a provider name, `provider = \"google\"`, or several, `provider = any(\"google\", \"corp\")`";
    if input.peek(LitStr) {
        return Ok(vec![input.parse()?]);
    }
    let any: Ident = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), usage))?;
    if any != "any" || !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(any.span(), usage));
    }
    let list;
    syn::parenthesized!(list in input);
    let names = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated(&list)?;
    if names.is_empty() {
        // A guard that no token could pass.
        return Err(syn::Error::new(
            any.span(),
            "`any()` names no provider, so no token could pass: name at least one, `any(\"google\")`",
        ));
    }
    names
        .into_iter()
        .map(|e| match e {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Ok(s),
            other => Err(syn::Error::new_spanned(
                other,
                "provider names are string literals: `any(\"google\", \"corp\")`",
            )),
        })
        .collect()
}

/// A list argument of words: its usage, and what one word is.
struct Words {
    usage: &'static str,
    word: &'static str,
    empty: &'static str,
}

const SCOPES: Words = Words {
    usage: "`scopes` takes a list of string literals: `scopes = [\"items:read\", \"items:write\"]`",
    word: "a scope is one non-empty word without spaces: write several scopes as several strings",
    empty: "",
};

const ACR: Words = Words {
    usage: "`acr` takes a list of string literals, the accepted authentication context classes: `acr = [\"urn:example:mfa\"]`",
    word: "an `acr` value is one non-empty word without spaces: write several values as several strings",
    empty: "`acr = []` accepts no authentication context, so no token could pass: name at least one, or leave `acr` out",
};

fn words(cx: &mut Ctxt, input: ParseStream<'_>, kind: Words) -> syn::Result<Vec<LitStr>> {
    let usage = kind.usage;
    if !input.peek(syn::token::Bracket) {
        let value: Expr = input.parse()?;
        return Err(syn::Error::new_spanned(value, usage));
    }
    let list;
    let brackets = syn::bracketed!(list in input);
    let elems = syn::punctuated::Punctuated::<Expr, Token![,]>::parse_terminated(&list)?;
    if elems.is_empty() && !kind.empty.is_empty() {
        return Err(syn::Error::new(brackets.span.join(), kind.empty));
    }
    let mut out = Vec::new();
    for elem in elems {
        match elem {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => {
                let value = s.value();
                if value.is_empty() || value.contains(char::is_whitespace) {
                    cx.error_spanned_by(&s, kind.word);
                } else {
                    out.push(s);
                }
            }
            other => cx.error_spanned_by(other, usage),
        }
    }
    Ok(out)
}

/// `max_age = 5m`: a duration in whole seconds, as OpenID Connect's `max_age` is.
fn max_age(input: ParseStream<'_>) -> syn::Result<Option<u64>> {
    let usage = "`max_age` takes a duration with a unit, the longest time since the user logged in: `max_age = 5m`";
    if !input.peek(LitInt) {
        let value: Expr = input.parse()?;
        return Err(syn::Error::new_spanned(value, usage));
    }
    let lit: LitInt = input.parse()?;
    let unit = lit.suffix();
    if unit.is_empty() {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`max_age` needs a unit: write `{}s` (units: `s`, `m`, `h`)",
                lit.base10_digits()
            ),
        ));
    }
    let Some(value) = oauth2_syntax::parse_duration(&format!("{}{unit}", lit.base10_digits()))
    else {
        return Err(syn::Error::new(lit.span(), usage));
    };
    if let Some(problem) = oauth2_syntax::duration_problem(value, true) {
        return Err(syn::Error::new(lit.span(), format!("`max_age` {problem}")));
    }
    if value.subsec_millis() != 0 {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`max_age` is in whole seconds, as OpenID Connect's `max_age` is: write `{}s`",
                value.as_secs() + 1
            ),
        ));
    }
    Ok(Some(value.as_secs()))
}
