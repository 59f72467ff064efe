//! Generates a hidden guard type for the handler and rewrites the handler so that a
//! `Protected<Guard>` extractor, placed first, does the checks and yields the claims.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, ItemFn, LitStr, Pat, Token};

use super::attr::Args;

pub(crate) fn expand(args: &Args, mut func: ItemFn, claims_param: Option<usize>) -> TokenStream {
    let krate = args
        .krate
        .clone()
        .unwrap_or_else(crate::runtime_path::runtime_path);
    let vis = func.vis.clone();
    let guard = format_ident!("__oauth2_guard_{}", func.sig.ident);

    let checks = compile_time_checks(&krate, args);
    let providers = &args.providers;
    let scopes = &args.scopes;
    let step_up = step_up(&krate, args);
    let dpop = args
        .dpop
        .as_ref()
        .map(|dpop| quote_spanned!(dpop.span()=> const DPOP: ::core::primitive::bool = true;));

    let mut inputs: Vec<FnArg> = func.sig.inputs.iter().cloned().collect();
    let claims_pat: Option<Pat> = claims_param.map(|i| match inputs.remove(i) {
        FnArg::Typed(t) => *t.pat,
        FnArg::Receiver(_) => unreachable!("methods are rejected"),
    });
    let claims_ty = match &args.claims {
        Some(ty) => quote!(#ty),
        None => quote!(#krate::Authenticated),
    };

    let require = args.require.as_ref().map(|(_, condition)| {
        let pat = claims_pat.as_ref().map_or_else(|| quote!(_), without_mut);
        quote! {
            #[allow(unused_variables, clippy::needless_borrow)]
            fn require(#pat: &#claims_ty) -> ::core::primitive::bool {
                #condition
            }
        }
    });

    let protected = match &args.session {
        Some(session) => {
            quote_spanned!(session.span()=> #krate::login::SessionProtected<#guard, #claims_ty>)
        }
        None => quote!(#krate::guard::Protected<#guard, #claims_ty>),
    };
    rewrite_handler(&mut func, inputs, claims_pat.as_ref(), &protected, args);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #guard;

        const _: () = { #checks };

        impl #krate::guard::Guard<#claims_ty> for #guard {
            const PROVIDERS: &'static [&'static ::core::primitive::str] = &[#(#providers),*];
            const SCOPES: &'static [&'static ::core::primitive::str] = &[#(#scopes),*];
            #step_up
            #dpop
            #require
        }

        #func
    }
}

/// `Guard::STEP_UP` from `acr` and `max_age`, when either is given.
fn step_up(krate: &TokenStream, args: &Args) -> Option<TokenStream> {
    if args.acr.is_empty() && args.max_age.is_none() {
        return None;
    }
    let acr = &args.acr;
    let max_age = match args.max_age {
        Some(secs) => {
            quote!(::core::option::Option::Some(::core::time::Duration::from_secs(#secs)))
        }
        None => quote!(::core::option::Option::None),
    };
    Some(quote! {
        const STEP_UP: #krate::validation::StepUp<'static> = #krate::validation::StepUp {
            acr_values: &[#(#acr),*],
            max_age: #max_age,
        };
    })
}

/// What the compiler checks where the user wrote it: each provider name against the
/// registry `providers!` generated (an unknown one is an error on its literal), and the
/// claims type's `FromClaims` on the type (so "does not implement" points at it).
fn compile_time_checks(krate: &TokenStream, args: &Args) -> TokenStream {
    let names = args.providers.iter().map(|name| {
        let registry = Ident::new("__oauth2_providers", name.span());
        let name = LitStr::new(&name.value(), name.span());
        // A session route's provider must have a browser login.
        let session = args
            .session
            .as_ref()
            .map(|_| Ident::new("session", name.span()));
        quote_spanned!(name.span()=> #registry! { (#krate) #session #name })
    });
    // A route's scopes must be among those the resource metadata lists (when the app
    // declares a resource): checked by the same registry, where the user wrote them.
    let scopes = (args.session.is_none() && !args.providers.is_empty())
        .then(|| {
            args.scopes.iter().map(|scope| {
                let registry = Ident::new("__oauth2_providers", scope.span());
                quote_spanned!(scope.span()=> #registry! { (#krate) scope #scope })
            })
        })
        .into_iter()
        .flatten();
    let claims = args.claims.as_ref().map(|ty| {
        let check = quote_spanned!(ty.span()=> __oauth2_check::<#ty>);
        quote! {
            fn __oauth2_check<T: #krate::FromClaims + ::core::marker::Send>() {}
            let _ = #check;
        }
    });
    quote!(#(#names)* #(#scopes)* #claims)
}

/// The handler takes the guard first (so the token is checked before the body is
/// read) and binds the claims parameter from it.
fn rewrite_handler(
    func: &mut ItemFn,
    mut inputs: Vec<FnArg>,
    claims_pat: Option<&Pat>,
    protected: &TokenStream,
    args: &Args,
) {
    let (guard_param, bind): (FnArg, Option<syn::Stmt>) = match (claims_pat, &args.optional) {
        (None, _) => (syn::parse_quote!(_: #protected), None),
        (Some(pat), None) => (
            syn::parse_quote!(__oauth2_guard: #protected),
            Some(syn::parse_quote!(let #pat = __oauth2_guard.0;)),
        ),
        (Some(pat), Some(_)) => (
            syn::parse_quote!(__oauth2_guard: ::core::option::Option<#protected>),
            Some(syn::parse_quote!(
                let #pat = ::core::option::Option::map(__oauth2_guard, |g| g.0);
            )),
        ),
    };
    inputs.insert(0, guard_param);
    func.sig.inputs = inputs.into_iter().collect::<Punctuated<FnArg, Token![,]>>();
    // The binding goes first in the user's own block, not in a block around it: an
    // extra block would make a one-expression body `{ Json(user.sub) }` an "unnecessary
    // braces" warning at the user's braces (and `cargo clippy --fix` would then break it).
    if let Some(bind) = bind {
        func.block.stmts.insert(0, bind);
    }
}

/// The pattern without `mut` bindings: the condition only reads the claims.
fn without_mut(pat: &Pat) -> TokenStream {
    match pat {
        Pat::Ident(ident) => {
            let mut ident = ident.clone();
            ident.mutability = None;
            quote!(#ident)
        }
        other => quote!(#other),
    }
}
