//! Checks `providers!` input and gives each value its meaning for its key.
//! Every problem is recorded, so the user sees them all at once.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::Ident;

mod value;

pub(crate) use value::{EnvMode, Value};
use value::{check_value, value_span};

use super::ast::{Input, ProviderBlock, RawValue, Setting};
use super::keys::{self, KEY_SOURCES, Key, Scope, Target};
use crate::ctxt::Ctxt;
use crate::suggest;

pub(crate) struct Checked {
    pub(crate) key: &'static Key,
    pub(crate) value: Value,
    /// The user wrote the key's old name (see [`keys::RENAMED`]): this one.
    pub(crate) old_name: Option<Ident>,
}

pub(crate) struct Provider {
    pub(crate) name: Ident,
    pub(crate) settings: Vec<Checked>,
}

pub(crate) struct Config {
    pub(crate) settings: Vec<Checked>,
    pub(crate) providers: Vec<Provider>,
    /// The `broker { ... }` block: the app's own issuer.
    pub(crate) broker: Option<Provider>,
    /// The `mcp { ... }` block: the MCP mode and its rules.
    pub(crate) mcp: Option<Provider>,
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
    let mut broker = None;
    let mut mcp = None;
    for block in input.providers {
        if block.name == keys::MCP {
            if mcp.is_some() {
                cx.error_spanned_by(&block.name, "the `mcp` block is given twice");
            }
            if !app_keys.iter().any(|k| k == "resource") {
                cx.error_spanned_by(
                    &block.name,
                    "the MCP mode needs the endpoint's canonical URL: add `resource: env(\"MCP_RESOURCE\"),` at the top level of `providers!`",
                );
            }
            mcp = Some(Provider {
                settings: check_settings(cx, block.settings, Scope::Mcp, Some(&block.name)),
                name: block.name,
            });
        } else if block.name == keys::BROKER {
            if broker.is_some() {
                cx.error_spanned_by(&block.name, "the broker is declared twice");
            }
            broker = Some(check_broker(cx, block));
        } else if let Some(provider) = check_provider(cx, block, &mut seen) {
            providers.push(provider);
        }
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
    if let Some(m) = &mcp
        && !any_bearer
    {
        cx.error_spanned_by(
            &m.name,
            "an MCP server accepts bearer tokens: add a provider with `audience: env(\"MCP_RESOURCE\")`",
        );
    }
    if let Some(b) = &broker
        && !any_login
    {
        cx.error_spanned_by(
            &b.name,
            "the broker issues tokens to users who log in through a login provider: add a provider with `client_id` (and `device_flow: true` or `token_endpoint: true`)",
        );
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
        broker,
        mcp,
    }
}

/// The `broker { ... }` block: broker keys only, an `audience` required.
fn check_broker(cx: &mut Ctxt, block: ProviderBlock) -> Provider {
    let settings = check_settings(cx, block.settings, Scope::Broker, Some(&block.name));
    if !settings.iter().any(|c| c.key.name == "audience") {
        cx.error_spanned_by(
            &block.name,
            "the broker has no `audience`: its tokens must name the API they are for; add `audience: \"https://api.example\"`",
        );
    }
    Provider {
        name: block.name,
        settings,
    }
}

/// One provider block: its name, its settings, and the rules between them (an issuer,
/// an audience or a client id, keys for the right side, one key source).
fn check_provider(
    cx: &mut Ctxt,
    block: ProviderBlock,
    seen: &mut HashMap<String, Span>,
) -> Option<Provider> {
    let name = block.name.to_string();
    if seen.insert(name.clone(), block.name.span()).is_some() {
        cx.error_spanned_by(&block.name, format!("provider `{name}` is declared twice"));
        return None;
    }
    if oauth2_syntax::provider_name_problem(&name).is_some() {
        cx.error_spanned_by(
            &block.name,
            format!(
                "provider names are lowercase snake_case (they appear in URLs and in `#[protect(provider = \"...\")]`): write `{}`",
                name.to_lowercase()
            ),
        );
    }
    let preset_given = block.settings.iter().any(|s| s.key == "preset");
    // Keys written, valid or not (an invalid one is reported already, not again as missing).
    let written: Vec<String> = block
        .settings
        .iter()
        .map(|s| keys::current_name(&s.key.to_string()).to_owned())
        .collect();
    let settings = check_settings(cx, block.settings, Scope::Provider, Some(&block.name));
    let has = |key: &str| settings.iter().any(|c| c.key.name == key);
    let preset = settings.iter().find_map(|c| match &c.value {
        Value::Choice(p, _) if c.key.name == "preset" => Some(p.to_string()),
        _ => None,
    });
    let bearer = has("audience") || has("danger_accept_any_audience");
    let login = has("client_id");
    let info = preset.as_deref().and_then(oauth2_syntax::preset);
    let plain_oauth2 = login && (has("authorize_url") || info.is_some_and(|p| p.knows_issuer()));
    // An invalid preset is reported already; its issuer cannot be known.
    let preset_invalid = preset_given && preset.is_none();
    // What a bearer provider cannot validate with this preset: opaque access tokens
    // (GitHub's), or only ID tokens (Google's), which `accept_id_tokens: true` must let
    // through on purpose.
    let bearer_problem = info.filter(|_| bearer).and_then(|p| {
        if !p.bearer_tokens {
            Some(format!(
                "{}'s access tokens are opaque, not JWTs, so provider `{name}` cannot validate them as bearer tokens: use `{}` for browser login (`client_id`) and remove `audience`",
                p.variant, p.name
            ))
        } else if p.id_tokens_only && !has("accept_id_tokens") {
            Some(format!(
                "{}'s access tokens are opaque, so what provider `{name}` can validate as a bearer token is a {} ID token, and ID tokens are refused as bearer tokens unless accepted on purpose: add `accept_id_tokens: true` (for ID tokens sent as bearer tokens on purpose, as in service-to-service calls) or remove `audience` (browser login only)",
                p.variant, p.variant
            ))
        } else {
            None
        }
    });
    if let Some(problem) = bearer_problem
        && let Some(c) = settings.iter().find(|c| c.key.name == "preset")
    {
        cx.push(syn::Error::new(value_span(&c.value), problem));
    }
    let bearer_knows_issuer = bearer && info.is_some_and(|p| p.issuer.is_some());
    if !has("issuer") && !plain_oauth2 && !bearer_knows_issuer && !preset_invalid {
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
    // The rules between keys that the runtime checks at `build()` too.
    let oauth2_only =
        !has("issuer") && (has("authorize_url") || info.is_some_and(|p| p.endpoints.is_some()));
    let facts = Facts {
        settings: &settings,
        written: &written,
        issuer_known: has("issuer") || info.is_some_and(|p| p.issuer.is_some()),
        oauth2_only,
    };
    for rule in oauth2_syntax::broken_rules(&facts) {
        cx.push(syn::Error::new(
            facts.span_of(rule, &block.name),
            format!("provider `{name}`: `{}` {}", rule.blame, rule.problem),
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
    Some(Provider {
        name: block.name,
        settings,
    })
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
        let value = match value {
            RawValue::Expr(expr) => expr,
            RawValue::Map(map) => {
                match keys::find(keys::current_name(&key.to_string()), scope) {
                    Some(def) if def.kind == keys::Kind::ScopeMap => {
                        if !seen.contains(&def.name.to_owned())
                            && let Some(value) = value::check_map(cx, def, map)
                        {
                            seen.push(def.name.to_owned());
                            out.push(Checked {
                                key: def,
                                value,
                                old_name: None,
                            });
                        } else if seen.contains(&def.name.to_owned()) {
                            cx.error_spanned_by(&key, format!("`{key}` is given twice"));
                        }
                    }
                    Some(def) => value::map_not_expected(cx, def, &map),
                    None => unknown_key(cx, &key, scope, provider),
                }
                continue;
            }
        };
        let written = key.to_string();
        let name = keys::current_name(&written).to_owned();
        let renamed = name != written;
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
            let old_name = renamed.then_some(key);
            out.push(Checked {
                key: def,
                value,
                old_name,
            });
        }
    }
    out
}

fn unknown_key(cx: &mut Ctxt, key: &Ident, scope: Scope, provider: Option<&Ident>) {
    let name = key.to_string();
    if scope == Scope::Broker && keys::find(&name, Scope::Provider).is_some() {
        cx.error_spanned_by(
            key,
            format!(
                "`{name}` is not a broker setting: the broker is this app as an issuer (`{{base_url}}{{prefix}}`, its own keys)\nexpected one of {}",
                suggest::list(keys::names(Scope::Broker))
            ),
        );
        return;
    }
    let other = match scope {
        Scope::App => Scope::Provider,
        Scope::Provider | Scope::Broker | Scope::Mcp => Scope::App,
    };
    let message = if keys::find(&name, other).is_some() {
        match scope {
            Scope::Provider => format!(
                "`{name}` is an app-wide setting: write it at the top level of `providers!`, outside the provider blocks"
            ),
            Scope::App => format!(
                "`{name}` is a provider key: write it inside a provider block, e.g. `google {{ {name}: ... }}`"
            ),
            Scope::Broker | Scope::Mcp => format!(
                "`{name}` is an app-wide setting: write it at the top level of `providers!`, outside the `{}` block",
                provider.map(Ident::to_string).unwrap_or_default()
            ),
        }
    } else {
        let place = match provider {
            Some(p) if scope == Scope::Mcp => format!("in the `{p}` block"),
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

/// What `providers!` shows of one provider, for the rules shared with the runtime
/// ([`oauth2_syntax::PROVIDER_RULES`]): only what literals say for sure.
struct Facts<'a> {
    settings: &'a [Checked],
    /// Keys written, valid values or not (by their current names).
    written: &'a [String],
    /// An issuer is given, or the preset knows it.
    issuer_known: bool,
    /// A plain OAuth 2.0 provider: surely no issuer.
    oauth2_only: bool,
}

impl Facts<'_> {
    fn value(&self, key: &str) -> Option<&Value> {
        self.settings
            .iter()
            .find(|c| c.key.name == key)
            .map(|c| &c.value)
    }

    /// Where to point for a broken rule: the value of its key, else of the first key
    /// its facts name that is written (the issuer, for a template), else the provider.
    fn span_of(&self, rule: &oauth2_syntax::Rule, provider: &Ident) -> Span {
        use oauth2_syntax::Fact::*;
        let named = rule.when.iter().flat_map(|f| match f {
            Given(k) | Is(k, _) | IsNot(k, _) => vec![*k],
            AnyGiven(keys) => keys.to_vec(),
            IssuerTemplate(_) => vec!["issuer"],
            Absent(_) => vec![],
        });
        std::iter::once(rule.blame)
            .chain(named)
            .find_map(|k| self.value(k))
            .map_or_else(|| provider.span(), value_span)
    }
}

impl oauth2_syntax::Facts for Facts<'_> {
    fn given(&self, key: &str) -> Option<bool> {
        if key == "issuer" {
            return match (self.issuer_known, self.oauth2_only) {
                (true, _) => Some(true),
                (false, true) => Some(false),
                // No issuer, and no way to log in without one: reported already.
                (false, false) => None,
            };
        }
        // `fapi2: false` is as if it were not written.
        if let Some(Value::Lit(syn::Lit::Bool(b))) = self.value(key) {
            return Some(b.value);
        }
        Some(self.written.iter().any(|w| w == key))
    }

    fn is(&self, key: &str, name: &str) -> Option<bool> {
        match self.value(key) {
            Some(Value::Choice(chosen, _)) => Some(chosen == name),
            // From the environment: the runtime checks it.
            Some(_) => None,
            None if self.given(key) == Some(false) => Some(false),
            None => None,
        }
    }

    fn issuer_template(&self) -> Option<bool> {
        match self.value("issuer") {
            Some(Value::Lit(syn::Lit::Str(s))) => Some(s.value().contains("{tenantid}")),
            // A preset's issuer has no template.
            None if self.issuer_known => Some(false),
            _ => None,
        }
    }
}
