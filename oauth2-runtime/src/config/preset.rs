//! What is known about common identity providers, for [`ProviderBuilder::preset`]
//! (bearer tokens) and `LoginProviderBuilder::preset` (browser login).
//!
//! ```
//! use oauth2::{Preset, Provider};
//!
//! // Cognito's access tokens name the app client in `client_id`, not in `aud`.
//! let cognito = Provider::builder("cognito")
//!     .preset(Preset::Cognito)
//!     .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example")
//!     .audience("my-app-client-id")
//!     .build()
//!     .unwrap();
//! assert_eq!(cognito.audience_claim(), "client_id");
//!
//! // GitHub's tokens are opaque: no bearer validation, only browser login.
//! let err = Provider::builder("github")
//!     .preset(Preset::GitHub)
//!     .audience("x")
//!     .build()
//!     .unwrap_err();
//! assert!(err.to_string().contains("opaque"));
//! ```

use super::provider::{Problem, ProviderBuilder};

/// A common identity provider whose quirks the library knows. Explicit settings win
/// over the preset's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Preset {
    /// Google: issuer `https://accounts.google.com`. Its access tokens are opaque, so an
    /// API validates ID tokens (audience: your OAuth client ID); tokens whose `iss` is
    /// the bare `accounts.google.com`, which Google also issues, are accepted too.
    Google,
    /// Microsoft Entra ID: give the tenant's issuer,
    /// `https://login.microsoftonline.com/{tenant}/v2.0` (v2 tokens; an API that gets v1
    /// tokens has the issuer `https://sts.windows.net/{tenant}/`).
    Microsoft,
    /// GitHub: plain OAuth 2.0 (no ID token); the user comes from `api.github.com/user`,
    /// with `id` as `sub`, `login` as `preferred_username`, `avatar_url` as `picture`.
    /// Browser login only: GitHub's tokens are opaque, so a bearer provider with this
    /// preset is refused.
    GitHub,
    /// GitLab.com (or give a self-managed instance's issuer).
    GitLab,
    /// Auth0: give the tenant's issuer, `https://{tenant}.auth0.com/`; its tokens' `iss`
    /// ends with `/`, so a configured issuer without one gets it. Access tokens are JWTs
    /// only when the login asks for an `audience` (your API's identifier).
    Auth0,
    /// Okta: give the authorization server's issuer,
    /// `https://{domain}/oauth2/default`.
    Okta,
    /// Keycloak: give the realm's issuer, `https://{host}/realms/{realm}`; access tokens
    /// carry your client in `aud` only with an audience mapper. Its roles, realm roles
    /// under `realm_access.roles` and client roles under
    /// `resource_access.{client}.roles`, are gathered into a top-level `roles` claim
    /// (realm roles, then those of each accepted audience, or of the login's client),
    /// so that `#[claim(default)] roles: Vec<String>` reads them.
    Keycloak,
    /// Amazon Cognito: give the user pool's issuer,
    /// `https://cognito-idp.{region}.amazonaws.com/{pool id}`. Its access tokens carry
    /// the app client in `client_id` and have no `aud`: the audience is read from
    /// `client_id`.
    Cognito,
}

impl Preset {
    /// This preset's row of the one table of what is known about each provider (in
    /// `oauth2-syntax`, which the macro reads too). The table lists the variants in
    /// order (tested).
    pub(crate) fn info(self) -> &'static oauth2_syntax::PresetInfo {
        &oauth2_syntax::PRESET_TABLE[self as usize]
    }
}

/// Gathers the roles a preset knows the place of ([`PresetInfo::roles_from`], with each
/// of `clients` for its client placeholder) into a top-level `roles` claim: strings, in
/// order, each once. Nothing changes when `roles` is there already or no place exists.
///
/// [`PresetInfo::roles_from`]: oauth2_syntax::PresetInfo::roles_from
pub(crate) fn gather_roles(
    claims: &mut serde_json::Map<String, serde_json::Value>,
    roles_from: &[&[&str]],
    clients: &[&str],
) {
    use serde_json::Value;
    if roles_from.is_empty() || claims.contains_key("roles") {
        return;
    }
    let mut roles: Vec<Value> = Vec::new();
    let mut found = false;
    for path in roles_from {
        let expanded: Vec<Vec<&str>> = if path.contains(&oauth2_syntax::CLIENT) {
            clients
                .iter()
                .map(|c| {
                    path.iter()
                        .map(|&s| if s == oauth2_syntax::CLIENT { *c } else { s })
                        .collect()
                })
                .collect()
        } else {
            vec![path.to_vec()]
        };
        for path in expanded {
            let Some((first, rest)) = path.split_first() else {
                continue;
            };
            let mut at = claims.get(*first);
            for name in rest {
                at = at.and_then(|v| v.get(*name));
            }
            if let Some(Value::Array(list)) = at {
                found = true;
                for role in list.iter().filter(|r| r.is_string()) {
                    if !roles.contains(role) {
                        roles.push(role.clone());
                    }
                }
            }
        }
    }
    if found {
        claims.insert("roles".to_owned(), Value::Array(roles));
    }
}

