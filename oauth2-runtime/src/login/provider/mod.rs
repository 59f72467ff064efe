//! One login provider: its client registration and its endpoints, discovered once.

use std::sync::Arc;

use tokio::sync::OnceCell;
use url::Url;

mod client;
mod endpoints;
mod fapi2;

pub(crate) use endpoints::Endpoints;

use super::id_token_algorithms::check_id_token_algorithms;
use crate::Algorithm;
pub use crate::client::ClientAuth;
use crate::client::credentials::check_secret;
use crate::client::{
    AssertionAudience, AssertionFile, ClientCredentials, ClientKey, Credentials, DpopKey,
};
pub use crate::config::Preset;
use crate::config::{ConfigError, IssuerSetting};
use crate::util::url::{UrlUse, check_url};

pub use crate::defaults::DEFAULT_SCOPES;

/// Whether the login reads the provider's userinfo endpoint, and whether it must succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Userinfo {
    /// Read it when the provider has one. With an ID token, userinfo only adds claims:
    /// if the endpoint refuses the access token (401 or 403, as it does when the token
    /// is for an API: resource indicators, Entra ID API scopes, Auth0's `audience`), the
    /// login goes on with the ID token's claims and a warning is logged. Without an ID
    /// token (plain OAuth 2.0) it is required.
    #[default]
    Auto,
    /// Read it, and fail the login (400 `userinfo_failed`) if that fails.
    Required,
    /// Never read it: the user is the ID token's claims. Needs an OpenID Provider.
    Never,
}

/// `true` is [`Userinfo::Auto`], `false` is [`Userinfo::Never`].
impl From<bool> for Userinfo {
    fn from(fetch: bool) -> Self {
        if fetch { Self::Auto } else { Self::Never }
    }
}

/// A login provider's configuration: an OpenID Provider found by discovery, or a plain
/// OAuth 2.0 provider with explicit endpoints (user data then comes from its userinfo
/// URL). Made by [`LoginProvider::builder`]; cheap to clone.
#[derive(Clone)]
pub struct LoginProvider {
    pub(crate) inner: Arc<ProviderInner>,
}

