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
    /// carry your client in `aud` only with an audience mapper, and roles under
    /// `realm_access.roles`.
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
        Ok(())
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
