//! One value, checked for its key's [`Kind`]: literals, lists, durations, URLs,
//! names of a fixed set, and `env(...)` calls.

use oauth2_syntax::{duration_problem, parse_duration, url_problem};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitInt, LitStr};

use super::super::ast::Map;
use super::super::keys::{ALGORITHMS, Choice, Key, Kind, UrlUse};
use crate::ctxt::Ctxt;
use crate::suggest;

/// A value, understood for its key.
pub(crate) enum Value {
    /// `env("VAR")` and its forms: read when the configuration is loaded.
    Env { var: LitStr, mode: EnvMode },
    /// A checked literal (string, bool, number).
    Lit(Lit),
    /// String literals of a list key.
    Strings(Vec<LitStr>),
    /// Checked algorithm names.
    Algorithms(Vec<Ident>),
    /// A duration literal, in milliseconds.
    Duration(u64, Span),
    /// Two duration literals.
    DurationPair(u64, u64, Span),
    /// Any other Rust expression: its type is checked by the compiler.
    Expr(Expr),
    /// A checked name of a fixed set, and the set.
    Choice(Ident, &'static Choice),
    /// Names and their scopes.
    ScopeMap(Vec<(LitStr, Vec<LitStr>)>, Span),
}

pub(crate) enum EnvMode {
    Required,
    Default(String),
    Optional,
}

pub(super) fn value_span(value: &Value) -> Span {
    match value {
        Value::Env { var, .. } => var.span(),
        Value::Lit(lit) => lit.span(),
        Value::Strings(lits) => lits.first().map_or_else(Span::call_site, LitStr::span),
        Value::Algorithms(ids) => ids.first().map_or_else(Span::call_site, Ident::span),
        Value::Duration(_, span) | Value::DurationPair(_, _, span) => *span,
        Value::Expr(e) => e.span(),
        Value::Choice(i, _) => i.span(),
        Value::ScopeMap(_, span) => *span,
    }
}

/// A map for a key that takes one: each name given once, each value a scope or a list
/// of scopes, as string literals.
pub(super) fn check_map(cx: &mut Ctxt, key: &Key, map: Map) -> Option<Value> {
    let name = key.name;
    let mut out: Vec<(LitStr, Vec<LitStr>)> = Vec::new();
    for (entry, value) in map.entries {
        if entry.value().trim().is_empty() {
            cx.error_spanned_by(&entry, format!("a name in `{name}` is empty"));
            continue;
        }
        if out.iter().any(|(seen, _)| seen.value() == entry.value()) {
            cx.error_spanned_by(
                &entry,
                format!("`{}` is given twice in `{name}`", entry.value()),
            );
            continue;
        }
        let scopes = match &value {
            Expr::Array(array) => array.elems.iter().map(lit_str).collect(),
            other => lit_str(other).map(|s| vec![s]),
        };
        match scopes {
            Some(scopes) if scopes.iter().all(|s| is_scope(&s.value())) => {
                out.push((entry, scopes));
            }
            Some(scopes) => {
                let bad = scopes.iter().find(|s| !is_scope(&s.value())).unwrap_or(&entry);
                cx.error_spanned_by(
                    bad,
                    "a scope is one word of visible characters, without spaces, `\"` or `\\` (RFC 6749 §3.3)",
                );
            }
            None => cx.error_spanned_by(
                &value,
                format!("the scopes in `{name}` are a string or a list of strings: `\"mcp:tools\"`, `[\"a\", \"b\"]`"),
            ),
        }
    }
    Some(Value::ScopeMap(out, map.brace.span.join()))
}

/// A value for `key` written as a map, which the key does not take.
pub(super) fn map_not_expected(cx: &mut Ctxt, key: &Key, map: &Map) {
    cx.push(syn::Error::new(
        map.brace.span.join(),
        format!("`{}` takes {}, not a map", key.name, expected(key.kind)),
    ));
}

/// A scope token (RFC 6749 §3.3): `%x21 / %x23-5B / %x5D-7E`, at least one.
fn is_scope(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

pub(super) fn check_value(cx: &mut Ctxt, key: &Key, value: Expr) -> Option<Value> {
    if let Some(call) = as_env_call(&value) {
        return check_env(cx, key, call);
    }
    match value {
        Expr::Lit(ExprLit { lit, .. }) => check_literal(cx, key, lit),
        Expr::Array(array) => check_array(cx, key, array),
        other => check_expr(cx, key, other),
    }
}

/// An issuer template (`{tenantid}`, a multi-tenant issuer) as one of its tenants'
/// issuers, to check as a URL.
fn sample_tenant(url: &str, used: UrlUse) -> String {
    match used {
        UrlUse::Issuer => url.replacen("{tenantid}", "sample-tenant", 1),
        _ => url.to_owned(),
    }
}

/// A literal for `key`: checked by its kind's rules, or refused when the kind takes
/// no literal of this sort.
fn check_literal(cx: &mut Ctxt, key: &Key, lit: Lit) -> Option<Value> {
    let name = key.name;
    match (key.kind, lit) {
        (Kind::Duration, Lit::Int(i)) => {
            duration(cx, name, &i).map(|ms| Value::Duration(ms, i.span()))
        }
        (Kind::Url(used), Lit::Str(s)) => {
            if let Some(problem) = url_problem(&sample_tenant(&s.value(), used), used) {
                cx.error_spanned_by(&s, format!("`{name}` {problem}"));
            }
            Some(Value::Lit(Lit::Str(s)))
        }
        (Kind::Str, Lit::Str(s)) => {
            if s.value().trim().is_empty() {
                cx.error_spanned_by(&s, format!("`{name}` is empty"));
            }
            Some(Value::Lit(Lit::Str(s)))
        }
        (Kind::Secret, lit) => {
            cx.error_spanned_by(
                &lit,
                format!("do not write a secret in source code: read `{name}` with `env(\"...\")`, or give an expression"),
            );
            None
        }
        (Kind::StrList, Lit::Str(s)) => string_list(cx, name, vec![s]),
        (Kind::Bool, lit @ Lit::Bool(_)) => Some(Value::Lit(lit)),
        (Kind::Number, Lit::Int(i)) => {
            if !i.suffix().is_empty() || i.base10_parse::<usize>().is_err() {
                cx.error_spanned_by(
                    &i,
                    format!("`{name}` is a whole number without a suffix, e.g. `8192`"),
                );
                return None;
            }
            Some(Value::Lit(Lit::Int(i)))
        }
        (Kind::Expr, lit) => {
            cx.error_spanned_by(
                &lit,
                format!("`{name}` takes a Rust expression, not a literal"),
            );
            None
        }
        (kind, lit) => {
            cx.error_spanned_by(&lit, format!("`{name}` takes {}", expected(kind)));
            None
        }
    }
}

/// `[...]` for `key`: a list of strings, of algorithm names, or two durations; any
/// other array is an expression for the compiler to check.
fn check_array(cx: &mut Ctxt, key: &Key, array: syn::ExprArray) -> Option<Value> {
    let name = key.name;
    match key.kind {
        Kind::StrList => {
            if array.elems.is_empty() {
                cx.error_spanned_by(&array, format!("`{name}` is an empty list"));
                return None;
            }
            let lits: Option<Vec<LitStr>> = array.elems.iter().map(lit_str).collect();
            match lits {
                Some(lits) => string_list(cx, name, lits),
                None => Some(Value::Expr(Expr::Array(array))),
            }
        }
        Kind::Algorithms => algorithms(cx, name, array.elems.iter()),
        Kind::DurationPair => {
            let [
                Expr::Lit(ExprLit {
                    lit: Lit::Int(a), ..
                }),
                Expr::Lit(ExprLit {
                    lit: Lit::Int(b), ..
                }),
            ] = array.elems.iter().collect::<Vec<_>>()[..]
            else {
                cx.error_spanned_by(
                    &array,
                    format!("`{name}` takes two durations: `[1s, 5m]` (initial, maximum)"),
                );
                return None;
            };
            let (a, b) = (duration(cx, name, a), duration(cx, name, b));
            Some(Value::DurationPair(a?, b?, array.span()))
        }
        Kind::Choice(_) => check_expr(cx, key, Expr::Array(array)),
        _ => Some(Value::Expr(Expr::Array(array))),
    }
}

/// Any other expression: a name of the key's fixed set, one algorithm name, or an
/// expression whose type the compiler checks.
fn check_expr(cx: &mut Ctxt, key: &Key, expr: Expr) -> Option<Value> {
    let name = key.name;
    match key.kind {
        Kind::Algorithms if single_ident(&expr).is_some() => {
            algorithms(cx, name, std::iter::once(&expr))
        }
        Kind::Choice(choice) => {
            let Some(ident) = single_ident(&expr) else {
                cx.error_spanned_by(&expr, format!("`{name}` takes {}", expected(key.kind)));
                return None;
            };
            let given = ident.to_string();
            if choice.variant(&given).is_none() {
                cx.error_spanned_by(
                    ident,
                    format!(
                        "unknown {} `{given}`{}\nexpected one of {}",
                        choice.what,
                        suggest::did_you_mean(&given, choice.names()),
                        suggest::list(choice.names()),
                    ),
                );
                return None;
            }
            Some(Value::Choice(ident.clone(), choice))
        }
        _ => Some(Value::Expr(expr)),
    }
}

fn expected(kind: Kind) -> String {
    match kind {
        Kind::Choice(choice) => {
            return format!("a {} name: {}", choice.what, suggest::list(choice.names()));
        }
        Kind::Url(_) => "a URL string: `\"https://...\"`",
        Kind::Str | Kind::Secret => "a string",
        Kind::StrList => "a string or a list of strings: `[\"a\", \"b\"]`",
        Kind::Algorithms => "a list of algorithm names: `[RS256, ES256]`",
        Kind::Duration => "a duration with a unit: `30s`",
        Kind::DurationPair => "two durations: `[1s, 5m]`",
        Kind::Bool => "`true` or `false`",
        Kind::Number => "a whole number",
        Kind::Expr => "a Rust expression",
        Kind::ScopeMap => {
            "a map of names to scopes: `{ deploy: \"mcp:deploy\", \"tools/list\": [\"a\", \"b\"] }`"
        }
    }
    .to_owned()
}

fn lit_str(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Some(s.clone()),
        _ => None,
    }
}

fn single_ident(expr: &Expr) -> Option<&Ident> {
    match expr {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
        _ => None,
    }
}

fn string_list(cx: &mut Ctxt, name: &str, lits: Vec<LitStr>) -> Option<Value> {
    for lit in &lits {
        if lit.value().trim().is_empty() {
            cx.error_spanned_by(lit, format!("`{name}` holds an empty string"));
        }
    }
    Some(Value::Strings(lits))
}

fn algorithms<'a>(
    cx: &mut Ctxt,
    name: &str,
    elems: impl Iterator<Item = &'a Expr>,
) -> Option<Value> {
    let mut out = Vec::new();
    for elem in elems {
        match single_ident(elem) {
            Some(id) if ALGORITHMS.contains(&id.to_string().as_str()) => out.push(id.clone()),
            Some(id) if id.to_string().eq_ignore_ascii_case("none") => cx.error_spanned_by(
                id,
                "`none` is never accepted: unsigned tokens are rejected (RFC 8725 §3.1)",
            ),
            Some(id) => {
                let given = id.to_string();
                cx.error_spanned_by(
                    id,
                    format!(
                        "unknown algorithm `{given}`{}\nexpected one of {}",
                        suggest::did_you_mean(&given, ALGORITHMS.iter().copied()),
                        suggest::list(ALGORITHMS.iter().copied()),
                    ),
                );
            }
            None => match lit_str(elem) {
                Some(s) => cx.error_spanned_by(
                    elem,
                    format!("write algorithm names without quotes: `{}`", s.value()),
                ),
                None => cx.error_spanned_by(
                    elem,
                    format!("`{name}` lists algorithm names, e.g. `[RS256, ES256]`"),
                ),
            },
        }
    }
    Some(Value::Algorithms(out))
}

