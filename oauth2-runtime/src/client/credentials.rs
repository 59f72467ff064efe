//! [`ClientCredentials`]: who the app is at a provider, and what proves it.

use std::fmt;
use std::sync::Arc;

use super::auth::{AssertionAudience, ClientAuth, Credentials, choose};
use super::{AssertionFile, ClientConfigError, ClientKey};

/// A client registration at a provider: the client id and one credential (a secret, a
/// [`ClientKey`] or an [`AssertionFile`]), with how to present it. The resource server's
/// introspection client and the [`TokenClient`](super::TokenClient) take one; a login
/// provider has the same settings on its builder.
///
/// Without [`method`](Self::method) the method is chosen from the provider's
/// `token_endpoint_auth_methods_supported` by what the credentials allow: a key or an
/// assertion file `private_key_jwt`; a secret `client_secret_basic`, then
/// `client_secret_post`, then `client_secret_jwt`; nothing, `none`.
///
/// ```
/// use oauth2::client::{ClientAuth, ClientCredentials};
///
/// let credentials = ClientCredentials::new("inventory-api")
///     .secret("a secret of at least thirty-two bytes, from the environment")
///     .method(ClientAuth::SecretJwt);
/// assert_eq!(credentials.client_id(), "inventory-api");
/// assert!(credentials.check().is_ok());
/// assert!(!format!("{credentials:?}").contains("thirty-two"), "no secret in logs");
///
/// // A method whose credential is missing says so.
/// let e = ClientCredentials::new("x").method(ClientAuth::PrivateKeyJwt).check().unwrap_err();
/// assert!(e.to_string().contains("client_key"));
/// ```
#[derive(Clone)]
pub struct ClientCredentials {
    client_id: String,
    secret: Option<String>,
    key: Option<Arc<ClientKey>>,
    assertion: Option<AssertionFile>,
    method: Option<ClientAuth>,
    audience: AssertionAudience,
}

impl fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets stay out of logs.
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("secret", &self.secret.is_some())
            .field("key", &self.key)
            .field("assertion", &self.assertion)
            .field("method", &self.method)
            .field("audience", &self.audience)
            .finish()
    }
}

impl ClientCredentials {
    /// The client `client_id`, with no credential yet (a public client).
    pub fn new(client_id: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into(),
            secret: None,
            key: None,
            assertion: None,
            method: None,
            audience: AssertionAudience::default(),
        }
    }

    /// Its secret (`client_secret_basic`, `client_secret_post`, `client_secret_jwt`).
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// Its private key (`private_key_jwt`).
    pub fn key(mut self, key: ClientKey) -> Self {
        self.key = Some(Arc::new(key));
        self
    }

    /// A file whose assertion is sent as `client_assertion` (`private_key_jwt` with a
    /// federated credential).
    pub fn assertion_file(mut self, file: AssertionFile) -> Self {
        self.assertion = Some(file);
        self
    }

    /// The method, instead of the one chosen from the provider's list.
    pub fn method(mut self, method: ClientAuth) -> Self {
        self.method = Some(method);
        self
    }

    /// The `aud` of its assertions: the issuer (default) or the endpoint (Entra ID).
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.audience = audience;
        self
    }

    /// The client id.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Whether the credentials fit together: a client id; a secret, when given, not
    /// empty (and 32 bytes or more for `client_secret_jwt`); the credential the method
    /// needs.
    pub fn check(&self) -> Result<(), ClientConfigError> {
        if self.client_id.is_empty() {
            return Err(ClientConfigError("client_id is empty".into()));
        }
        check_secret(
            self.secret.as_deref(),
            self.method,
            self.key.is_some() || self.assertion.is_some(),
        )
        .map_err(|(field, problem)| ClientConfigError(format!("{field} {problem}")))
    }

    /// The method for a provider that lists `supported`.
    pub(crate) fn method_for(&self, supported: Option<&[String]>) -> Result<ClientAuth, String> {
        match self.method {
            Some(method) => Ok(method),
            None => choose(
                self.key.is_some() || self.assertion.is_some(),
                self.secret.is_some(),
                supported,
            ),
        }
    }

    /// The borrowed form requests are authenticated with, at `issuer`.
    pub(crate) fn view<'a>(&'a self, issuer: &'a str) -> Credentials<'a> {
        Credentials {
            client_id: &self.client_id,
            secret: self.secret.as_deref(),
            key: self.key.as_deref(),
            assertion: self.assertion.as_ref(),
            issuer,
            audience: self.audience,
        }
    }
}

/// A secret, if given, is not empty; a method that sends one has one (32 bytes or more
/// for `client_secret_jwt`'s HS256, RFC 7518 §3.2); `private_key_jwt` has a key (or an
/// assertion file). The field to blame and what is wrong with it.
pub(crate) fn check_secret(
    secret: Option<&str>,
    method: Option<ClientAuth>,
    has_key: bool,
) -> Result<(), (&'static str, String)> {
    if secret == Some("") {
        return Err((
            "client_secret",
            "is empty (leave it out for a public client)".into(),
        ));
    }
    match method {
        Some(ClientAuth::SecretBasic | ClientAuth::SecretPost | ClientAuth::SecretJwt)
            if secret.is_none() =>
        {
            Err(("client_auth", "needs a client_secret".into()))
        }
        Some(ClientAuth::SecretJwt) if secret.is_some_and(|s| s.len() < 32) => Err((
            "client_secret",
            "is shorter than 32 bytes, too short to key client_secret_jwt's HS256 \
             assertions (RFC 7518 §3.2)"
                .into(),
        )),
        Some(ClientAuth::PrivateKeyJwt) if !has_key => Err((
            "client_auth",
            "private_key_jwt needs a client_key (or a client_assertion_file)".into(),
        )),
        _ => Ok(()),
    }
}
