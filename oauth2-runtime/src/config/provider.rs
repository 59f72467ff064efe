//! [`Provider`] and its builder: one identity provider's bearer-token configuration.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::DecodingKey;

use crate::Algorithm;

use super::introspection::Introspection;
use super::{Audience, ConfigError, Dpop, IssuerSetting, Tenants, check_duration};
use crate::introspection::IntrospectionClient;
use crate::jwks::{KeySet, KeySource, RefreshPolicy};
use crate::util::url::{UrlUse, check_url};

use crate::defaults::HMAC_ALGORITHMS;
pub use crate::defaults::{DEFAULT_ALGORITHMS, DEFAULT_LEEWAY};

/// The validated configuration of one identity provider.
///
/// Made by [`Provider::builder`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Provider {
    pub(crate) name: Arc<str>,
    pub(crate) issuer: String,
    /// `None`: any audience is accepted (see [`ProviderBuilder::danger_accept_any_audience`]).
    pub(crate) audience: Option<Audience>,
    /// The claim the audience is read from: `aud`, or e.g. Cognito's `client_id`.
    pub(crate) audience_claim: Arc<str>,
    pub(crate) keys: KeySource,
    pub(crate) algorithms: Vec<Algorithm>,
    pub(crate) leeway: Duration,
    pub(crate) required_typ: Option<String>,
    pub(crate) refresh: RefreshPolicy,
    pub(crate) http: Option<reqwest::Client>,
    /// Further issuers whose tokens count as this provider's, each with its keys from
    /// its own discovery document and every other rule the same (a broker's peers).
    pub(crate) trusted_issuers: Vec<String>,
    /// Other `iss` values of this issuer, with its keys (Google's `accounts.google.com`).
    pub(crate) issuer_aliases: Vec<String>,
    /// Opaque access tokens are introspected (RFC 7662) with this client.
    pub(crate) introspection: Option<IntrospectionClient>,
    /// Whether tokens may or must be DPoP-bound.
    pub(crate) dpop: Dpop,
    /// The issuer is a template with `{tenantid}`: these tenants' issuers.
    pub(crate) tenants: Option<Tenants>,
    /// OpenID Connect ID tokens are accepted as bearer tokens (Google's
    /// service-to-service pattern); else refused (see [`ProviderBuilder::accept_id_tokens`]).
    pub(crate) accept_id_tokens: bool,
    /// Where the preset's tokens keep roles, gathered into `roles` (Keycloak's).
    pub(crate) roles_from: &'static [&'static [&'static str]],
    /// The login client's secret as the key of HS256/384/512 ID and logout tokens
    /// (OpenID Connect Core §10.1), next to the issuer's keys. Only the login's
    /// ID-token validator has one: never a bearer provider.
    pub(crate) client_secret_key: Option<Arc<DecodingKey>>,
}

impl Provider {
    /// Starts the configuration of a provider named `name` (used in errors, logs and
    /// request extensions).
    pub fn builder(name: impl Into<String>) -> ProviderBuilder {
        ProviderBuilder {
            name: name.into(),
            issuer: IssuerSetting::default(),
            audience: None,
            audience_claim: None,
            any_audience: false,
            keys: KeyChoice::Discovery,
            algorithms: None,
            hmac_secret: None,
            leeway: DEFAULT_LEEWAY,
            required_typ: None,
            refresh: RefreshPolicy::default(),
            http: None,
            trusted_issuers: Vec::new(),
            issuer_aliases: Vec::new(),
            introspection: Introspection::default(),
            dpop: Dpop::Disabled,
            tenants: None,
            any_tenant: false,
            max_tenants: None,
            accept_id_tokens: false,
            roles_from: &[],
            client_secret_key: None,
        }
    }

    /// The provider's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The exact issuer (`iss`) its tokens carry.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The accepted audiences; `None` when any audience is accepted.
    pub fn audience(&self) -> Option<&Audience> {
        self.audience.as_ref()
    }

    /// The claim the audience is read from: `aud`, or e.g. Cognito's `client_id`.
    pub fn audience_claim(&self) -> &str {
        &self.audience_claim
    }

