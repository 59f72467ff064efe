//! The rules between a provider's keys, written once: the macro checks them at compile
//! time on what it can see (literals), and the runtime builders at `build()` on every
//! value. A rule added here is checked in both places.

/// Something a rule looks at in one provider's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fact {
    /// The key is given.
    Given(&'static str),
    /// One of these keys is given.
    AnyGiven(&'static [&'static str]),
    /// The key is not given.
    Absent(&'static str),
    /// The key's value is this name (a choice such as `userinfo: never`).
    Is(&'static str, &'static str),
    /// The key's value is known and is not this name.
    IsNot(&'static str, &'static str),
    /// The issuer is (`true`) or is not (`false`) a template with `{tenantid}`.
    IssuerTemplate(bool),
}

/// One rule: when every fact holds, the configuration is wrong, and `blame` is the key
/// to point at.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// The key the error names (and, at compile time, points at).
    pub blame: &'static str,
    /// What makes the configuration wrong, all together.
    pub when: &'static [Fact],
    /// What is wrong, after the key's name: `needs an issuer: ...`.
    pub problem: &'static str,
}

use Fact::{Absent, AnyGiven, Given, Is, IsNot, IssuerTemplate};

const INTROSPECTION_CLIENT: &str = "is missing: introspection asks as the resource server's \
     own client, with its id and a secret (or a key) together";

/// Why FAPI 2.0 asks what the `fapi2` rules ask, after each rule's own problem.
macro_rules! fapi2 {
    ($problem:literal) => {
        concat!($problem, " (FAPI 2.0 Security Profile)")
    };
}

/// The rules between one provider's keys.
pub const PROVIDER_RULES: &[Rule] = &[
    Rule {
        blame: "tenants",
        when: &[
            IssuerTemplate(true),
            Absent("tenants"),
            Absent("any_tenant"),
        ],
        problem: "are missing: an issuer with {tenantid} needs the list of accepted tenants, \
                  `tenants: [\"...\"]`, or `any_tenant: true`",
    },
    Rule {
        blame: "tenants",
        when: &[
            AnyGiven(&["tenants", "any_tenant", "max_tenants"]),
            IssuerTemplate(false),
        ],
        problem: "(and `any_tenant`, `max_tenants`) need an issuer template with {tenantid}, \
                  as Entra ID's \"https://login.microsoftonline.com/{tenantid}/v2.0\"",
    },
    Rule {
        blame: "tenants",
        when: &[Given("tenants"), Given("any_tenant")],
        problem: "and `any_tenant` are both set: keep the list, or accept any tenant",
    },
    Rule {
        blame: "introspection_client_id",
        when: &[
            AnyGiven(&[
                "introspection_client_secret",
                "introspection_client_key",
                "introspection_client_auth",
                "introspection_endpoint",
            ]),
            Absent("introspection_client_id"),
        ],
        problem: INTROSPECTION_CLIENT,
    },
    Rule {
        blame: "introspection_client_secret",
        when: &[
            Given("introspection_client_id"),
            Absent("introspection_client_secret"),
            Absent("introspection_client_key"),
        ],
        problem: INTROSPECTION_CLIENT,
    },
    Rule {
        blame: "introspection_client_id",
        when: &[Given("introspection_client_id"), IssuerTemplate(true)],
        problem: "cannot be set with an issuer template: an opaque token names no tenant",
    },
    Rule {
        blame: "backchannel_logout",
        when: &[Given("backchannel_logout"), Absent("issuer")],
        problem: "needs an issuer: a logout token is a JWT signed with the issuer's keys; \
                  add `issuer`, or remove `backchannel_logout`",
    },
    Rule {
        blame: "userinfo",
        when: &[Is("userinfo", "never"), Absent("issuer")],
        problem: "is `never`, but without an issuer (no ID token) the user comes from userinfo",
    },
    // `fapi2: true`: the FAPI 2.0 Security Profile's client requirements.
    Rule {
        blame: "fapi2",
        when: &[Given("fapi2"), Absent("issuer")],
        problem: fapi2!(
            "needs an issuer: a FAPI 2.0 client reads the provider's metadata (pushed \
             authorization, DPoP, RFC 9207 `iss`)"
        ),
    },
    Rule {
        blame: "client_auth",
        when: &[
            Given("fapi2"),
            Given("client_auth"),
            IsNot("client_auth", "private_key_jwt"),
        ],
        problem: fapi2!(
            "must be `private_key_jwt` with `fapi2`: FAPI 2.0 clients authenticate with \
             private_key_jwt or mutual TLS"
        ),
    },
    Rule {
        blame: "fapi2",
        when: &[
            Given("fapi2"),
            Absent("client_key"),
            Absent("client_assertion_file"),
        ],
        problem: fapi2!(
            "needs a `client_key` (or a `client_assertion_file`): FAPI 2.0 clients \
             authenticate with private_key_jwt"
        ),
    },
    Rule {
        blame: "fapi2",
        when: &[Given("fapi2"), Absent("dpop_key")],
        problem: fapi2!(
            "needs a `dpop_key`: FAPI 2.0 access tokens are sender-constrained, here with DPoP"
        ),
    },
    Rule {
        blame: "assertion_audience",
        when: &[Given("fapi2"), Is("assertion_audience", "endpoint")],
        problem: fapi2!(
            "must be the issuer with `fapi2`: FAPI 2.0 client assertions name the issuer \
             as their audience"
        ),
    },
    Rule {
        blame: "pushed_authorization",
        when: &[Given("fapi2"), Is("pushed_authorization", "never")],
        problem: fapi2!(
            "cannot be `never` with `fapi2`: FAPI 2.0 pushes every authorization request"
        ),
    },
    Rule {
        blame: "pushed_authorization",
        when: &[Is("pushed_authorization", "required"), Absent("issuer")],
        problem: "is `required`, but a provider without an issuer has no discovered \
                  pushed_authorization_request_endpoint",
    },
];

