//! Checks the handler against the arguments: an `async fn`, and a claims parameter
//! whose type agrees with `claims = T` and `optional`.

use quote::ToTokens;
use syn::{FnArg, GenericArgument, ItemFn, Pat, PathArguments, Type};

use super::attr::Args;
use crate::ctxt::Ctxt;

/// Extractor types a handler commonly takes: a parameter of one of these types is not
/// a mistyped claims parameter.
const EXTRACTORS: &[&str] = &[
    "Json",
    "Path",
    "Query",
    "State",
    "Extension",
    "Form",
    "HeaderMap",
    "Method",
    "Uri",
    "Version",
    "Request",
    "Bytes",
    "String",
    "Body",
    "ConnectInfo",
    "WebSocketUpgrade",
    "Multipart",
    "TypedHeader",
    "Host",
    "OriginalUri",
    "MatchedPath",
    "RawQuery",
    "RawForm",
    "RawPathParams",
    "NestedPath",
    "CookieJar",
    "PrivateCookieJar",
    "SignedCookieJar",
    "Parts",
    "Extensions",
    "Claims",
    "Authenticated",
    "Protected",
    "Session",
];

/// Where the claims parameter is, if there is one.
pub(crate) fn check(cx: &mut Ctxt, args: &Args, func: &ItemFn) -> Option<usize> {
    if !check_handler(cx, func) {
        return None;
    }
    if let (Some(dpop), Some(_)) = (&args.dpop, &args.session) {
        cx.error_spanned_by(
            dpop,
            "`dpop` asks for DPoP-bound access tokens, but a `session` route reads the login session, not a token the client sends: remove one",
        );
    }
    let Some(claims) = &args.claims else {
        check_without_claims(cx, args);
        return None;
    };
    claims_parameter(cx, args, claims, func)
}

/// The handler is a free `async fn`; `false` if it is a method (nothing more to check).
fn check_handler(cx: &mut Ctxt, func: &ItemFn) -> bool {
    if func.sig.asyncness.is_none() {
        cx.error_spanned_by(
            func.sig.fn_token,
            "#[protect] goes on an `async fn`: axum handlers are async",
        );
    }
    if let Some(FnArg::Receiver(receiver)) = func.sig.inputs.first() {
        cx.error_spanned_by(
            receiver,
            "#[protect] goes on a free `async fn` handler, not on a method",
        );
        return false;
    }
    true
}

/// Without `claims = T`, `optional` and `require` have nothing to apply to.
fn check_without_claims(cx: &mut Ctxt, args: &Args) {
    if let Some(optional) = &args.optional {
        cx.error_spanned_by(
            optional,
            "`optional` needs `claims = T`: it makes the claims parameter an `Option<T>`",
        );
    }
    if let Some((require, _)) = &args.require {
        cx.error_spanned_by(
            require,
            "`require` needs `claims = T`: it is a condition on the claims parameter",
        );
    }
}

/// The index of the parameter that receives the claims: `T`, or `Option<T>` with
/// `optional`.
fn claims_parameter(cx: &mut Ctxt, args: &Args, claims: &Type, func: &ItemFn) -> Option<usize> {
    let wanted = tokens(claims);
    let params: Vec<(usize, &Pat, &Type)> = func
        .sig
        .inputs
        .iter()
        .enumerate()
        .filter_map(|(i, arg)| match arg {
            FnArg::Typed(t) => Some((i, &*t.pat, &*t.ty)),
            FnArg::Receiver(_) => None,
        })
        .collect();

    let exact: Vec<_> = params
        .iter()
        .filter(|(_, _, ty)| tokens(ty) == wanted)
        .collect();
    let optional: Vec<_> = params
        .iter()
        .filter(|(_, _, ty)| option_inner(ty).is_some_and(|inner| tokens(inner) == wanted))
        .collect();
    if let Some((_, _, ty)) = exact.get(1).or_else(|| optional.get(1)) {
        cx.error_spanned_by(
            ty,
            format!("a second parameter of the claims type `{wanted}`: keep one"),
        );
    }
    match (exact.first(), optional.first(), &args.optional) {
        (Some((i, _, _)), _, None) => Some(*i),
        (_, Some((i, _, _)), Some(_)) => Some(*i),
        (Some((i, _, ty)), _, Some(_)) => {
            cx.error_spanned_by(
                ty,
                format!("with `optional`, the claims parameter is `Option<{wanted}>`: it is `None` for requests without a valid token"),
            );
            Some(*i)
        }
        (None, Some((i, _, ty)), None) => {
            cx.error_spanned_by(
                ty,
                format!("the claims parameter is an `Option<{wanted}>`: add `optional` to `#[protect(...)]` to let requests without a token through, or make it `{wanted}`"),
            );
            Some(*i)
        }
        (None, None, _) => {
            no_claims_parameter(cx, args, claims, &params, &wanted);
            None
        }
    }
}

/// No parameter has the claims type: point at the one that looks meant for it, or at
/// `claims = T`.
fn no_claims_parameter(
    cx: &mut Ctxt,
    args: &Args,
    claims: &Type,
    params: &[(usize, &Pat, &Type)],
    wanted: &str,
) {
    let expected = match args.optional {
        Some(_) => format!("Option<{wanted}>"),
        None => wanted.to_owned(),
    };
    let suspects: Vec<_> = params
        .iter()
        .filter(|(_, pat, ty)| looks_like_claims(pat, ty))
        .collect();
    match suspects.as_slice() {
        [(_, _, ty)] => cx.error_spanned_by(
            ty,
            format!(
                "the claims parameter has type `{}`, but `#[protect]` says `claims = {wanted}`: make them the same",
                tokens(ty)
            ),
        ),
        _ => cx.error_spanned_by(
            claims,
            format!("the handler has no parameter of type `{expected}` to receive the claims: add one, e.g. `user: {expected}`"),
        ),
    }
}

/// The type's tokens without spacing, for comparing types as written.
fn tokens(ty: &Type) -> String {
    ty.to_token_stream().to_string().replace(' ', "")
}

/// `T` of `Option<T>` (any path ending in `Option`).
fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    if last.ident != "Option" {
        return None;
    }
    match &last.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first()? {
            GenericArgument::Type(inner) => Some(inner),
            _ => None,
        },
        _ => None,
    }
}

/// A parameter bound by name whose type is no known extractor: likely the claims.
fn looks_like_claims(pat: &Pat, ty: &Type) -> bool {
    let named = matches!(pat, Pat::Ident(_));
    let ty = option_inner(ty).unwrap_or(ty);
    let Type::Path(path) = ty else { return false };
    let Some(last) = path.path.segments.last() else {
        return false;
    };
    named && !EXTRACTORS.contains(&last.ident.to_string().as_str())
}