pub(crate) struct ProviderInner {
    pub(crate) name: String,
    /// `Some` for an OpenID Provider.
    pub(crate) issuer: Option<String>,
    pub(crate) client_id: String,
    pub(crate) client_secret: Option<String>,
    /// The client id and credentials every request to the provider authenticates with.
    pub(crate) client: ClientCredentials,
    pub(crate) scope: String,
    pub(crate) params: Vec<(String, String)>,
    pub(crate) userinfo: Userinfo,
    /// Whether logins push their authorization request first (RFC 9126).
    pub(crate) par: PushedAuthorization,
    /// `POST {prefix}/{provider}/token` is served (refresh and device code grants).
    pub(crate) token_endpoint: bool,
    /// `POST {prefix}/{provider}/device` is served (and the token endpoint with it).
    pub(crate) device_flow: bool,
    /// `POST {prefix}/{provider}/backchannel-logout` is served, and sessions are filed
    /// by `sid` and `sub` so that it can end them.
    pub(crate) backchannel_logout: bool,
    /// Logout revokes the session's refresh token at the provider (RFC 7009).
    pub(crate) revoke_at_logout: bool,
    /// The FAPI 2.0 Security Profile (`fapi2()`).
    pub(crate) fapi2: bool,
    /// Redirect URIs that native clients may use besides loopback ones.
    pub(crate) native_redirect_uris: Vec<String>,
    /// Claims copied to standard names (`from`, `to`) when those are absent.
    pub(crate) claim_map: &'static [(&'static str, &'static str)],
    /// Another `iss` its ID tokens may carry (Google's bare `accounts.google.com`).
    pub(crate) issuer_alias: Option<&'static str>,
    /// Where its tokens keep roles, gathered into `roles` (Keycloak's).
    pub(crate) roles_from: &'static [&'static [&'static str]],
    /// The algorithms its ID (and logout) tokens may use; `None`: the asymmetric
    /// defaults.
    pub(crate) id_token_algorithms: Option<Vec<Algorithm>>,
    /// The key of the login's DPoP proofs, when its tokens are to be DPoP-bound.
    pub(crate) dpop: Option<Arc<DpopKey>>,
    explicit: Option<Endpoints>,
    discovered: OnceCell<Endpoints>,
}

impl std::fmt::Debug for ProviderInner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The client secret stays out of logs.
        f.debug_struct("LoginProvider")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for LoginProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl LoginProvider {
    /// The client's credentials for a request to `url`: a plain OAuth 2.0 provider has
    /// no issuer, so its endpoint is the assertions' audience.
    pub(crate) fn credentials<'a>(&'a self, url: &'a Url) -> Credentials<'a> {
        let p = &self.inner;
        p.client.view(p.issuer.as_deref().unwrap_or(url.as_str()))
    }

    /// Starts the configuration of a login provider named `name`, the `{provider}` of
    /// its routes (`/auth/{provider}/login`, ...).
    pub fn builder(name: impl Into<String>) -> LoginProviderBuilder {
        LoginProviderBuilder {
            name: name.into(),
            issuer: IssuerSetting::default(),
            client_id: None,
            client_secret: None,
            client_auth: None,
            client_key: None,
            client_key_pem: None,
            client_assertion: None,
            client_assertion_path: None,
            assertion_audience: AssertionAudience::Issuer,
            scopes: None,
            params: Vec::new(),
            userinfo: Userinfo::Auto,
            par: PushedAuthorization::Auto,
            token_endpoint: false,
            device_flow: false,
            backchannel_logout: false,
            revoke_at_logout: true,
            fapi2: false,
            native_redirect_uris: Vec::new(),
            authorize_url: None,
            token_url: None,
            userinfo_url: None,
            dpop_key: None,
            id_token_algorithms: None,
        }
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The issuer, for an OpenID Provider.
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }
}

/// Builds a [`LoginProvider`]; [`build`](Self::build) checks the whole configuration.
#[derive(Clone)]
#[must_use = "pass the builder to `Login::builder().provider(...)`"]
pub struct LoginProviderBuilder {
    name: String,
    issuer: IssuerSetting,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_auth: Option<ClientAuth>,
    client_key: Option<ClientKey>,
    /// A PEM to read as `client_key` at build.
    client_key_pem: Option<String>,
    client_assertion: Option<AssertionFile>,
    /// A path to read as `client_assertion_file` at build.
    client_assertion_path: Option<String>,
    assertion_audience: AssertionAudience,
    scopes: Option<Vec<String>>,
    params: Vec<(String, String)>,
    userinfo: Userinfo,
    par: PushedAuthorization,
    token_endpoint: bool,
    device_flow: bool,
    backchannel_logout: bool,
    revoke_at_logout: bool,
    /// `fapi2()`: the FAPI 2.0 Security Profile.
    fapi2: bool,
    native_redirect_uris: Vec<String>,
    authorize_url: Option<String>,
    token_url: Option<String>,
    userinfo_url: Option<String>,
    dpop_key: Option<String>,
    id_token_algorithms: Option<Vec<Algorithm>>,
}

impl std::fmt::Debug for LoginProviderBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginProviderBuilder")
            .field("name", &self.name)
            .field("issuer", &self.issuer.given())
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("preset", &self.issuer.preset)
            .finish_non_exhaustive()
    }
}

impl LoginProviderBuilder {
    /// The provider's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The same login at another OpenID Provider, everything from its discovery (a
    /// test's development issuer): the client id, scopes and parameters stay; a preset
    /// and explicit endpoints go.
    #[cfg(feature = "test-kit")]
    pub(crate) fn point_at(mut self, issuer: &str) -> Self {
        self.issuer.point_at(issuer);
        self.issuer.preset = None;
        self.authorize_url = None;
        self.token_url = None;
        self.userinfo_url = None;
        self.client_auth = None;
        self
    }