impl ProviderBuilder {
    /// Applies what `preset` knows about a provider's bearer tokens: its issuer (Google,
    /// GitLab), the other `iss` it writes (Google), the trailing `/` of its issuer
    /// (Auth0), the claim its audience is in (Cognito). See [`Preset`].
    pub fn preset(mut self, preset: Preset) -> Self {
        self.issuer.preset = Some(preset);
        self
    }

    /// Fills in the preset's settings that the configuration does not give (its
    /// issuer is [`IssuerSetting`](super::IssuerSetting)'s to resolve).
    pub(crate) fn apply_preset(&mut self) -> Result<(), Problem> {
        let Some(preset) = self.issuer.preset else {
            return Ok(());
        };
        let info = preset.info();
        if !info.bearer_tokens {
            return Err((
                "preset",
                format!(
                    "{0}'s access tokens are opaque, not JWTs, so they cannot be validated as \
                     bearer tokens: use {0} for browser login (client_id) only",
                    info.variant
                ),
            ));
        }
        if info.id_tokens_only && !self.accept_id_tokens {
            return Err((
                "accept_id_tokens",
                format!(
                    "is not set, but {}'s access tokens are opaque: the JWTs an API can \
                     validate are its ID tokens, which are refused as bearer tokens unless \
                     accepted on purpose (see accept_id_tokens)",
                    info.variant
                ),
            ));
        }
        if let Some(alias) = self.issuer.alias() {
            self.issuer_aliases.push(alias.to_owned());
        }
        if self.audience_claim.is_none() {
            self.audience_claim = info.audience_claim.map(str::to_owned);
        }
        self.roles_from = info.roles_from;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::gather_roles;
    use crate::Preset;

    fn gathered(claims: Value, clients: &[&str]) -> Value {
        let mut claims = claims.as_object().unwrap().clone();
        gather_roles(&mut claims, Preset::Keycloak.info().roles_from, clients);
        claims.get("roles").cloned().unwrap_or(Value::Null)
    }

    #[test]
    fn keycloak_roles_are_gathered_from_the_realm_and_the_clients_accepted() {
        let token = json!({
            "realm_access": {"roles": ["user", "admin"]},
            "resource_access": {
                "orders.api": {"roles": ["refund", "admin"]},
                "other-api": {"roles": ["root"]},
            },
        });
        // A client id with a dot is one name, not a path; another client's roles stay out.
        assert_eq!(
            gathered(token.clone(), &["orders.api"]),
            json!(["user", "admin", "refund"])
        );
        assert_eq!(gathered(token, &["web"]), json!(["user", "admin"]));
        // A `roles` claim of the token's own wins; no roles anywhere adds none.
        assert_eq!(
            gathered(
                json!({"roles": ["x"], "realm_access": {"roles": ["y"]}}),
                &[]
            ),
            json!(["x"])
        );
        assert_eq!(gathered(json!({"sub": "a"}), &["web"]), Value::Null);
        assert_eq!(
            gathered(json!({"realm_access": {"roles": []}}), &[]),
            json!([])
        );
    }
}

#[cfg(all(test, feature = "test-kit"))]
mod retargeted {
    use crate::{Preset, Provider};

    /// A provider retargeted to a test's issuer keeps the preset's claim rules and
    /// drops its rules about the real issuer.
    #[test]
    fn a_retargeted_provider_keeps_the_claim_rules_only() {
        let dev = "http://127.0.0.1:9";
        let auth0 = Provider::builder("auth0")
            .preset(Preset::Auth0)
            .issuer("https://tenant.auth0.com")
            .audience("https://api.example")
            .point_at(dev)
            .build()
            .unwrap();
        assert_eq!(auth0.issuer(), dev, "no trailing slash added");
        let google = Provider::builder("google")
            .preset(Preset::Google)
            .audience("client")
            .accept_id_tokens()
            .point_at(dev)
            .build()
            .unwrap();
        assert!(!google.is_issuer("accounts.google.com"));
        let cognito = Provider::builder("cognito")
            .preset(Preset::Cognito)
            .issuer("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example")
            .audience("app-client")
            .point_at(dev)
            .build()
            .unwrap();
        assert_eq!(cognito.audience_claim(), "client_id");
    }
}
