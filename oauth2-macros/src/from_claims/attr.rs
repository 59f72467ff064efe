//! `#[claim(...)]` on the struct (`crate = "..."`) and on its fields (`rename`, `path`,
//! `default`, `scopes`), parsed with every problem recorded.

use proc_macro2::TokenStream;
use syn::{Attribute, LitStr};

use crate::ctxt::Ctxt;
use crate::suggest;

const FIELD_OPTIONS: &[&str] = &["rename", "path", "default", "scopes"];

/// Where a field's value comes from.
pub(crate) enum Source {
    /// A top-level claim, or a nested one: the path's segments.
    Claim(Vec<String>),
    /// `scope` or `scp`.
    Scopes,
}

pub(crate) struct FieldAttrs {
    pub(crate) source: Source,
    pub(crate) default: bool,
}

pub(crate) fn container(cx: &mut Ctxt, attrs: &[Attribute]) -> Option<TokenStream> {
    let mut krate = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("claim")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let path: LitStr = meta.value()?.parse()?;
                let parsed: syn::Path = path.parse()?;
                krate = Some(quote::quote_spanned!(path.span()=> #parsed));
                Ok(())
            } else {
                Err(meta.error("on the struct, `#[claim(...)]` takes only `crate = \"...\"`"))
            }
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    krate
}

pub(crate) fn field(cx: &mut Ctxt, name: &syn::Ident, attrs: &[Attribute]) -> FieldAttrs {
    let mut rename: Option<LitStr> = None;
    let mut path: Option<LitStr> = None;
    let mut scopes = None;
    let mut default = false;
    for attr in attrs.iter().filter(|a| a.path().is_ident("claim")) {
        let result = attr.parse_nested_meta(|meta| {
            let option = meta
                .path
                .get_ident()
                .map(ToString::to_string)
                .unwrap_or_default();
            match option.as_str() {
                "rename" => rename = Some(non_empty(meta.value()?.parse()?, "rename")?),
                "path" => path = Some(non_empty(meta.value()?.parse()?, "path")?),
                "default" => default = true,
                "scopes" => scopes = Some(meta.path.clone()),
                _ => {
                    return Err(meta.error(format!(
                        "unknown option `{option}` in `#[claim(...)]`{}\nexpected one of {}",
                        suggest::did_you_mean(&option, FIELD_OPTIONS.iter().copied()),
                        suggest::list(FIELD_OPTIONS.iter().copied()),
                    )));
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    let source = match (rename, path, scopes) {
        (Some(rename), Some(_), _) => {
            cx.error_spanned_by(&rename, "give `rename` or `path`, not both: `path = \"a.b\"` names a nested claim, `rename` a top-level one");
            Source::Claim(vec![rename.value()])
        }
        (Some(lit), _, Some(_)) | (_, Some(lit), Some(_)) => {
            cx.error_spanned_by(
                &lit,
                "`scopes` reads `scope` or `scp`: it takes no `rename` or `path`",
            );
            Source::Scopes
        }
        (None, None, Some(_)) => Source::Scopes,
        (Some(rename), None, None) => Source::Claim(vec![rename.value()]),
        (None, Some(path), None) => {
            let segments: Vec<String> = path.value().split('.').map(str::to_owned).collect();
            if segments.iter().any(String::is_empty) {
                cx.error_spanned_by(&path, "a path is claim names joined by dots, e.g. `realm_access.roles`: no name may be empty");
            }
            Source::Claim(segments)
        }
        (None, None, None) => {
            Source::Claim(vec![name.to_string().trim_start_matches("r#").to_owned()])
        }
    };
    FieldAttrs { source, default }
}

fn non_empty(lit: LitStr, option: &str) -> syn::Result<LitStr> {
    if lit.value().is_empty() {
        let what = if option == "path" {
            "an empty `path`: give the claim's path, e.g. `path = \"realm_access.roles\"`"
        } else {
            "an empty `rename`: give the claim's name, e.g. `rename = \"preferred_username\"`"
        };
        return Err(syn::Error::new(lit.span(), what));
    }
    Ok(lit)
}
