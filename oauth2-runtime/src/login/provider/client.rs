//! A login provider's client credentials on its builder: the authentication method,
//! the key or assertion file, the assertions' audience (see [`crate::client`]).

use super::LoginProviderBuilder;
use crate::client::{AssertionAudience, AssertionFile, ClientAuth, ClientCredentials, ClientKey};

impl LoginProviderBuilder {
    /// Forces a client authentication method instead of the one chosen from the
    /// provider's `token_endpoint_auth_methods_supported`: with a
    /// [`client_key`](Self::client_key), `private_key_jwt`; with a secret,
    /// `client_secret_basic`, else `client_secret_post`, else `client_secret_jwt`; with
    /// neither, `none`. See [`crate::client`].
    pub fn client_auth(mut self, auth: ClientAuth) -> Self {
        self.client_auth = Some(auth);
        self
    }

    /// The private key of `private_key_jwt` (RFC 7523, OpenID Connect Core §9): every
    /// request to the provider (code exchange, refresh, PAR, device authorization,
    /// revocation) carries a fresh assertion signed with it. Register its
    /// [`public_jwk`](ClientKey::public_jwk) at the provider.
    pub fn client_key(mut self, key: ClientKey) -> Self {
        self.client_key = Some(key);
        self
    }

    /// [`client_key`](Self::client_key) from a PEM private key (as `providers!` reads
    /// `client_key: env("...")`), read at [`build`](Login::builder): a PEM that is no key
    /// fails there, naming `client_key`.
    pub fn client_key_pem(mut self, pem: impl Into<String>) -> Self {
        self.client_key_pem = Some(pem.into());
        self
    }

    /// A federated credential: every request carries, as its `private_key_jwt`
    /// `client_assertion`, the JWT in this file, which another system keeps fresh (a
    /// Kubernetes service-account token, a GitHub Actions OIDC token). See
    /// [`AssertionFile`].
    pub fn client_assertion_file(mut self, file: AssertionFile) -> Self {
        self.client_assertion = Some(file);
        self
    }

    /// [`client_assertion_file`](Self::client_assertion_file) by its path (as
    /// `providers!` reads `client_assertion_file: env("...")`), read at build: a file
    /// that cannot be read fails there, naming `client_assertion_file`.
    pub fn client_assertion_path(mut self, path: impl Into<String>) -> Self {
        self.client_assertion_path = Some(path.into());
        self
    }

    /// The `aud` of the client's assertions: the issuer (default, rfc7523bis and FAPI
    /// 2.0), or the endpoint's URL (Microsoft Entra ID).
    pub fn assertion_audience(mut self, audience: AssertionAudience) -> Self {
        self.assertion_audience = audience;
        self
    }

    /// The client's id and credentials, as its requests use them.
    pub(super) fn client_credentials(&self, client_id: &str) -> ClientCredentials {
        let mut client =
            ClientCredentials::new(client_id).assertion_audience(self.assertion_audience);
        if let Some(secret) = &self.client_secret {
            client = client.secret(secret.clone());
        }
        if let Some(key) = &self.client_key {
            client = client.key(key.clone());
        }
        if let Some(file) = &self.client_assertion {
            client = client.assertion_file(file.clone());
        }
        if let Some(method) = self.client_auth {
            client = client.method(method);
        }
        client
    }
}
