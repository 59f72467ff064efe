//! `#[protect(...)]`: parse the arguments (`attr.rs`) → check them against the handler
//! (`valid.rs`) → fill in or check its OpenAPI security (`openapi.rs`) → generate the
//! guard and the rewritten handler (`expand.rs`).

mod attr;
mod expand;
mod openapi;
mod valid;

use proc_macro2::TokenStream;
use syn::ItemFn;
use syn::parse::{ParseStream, Parser};

use crate::ctxt::{Ctxt, with_errors};

pub(crate) fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(_) => {
            let e = syn::Error::new_spanned(&item, "#[protect] goes on an `async fn` handler");
            return with_errors(item, e);
        }
    };
    let mut cx = Ctxt::new();
    let parsed = (|input: ParseStream<'_>| Ok(attr::parse(&mut cx, input))).parse2(args);
    let args = match parsed {
        Ok(args) => args,
        Err(e) => {
            cx.push(e);
            let e = cx.check().expect_err("an error was pushed");
            return with_errors(quote::quote!(#func), e);
        }
    };
    let claims_param = valid::check(&mut cx, &args, &func);
    openapi::apply(&mut cx, &args, &mut func);
    match cx.check() {
        Ok(()) => expand::expand(&args, func, claims_param),
        // The handler as written, so the router still finds it; the errors say why.
        Err(e) => with_errors(quote::quote!(#func), e),
    }
}
