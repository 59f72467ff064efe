//! Revoking a login's refresh token at its provider (RFC 7009): at logout, and when a
//! broker's login ends.

use super::Login;
use super::provider::LoginProvider;
use super::tokens::{Answer, Tokens, post_form};

impl Login {
    /// Revokes the refresh token of `tokens` at `provider`, when there is one and the
    /// provider has a revocation endpoint: whether it was revoked, or why not. Best
    /// effort: the login has ended here either way; the outcome is logged in a span
    /// `oauth2.revoke`.
    pub(crate) async fn revoke_refresh_token(
        &self,
        provider: &LoginProvider,
        tokens: &Tokens,
    ) -> Result<bool, String> {
        let Some(token) = tokens.refresh_token.as_deref() else {
            return Ok(false);
        };
        let span = tracing::info_span!("oauth2.revoke", provider = %provider.name());
        let work = async {
            let endpoints = match provider.endpoints(&self.inner.upstream.registry).await {
                Ok(endpoints) => endpoints,
                Err(e) => return Err(format!("the provider's metadata: {e}")),
            };
            let Some(url) = &endpoints.revocation else {
                return Ok(false);
            };
            let form = [("token", token), ("token_type_hint", "refresh_token")];
            let http = &self.inner.upstream.http;
            match post_form(http, provider, endpoints.client_auth, url, &form, None).await {
                Ok(Answer::Ok(_)) => Ok(true),
                Ok(Answer::Refused(e)) => Err(format!("the provider refused: {}", e.message())),
                Err(e) => Err(e.description().to_owned()),
            }
        };
        crate::util::traced(span, work, |result| match result {
            Ok(true) => tracing::info!("refresh token revoked"),
            Ok(false) => tracing::debug!("no revocation endpoint"),
            Err(e) => tracing::warn!(error = %e, "revoking the refresh token failed"),
        })
        .await
    }
}
