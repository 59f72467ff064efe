//! OpenAPI security from the `providers!` declaration (feature `utoipa`): the schemes
//! of the declared providers for a [`utoipa`] document, and the per-path requirements
//! written by `#[protect]`.
//!
//! - A bearer provider `p` is the scheme `p`: `openIdConnect` with its discovery URL
//!   (Swagger UI's "Authorize" then runs the authorization-code flow with PKCE), or an
//!   `http` bearer JWT scheme when its keys come from a JWKS URL, file or secret, or its
//!   issuer is a multi-tenant template. The description names the issuer (and tenants),
//!   the audience, opaque tokens when it introspects, and DPoP when it accepts or
//!   requires it (OpenAPI has no DPoP scheme).
//! - A login provider that is not also a bearer provider is the scheme `p`: `oauth2`
//!   with the authorization-code flow, its endpoints and its scopes.
//! - Login sessions are the scheme [`SESSION_SCHEME`]: an API key in the session cookie.
//! - The broker (the app's own tokens) is a bearer provider like the others.
//!
//! Put `#[protect]` above `#[utoipa::path(...)]`: it writes the path's `security` (one
//! alternative per provider, with the route's scopes; `()` too when `optional`), or,
//! when the path states one, checks that it says the same and fails to compile if not.
//! [`SecuritySchemes::undeclared`] finds requirements that name no declared scheme.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth2::{dev::DevIssuer, openapi::SecuritySchemes, Authenticator};
//! use utoipa::openapi::{OpenApiBuilder, security::SecurityScheme};
//!
//! let idp = DevIssuer::start().await?;
//! let auth = Authenticator::builder().provider(idp.provider("dev")).build()?;
//!
//! // With `providers!`: `let schemes = providers.openapi().await?;`
//! let schemes = SecuritySchemes::new().bearer(&auth);
//! let mut doc = OpenApiBuilder::new().build();
//! schemes.apply(&mut doc);
//!
//! let json = serde_json::to_value(&doc)?;
//! let dev = &json["components"]["securitySchemes"]["dev"];
//! assert_eq!(dev["type"], "openIdConnect");
//! assert_eq!(
//!     dev["openIdConnectUrl"],
//!     format!("{}/.well-known/openid-configuration", idp.issuer())
//! );
//! assert!(matches!(schemes.get("dev"), Some(SecurityScheme::OpenIdConnect(_))));
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, OpenIdConnect, SecurityScheme};

use crate::config::Dpop;
use crate::jwks::KeySource;
use crate::{Authenticator, Provider};

/// The name of the login-session scheme, which `#[protect(session, ...)]` paths require.
pub const SESSION_SCHEME: &str = "session";

/// The security schemes of a set of providers, by name. Add them to a document with
/// [`apply`](Self::apply) or as a [`utoipa::Modify`].
#[derive(Clone, Default)]
pub struct SecuritySchemes {
    schemes: BTreeMap<String, SecurityScheme>,
}

impl std::fmt::Debug for SecuritySchemes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.schemes.keys()).finish()
    }
}

impl SecuritySchemes {
    /// No schemes.
    pub fn new() -> Self {
        Self::default()
    }

    /// A scheme for each provider of `auth`: `openIdConnect` (its discovery URL) when
    /// its keys come from discovery or from an issuer in this process, else an `http`
    /// bearer JWT scheme.
    #[must_use]
    pub fn bearer(mut self, auth: &Authenticator) -> Self {
        for provider in auth.validator().providers() {
            let description = describe(provider);
            // An issuer template has no one discovery document.
            let scheme = if uses_discovery(&provider.keys) && provider.tenants.is_none() {
                SecurityScheme::OpenIdConnect(OpenIdConnect::with_description(
                    crate::discovery::metadata_url(provider.issuer())
                        .map_or_else(|_| provider.issuer().to_owned(), String::from),
                    description,
                ))
            } else {
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some(description))
                        .build(),
                )
            };
            self.schemes.insert(provider.name().to_owned(), scheme);
        }
        self
    }

    /// Adds (or replaces) one scheme.
    pub fn insert(&mut self, name: impl Into<String>, scheme: SecurityScheme) {
        self.schemes.insert(name.into(), scheme);
    }

    /// The scheme named `name`.
    pub fn get(&self, name: &str) -> Option<&SecurityScheme> {
        self.schemes.get(name)
    }

    /// The scheme names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.schemes.keys().map(String::as_str)
    }

    /// Adds the schemes to the document's `components.securitySchemes`.
    pub fn apply(&self, doc: &mut OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        for (name, scheme) in &self.schemes {
            components.add_security_scheme(name, scheme.clone());
        }
    }

    /// Every security requirement of `doc` (global or of an operation) that names a
    /// scheme not among these, as `"GET /items: corp"`: a path that requires a provider
    /// the app does not declare. Empty when all is well; a test asserts that.
    pub fn undeclared(&self, doc: &OpenApi) -> Vec<String> {
        let Ok(json) = serde_json::to_value(doc) else {
            return vec!["the document does not serialize".into()];
        };
        let mut out = Vec::new();
        let mut check = |at: &str, security: &serde_json::Value| {
            for requirement in security.as_array().into_iter().flatten() {
                for name in requirement.as_object().into_iter().flat_map(|o| o.keys()) {
                    if !self.schemes.contains_key(name) {
                        out.push(format!("{at}: {name}"));
                    }
                }
            }
        };
        check("global", &json["security"]);
        for (path, item) in json["paths"].as_object().into_iter().flatten() {
            for (method, operation) in item.as_object().into_iter().flatten() {
                check(
                    &format!("{} {path}", method.to_uppercase()),
                    &operation["security"],
                );
            }
        }
        out
    }
}

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApi) {
        self.apply(openapi);
    }
}