/// What one side knows of a configuration; `None` where it cannot tell (a value read
/// from the environment, at compile time; a key of the other builder, at run time).
pub trait Facts {
    /// Whether `key` is given.
    fn given(&self, key: &str) -> Option<bool>;
    /// Whether the choice `key` has the value named `name` (`userinfo`, `never`).
    fn is(&self, key: &str, name: &str) -> Option<bool>;
    /// Whether the issuer is a template with `{tenantid}`.
    fn issuer_template(&self) -> Option<bool>;
}

impl Fact {
    /// Whether the fact holds, as far as `facts` can tell.
    pub fn holds(self, facts: &impl Facts) -> Option<bool> {
        match self {
            Given(key) => facts.given(key),
            Absent(key) => facts.given(key).map(|given| !given),
            AnyGiven(keys) => {
                let answers: Vec<Option<bool>> = keys.iter().map(|k| facts.given(k)).collect();
                if answers.contains(&Some(true)) {
                    Some(true)
                } else if answers.iter().all(Option::is_some) {
                    Some(false)
                } else {
                    None
                }
            }
            Is(key, name) => facts.is(key, name),
            IsNot(key, name) => facts.is(key, name).map(|is| !is),
            IssuerTemplate(template) => facts.issuer_template().map(|t| t == template),
        }
    }
}

/// The rules a configuration breaks: those each of whose facts is known to hold.
pub fn broken_rules(facts: &impl Facts) -> impl Iterator<Item = &'static Rule> {
    PROVIDER_RULES
        .iter()
        .filter(move |rule| rule.when.iter().all(|f| f.holds(facts) == Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_broken_only_when_each_fact_is_known_to_hold() {
        struct Known(&'static [&'static str], bool);
        impl Facts for Known {
            fn given(&self, key: &str) -> Option<bool> {
                (self.1 || key != "issuer").then(|| self.0.contains(&key))
            }
            fn is(&self, _: &str, _: &str) -> Option<bool> {
                None
            }
            fn issuer_template(&self) -> Option<bool> {
                None
            }
        }
        let broken: Vec<&str> = broken_rules(&Known(&["backchannel_logout"], true))
            .map(|r| r.blame)
            .collect();
        assert_eq!(broken, ["backchannel_logout"]);
        // Whether the issuer is given is not known: nothing is broken.
        assert_eq!(
            broken_rules(&Known(&["backchannel_logout"], false)).count(),
            0
        );
        let any = AnyGiven(&["introspection_endpoint", "issuer"]);
        assert_eq!(
            any.holds(&Known(&["introspection_endpoint"], false)),
            Some(true)
        );
        assert_eq!(any.holds(&Known(&[], false)), None);
        assert_eq!(any.holds(&Known(&[], true)), Some(false));
    }
}
