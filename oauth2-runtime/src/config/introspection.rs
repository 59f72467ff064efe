//! The introspection client of a bearer provider (RFC 7662): its settings on
//! [`ProviderBuilder`], checked together at build.

use super::ProviderBuilder;
use crate::client::credentials::check_secret;
use crate::client::{ClientAuth, ClientCredentials, ClientKey};
use crate::introspection::IntrospectionClient;
use crate::util::url::{UrlUse, check_url};

/// A field of the provider and what is wrong with it.
type Problem = (&'static str, String);

/// The introspection settings of a builder, checked together by `build`.
#[derive(Clone, Default)]
pub(super) struct Introspection {
    pub(super) client_id: Option<String>,
    pub(super) client_secret: Option<String>,
    client_key: Option<ClientKey>,
    /// A PEM to read as `client_key` at build.
    client_key_pem: Option<String>,
    client_auth: Option<ClientAuth>,
    pub(super) endpoint: Option<String>,
}

impl std::fmt::Debug for Introspection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret stays out of logs.
        f.debug_struct("Introspection")
            .field("client_id", &self.client_id)
            .field("client_key", &self.client_key)
            .field("client_auth", &self.client_auth)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl Introspection {
    /// Whether a key (or its PEM) is given.
    pub(super) fn has_key(&self) -> bool {
        self.client_key.is_some() || self.client_key_pem.is_some()
    }

    /// Whether a method is given.
    pub(super) fn has_auth(&self) -> bool {
        self.client_auth.is_some()
    }

    /// The client, when one is configured: an id with a secret or a key, the method's
    /// credential present, the endpoint an allowed URL; without discovery (an HMAC
    /// secret) the endpoint is required.
    pub(super) fn check(self, discovery: bool) -> Result<Option<IntrospectionClient>, Problem> {
        // The shared rules made sure that the id comes with a credential (and that the
        // endpoint comes with them).
        let Some(client_id) = self.client_id else {
            return Ok(None);
        };
        if client_id.is_empty() {
            return Err(("introspection_client_id", "is empty".into()));
        }
        let key = match (self.client_key, self.client_key_pem) {
            (Some(key), _) => Some(key),
            (None, Some(pem)) => Some(
                ClientKey::from_pem(&pem)
                    .map_err(|e| ("introspection_client_key", e.to_string()))?,
            ),
            (None, None) => None,
        };
        check_secret(
            self.client_secret.as_deref(),
            self.client_auth,
            key.is_some(),
        )
        .map_err(|(field, problem)| (introspection_field(field), problem))?;
        let endpoint = match self.endpoint {
            Some(url) => {
                Some(check_url(&url, UrlUse::Endpoint).map_err(|p| ("introspection_endpoint", p))?)
            }
            None if !discovery => {
                return Err((
                    "introspection_endpoint",
                    "is missing: without discovery (an hmac_secret) it cannot be found".into(),
                ));
            }
            None => None,
        };
        let mut credentials = ClientCredentials::new(client_id);
        if let Some(secret) = self.client_secret {
            credentials = credentials.secret(secret);
        }
        if let Some(key) = key {
            credentials = credentials.key(key);
        }
        if let Some(method) = self.client_auth {
            credentials = credentials.method(method);
        }
        Ok(Some(IntrospectionClient {
            credentials,
            endpoint,
        }))
    }
}

/// The builder's name of a client field (`client_secret` → `introspection_client_secret`).
fn introspection_field(field: &str) -> &'static str {
    match field {
        "client_secret" => "introspection_client_secret",
        "client_auth" => "introspection_client_auth",
        _ => "introspection_client_key",
    }
}

impl ProviderBuilder {
    /// Introspects tokens that are not JWTs (RFC 7662) as this OAuth client: the
    /// resource server's own registration at the provider, with a
    /// [secret](Self::introspection_client_secret) or a
    /// [key](Self::introspection_client_key). The endpoint is the discovered
    /// `introspection_endpoint` unless
    /// [`introspection_endpoint`](Self::introspection_endpoint) sets one. An active
    /// token's `iss` (when given) must be the issuer, its `aud` an accepted audience,
    /// `exp` in the future and `token_type` (when given) `Bearer`; the answer is cached
    /// with the verified tokens until `exp`. The endpoint being unreachable is a 503, not
    /// a 401. Only one provider of an authenticator may introspect: an opaque token names
    /// no issuer.
    pub fn introspection_client_id(mut self, client_id: impl Into<String>) -> Self {
        self.introspection.client_id = Some(client_id.into());
        self
    }

    /// The secret of the [`introspection_client_id`](Self::introspection_client_id),
    /// sent with HTTP Basic unless the provider's
    /// `introspection_endpoint_auth_methods_supported` lists only another method (or
    /// [`introspection_client_auth`](Self::introspection_client_auth) names one).
    pub fn introspection_client_secret(mut self, secret: impl Into<String>) -> Self {
        self.introspection.client_secret = Some(secret.into());
        self
    }

    /// The private key the introspection client signs `private_key_jwt` assertions
    /// with (see [`crate::client`]); used instead of a secret.
    pub fn introspection_client_key(mut self, key: ClientKey) -> Self {
        self.introspection.client_key = Some(key);
        self
    }

    /// [`introspection_client_key`](Self::introspection_client_key) from a PEM (as
    /// `providers!` reads `introspection_client_key: env("...")`), read at build.
    pub fn introspection_client_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.introspection.client_key_pem = Some(pem.into());
        self
    }

    /// How the introspection client authenticates, instead of the method chosen from
    /// the provider's list and the credentials given.
    pub fn introspection_client_auth(mut self, method: ClientAuth) -> Self {
        self.introspection.client_auth = Some(method);
        self
    }

    /// The introspection endpoint, when discovery does not give it (or there is no
    /// discovery).
    pub fn introspection_endpoint(mut self, url: impl Into<String>) -> Self {
        self.introspection.endpoint = Some(url.into());
        self
    }
}