    /// Whether a token's `iss` is this provider's: its issuer, or another value the
    /// provider writes (Google's `accounts.google.com`).
    pub(crate) fn is_issuer(&self, iss: &str) -> bool {
        // A template is no issuer; its tenants' issuers are matched by `Tenants`.
        self.tenants.is_none()
            && (self.issuer == iss || self.issuer_aliases.iter().any(|a| a == iss))
    }

    /// The accepted signature algorithms.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// The tolerated clock skew.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// Whether its tokens may or must be DPoP-bound.
    pub fn dpop(&self) -> Dpop {
        self.dpop
    }

    /// For an issuer template (`{tenantid}`): the accepted tenants, `Some(&[])` never;
    /// `None` for a plain issuer or when any tenant is accepted. See
    /// [`ProviderBuilder::tenants`].
    pub fn tenants(&self) -> Option<&[String]> {
        self.tenants.as_ref()?.allowed()
    }

    /// Whether tokens that are not JWTs are introspected (RFC 7662).
    pub fn introspects(&self) -> bool {
        self.introspection.is_some()
    }
}

#[derive(Debug, Clone)]
enum KeyChoice {
    Discovery,
    Url(String),
    Json(String),
    File(PathBuf),
    #[cfg(feature = "broker")]
    Local(crate::jwks::LocalSource),
}

/// Builds a [`Provider`]; every setter takes literals or expressions, and
/// [`build`](Self::build) checks the whole configuration.
#[derive(Debug, Clone)]
#[must_use = "call `.build()` or pass the builder to `Authenticator::builder().provider(...)`"]
pub struct ProviderBuilder {
    name: String,
    pub(super) issuer: IssuerSetting,
    audience: Option<Audience>,
    pub(super) audience_claim: Option<String>,
    any_audience: bool,
    keys: KeyChoice,
    algorithms: Option<Vec<Algorithm>>,
    hmac_secret: Option<SecretBytes>,
    leeway: Duration,
    required_typ: Option<String>,
    refresh: RefreshPolicy,
    http: Option<reqwest::Client>,
    trusted_issuers: Vec<String>,
    /// Other `iss` values the provider writes into its tokens (Google's bare host).
    pub(super) issuer_aliases: Vec<String>,
    /// Pointed at another issuer (a test's dev issuer): the preset's issuer rules stay off.
    pub(super) introspection: Introspection,
    dpop: Dpop,
    tenants: Option<Vec<String>>,
    any_tenant: bool,
    max_tenants: Option<usize>,
    pub(super) accept_id_tokens: bool,
    pub(super) roles_from: &'static [&'static [&'static str]],
    client_secret_key: Option<SecretBytes>,
}

impl ProviderBuilder {
    /// The provider's name.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the issuer is a template with `{tenantid}`.
    #[cfg(feature = "test-kit")]
    pub(crate) fn is_multi_tenant(&self) -> bool {
        self.issuer
            .given()
            .is_some_and(|i| i.contains(super::TENANT_PLACEHOLDER))
    }

    /// Another `iss` value of this issuer (Google's bare host): the login's ID-token
    /// check accepts what bearer validation of the preset accepts.
    #[cfg(feature = "login")]
    pub(crate) fn issuer_alias(mut self, alias: &str) -> Self {
        self.issuer_aliases.push(alias.to_owned());
        self
    }

    /// The login client's secret, with which the provider signs HS256/384/512 ID and
    /// logout tokens (`algorithms` lists those it may use besides the asymmetric ones).
    #[cfg(feature = "login")]
    pub(crate) fn client_secret_key(mut self, secret: &str) -> Self {
        self.client_secret_key = Some(SecretBytes(secret.as_bytes().to_vec()));
        self
    }

    /// The preset's places of roles (Keycloak's), for the login's ID-token check.
    #[cfg(feature = "login")]
    pub(crate) fn roles_from(mut self, roles_from: &'static [&'static [&'static str]]) -> Self {
        self.roles_from = roles_from;
        self
    }

    /// The same provider at another issuer, its keys from that issuer's discovery (a
    /// test's development issuer): audience, algorithms, leeway and `typ` stay.
    #[cfg(feature = "test-kit")]
    pub(crate) fn point_at(mut self, issuer: &str) -> Self {
        // The preset's rules about the real issuer (Auth0's trailing `/`, Google's other
        // `iss`) do not hold for this one; its claim rules (Cognito's) still do.
        self.issuer.point_at(issuer);
        self.keys = KeyChoice::Discovery;
        self.hmac_secret = None;
        self.trusted_issuers.clear();
        self
    }

    /// The issuer URL: tokens must carry exactly this `iss`, and discovery reads
    /// `{issuer}/.well-known/openid-configuration`. Required; `https://` unless the
    /// host is loopback.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer.set(issuer.into());
        self
    }

