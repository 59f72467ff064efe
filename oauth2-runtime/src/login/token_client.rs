//! A login provider's registration as a [`TokenClient`]: one registration for the login
//! and for the app's calls to other APIs.

use super::Login;
use crate::client::{ClientConfigError, TokenClient};

impl Login {
    /// A [`TokenClient`] with the registration of login provider `name`: its client id
    /// and credentials (secret, key or assertion file, method, assertion audience), its
    /// issuer (or, for a plain OAuth 2.0 provider, its token URL), this login's HTTP
    /// client, the issuer's discovered metadata (not fetched again) and the provider's
    /// DPoP key. The app's own tokens ([`token_for`](TokenClient::token_for)) and tokens
    /// on a caller's behalf
    /// ([`exchange`](TokenClient::exchange)) then come from the registration the login
    /// uses, as Spring's and Microsoft.Identity.Web's token managers reuse theirs. Each
    /// call makes a new client with its own cache: make it once and share it (it is
    /// cheap to clone).
    ///
    /// ```no_run
    /// # fn run(login: oauth2::login::Login) -> Result<(), oauth2::client::ClientConfigError> {
    /// let tokens = login.token_client("corp")?;
    /// # let _ = tokens; Ok(()) }
    /// ```
    pub fn token_client(&self, name: &str) -> Result<TokenClient, ClientConfigError> {
        let p = self.provider(name).ok_or_else(|| {
            ClientConfigError(format!("there is no login provider named `{name}`"))
        })?;
        let mut builder = TokenClient::builder(p.inner.client.clone())
            .http_client(self.inner.upstream.http.clone());
        builder = match (p.issuer(), p.explicit_token_url()) {
            (Some(issuer), _) => {
                let builder = builder.issuer(issuer);
                match self.inner.upstream.registry.get(issuer) {
                    Some(cache) => builder.discovery_shared(cache),
                    None => builder,
                }
            }
            (None, Some(url)) => builder.token_endpoint(url.as_str()),
            (None, None) => {
                return Err(ClientConfigError(format!(
                    "login provider `{name}` has neither an issuer nor a token URL"
                )));
            }
        };
        if let Some(key) = &p.inner.dpop {
            builder = builder.dpop_shared(key.clone());
        }
        builder.build()
    }
}
