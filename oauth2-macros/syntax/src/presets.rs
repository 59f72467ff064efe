//! What the library knows about common identity providers: one row per provider, read
//! by the macro (the names, the compile-time rules) and the runtime (the bearer and
//! login settings a preset fills in), so that a quirk is written once.

use crate::names::Choice;

/// A plain OAuth 2.0 provider's endpoints (no discovery, no ID token).
#[derive(Debug, PartialEq, Eq)]
pub struct OAuth2Endpoints {
    /// The authorization endpoint.
    pub authorize: &'static str,
    /// The token endpoint.
    pub token: &'static str,
    /// Where the user's data comes from.
    pub userinfo: &'static str,
}

/// One provider's row.
#[derive(Debug, PartialEq, Eq)]
pub struct PresetInfo {
    /// The `providers!` value: `google`.
    pub name: &'static str,
    /// The runtime `Preset` variant: `Google`.
    pub variant: &'static str,
    /// Its issuer, when it has one for everybody (else each tenant or realm has its own).
    pub issuer: Option<&'static str>,
    /// Another `iss` it writes for that issuer (Google's bare `accounts.google.com`).
    pub issuer_alias: Option<&'static str>,
    /// Its issuers end with `/`, which a configured issuer without one gets (Auth0).
    pub issuer_ends_with_slash: bool,
    /// The claim its access tokens name the audience in, when not `aud` (Cognito).
    pub audience_claim: Option<&'static str>,
    /// Its access tokens are JWTs an API can validate (GitHub's are opaque).
    pub bearer_tokens: bool,
    /// The JWTs it signs that an API can validate are ID tokens: its access tokens are
    /// opaque (Google's), so a bearer provider for it must accept ID tokens.
    pub id_tokens_only: bool,
    /// A plain OAuth 2.0 provider's endpoints, for login without an issuer (GitHub).
    pub endpoints: Option<OAuth2Endpoints>,
    /// The scopes a login asks for by default.
    pub scopes: &'static [&'static str],
    /// Claims copied to standard names (`from`, `to`) when those are absent.
    pub claim_map: &'static [(&'static str, &'static str)],
    /// Where its tokens keep the user's roles, gathered into a top-level `roles` claim
    /// when that is absent: paths of claim names, where [`CLIENT`] stands for each
    /// client the roles are for (a bearer provider's audiences, a login's client id).
    pub roles_from: &'static [&'static [&'static str]],
}

/// In a [`PresetInfo::roles_from`] path: each client the roles are for.
pub const CLIENT: &str = "{client}";

const OIDC_SCOPES: &[&str] = &["openid", "profile", "email"];
const OIDC_SCOPES_OFFLINE: &[&str] = &["openid", "profile", "email", "offline_access"];

/// A row with the defaults of an OpenID Provider whose issuer is the tenant's.
const fn oidc(name: &'static str, variant: &'static str) -> PresetInfo {
    PresetInfo {
        name,
        variant,
        issuer: None,
        issuer_alias: None,
        issuer_ends_with_slash: false,
        audience_claim: None,
        bearer_tokens: true,
        id_tokens_only: false,
        endpoints: None,
        scopes: OIDC_SCOPES,
        claim_map: &[],
        roles_from: &[],
    }
}

/// Every preset, in the order of the runtime's `Preset` variants.
pub const PRESET_TABLE: [PresetInfo; 8] = [
    PresetInfo {
        issuer: Some("https://accounts.google.com"),
        issuer_alias: Some("accounts.google.com"),
        id_tokens_only: true,
        ..oidc("google", "Google")
    },
    PresetInfo {
        scopes: OIDC_SCOPES_OFFLINE,
        ..oidc("microsoft", "Microsoft")
    },
    PresetInfo {
        bearer_tokens: false,
        endpoints: Some(OAuth2Endpoints {
            authorize: "https://github.com/login/oauth/authorize",
            token: "https://github.com/login/oauth/access_token",
            userinfo: "https://api.github.com/user",
        }),
        scopes: &["read:user", "user:email"],
        claim_map: &[
            ("login", "preferred_username"),
            ("avatar_url", "picture"),
            ("html_url", "profile"),
        ],
        ..oidc("github", "GitHub")
    },
    PresetInfo {
        issuer: Some("https://gitlab.com"),
        ..oidc("gitlab", "GitLab")
    },
    PresetInfo {
        issuer_ends_with_slash: true,
        scopes: OIDC_SCOPES_OFFLINE,
        ..oidc("auth0", "Auth0")
    },
    PresetInfo {
        scopes: OIDC_SCOPES_OFFLINE,
        ..oidc("okta", "Okta")
    },
    PresetInfo {
        // Realm roles, and the client roles of this API (or login client).
        roles_from: &[
            &["realm_access", "roles"],
            &["resource_access", CLIENT, "roles"],
        ],
        ..oidc("keycloak", "Keycloak")
    },
    PresetInfo {
        audience_claim: Some("client_id"),
        claim_map: &[("cognito:username", "preferred_username")],
        ..oidc("cognito", "Cognito")
    },
];

/// The row of the preset named `name` (`providers!` value) or `variant` (runtime).
pub fn preset(name_or_variant: &str) -> Option<&'static PresetInfo> {
    PRESET_TABLE
        .iter()
        .find(|p| p.name == name_or_variant || p.variant == name_or_variant)
}

impl PresetInfo {
    /// It needs no issuer from the configuration: it knows one, or its endpoints.
    pub fn knows_issuer(&self) -> bool {
        self.issuer.is_some() || self.endpoints.is_some()
    }

    /// `issuer` as the provider writes it in `iss` (Auth0's ends with `/`).
    pub fn issuer_as_written(&self, issuer: &str) -> String {
        if self.issuer_ends_with_slash && !issuer.ends_with('/') {
            format!("{issuer}/")
        } else {
            issuer.to_owned()
        }
    }
}

const fn pairs<const N: usize>(table: &[PresetInfo; N]) -> [(&'static str, &'static str); N] {
    let mut out = [("", ""); N];
    let mut i = 0;
    while i < N {
        out[i] = (table[i].name, table[i].variant);
        i += 1;
    }
    out
}

const PRESET_NAMES: [(&str, &str); PRESET_TABLE.len()] = pairs(&PRESET_TABLE);

/// `preset: ...`: the runtime's `Preset`, from [`PRESET_TABLE`].
pub const PRESETS: Choice = Choice {
    what: "preset",
    runtime_type: "Preset",
    values: &PRESET_NAMES,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_is_found_by_its_name_and_its_variant() {
        for row in &PRESET_TABLE {
            assert_eq!(preset(row.name), Some(row));
            assert_eq!(preset(row.variant), Some(row));
            assert_eq!(PRESETS.variant(row.name), Some(row.variant));
        }
        let known: Vec<&str> = PRESET_TABLE
            .iter()
            .filter(|p| p.knows_issuer())
            .map(|p| p.name)
            .collect();
        assert_eq!(known, ["google", "github", "gitlab"]);
        let auth0 = preset("auth0").unwrap();
        assert_eq!(
            auth0.issuer_as_written("https://t.auth0.com"),
            "https://t.auth0.com/"
        );
        assert_eq!(
            auth0.issuer_as_written("https://t.auth0.com/"),
            "https://t.auth0.com/"
        );
    }
}