    /// The accepted audiences (`aud` must contain at least one). Required.
    pub fn audience(mut self, audience: impl Into<Audience>) -> Self {
        self.audience = Some(audience.into());
        self
    }

    /// Reads the audience from `claim` instead of `aud`. Amazon Cognito's access tokens
    /// carry the app client in `client_id` and have no `aud`
    /// (`.audience_claim("client_id").audience(CLIENT_ID)`); its ID tokens, which have an
    /// `aud` but no `client_id`, are then refused.
    pub fn audience_claim(mut self, claim: impl Into<String>) -> Self {
        self.audience_claim = Some(claim.into());
        self
    }

    /// Accepts tokens for any audience, or none.
    ///
    /// Dangerous: a token issued for another application of the same provider is then
    /// accepted here. Only for providers whose tokens are all meant for this service.
    pub fn danger_accept_any_audience(mut self) -> Self {
        self.any_audience = true;
        self
    }

    /// Keys from OIDC discovery on the issuer (the default).
    pub fn discovery(mut self) -> Self {
        self.keys = KeyChoice::Discovery;
        self
    }

    /// Keys from this JWKS URL instead of discovery.
    pub fn jwks_url(mut self, url: impl Into<String>) -> Self {
        self.keys = KeyChoice::Url(url.into());
        self
    }

    /// Keys from this JWK set (JSON text); never refreshed.
    pub fn jwks_json(mut self, json: impl Into<String>) -> Self {
        self.keys = KeyChoice::Json(json.into());
        self
    }

    /// Keys from a JWKS file, read at startup and again at each refresh.
    pub fn jwks_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.keys = KeyChoice::File(path.into());
        self
    }

    /// Issuers whose tokens count as this provider's too (a broker's trusted peers),
    /// each with its keys from its discovery document.
    #[cfg(feature = "broker")]
    pub(crate) fn trusted_issuers(mut self, issuers: Vec<String>) -> Self {
        self.trusted_issuers = issuers;
        self
    }

    /// Keys that an issuer in this process publishes (the broker's).
    #[cfg(feature = "broker")]
    pub(crate) fn local_keys(mut self, keys: crate::jwks::LocalSource) -> Self {
        self.keys = KeyChoice::Local(keys);
        self
    }