fn duration(cx: &mut Ctxt, name: &str, lit: &LitInt) -> Option<u64> {
    let unit = lit.suffix();
    if unit.is_empty() {
        cx.error_spanned_by(
            lit,
            format!(
                "`{name}` needs a unit: write `{}s` (units: `ms`, `s`, `m`, `h`)",
                lit.base10_digits()
            ),
        );
        return None;
    }
    let Some(value) = parse_duration(&format!("{}{unit}", lit.base10_digits())) else {
        cx.error_spanned_by(
            lit,
            format!("unknown unit `{unit}` in `{name}`: use `ms`, `s`, `m` or `h`"),
        );
        return None;
    };
    if let Some(problem) = duration_problem(value, false) {
        cx.error_spanned_by(lit, format!("`{name}` {problem}"));
        return None;
    }
    u64::try_from(value.as_millis()).ok()
}

/// `env(...)`, as opposed to any other call.
fn as_env_call(expr: &Expr) -> Option<&syn::ExprCall> {
    match expr {
        Expr::Call(call) if matches!(&*call.func, Expr::Path(p) if p.path.is_ident("env")) => {
            Some(call)
        }
        _ => None,
    }
}

fn check_env(cx: &mut Ctxt, key: &Key, call: &syn::ExprCall) -> Option<Value> {
    let name = key.name;
    let usage = "expected `env(\"VARIABLE\")`, `env(\"VARIABLE\", default = ...)` or `env(\"VARIABLE\", optional)`";
    if matches!(
        key.kind,
        Kind::Bool | Kind::Expr | Kind::DurationPair | Kind::Choice(_)
    ) {
        cx.error_spanned_by(
            call,
            format!("`{name}` cannot be read from the environment: write it in code"),
        );
        return None;
    }
    let mut args = call.args.iter();
    let Some(var) = args.next().and_then(lit_str) else {
        cx.error_spanned_by(call, usage);
        return None;
    };
    if var.value().is_empty() {
        cx.error_spanned_by(&var, "the variable's name is empty");
    }
    let mode = match args.next() {
        None => EnvMode::Required,
        Some(Expr::Path(p)) if p.path.is_ident("optional") => {
            if name == "issuer" {
                cx.error_spanned_by(p, "`issuer` is required: it cannot be `optional`");
            }
            EnvMode::Optional
        }
        Some(Expr::Assign(assign)) if matches!(&*assign.left, Expr::Path(p) if p.path.is_ident("default")) => {
            match &*assign.right {
                Expr::Lit(ExprLit { lit, .. }) => EnvMode::Default(default_text(cx, key, lit)?),
                other => {
                    cx.error_spanned_by(
                        other,
                        "the default is a literal, e.g. `default = \"...\"` or `default = 30s`",
                    );
                    return None;
                }
            }
        }
        Some(other) => {
            cx.error_spanned_by(other, usage);
            return None;
        }
    };
    if let Some(extra) = args.next() {
        cx.error_spanned_by(extra, usage);
    }
    Some(Value::Env { var, mode })
}

/// The default of `env(.., default = <lit>)` as the text the variable would hold.
fn default_text(cx: &mut Ctxt, key: &Key, lit: &Lit) -> Option<String> {
    match (key.kind, lit) {
        (Kind::Duration, Lit::Int(i)) => {
            let ms = duration(cx, key.name, i)?;
            Some(format!("{ms}ms"))
        }
        (Kind::Number, Lit::Int(i)) if i.suffix().is_empty() => Some(i.base10_digits().to_owned()),
        (Kind::Url(used), Lit::Str(s)) => {
            if let Some(problem) = url_problem(&sample_tenant(&s.value(), used), used) {
                cx.error_spanned_by(s, format!("`{}` {problem}", key.name));
            }
            Some(s.value())
        }
        (Kind::Secret, _) => {
            cx.error_spanned_by(
                lit,
                "do not write a secret in source code, not even as a default",
            );
            None
        }
        (Kind::Str | Kind::StrList | Kind::Algorithms, Lit::Str(s)) => Some(s.value()),
        _ => {
            cx.error_spanned_by(lit, format!("`{}` takes {}", key.name, expected(key.kind)));
            None
        }
    }
}
