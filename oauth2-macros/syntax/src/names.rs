//! Names: JWS algorithms, presets, userinfo modes, provider names.

/// The JWS algorithms the runtime verifies, as `providers!` writes them.
pub const ALGORITHMS: &[&str] = &[
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256",
    "ES384", "EdDSA",
];

/// A key whose value is one name of a fixed set, each a variant of a runtime enum.
#[derive(Debug, PartialEq, Eq)]
pub struct Choice {
    /// What a value is, for messages: `preset`.
    pub what: &'static str,
    /// The runtime type, relative to the crate root: `Preset`, `login::Userinfo`.
    pub runtime_type: &'static str,
    /// Each name and its variant.
    pub values: &'static [(&'static str, &'static str)],
}

impl Choice {
    /// The variant for `name`.
    pub fn variant(&self, name: &str) -> Option<&'static str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    }

    /// The names, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + Clone {
        self.values.iter().map(|(n, _)| *n)
    }
}

/// The broker's `algorithm: ...`: asymmetric only (the runtime's `Algorithm`).
pub const BROKER_ALGORITHMS: Choice = Choice {
    what: "broker signing algorithm (never HMAC)",
    runtime_type: "Algorithm",
    values: &[("ES256", "ES256"), ("RS256", "RS256"), ("EdDSA", "EdDSA")],
};

/// `client_auth: ...`: how a login client authenticates, the runtime's
/// `client::ClientAuth` (named as in `token_endpoint_auth_methods_supported`).
pub const CLIENT_AUTH_METHODS: Choice = Choice {
    what: "client authentication method",
    runtime_type: "client::ClientAuth",
    values: &[
        ("client_secret_basic", "SecretBasic"),
        ("client_secret_post", "SecretPost"),
        ("client_secret_jwt", "SecretJwt"),
        ("private_key_jwt", "PrivateKeyJwt"),
        ("none", "None"),
    ],
};

/// `assertion_audience: ...`: the `aud` of client assertions, the runtime's
/// `client::AssertionAudience`.
pub const ASSERTION_AUDIENCES: Choice = Choice {
    what: "assertion audience",
    runtime_type: "client::AssertionAudience",
    values: &[("issuer", "Issuer"), ("endpoint", "Endpoint")],
};

/// `userinfo: ...`: the runtime's `login::Userinfo`.
pub const USERINFO_MODES: Choice = Choice {
    what: "userinfo mode",
    runtime_type: "login::Userinfo",
    values: &[
        ("auto", "Auto"),
        ("required", "Required"),
        ("never", "Never"),
    ],
};

/// `pushed_authorization:` values (RFC 9126), the runtime's `login::PushedAuthorization`.
pub const PUSHED_AUTHORIZATION_MODES: Choice = Choice {
    what: "pushed authorization mode",
    runtime_type: "login::PushedAuthorization",
    values: &[
        ("auto", "Auto"),
        ("required", "Required"),
        ("never", "Never"),
    ],
};

/// `dpop:` values (RFC 9449), the runtime's `config::Dpop`.
pub const DPOP_MODES: Choice = Choice {
    what: "DPoP mode",
    runtime_type: "config::Dpop",
    values: &[
        ("disabled", "Disabled"),
        ("allowed", "Allowed"),
        ("required", "Required"),
    ],
};

/// Why `name` cannot name a provider, if it cannot: names are part of login URLs
/// (`/auth/{name}/login`) and of `#[protect(provider = "...")]`, so they are lowercase
/// ASCII letters, digits and `_`, starting with a letter.
pub fn provider_name_problem(name: &str) -> Option<String> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    (!ok).then(|| {
        format!(
            "must be lowercase snake_case (letters, digits, `_`; it appears in URLs and in \
             `#[protect(provider = \"...\")]`): `{name}` is not"
        )
    })
}

/// The provider name of the app's own broker: `#[protect(provider = "broker")]` accepts
/// its access tokens, and `providers!` declares it with a `broker { ... }` block.
pub const BROKER: &str = "broker";

/// The block of `providers!` that turns on the MCP mode and holds the scopes of MCP
/// operations: `mcp { tools: { deploy: "mcp:deploy" } }`.
pub const MCP: &str = "mcp";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_and_names() {
        assert_eq!(USERINFO_MODES.variant("never"), Some("Never"));
        assert_eq!(USERINFO_MODES.variant("Never"), None);
        assert_eq!(provider_name_problem("corp_2"), None);
        for bad in ["Corp", "2corp", "a-b", "a/b", ""] {
            assert!(provider_name_problem(bad).is_some(), "{bad}");
        }
    }
}