    /// A shared HMAC secret (at least 32 bytes). The provider then accepts HS256, HS384
    /// and HS512 (or the HMAC subset given to [`algorithms`](Self::algorithms)) and
    /// nothing else.
    pub fn hmac_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.hmac_secret = Some(SecretBytes(secret.as_ref().to_vec()));
        self
    }

    /// The accepted signature algorithms; default [`DEFAULT_ALGORITHMS`].
    pub fn algorithms(mut self, algorithms: impl IntoIterator<Item = Algorithm>) -> Self {
        self.algorithms = Some(algorithms.into_iter().collect());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat`; default 60 s.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// Requires this JOSE `typ` header, e.g. `at+jwt` for RFC 9068 access tokens
    /// (compared case-insensitively; `application/` may be omitted on either side).
    /// For a provider that issues RFC 9068 access tokens this is the strongest guard
    /// against other JWTs it signs (ID tokens, logout tokens) being used as access
    /// tokens (RFC 8725 §3.11).
    pub fn required_typ(mut self, typ: impl Into<String>) -> Self {
        self.required_typ = Some(typ.into());
        self
    }

    /// Accepts OpenID Connect ID tokens of this provider as bearer tokens.
    ///
    /// By default a JWT that is an ID token is refused (401 `invalid_token`, RFC 8725
    /// §3.11): an ID token travels through the browser, and many providers write the
    /// same `aud` into ID and access tokens, so whoever reads one could call the API as
    /// the user. A token counts as an ID token when it carries a claim that only ID
    /// tokens have (`nonce`, `at_hash`, `c_hash`, `s_hash`; OpenID Connect Core §2 and
    /// §3.3.2.11, FAPI) unless its `typ` header says it is an access token (`at+jwt`,
    /// RFC 9068); and every JWT of a provider whose access tokens are opaque (the
    /// Google preset) is one.
    ///
    /// Turn it on only where ID tokens are meant to be sent as bearer tokens: Google's
    /// service-to-service authentication (Cloud Run, IAP, the metadata server), whose
    /// ID tokens carry `aud` = the receiving service. The Google preset requires it.
    pub fn accept_id_tokens(mut self) -> Self {
        self.accept_id_tokens = true;
        self
    }

    /// Refresh period of the key set when the JWKS response has no
    /// `Cache-Control: max-age`; default 1 h.
    pub fn refresh_interval(mut self, interval: Duration) -> Self {
        self.refresh.interval = interval;
        self
    }

    /// Minimum time between two key refetches triggered by a token with an unknown
    /// `kid`; default 5 s ([`DEFAULT_UNKNOWN_KID_COOLDOWN`]). A new key is picked up
    /// within it even under a flood of tokens with made-up `kid`s.
    ///
    /// [`DEFAULT_UNKNOWN_KID_COOLDOWN`]: crate::jwks::DEFAULT_UNKNOWN_KID_COOLDOWN
    pub fn unknown_kid_cooldown(mut self, cooldown: Duration) -> Self {
        self.refresh.unknown_kid_cooldown = cooldown;
        self
    }

    /// Timeout of one discovery or JWKS request; default 5 s.
    pub fn fetch_timeout(mut self, timeout: Duration) -> Self {
        self.refresh.fetch_timeout = timeout;
        self
    }

    /// First and largest delay between retries after a failed key fetch;
    /// default 500 ms doubling up to 60 s.
    pub fn retry_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.refresh.backoff_initial = initial;
        self.refresh.backoff_max = max;
        self
    }

    /// The HTTP client for discovery and JWKS requests (to set proxies or root
    /// certificates). Redirects should stay disabled, as in the default client.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// Whether its access tokens may ([`Dpop::Allowed`]) or must ([`Dpop::Required`])
    /// be DPoP-bound (RFC 9449), sent as `Authorization: DPoP <token>` with a `DPoP`
    /// proof of the key in their `cnf.jkt`; default [`Dpop::Disabled`]. A bound token
    /// sent as `Bearer` is refused in every mode. The proof rules (public base URL,
    /// replay store, proof age) are the authenticator's:
    /// [`AuthenticatorBuilder::dpop_base_url`](crate::AuthenticatorBuilder::dpop_base_url).
    pub fn dpop(mut self, mode: Dpop) -> Self {
        self.dpop = mode;
        self
    }

    /// The tenants an issuer template accepts. An issuer with `{tenantid}` (Entra ID's
    /// `https://login.microsoftonline.com/{tenantid}/v2.0`) stands for one issuer per
    /// tenant: a token's `tid` claim (or, without one, its issuer's tenant segment)
    /// names the tenant, which must be listed here, and the token's `iss` must then be
    /// exactly that tenant's issuer. Each tenant's keys come from its own discovery
    /// document, in a cache of its own (see [`max_tenants`](Self::max_tenants)).
    pub fn tenants<I, S>(mut self, tenants: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tenants = Some(tenants.into_iter().map(Into::into).collect());
        self
    }

    /// Adds one tenant to those an issuer template accepts (see
    /// [`tenants`](Self::tenants)).
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenants
            .get_or_insert_with(Vec::new)
            .push(tenant.into());
        self
    }

    /// Accepts every tenant of an issuer template (a multi-tenant app that admits any
    /// organisation's users). Check who they are in your handlers: anyone can create a
    /// tenant.
    pub fn any_tenant(mut self) -> Self {
        self.any_tenant = true;
        self
    }

    /// How many tenants' key caches an issuer template keeps (default 256, and never
    /// fewer than the tenants listed). When more tenants send tokens, the least used
    /// cache goes, and that tenant's next token waits for its keys to be fetched again:
    /// with [`any_tenant`](Self::any_tenant), set it above the number of tenants that
    /// are active at one time.
    pub fn max_tenants(mut self, max: usize) -> Self {
        self.max_tenants = Some(max);
        self
    }

    /// The rules between keys, shared with `providers!` (which checks them at compile
    /// time): the first one broken.
    fn check_rules(&self) -> Result<(), Problem> {
        match oauth2_syntax::broken_rules(self).next() {
            Some(rule) => Err((rule.blame, rule.problem.to_owned())),
            None => Ok(()),
        }
    }

    /// Checks the configuration.
    pub fn build(self) -> Result<Provider, ConfigError> {
        let name = self.name.clone();
        self.check().map_err(|(field, problem)| ConfigError::Field {
            provider: name,
            field,
            problem,
        })
    }

    fn check(mut self) -> Result<Provider, Problem> {
        self.apply_preset()?;
        if self.name.is_empty() {
            return Err(("name", "is empty".into()));
        }
        let issuer = self
            .issuer
            .resolved()
            .ok_or_else(|| ("issuer", "is missing".to_owned()))?;
        self.check_rules()?;
        let tenants = if issuer.contains(super::TENANT_PLACEHOLDER) {
            if self.hmac_secret.is_some() || !matches!(self.keys, KeyChoice::Discovery) {
                return Err((
                    "jwks_url",
                    "cannot be set with an issuer template: each tenant's keys come from its \
                     own discovery document"
                        .into(),
                ));
            }
            if !self.trusted_issuers.is_empty() || !self.issuer_aliases.is_empty() {
                return Err(("issuer", "with {tenantid} has no other issuers".into()));
            }
            // The rules made sure of exactly one of the list and `any_tenant`.
            let allowed = if self.any_tenant { None } else { self.tenants };
            Some(Tenants::new(&issuer, allowed, self.max_tenants)?)
        } else {
            check_url(&issuer, UrlUse::Issuer).map_err(|p| ("issuer", p))?;
            None
        };
        let audience = check_audience(self.audience, self.any_audience)?;
        let audience_claim = self.audience_claim.unwrap_or_else(|| "aud".into());
        if audience_claim.is_empty() {
            return Err(("audience_claim", "is empty".into()));
        }
        let introspection = self.introspection.check(self.hmac_secret.is_none())?;
        // A login client's secret keys the symmetric algorithms; the issuer's keys the
        // others.
        let mut symmetric = Vec::new();
        if self.client_secret_key.is_some()
            && let Some(algorithms) = &mut self.algorithms
        {
            symmetric = algorithms.clone();
            symmetric.retain(|a| HMAC_ALGORITHMS.contains(a));
            algorithms.retain(|a| !HMAC_ALGORITHMS.contains(a));
        }
        let client_secret_key = self
            .client_secret_key
            .filter(|_| !symmetric.is_empty())
            .map(|secret| Arc::new(DecodingKey::from_secret(&secret.0)));
        let (keys, mut algorithms) = match self.hmac_secret {
            Some(secret) => hmac_keys(&secret.0, &self.keys, self.algorithms)?,
            None => {
                // A template is checked as one of its tenants' issuers.
                let sample = tenants.as_ref().map(|t| t.issuer_of("sample-tenant"));
                jwks_keys(
                    sample.as_ref().unwrap_or(&issuer),
                    self.keys,
                    self.algorithms,
                )?
            }
        };
        algorithms.extend(symmetric);
        if algorithms.is_empty() {
            return Err(("algorithms", "is empty".into()));
        }
        check_timing(&self.refresh, self.leeway)?;
        Ok(Provider {
            name: self.name.as_str().into(),
            issuer,
            audience,
            audience_claim: audience_claim.into(),
            keys,
            algorithms,
            leeway: self.leeway,
            required_typ: self.required_typ.map(|t| normalize_typ(&t)),
            refresh: self.refresh,
            http: self.http,
            trusted_issuers: self.trusted_issuers,
            issuer_aliases: self.issuer_aliases,
            introspection,
            dpop: self.dpop,
            tenants,
            accept_id_tokens: self.accept_id_tokens,
            roles_from: self.roles_from,
            client_secret_key,
        })
    }
}