    /// The OpenID Provider's issuer; its endpoints come from discovery, its ID tokens
    /// are validated against its JWKS.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer.set(issuer.into());
        self
    }

    /// The client id registered with the provider (required).
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    /// The client secret; without one the client is public and relies on PKCE.
    pub fn client_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// The algorithms the provider signs this client's ID tokens (and logout tokens)
    /// with; default the asymmetric ones (`RS256`, `ES256`, ... as for bearer tokens).
    ///
    /// `HS256`, `HS384` and `HS512` (OpenID Connect Core §10.1) are keyed with this
    /// client's secret, for a provider where the client is registered with
    /// `id_token_signed_response_alg: HS256` (or 384, 512). They need a client secret of
    /// at least 32, 48 or 64 bytes (checked at build); a public client has none. The
    /// issuer's published keys never verify them (no algorithm confusion), and bearer
    /// access tokens never accept them.
    pub fn id_token_algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.id_token_algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// The scopes to ask for; default [`DEFAULT_SCOPES`]. OpenID Providers need
    /// `openid`; refresh tokens usually need `offline_access` too.
    pub fn scopes<I, S>(mut self, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// An extra authorization request parameter (`prompt`, `audience`, `hd`, ...). It
    /// cannot replace the flow's own (`state`, `nonce`, `redirect_uri`, ...).
    pub fn authorize_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }

    /// Several extra authorization request parameters, e.g.
    /// `[("audience", "https://api.example"), ("hd", "example.com")]` (`providers!` key
    /// `authorize_params`).
    pub fn authorize_params<I, K, V>(mut self, params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        for (k, v) in params {
            self = self.authorize_param(k, v);
        }
        self
    }

    /// Renamed [`authorize_param`](Self::authorize_param).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `authorize_param`, as `providers!` names it"
    )]
    pub fn param(self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.authorize_param(name, value)
    }

    /// Renamed [`authorize_params`](Self::authorize_params).
    #[deprecated(
        since = "0.1.0",
        note = "renamed `authorize_params`, as `providers!` names it"
    )]
    pub fn params<I, K, V>(self, params: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.authorize_params(params)
    }

    /// The `prompt` parameter (`login`, `consent`, `select_account`, `none`).
    pub fn prompt(self, prompt: impl Into<String>) -> Self {
        self.authorize_param("prompt", prompt)
    }

    /// Whether to read the userinfo endpoint after login and merge its claims into the
    /// session, and whether a refusal fails the login; default [`Userinfo::Auto`]. Its
    /// `sub` must always match the ID token's.
    pub fn userinfo(mut self, mode: impl Into<Userinfo>) -> Self {
        self.userinfo = mode.into();
        self
    }

    /// Whether logins push their authorization request to the provider first (RFC 9126)
    /// and send the browser with only its `request_uri`; default
    /// [`PushedAuthorization::Auto`] (when the provider's metadata has the endpoint).
    pub fn pushed_authorization(mut self, mode: PushedAuthorization) -> Self {
        self.par = mode;
        self
    }

    /// Binds the login's tokens to this key by DPoP (RFC 9449), when the provider takes
    /// ES256 proofs (`dpop_signing_alg_values_supported`): the code exchange and every
    /// refresh carry a proof of it, the userinfo call too, and
    /// [`LoginSession::api_headers`](crate::login::LoginSession::api_headers) signs one
    /// for each API call with the session's access token. A stolen session token is
    /// then useless without the key. `pem` is a P-256 `PRIVATE KEY` (PKCS #8, as
    /// `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` writes); give
    /// every instance the same one, as refresh tokens may be bound to it.
    pub fn dpop_key(mut self, pem: impl Into<String>) -> Self {
        self.dpop_key = Some(pem.into());
        self
    }

    /// Serves `POST {prefix}/{provider}/token` for this provider: the app's own token
    /// endpoint in front of the provider's, for clients that hold no client secret
    /// (refresh and device code grants; the app adds its client authentication and
    /// validates returned ID tokens). Off by default.
    pub fn token_endpoint(mut self) -> Self {
        self.token_endpoint = true;
        self
    }

    /// Serves `POST {prefix}/{provider}/device` (RFC 8628 device authorization at the
    /// provider) and the token endpoint that polls it. Off by default.
    pub fn device_flow(mut self) -> Self {
        self.device_flow = true;
        self
    }

    /// Serves `POST {prefix}/{provider}/backchannel-logout` (OpenID Connect Back-Channel
    /// Logout 1.0): the provider calls it when the user logs out there, and every
    /// session of that provider session (`sid`) or user (`sub`) ends, on every instance
    /// sharing the store, stateless cookie sessions included. Register
    /// `{base_url}{prefix}/{provider}/backchannel-logout` as the client's
    /// `backchannel_logout_uri`. Needs an issuer (the logout token is a JWT signed with
    /// its keys). Off by default.
    pub fn backchannel_logout(mut self) -> Self {
        self.backchannel_logout = true;
        self
    }

    /// Logout leaves the session's refresh token alone. By default logout revokes it at
    /// the provider (RFC 7009), when the provider has a `revocation_endpoint` and the
    /// session a refresh token: a copy taken before logout would otherwise live on (with
    /// many providers, for months). The revocation runs after the logout has answered;
    /// its outcome is logged in the span `oauth2.revoke`.
    pub fn keep_refresh_token_at_logout(mut self) -> Self {
        self.revoke_at_logout = false;
        self
    }

    /// A redirect URI that native clients may use besides loopback ones (which any port
    /// of `127.0.0.1` or `[::1]` may, RFC 8252 §7.3), e.g. a private-use scheme
    /// `com.example.app:/callback`; matched exactly. Needs the token endpoint.
    pub fn native_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.native_redirect_uris.push(uri.into());
        self
    }

    /// For a plain OAuth 2.0 provider (no discovery, no ID token): the authorization
    /// endpoint.
    pub fn authorize_url(mut self, url: impl Into<String>) -> Self {
        self.authorize_url = Some(url.into());
        self
    }

    /// For a plain OAuth 2.0 provider: the token endpoint.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = Some(url.into());
        self
    }

    /// For a plain OAuth 2.0 provider: the URL that returns the user as JSON for the
    /// access token. A numeric `id` becomes `sub` when there is no `sub`.
    pub fn userinfo_url(mut self, url: impl Into<String>) -> Self {
        self.userinfo_url = Some(url.into());
        self
    }

    /// Fills in a common provider's issuer or endpoints, scopes and claim names.
    pub fn preset(mut self, preset: Preset) -> Self {
        self.issuer.preset = Some(preset);
        self
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<LoginProvider, ConfigError> {
        let name = self.name.clone();
        self.check().map_err(|(field, problem)| ConfigError::Field {
            provider: name,
            field,
            problem,
        })
    }

    fn check(mut self) -> Result<LoginProvider, Problem> {
        self.apply_preset()?;
        self.apply_fapi2()?;
        if let Some(problem) = oauth2_syntax::provider_name_problem(&self.name) {
            return Err(("name", problem));
        }
        let client_id = match self.client_id.take() {
            Some(id) if !id.is_empty() => id,
            _ => return Err(("client_id", "is not set".into())),
        };
        if let Some(pem) = self.client_key_pem.take() {
            let key = ClientKey::from_pem(&pem).map_err(|e| ("client_key", e.to_string()))?;
            self.client_key = Some(key);
        }
        if let Some(path) = self.client_assertion_path.take() {
            let file =
                AssertionFile::new(path).map_err(|e| ("client_assertion_file", e.to_string()))?;
            self.client_assertion = Some(file);
        }
        let scopes = self
            .scopes
            .take()
            .unwrap_or_else(|| DEFAULT_SCOPES.split(' ').map(str::to_owned).collect());
        if let Some(bad) = scopes
            .iter()
            .find(|s| s.is_empty() || s.contains(char::is_whitespace))
        {
            return Err(("scopes", format!("has an invalid scope `{bad}`")));
        }
        // Explicit endpoints without an issuer: a plain OAuth 2.0 provider (the preset's
        // issuer is not its).
        let issuer = match (self.issuer.given(), &self.authorize_url) {
            (None, Some(_)) => None,
            _ => self.issuer.resolved(),
        };
        let mut explicit = self.explicit_endpoints()?;
        let issuer = match (issuer, &explicit) {
            (Some(i), _) => {
                check_url(&i, UrlUse::Issuer).map_err(|p| ("issuer", p))?;
                Some(i)
            }
            (None, Some(e)) if e.userinfo.is_none() => {
                return Err((
                    "userinfo_url",
                    "is not set: without an issuer (no ID token) the user comes from it".into(),
                ));
            }
            (None, Some(_)) => None,
            (None, None) => {
                return Err((
                    "issuer",
                    "is not set (or give authorize_url, token_url and userinfo_url)".into(),
                ));
            }
        };
        self.check_rules(issuer.is_some())?;
        check_secret(
            self.client_secret.as_deref(),
            self.client_auth,
            self.client_key.is_some() || self.client_assertion.is_some(),
        )?;
        let id_token_algorithms = self.id_token_algorithms.take();
        check_id_token_algorithms(
            id_token_algorithms.as_deref(),
            self.client_secret.as_deref(),
        )?;
        let serves_tokens = self.token_endpoint || self.device_flow;
        if !self.native_redirect_uris.is_empty() && !serves_tokens {
            return Err((
                "native_redirect_uri",
                "needs the token endpoint (`token_endpoint()`), where native clients redeem their codes".into(),
            ));
        }
        if let Some(bad) = self
            .native_redirect_uris
            .iter()
            .find(|u| url::Url::parse(u).is_err() || u.contains('#'))
        {
            return Err((
                "native_redirect_uri",
                format!("`{bad}` is not an absolute URL without a fragment"),
            ));
        }
        if issuer.is_some() && !scopes.iter().any(|s| s == "openid") {
            return Err((
                "scopes",
                "must include `openid` for an OpenID Provider".into(),
            ));
        }
        let dpop = self
            .dpop_key
            .as_deref()
            .map(DpopKey::from_pem)
            .transpose()
            .map_err(|p| ("dpop_key", p))?
            .map(Arc::new);
        if let (Some(_), Some(e)) = (&dpop, &mut explicit) {
            e.dpop = true;
        }
        let client = self.client_credentials(&client_id);
        Ok(LoginProvider {
            inner: Arc::new(ProviderInner {
                name: self.name,
                issuer,
                client_id,
                client,
                client_secret: self.client_secret,
                scope: scopes.join(" "),
                params: self.params,
                userinfo: self.userinfo,
                par: self.par,
                token_endpoint: self.token_endpoint || self.device_flow,
                device_flow: self.device_flow,
                backchannel_logout: self.backchannel_logout,
                revoke_at_logout: self.revoke_at_logout,
                fapi2: self.fapi2,
                native_redirect_uris: self.native_redirect_uris,
                claim_map: self.issuer.preset.map_or(&[][..], |p| p.info().claim_map),
                issuer_alias: self.issuer.alias(),
                roles_from: self.issuer.preset.map_or(&[][..], |p| p.info().roles_from),
                id_token_algorithms,
                dpop,
                explicit,
                discovered: OnceCell::new(),
            }),
        })
    }

    /// The rules between keys, shared with `providers!` (which checks them at compile
    /// time): the first one broken. `has_issuer`: after the preset and the explicit
    /// endpoints, whether the provider is an OpenID Provider.
    fn check_rules(&self, has_issuer: bool) -> Result<(), Problem> {
        let facts = RuleFacts {
            builder: self,
            has_issuer,
        };
        match oauth2_syntax::broken_rules(&facts).next() {
            Some(rule) => Err((rule.blame, rule.problem.to_owned())),
            None => Ok(()),
        }
    }

    /// Fills in what the preset knows and the configuration does not say: scopes,
    /// GitHub's endpoints, the issuer of a provider that has one.
    fn apply_preset(&mut self) -> Result<(), Problem> {
        let Some(preset) = self.issuer.preset else {
            return Ok(());
        };
        let info = preset.info();
        if self.scopes.is_none() {
            self.scopes = Some(info.scopes.iter().map(|s| (*s).to_owned()).collect());
        }
        if let Some(e) = &info.endpoints
            && self.authorize_url.is_none()
            && self.issuer.given().is_none()
        {
            self.authorize_url = Some(e.authorize.into());
            self.token_url = Some(e.token.into());
            self.userinfo_url = Some(e.userinfo.into());
        }
        if self.issuer.resolved().is_none() && self.authorize_url.is_none() {
            return Err((
                "issuer",
                format!("is not set: preset {preset:?} needs your tenant's or realm's issuer URL"),
            ));
        }
        Ok(())
    }
}