/// What a client must send for `provider`: which tokens, from where, for which
/// audience, and how a DPoP-bound one is presented.
fn describe(provider: &Provider) -> String {
    let audience = provider.audience().map_or_else(
        || "any audience".to_owned(),
        |a| format!("audience {}", a.values().join(" or ")),
    );
    let tokens = if provider.introspection.is_some() {
        "A JWT or an opaque token (introspected)"
    } else {
        "A JWT"
    };
    let from = match (&provider.tenants, provider.tenants()) {
        (None, _) => format!("from {}", provider.issuer()),
        (Some(_), Some(tenants)) => {
            format!(
                "from {} for the tenants {}",
                provider.issuer(),
                tenants.join(", ")
            )
        }
        (Some(_), None) => format!("from {} for any tenant", provider.issuer()),
    };
    let binding = match provider.dpop() {
        Dpop::Disabled => "",
        Dpop::Allowed => {
            " A DPoP-bound token (RFC 9449) is sent as `Authorization: DPoP` with a `DPoP` \
             proof of its key."
        }
        Dpop::Required => {
            " Only DPoP-bound tokens (RFC 9449), sent as `Authorization: DPoP` with a `DPoP` \
             proof of their key: a plain bearer header is refused."
        }
    };
    format!("{tokens} {from} ({audience}).{binding}")
}

fn uses_discovery(keys: &KeySource) -> bool {
    match keys {
        KeySource::Discovery => true,
        #[cfg(feature = "broker")]
        KeySource::Local(_) => true,
        _ => false,
    }
}

#[cfg(feature = "login")]
mod login {
    use utoipa::openapi::security::{
        ApiKey, ApiKeyValue, AuthorizationCode, Flow, OAuth2, Scopes, SecurityScheme,
    };

    use super::{SESSION_SCHEME, SecuritySchemes};
    use crate::discovery::DiscoveryError;
    use crate::login::Login;

    impl SecuritySchemes {
        /// The login's schemes: [`SESSION_SCHEME`] (the session cookie), and an
        /// `oauth2` authorization-code scheme for each login provider that has no
        /// scheme yet (call [`bearer`](Self::bearer) first, so that a provider used
        /// for both keeps its bearer scheme). Fetches the discovery documents the
        /// endpoints come from, if not fetched yet.
        pub async fn login(mut self, login: &Login) -> Result<Self, DiscoveryError> {
            for provider in login.providers() {
                if self.schemes.contains_key(provider.name()) {
                    continue;
                }
                let endpoints = provider.endpoints(login.registry()).await?;
                let scopes = Scopes::from_iter(
                    provider
                        .inner
                        .scope
                        .split_whitespace()
                        .map(|s| (s.to_owned(), format!("the `{s}` scope"))),
                );
                let flow = AuthorizationCode::new(
                    endpoints.authorization.as_str(),
                    endpoints.token.as_str(),
                    scopes,
                );
                self.schemes.insert(
                    provider.name().to_owned(),
                    SecurityScheme::OAuth2(OAuth2::with_description(
                        [Flow::AuthorizationCode(flow)],
                        format!(
                            "Browser login at {} (client {}).",
                            login.login_path(provider.name()),
                            provider.inner.client_id
                        ),
                    )),
                );
            }
            let paths: Vec<String> = login
                .providers()
                .map(|p| login.login_path(p.name()))
                .collect();
            self.schemes.insert(
                SESSION_SCHEME.to_owned(),
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    login.session_cookie().to_owned(),
                    format!(
                        "The login session cookie, set by logging in at {}.",
                        paths.join(" or ")
                    ),
                ))),
            );
            Ok(self)
        }
    }
}
