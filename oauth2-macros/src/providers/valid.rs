//! Checks `providers!` input and gives each value its meaning for its key.
//! Every problem is recorded, so the user sees them all at once.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Ident, Lit, LitInt, LitStr};

use super::ast::{Input, Setting};
use super::keys::{self, ALGORITHMS, KEY_SOURCES, Key, Kind, Scope, Target};
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
    /// A checked preset name.
    Preset(Ident),
}

pub(crate) enum EnvMode {
    Required,
    Default(String),
    Optional,
}

pub(crate) struct Checked {
    pub(crate) key: &'static Key,
    pub(crate) value: Value,
}

pub(crate) struct Provider {
    pub(crate) name: Ident,
    pub(crate) settings: Vec<Checked>,
}

pub(crate) struct Config {
    pub(crate) settings: Vec<Checked>,
    pub(crate) providers: Vec<Provider>,
}

pub(crate) fn check(cx: &mut Ctxt, input: Input) -> Config {
    // Keys given at the top level, valid values or not (no cascade of "missing" errors).
    let app_keys: Vec<String> = input.settings.iter().map(|s| s.key.to_string()).collect();
    let settings = check_settings(cx, input.settings, Scope::App, None);
    let mut seen: HashMap<String, Span> = HashMap::new();
    let mut providers = Vec::new();
    if input.providers.is_empty() {
        cx.push(syn::Error::new(
            Span::call_site(),
            "`providers!` declares no provider: add one, e.g. `google { issuer: \"https://accounts.google.com\", audience: \"...\" }`",
        ));
    }
    for block in input.providers {
        let name = block.name.to_string();
        if seen.insert(name.clone(), block.name.span()).is_some() {
            cx.error_spanned_by(&block.name, format!("provider `{name}` is declared twice"));
            continue;
        }
        if !is_snake_case(&name) {
            cx.error_spanned_by(
                &block.name,
                format!(
                    "provider names are lowercase snake_case (they appear in URLs and in `#[protect(provider = \"...\")]`): write `{}`",
                    name.to_lowercase()
                ),
            );
        }
        let preset_given = block.settings.iter().any(|s| s.key == "preset");
        let settings = check_settings(cx, block.settings, Scope::Provider, Some(&block.name));
        let has = |key: &str| settings.iter().any(|c| c.key.name == key);
        let preset = settings.iter().find_map(|c| match &c.value {
            Value::Preset(p) => Some(p.to_string()),
            _ => None,
        });
        let bearer = has("audience") || has("danger_accept_any_audience");
        let login = has("client_id");
        let preset_knows_issuer = settings.iter().any(|c| {
            matches!(&c.value, Value::Preset(p) if keys::PRESETS_WITH_ISSUER.contains(&p.to_string().as_str()))
        });
        let plain_oauth2 = login && (has("authorize_url") || preset_knows_issuer);
        // An invalid preset is reported already; its issuer cannot be known.
        let preset_invalid = preset_given && preset.is_none();
        if !has("issuer") && !plain_oauth2 && !preset_invalid {
            let why = match &preset {
                Some(p) => format!(": preset `{p}` needs your tenant's or realm's issuer"),
                None => String::new(),
            };
            cx.error_spanned_by(
                &block.name,
                format!("provider `{name}` has no `issuer`{why}: add `issuer: \"https://...\"`"),
            );
        }
        if !bearer && !login {
            cx.error_spanned_by(
                &block.name,
                format!(
                    "provider `{name}` has no `audience`: tokens must be checked against one (RFC 8725 §3.9); add `audience: \"...\"` (or `client_id` for browser login)"
                ),
            );
        }
        for c in &settings {
            let (needs, add) = match c.key.target {
                Target::Login if !login => ("browser login", "`client_id`"),
                Target::Bearer if !bearer && login => ("bearer tokens", "`audience`"),
                _ => continue,
            };
            cx.push(syn::Error::new(
                value_span(&c.value),
                format!(
                    "`{}` configures {needs}, but provider `{name}` has no {add}: add it, or remove `{}`",
                    c.key.name, c.key.name
                ),
            ));
        }
        let sources: Vec<&Checked> = settings
            .iter()
            .filter(|c| KEY_SOURCES.contains(&c.key.name))
            .collect();
        if let [first, second, ..] = sources.as_slice() {
            cx.push(syn::Error::new(
                value_span(&second.value),
                format!(
                    "`{}` and `{}` both give provider `{name}`'s keys: keep one (without either, keys come from OIDC discovery)",
                    first.key.name, second.key.name
                ),
            ));
        }
        providers.push(Provider {
            name: block.name,
            settings,
        });
    }
    let any = |target: Target| {
        providers.iter().any(|p| {
            p.settings.iter().any(|c| match target {
                Target::Login => c.key.name == "client_id",
                _ => matches!(c.key.name, "audience" | "danger_accept_any_audience"),
            })
        })
    };
    let (any_login, any_bearer) = (any(Target::Login), any(Target::Bearer));
    for c in &settings {
        let (target, needs, add) = match c.key.target {
            Target::Login => (any_login, "browser login", "`client_id`"),
            _ => (any_bearer, "bearer tokens", "`audience`"),
        };
        if !target {
            cx.push(syn::Error::new(
                value_span(&c.value),
                format!(
                    "`{}` configures {needs}, but no provider has {add}",
                    c.key.name
                ),
            ));
        }
    }
    if any_login {
        let missing: Vec<&str> = ["base_url", "session_secret"]
            .into_iter()
            .filter(|k| !app_keys.iter().any(|given| given == k))
            .collect();
        if !missing.is_empty() {
            let first = providers
                .iter()
                .find(|p| p.settings.iter().any(|c| c.key.name == "client_id"))
                .map_or_else(Span::call_site, |p| p.name.span());
            cx.push(syn::Error::new(
                first,
                format!(
                    "browser login needs {} at the top level of `providers!`, e.g. `base_url: env(\"APP_BASE_URL\"), session_secret: env(\"SESSION_SECRET\"),`",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            ));
        }
    }
    Config {
        settings,
        providers,
    }
}

fn is_snake_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn check_settings(
    cx: &mut Ctxt,
    settings: Vec<Setting>,
    scope: Scope,
    provider: Option<&Ident>,
) -> Vec<Checked> {
    let mut out: Vec<Checked> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for Setting { key, value } in settings {
        let name = key.to_string();
        let Some(def) = keys::find(&name, scope) else {
            unknown_key(cx, &key, scope, provider);
            continue;
        };
        if seen.contains(&name) {
            cx.error_spanned_by(&key, format!("`{name}` is given twice"));
            continue;
        }
        seen.push(name);
        if let Some(value) = check_value(cx, def, value) {
            out.push(Checked { key: def, value });
        }
    }
    out
}

fn unknown_key(cx: &mut Ctxt, key: &Ident, scope: Scope, provider: Option<&Ident>) {
    let name = key.to_string();
    let other = match scope {
        Scope::App => Scope::Provider,
        Scope::Provider => Scope::App,
    };
    let message = if keys::find(&name, other).is_some() {
        match scope {
            Scope::Provider => format!(
                "`{name}` is an app-wide setting: write it at the top level of `providers!`, outside the provider blocks"
            ),
            Scope::App => format!(
                "`{name}` is a provider key: write it inside a provider block, e.g. `google {{ {name}: ... }}`"
            ),
        }
    } else {
        let place = match provider {
            Some(p) => format!("in provider `{p}`"),
            None => "at the top level (app-wide settings)".to_owned(),
        };
        format!(
            "unknown key `{name}` {place}{}\nexpected one of {}",
            suggest::did_you_mean(&name, keys::names(scope)),
            suggest::list(keys::names(scope)),
        )
    };
    cx.error_spanned_by(key, message);
}

fn value_span(value: &Value) -> Span {
    match value {
        Value::Env { var, .. } => var.span(),
        Value::Lit(lit) => lit.span(),
        Value::Strings(lits) => lits.first().map_or_else(Span::call_site, LitStr::span),
        Value::Algorithms(ids) => ids.first().map_or_else(Span::call_site, Ident::span),
        Value::Duration(_, span) | Value::DurationPair(_, _, span) => *span,
        Value::Expr(e) => e.span(),
        Value::Preset(i) => i.span(),
    }
}

fn check_value(cx: &mut Ctxt, key: &Key, value: Expr) -> Option<Value> {
    let name = key.name;
    if let Some(call) = as_env_call(&value) {
        return check_env(cx, key, call);
    }
    match (key.kind, value) {
        (
            _,
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }),
        ) if key.kind == Kind::Duration => {
            duration(cx, name, &i).map(|ms| Value::Duration(ms, i.span()))
        }
        (
            Kind::Url,
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }),
        ) => {
            if let Some(problem) = keys::url_problem(&s.value()) {
                cx.error_spanned_by(&s, format!("`{name}` {problem}"));
            }
            Some(Value::Lit(Lit::Str(s)))
        }
        (
            Kind::Str,
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }),
        ) => {
            if s.value().trim().is_empty() {
                cx.error_spanned_by(&s, format!("`{name}` is empty"));
            }
            Some(Value::Lit(Lit::Str(s)))
        }
        (Kind::Secret, Expr::Lit(lit)) => {
            cx.error_spanned_by(
                &lit,
                format!("do not write a secret in source code: read `{name}` with `env(\"...\")`, or give an expression"),
            );
            None
        }
        (
            Kind::StrList,
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }),
        ) => string_list(cx, name, vec![s]),
        (Kind::StrList, Expr::Array(array)) => {
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
        (Kind::Algorithms, Expr::Array(array)) => algorithms(cx, name, array.elems.iter()),
        (Kind::Algorithms, path @ Expr::Path(_)) if single_ident(&path).is_some() => {
            algorithms(cx, name, std::iter::once(&path))
        }
        (Kind::DurationPair, Expr::Array(array)) => {
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
        (
            Kind::Bool,
            Expr::Lit(ExprLit {
                lit: lit @ Lit::Bool(_),
                ..
            }),
        ) => Some(Value::Lit(lit)),
        (
            Kind::Number,
            Expr::Lit(ExprLit {
                lit: Lit::Int(i), ..
            }),
        ) => {
            if !i.suffix().is_empty() || i.base10_parse::<usize>().is_err() {
                cx.error_spanned_by(
                    &i,
                    format!("`{name}` is a whole number without a suffix, e.g. `8192`"),
                );
                return None;
            }
            Some(Value::Lit(Lit::Int(i)))
        }
        (Kind::Preset, path) => {
            let Some(ident) = single_ident(&path) else {
                cx.error_spanned_by(&path, format!("`{name}` takes {}", expected(key.kind)));
                return None;
            };
            let given = ident.to_string();
            if !keys::PRESETS.iter().any(|(p, _)| *p == given) {
                let names = keys::PRESETS.iter().map(|(p, _)| *p);
                cx.error_spanned_by(
                    ident,
                    format!(
                        "unknown preset `{given}`{}\nexpected one of {}",
                        suggest::did_you_mean(&given, names.clone()),
                        suggest::list(names),
                    ),
                );
                return None;
            }
            Some(Value::Preset(ident.clone()))
        }
        (Kind::Expr, Expr::Lit(lit)) => {
            cx.error_spanned_by(
                &lit,
                format!("`{name}` takes a Rust expression, not a literal"),
            );
            None
        }
        (_, Expr::Lit(lit)) => {
            cx.error_spanned_by(&lit, format!("`{name}` takes {}", expected(key.kind)));
            None
        }
        (_, other) => Some(Value::Expr(other)),
    }
}

fn expected(kind: Kind) -> &'static str {
    match kind {
        Kind::Url => "a URL string: `\"https://...\"`",
        Kind::Str | Kind::Secret => "a string",
        Kind::StrList => "a string or a list of strings: `[\"a\", \"b\"]`",
        Kind::Algorithms => "a list of algorithm names: `[RS256, ES256]`",
        Kind::Duration => "a duration with a unit: `30s`",
        Kind::DurationPair => "two durations: `[1s, 5m]`",
        Kind::Bool => "`true` or `false`",
        Kind::Number => "a whole number",
        Kind::Expr => "a Rust expression",
        Kind::Preset => {
            "a preset name: `google`, `microsoft`, `github`, `gitlab`, `auth0`, `okta` or `keycloak`"
        }
    }
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
    let ms = keys::duration_millis(lit.base10_digits(), unit);
    if ms.is_none() {
        cx.error_spanned_by(
            lit,
            format!("unknown unit `{unit}` in `{name}`: use `ms`, `s`, `m` or `h`"),
        );
    }
    ms
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
        Kind::Bool | Kind::Expr | Kind::DurationPair | Kind::Preset
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
        (Kind::Url, Lit::Str(s)) => {
            if let Some(problem) = keys::url_problem(&s.value()) {
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
