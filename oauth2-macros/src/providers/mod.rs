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

impl Parse for Unknown {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let given = input.parse()?;
        let list;
        bracketed!(list in input);
        let known = Punctuated::<LitStr, Token![,]>::parse_terminated(&list)?;
        Ok(Self {
            given,
            known: known.iter().map(LitStr::value).collect(),
        })
    }
}

pub(crate) fn unknown_provider(input: TokenStream) -> TokenStream {
    let Unknown { given, known } = match syn::parse2(input) {
        Ok(u) => u,
        Err(e) => return e.to_compile_error(),
    };
    let name = given.value();
    let known = known.iter().map(String::as_str);
    let message = format!(
        "unknown provider `{name}`{}\nthe providers declared with `providers!` are {}",
        suggest::did_you_mean(&name, known.clone()),
        suggest::list(known),
    );
    syn::Error::new(given.span(), message).to_compile_error()
}