/// Secret bytes (an HMAC secret, a client secret) that `Debug` never shows.
#[derive(Clone)]
struct SecretBytes(Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A field of the provider and what is wrong with it.
pub(super) type Problem = (&'static str, String);

/// The accepted audiences: at least one, none empty; `None` when any is accepted.
fn check_audience(audience: Option<Audience>, any: bool) -> Result<Option<Audience>, Problem> {
    match (audience, any) {
        (_, true) => Ok(None),
        (None, false) => Err((
            "audience",
            "is missing (or call danger_accept_any_audience)".into(),
        )),
        (Some(aud), false) if aud.values().is_empty() => Err(("audience", "is empty".into())),
        (Some(aud), false) if aud.values().iter().any(String::is_empty) => {
            Err(("audience", "contains an empty value".into()))
        }
        (Some(aud), false) => Ok(Some(aud)),
    }
}

/// An HMAC secret: 32 bytes or more, no JWKS next to it, HS* algorithms only.
fn hmac_keys(
    secret: &[u8],
    keys: &KeyChoice,
    algorithms: Option<Vec<Algorithm>>,
) -> Result<(KeySource, Vec<Algorithm>), Problem> {
    if secret.len() < 32 {
        return Err((
            "hmac_secret",
            format!("is {} bytes; at least 32 are required", secret.len()),
        ));
    }
    if !matches!(keys, KeyChoice::Discovery) {
        return Err(("hmac_secret", "cannot be combined with jwks keys".into()));
    }
    let algorithms = algorithms.unwrap_or_else(|| HMAC_ALGORITHMS.to_vec());
    if let Some(alg) = algorithms.iter().find(|a| !HMAC_ALGORITHMS.contains(a)) {
        return Err((
            "algorithms",
            format!(
                "contains {alg:?}, but a provider with an hmac_secret accepts only HS256, HS384, HS512"
            ),
        ));
    }
    let key = KeySource::Secret(Arc::new(DecodingKey::from_secret(secret)));
    Ok((key, algorithms))
}

/// Asymmetric keys from discovery, a JWKS URL, JSON or a file (read once now, so a
/// mistake fails at startup); no HMAC algorithm without a secret.
fn jwks_keys(
    issuer: &str,
    keys: KeyChoice,
    algorithms: Option<Vec<Algorithm>>,
) -> Result<(KeySource, Vec<Algorithm>), Problem> {
    let algorithms = algorithms.unwrap_or_else(|| DEFAULT_ALGORITHMS.to_vec());
    if let Some(alg) = algorithms.iter().find(|a| HMAC_ALGORITHMS.contains(a)) {
        return Err((
            "algorithms",
            format!("contains {alg:?}, which needs an explicit hmac_secret"),
        ));
    }
    let source = match keys {
        KeyChoice::Discovery => {
            crate::discovery::metadata_url(issuer).map_err(|e| ("issuer", e.to_string()))?;
            KeySource::Discovery
        }
        KeyChoice::Url(url) => {
            KeySource::Url(check_url(&url, UrlUse::Endpoint).map_err(|p| ("jwks_url", p))?)
        }
        KeyChoice::Json(json) => {
            let set =
                KeySet::from_json(json.as_bytes()).map_err(|e| ("jwks_json", e.to_string()))?;
            KeySource::Static(Arc::new(set))
        }
        #[cfg(feature = "broker")]
        KeyChoice::Local(local) => KeySource::Local(local),
        KeyChoice::File(path) => {
            let shown = path.display().to_string();
            let bytes = std::fs::read(&path)
                .map_err(|e| ("jwks_file", format!("`{shown}` cannot be read: {e}")))?;
            KeySet::from_json(&bytes).map_err(|e| ("jwks_file", format!("`{shown}`: {e}")))?;
            KeySource::File(path)
        }
    };
    Ok((source, algorithms))
}

/// Every duration at most a year (and the ones that divide time not zero); the backoff
/// grows from its initial delay to its maximum.
fn check_timing(r: &RefreshPolicy, leeway: Duration) -> Result<(), Problem> {
    for (field, value, nonzero) in [
        ("leeway", leeway, false),
        ("refresh_interval", r.interval, true),
        ("unknown_kid_cooldown", r.unknown_kid_cooldown, false),
        ("fetch_timeout", r.fetch_timeout, true),
        ("retry_backoff", r.backoff_initial, true),
        ("retry_backoff", r.backoff_max, true),
    ] {
        check_duration(value, nonzero).map_err(|p| (field, p))?;
    }
    if r.backoff_max < r.backoff_initial {
        return Err((
            "retry_backoff",
            "maximum is smaller than the initial delay".into(),
        ));
    }
    Ok(())
}

/// Strips the optional `application/` prefix of a JOSE `typ` value (RFC 7515 §4.1.9),
/// lowercased for comparison.
pub(crate) fn normalize_typ(typ: &str) -> String {
    let lower = typ.to_ascii_lowercase();
    match lower.strip_prefix("application/") {
        Some(rest) => rest.to_owned(),
        None => lower,
    }
}
/// What the rules shared with `providers!` ask of a bearer provider.
impl oauth2_syntax::Facts for ProviderBuilder {
    fn given(&self, key: &str) -> Option<bool> {
        let i = &self.introspection;
        match key {
            "issuer" => Some(self.issuer.resolved().is_some()),
            "tenants" => Some(self.tenants.is_some()),
            "any_tenant" => Some(self.any_tenant),
            "max_tenants" => Some(self.max_tenants.is_some()),
            "introspection_client_id" => Some(i.client_id.is_some()),
            "introspection_client_secret" => Some(i.client_secret.is_some()),
            "introspection_client_key" => Some(i.has_key()),
            "introspection_client_auth" => Some(i.has_auth()),
            "introspection_endpoint" => Some(i.endpoint.is_some()),
            // A key of browser login: its builder checks it.
            _ => None,
        }
    }

    fn is(&self, _: &str, _: &str) -> Option<bool> {
        None
    }

    fn issuer_template(&self) -> Option<bool> {
        let issuer = self.issuer.resolved()?;
        Some(issuer.contains(super::TENANT_PLACEHOLDER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ProviderBuilder {
        Provider::builder("corp")
            .issuer("https://login.corp.example")
            .audience("api")
    }

    fn field_error(b: ProviderBuilder) -> (String, &'static str) {
        let e = b.build().unwrap_err();
        (e.to_string(), e.field().unwrap())
    }

    #[test]
    fn introspection_needs_the_client_id_and_secret_together() {
        let (msg, field) = field_error(base().introspection_client_secret("s"));
        assert_eq!(field, "introspection_client_id");
        assert!(msg.contains("is missing"), "{msg}");
        let (_, field) = field_error(base().introspection_client_id("rs"));
        assert_eq!(field, "introspection_client_secret");
        let (_, field) = field_error(base().introspection_endpoint("https://x/introspect"));
        assert_eq!(field, "introspection_client_id");
        let rs = |b: ProviderBuilder| {
            b.introspection_client_id("rs")
                .introspection_client_secret("rs-secret")
        };
        let (msg, field) = field_error(rs(base()).introspection_endpoint("http://x/introspect"));
        assert_eq!(field, "introspection_endpoint");
        assert!(msg.contains("https"), "{msg}");
        // Without discovery there is nowhere to find the endpoint.
        let (msg, field) = field_error(rs(base().hmac_secret([7u8; 32])));
        assert_eq!(field, "introspection_endpoint");
        assert!(msg.contains("without discovery"), "{msg}");
        let p = rs(base()).build().unwrap();
        assert!(p.introspects());
        assert!(!format!("{p:?}").contains("rs-secret"));
        assert!(!base().build().unwrap().introspects());
    }

    #[test]
    fn the_google_preset_needs_id_tokens_accepted_on_purpose() {
        let google = || {
            Provider::builder("google")
                .preset(crate::Preset::Google)
                .audience("1234.apps.googleusercontent.com")
        };
        let (msg, field) = field_error(google());
        assert_eq!(field, "accept_id_tokens");
        assert!(msg.contains("opaque"), "{msg}");
        assert!(google().accept_id_tokens().build().is_ok());
        assert!(!base().build().unwrap().accept_id_tokens);
    }

    #[test]
    fn defaults() {
        let p = base().build().unwrap();
        assert_eq!(p.algorithms(), DEFAULT_ALGORITHMS);
        assert_eq!(p.leeway(), Duration::from_secs(60));
        assert!(matches!(&p.keys, KeySource::Discovery));
    }

    #[test]
    fn absurd_durations_are_refused_naming_the_setting() {
        let (msg, field) = field_error(base().refresh_interval(Duration::MAX));
        assert_eq!(field, "refresh_interval");
        assert!(msg.contains("more than a year"), "{msg}");
        let (_, field) = field_error(base().retry_backoff(Duration::from_secs(1), Duration::MAX));
        assert_eq!(field, "retry_backoff");
        let (_, field) = field_error(base().leeway(Duration::from_secs(u64::MAX)));
        assert_eq!(field, "leeway");
        let (msg, field) = field_error(base().fetch_timeout(Duration::ZERO));
        assert_eq!(field, "fetch_timeout");
        assert!(msg.ends_with("must be longer than zero"), "{msg}");
    }

    #[test]
    fn errors_name_provider_and_field() {
        assert_eq!(
            field_error(Provider::builder("corp").audience("a")),
            (r#"provider "corp": issuer is missing"#.into(), "issuer")
        );
        let (msg, field) = field_error(base().issuer("http://login.corp.example"));
        assert_eq!(field, "issuer");
        assert!(msg.contains("only https"), "{msg}");
        let (msg, field) = field_error(base().jwks_url("ftp://x/keys"));
        assert_eq!(field, "jwks_url");
        assert!(msg.contains("scheme `ftp`"), "{msg}");
        let (msg, field) = field_error(base().issuer("https://login.corp.example/?tenant=1"));
        assert_eq!(field, "issuer");
        assert!(msg.contains("must not have a query"), "{msg}");
        let (_, field) = field_error(Provider::builder("c").issuer("https://x"));
        assert_eq!(field, "audience");
        let (msg, _) = field_error(base().audience(["a", ""]));
        assert!(msg.ends_with("audience contains an empty value"), "{msg}");
        let (msg, field) = field_error(base().jwks_json("{not json"));
        assert_eq!(field, "jwks_json");
        assert!(msg.contains("not a JWK set"), "{msg}");
        let (msg, field) = field_error(base().jwks_file("/nonexistent/keys.json"));
        assert_eq!(field, "jwks_file");
        assert!(msg.contains("cannot be read"), "{msg}");
    }

    #[test]
    fn loopback_http_is_allowed() {
        for issuer in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            base().issuer(issuer).build().unwrap();
        }
        assert!(
            base()
                .issuer("http://127.0.0.1.example.com")
                .build()
                .is_err()
        );
    }

    #[test]
    fn hmac_only_when_explicit_and_exclusive() {
        let (msg, field) = field_error(base().algorithms([Algorithm::HS256]));
        assert_eq!(field, "algorithms");
        assert!(msg.contains("needs an explicit hmac_secret"), "{msg}");
        let (msg, field) = field_error(base().hmac_secret("short"));
        assert_eq!(field, "hmac_secret");
        assert!(msg.contains("at least 32"), "{msg}");
        let secret = [7u8; 32];
        let (msg, _) = field_error(
            base()
                .hmac_secret(secret)
                .algorithms([Algorithm::HS256, Algorithm::RS256]),
        );
        assert!(msg.contains("accepts only HS256"), "{msg}");
        let shown = format!("{:?}", base().hmac_secret(secret));
        assert!(
            shown.contains("<redacted>") && !shown.contains("7, 7, 7"),
            "{shown}"
        );
        let p = base().hmac_secret(secret).build().unwrap();
        assert_eq!(p.algorithms(), HMAC_ALGORITHMS);
        assert!(matches!(p.keys, KeySource::Secret(_)));
        assert!(
            base()
                .hmac_secret(secret)
                .jwks_url("https://x/k")
                .build()
                .is_err()
        );
    }

    #[test]
    fn any_audience_is_explicit() {
        let p = Provider::builder("c")
            .issuer("https://x")
            .danger_accept_any_audience()
            .build()
            .unwrap();
        assert!(p.audience().is_none());
    }

    #[test]
    fn typ_normalization() {
        assert_eq!(normalize_typ("application/AT+JWT"), "at+jwt");
        assert_eq!(normalize_typ("at+jwt"), "at+jwt");
    }
}