/// A field of the login provider and what is wrong with it.
type Problem = (&'static str, String);

/// Whether a login pushes its authorization request first (RFC 9126).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PushedAuthorization {
    /// Push when the provider's metadata has a `pushed_authorization_request_endpoint`.
    #[default]
    Auto,
    /// Always push; a provider without the endpoint fails the login (500, the
    /// configuration is wrong).
    Required,
    /// Never push. A provider that requires it (`require_pushed_authorization_requests`)
    /// fails the login (500, the configuration is wrong).
    Never,
}

/// What the rules shared with `providers!` ask of a login provider.
struct RuleFacts<'a> {
    builder: &'a LoginProviderBuilder,
    has_issuer: bool,
}

impl oauth2_syntax::Facts for RuleFacts<'_> {
    fn given(&self, key: &str) -> Option<bool> {
        match key {
            "issuer" => Some(self.has_issuer),
            "backchannel_logout" => Some(self.builder.backchannel_logout),
            "fapi2" => Some(self.builder.fapi2),
            "client_auth" => Some(self.builder.client_auth.is_some()),
            "client_key" => Some(self.builder.client_key.is_some()),
            "client_assertion_file" => Some(
                self.builder.client_assertion.is_some()
                    || self.builder.client_assertion_path.is_some(),
            ),
            "dpop_key" => Some(self.builder.dpop_key.is_some()),
            // A key of bearer tokens: its builder checks it.
            _ => None,
        }
    }

    fn is(&self, key: &str, name: &str) -> Option<bool> {
        let (choice, value) = match key {
            "userinfo" => (
                &oauth2_syntax::USERINFO_MODES,
                format!("{:?}", self.builder.userinfo),
            ),
            "pushed_authorization" => (
                &oauth2_syntax::PUSHED_AUTHORIZATION_MODES,
                format!("{:?}", self.builder.par),
            ),
            "assertion_audience" => (
                &oauth2_syntax::ASSERTION_AUDIENCES,
                format!("{:?}", self.builder.assertion_audience),
            ),
            "client_auth" => {
                return self.builder.client_auth.map(|a| a.name() == name);
            }
            _ => return None,
        };
        Some(choice.variant(name) == Some(value.as_str()))
    }

    fn issuer_template(&self) -> Option<bool> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variant, in declaration order; the match breaks when one is added.
    fn presets() -> Vec<Preset> {
        let all = vec![
            Preset::Google,
            Preset::Microsoft,
            Preset::GitHub,
            Preset::GitLab,
            Preset::Auth0,
            Preset::Okta,
            Preset::Keycloak,
            Preset::Cognito,
        ];
        for p in &all {
            match p {
                Preset::Google
                | Preset::Microsoft
                | Preset::GitHub
                | Preset::GitLab
                | Preset::Auth0
                | Preset::Okta
                | Preset::Keycloak
                | Preset::Cognito => {}
            }
        }
        all
    }

    /// Every rule shared with the macro is checked at `build()` by one of the two
    /// builders: one configuration that breaks each, refused naming its key.
    #[test]
    fn every_shared_rule_is_checked_at_build() {
        use crate::Provider;
        let bearer = || {
            Provider::builder("p")
                .issuer("https://login.example")
                .audience("api")
        };
        let entra = || {
            Provider::builder("p")
                .issuer("https://login.microsoftonline.com/{tenantid}/v2.0")
                .audience("api")
        };
        let plain = || {
            LoginProvider::builder("p")
                .client_id("c")
                .authorize_url("https://idp.example/a")
                .token_url("https://idp.example/t")
                .userinfo_url("https://idp.example/u")
        };
        use super::fapi2::tests::{P256, fapi};
        let bearer_field = |b: crate::ProviderBuilder| b.build().unwrap_err().field();
        let login_field = |b: LoginProviderBuilder| b.build().unwrap_err().field();
        let refused: Vec<(&str, Option<&str>)> = vec![
            ("tenants", bearer_field(entra())),
            ("tenants", bearer_field(bearer().max_tenants(3))),
            ("tenants", bearer_field(entra().tenant("a").any_tenant())),
            (
                "introspection_client_id",
                bearer_field(bearer().introspection_endpoint("https://x/i")),
            ),
            (
                "introspection_client_secret",
                bearer_field(bearer().introspection_client_id("rs")),
            ),
            (
                "introspection_client_id",
                bearer_field(
                    entra()
                        .any_tenant()
                        .introspection_client_id("rs")
                        .introspection_client_secret("s"),
                ),
            ),
            (
                "backchannel_logout",
                login_field(plain().backchannel_logout()),
            ),
            ("userinfo", login_field(plain().userinfo(Userinfo::Never))),
            ("fapi2", login_field(plain().fapi2())),
            (
                "client_auth",
                login_field(fapi().client_auth(ClientAuth::SecretBasic)),
            ),
            (
                "fapi2",
                login_field(
                    LoginProvider::builder("bank")
                        .issuer("https://as.bank.example")
                        .client_id("tpp")
                        .dpop_key(P256)
                        .fapi2(),
                ),
            ),
            (
                "fapi2",
                login_field(
                    LoginProvider::builder("bank")
                        .issuer("https://as.bank.example")
                        .client_id("tpp")
                        .client_key_pem(P256)
                        .fapi2(),
                ),
            ),
            (
                "assertion_audience",
                login_field(fapi().assertion_audience(AssertionAudience::Endpoint)),
            ),
            (
                "pushed_authorization",
                login_field(fapi().pushed_authorization(PushedAuthorization::Never)),
            ),
            (
                "pushed_authorization",
                login_field(plain().pushed_authorization(PushedAuthorization::Required)),
            ),
        ];
        // The other keys a rule names.
        assert_eq!(bearer_field(bearer().tenant("a")), Some("tenants"));
        assert_eq!(bearer_field(bearer().any_tenant()), Some("tenants"));
        assert_eq!(
            bearer_field(bearer().introspection_client_secret("s")),
            Some("introspection_client_id")
        );
        // A choice's other value breaks no rule.
        assert!(plain().userinfo(Userinfo::Required).build().is_ok());
        let rules: Vec<&str> = oauth2_syntax::PROVIDER_RULES
            .iter()
            .map(|r| r.blame)
            .collect();
        let expected: Vec<&str> = refused.iter().map(|(blame, _)| *blame).collect();
        assert_eq!(
            rules, expected,
            "one configuration per rule, in the table's order"
        );
        for (blame, field) in refused {
            assert_eq!(field, Some(blame));
        }
    }

    #[test]
    fn symmetric_id_tokens_need_a_long_enough_client_secret() {
        use crate::Algorithm::{ES256, HS256, HS384, HS512};
        let with = |secret: Option<&str>, algorithms: Vec<crate::Algorithm>| {
            let mut b = LoginProvider::builder("op")
                .issuer("https://op.example")
                .client_id("web")
                .id_token_algorithms(algorithms);
            if let Some(secret) = secret {
                b = b.client_secret(secret);
            }
            b.build().map(|_| ()).map_err(|e| e.to_string())
        };
        let s32 = "s".repeat(32);
        assert_eq!(with(Some(&s32), vec![HS256, ES256]), Ok(()));
        let e = with(Some(&s32), vec![HS384]).unwrap_err();
        assert!(e.contains("at least 48 bytes"), "{e}");
        assert!(
            with(Some(&"s".repeat(63)), vec![HS512])
                .unwrap_err()
                .contains("64")
        );
        assert!(
            with(Some(&"s".repeat(31)), vec![HS256])
                .unwrap_err()
                .contains("32")
        );
        let e = with(None, vec![HS256]).unwrap_err();
        assert!(e.contains("public client"), "{e}");
        assert!(with(None, vec![ES256]).is_ok());
        assert!(with(Some(&s32), vec![]).unwrap_err().contains("empty"));
    }

    #[test]
    fn the_macro_knows_every_preset_and_userinfo_mode() {
        let syntax = &oauth2_syntax::PRESETS;
        let variants: Vec<String> = presets().iter().map(|p| format!("{p:?}")).collect();
        let expected: Vec<&str> = syntax.values.iter().map(|(_, v)| *v).collect();
        assert_eq!(variants, expected);
        for preset in presets() {
            assert_eq!(preset.info().variant, format!("{preset:?}"), "its row");
        }
        let modes = [Userinfo::Auto, Userinfo::Required, Userinfo::Never];
        for mode in modes {
            match mode {
                Userinfo::Auto | Userinfo::Required | Userinfo::Never => {}
            }
        }
        let variants: Vec<String> = modes.iter().map(|m| format!("{m:?}")).collect();
        let expected: Vec<&str> = oauth2_syntax::USERINFO_MODES
            .values
            .iter()
            .map(|(_, v)| *v)
            .collect();
        assert_eq!(variants, expected);
    }
}
