//! `providers! { ... }`: parse (`ast.rs`) → check (`valid.rs`) → generate (`expand.rs`).

mod apply;
mod ast;
mod expand;
mod fallback;
mod keys;
mod valid;

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token, bracketed, punctuated::Punctuated};

use crate::ctxt::Ctxt;
use crate::suggest;

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let krate = fallback::krate(&input);
    let input: ast::Input = match syn::parse2(input) {
        Ok(input) => input,
        // Stand-ins next to the error, so that only the error is reported.
        Err(e) => return crate::ctxt::with_errors(fallback::items(&krate), e),
    };
    let mut cx = Ctxt::new();
    let config = valid::check(&mut cx, input);
    let output = expand::expand(&krate, &config);
    match cx.check() {
        Ok(()) => output,
        // Still emit the items, so uses of `Providers` do not add errors of their own.
        Err(e) => crate::ctxt::with_errors(output, e),
    }
}

/// The input of `unknown_provider!`: the given name and the declared ones.
struct Unknown {
    given: LitStr,
    known: Vec<String>,
}

/// `["a", "b"]`.
fn names(input: ParseStream<'_>) -> syn::Result<Vec<String>> {
    let list;
    bracketed!(list in input);
    let names = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
    Ok(names.iter().map(LitStr::value).collect())
}

impl Parse for Unknown {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Self {
            given: input.parse()?,
            known: names(input)?,
        })
    }
}

/// Reports a scope of `#[protect(scopes = [...])]` that the protected resource metadata
/// would not list: with a `resource`, `scopes_supported` is every scope the app uses.
pub(crate) fn unknown_scope(input: TokenStream) -> TokenStream {
    let Unknown { given, known } = match syn::parse2(input) {
        Ok(unknown) => unknown,
        Err(e) => return e.to_compile_error(),
    };
    let scope = given.value();
    let known = known.iter().map(String::as_str);
    let message = format!(
        "scope `{scope}` is not among the resource's scopes{}
         the protected resource metadata lists {}: add it to `scopes_supported` in `providers!`, so that clients learn they may ask for it",
        suggest::did_you_mean(&scope, known.clone()),
        suggest::list(known),
    );
    syn::Error::new(given.span(), message).to_compile_error()
}

/// The input of `session_provider!`: the name a `#[protect(session)]` gave, the
/// declared names, and those with a browser login.
struct NotLogin {
    unknown: Unknown,
    logins: Vec<String>,
}

impl Parse for NotLogin {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Self {
            unknown: input.parse()?,
            logins: names(input)?,
        })
    }
}

/// Reports the provider of a `#[protect(session, ...)]` that has no browser login: a
/// declared provider without `client_id`, or an undeclared name.
pub(crate) fn session_provider(input: TokenStream) -> TokenStream {
    let NotLogin { unknown, logins } = match syn::parse2(input) {
        Ok(n) => n,
        Err(e) => return e.to_compile_error(),
    };
    let name = unknown.given.value();
    if !unknown.known.contains(&name) {
        return unknown_error(&unknown);
    }
    let logins_text = if logins.is_empty() {
        "no provider declared with `providers!` has one".to_owned()
    } else {
        format!(
            "the providers with a login are {}",
            suggest::list(logins.iter().map(String::as_str))
        )
    };
    let message = format!(
        "provider `{name}` has no browser login, so `#[protect(session)]` cannot use it\n\
         a provider logs browsers in when it has a `client_id` (with the app-wide `base_url` \
         and `session_secret`); {logins_text}"
    );
    syn::Error::new(unknown.given.span(), message).to_compile_error()
}

pub(crate) fn unknown_provider(input: TokenStream) -> TokenStream {
    match syn::parse2(input) {
        Ok(unknown) => unknown_error(&unknown),
        Err(e) => e.to_compile_error(),
    }
}

fn unknown_error(Unknown { given, known }: &Unknown) -> TokenStream {
    let name = given.value();
    let known = known.iter().map(String::as_str);
    let message = format!(
        "unknown provider `{name}`{}\nthe providers declared with `providers!` are {}",
        suggest::did_you_mean(&name, known.clone()),
        suggest::list(known),
    );
    syn::Error::new(given.span(), message).to_compile_error()
}
