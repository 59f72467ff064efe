//! [`TokenClient`]: tokens for calling other APIs, the app's own (client credentials,
//! RFC 6749 §4.4) and on a caller's behalf (token exchange, RFC 8693; Entra ID's
//! on-behalf-of), cached until shortly before they expire.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::OnceCell;
use url::Url;

use super::request::{Answer, Post, PostError, TokenResponse, post_form};
use super::token_cache::{Issued, TokenCache};
use super::{AccessToken, ClientAuth, ClientConfigError, ClientCredentials, DpopKey, TokenError};

/// RFC 8693's grant type.
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
/// RFC 7523's grant type, which Entra ID's on-behalf-of flow uses.
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// RFC 8693 §3: an access token.
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// Default: how long a request to the token endpoint may take.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default: how long before its expiry a cached token is renewed.
pub const DEFAULT_RENEW_BEFORE: Duration = Duration::from_secs(30);
/// Default: the first and the longest wait after a failed request for a token.
pub const DEFAULT_TOKEN_RETRY_BACKOFF: (Duration, Duration) =
    (Duration::from_secs(1), Duration::from_secs(60));

/// Which API a token is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// `resource` (RFC 8707): the API's URL or URN; what oidc-provider, Keycloak
    /// (token exchange) and most RFC-following providers take.
    Resource(String),
    /// `audience`: the API's logical name, as Auth0 and RFC 8693 take it.
    Audience(String),
    /// Neither: the scopes name the API, as Entra ID's `api://{app}/.default` does.
    Scopes,
}

impl Target {
    /// A `resource` target.
    pub fn resource(url: impl Into<String>) -> Self {
        Self::Resource(url.into())
    }

    /// An `audience` target.
    pub fn audience(name: impl Into<String>) -> Self {
        Self::Audience(name.into())
    }

    /// Its form field, if any.
    fn field(&self) -> Option<(&'static str, &str)> {
        match self {
            Self::Resource(r) => Some(("resource", r)),
            Self::Audience(a) => Some(("audience", a)),
            Self::Scopes => None,
        }
    }
}

/// How [`TokenClient::exchange`] asks for a token on a caller's behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExchangeGrant {
    /// RFC 8693 token exchange: `subject_token` (an access token), `resource` or
    /// `audience`, `scope` (Keycloak, Okta, Auth0 custom exchange, Duende, oidc-provider).
    #[default]
    TokenExchange,
    /// Microsoft Entra ID's on-behalf-of flow: the JWT bearer grant with the caller's
    /// token as `assertion`, `requested_token_use=on_behalf_of`, and the API named by
    /// the scopes ([`Target::Scopes`], e.g. `api://inventory/.default`).
    EntraOnBehalfOf,
}

/// Gets and caches access tokens for calling other APIs, as one OAuth client of one
/// provider: its own with the client credentials grant
/// ([`token_for`](Self::token_for)), and, for a caller's token, one aimed at another
/// API ([`exchange`](Self::exchange)). Every request authenticates as
/// [`ClientCredentials`] say (a secret, `private_key_jwt`, a federated assertion).
///
/// Tokens are kept until [`renew_before`](TokenClientBuilder::renew_before) their
/// expiry (at most half their lifetime); of the callers that want the same token at the
/// same time, one asks the provider and the others wait for its answer. A failed
/// request is reported to its callers and not repeated for that token for a while (1 s,
/// doubling up to a minute): a provider that is down sees a request per token per
/// backoff, not one per caller. Never does it fall back to forwarding the caller's
/// token.
///
/// ```no_run
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// use oauth2::client::{ClientCredentials, Target, TokenClient};
///
/// let tokens = TokenClient::builder(
///     ClientCredentials::new("orders-service").secret(std::env::var("CLIENT_SECRET")?),
/// )
/// .issuer("https://login.example.com")
/// .build()?;
///
/// // The app's own token for the inventory API.
/// let token = tokens.token_for(&Target::resource("https://inventory.example"), &["read"]).await?;
/// let http = reqwest::Client::new();
/// let items = token.authorize(http.get("https://inventory.example/items"))?.send().await?;
/// # let _ = items; Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenClient {
    inner: Arc<Inner>,
}

struct Inner {
    credentials: ClientCredentials,
    issuer: Option<String>,
    explicit_endpoint: Option<Url>,
    http: reqwest::Client,
    timeout: Duration,
    dpop: Option<Arc<DpopKey>>,
    grant: ExchangeGrant,
    /// The issuer's shared key cache, whose metadata serves discovery.
    discovery: Option<crate::jwks::KeyCache>,
    endpoint: OnceCell<Endpoint>,
    cache: TokenCache,
}

/// Where tokens come from, and how to ask there.
#[derive(Debug, Clone)]
struct Endpoint {
    url: Url,
    method: ClientAuth,
    /// Token requests carry a DPoP proof (a key is configured, and the provider takes
    /// ES256 proofs or its endpoint is explicit).
    dpop: bool,
}

impl fmt::Debug for TokenClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClient")
            .field("client", &self.inner.credentials)
            .field("issuer", &self.inner.issuer)
            .field("grant", &self.inner.grant)
            .finish_non_exhaustive()
    }
}

impl TokenClient {
    /// A builder for the client with `credentials`.
    pub fn builder(credentials: ClientCredentials) -> TokenClientBuilder {
        TokenClientBuilder {
            credentials,
            issuer: None,
            token_endpoint: None,
            http: None,
            timeout: DEFAULT_TIMEOUT,
            dpop_key_pem: None,
            dpop_key: None,
            discovery: None,
            grant: ExchangeGrant::default(),
            renew_before: DEFAULT_RENEW_BEFORE,
            retry_backoff: DEFAULT_TOKEN_RETRY_BACKOFF,
        }
    }

    /// The app's own token for `target` with `scopes` (client credentials grant): the
    /// cached one while it is fresh, else a new one.
    pub async fn token_for(
        &self,
        target: &Target,
        scopes: &[&str],
    ) -> Result<AccessToken, TokenError> {
        let key = cache_key("client_credentials", None, target, scopes);
        self.inner
            .cache
            .get_or_fetch(key, || async {
                let scope = scopes.join(" ");
                let mut form = vec![("grant_type", "client_credentials")];
                form.extend(target.field());
                if !scope.is_empty() {
                    form.push(("scope", &scope));
                }
                self.request(&form, false).await
            })
            .await
    }

    /// A token for `target` with `scopes` on behalf of the caller whose access token is
    /// `subject_token` (RFC 8693 token exchange, or Entra ID's on-behalf-of flow as the
    /// builder's [`exchange_grant`](TokenClientBuilder::exchange_grant) says), cached per
    /// caller token, target and scopes until it expires. The token it gives names the
    /// caller as `sub`; providers add an `act` claim naming this client (RFC 8693 §4.1).
    pub async fn exchange(
        &self,
        subject_token: &str,
        target: &Target,
        scopes: &[&str],
    ) -> Result<AccessToken, TokenError> {
        let grant = self.inner.grant;
        if grant == ExchangeGrant::EntraOnBehalfOf && *target != Target::Scopes {
            return Err(TokenError::config(
                "Entra ID's on-behalf-of flow names the API in the scopes \
                 (`api://{app}/.default`): use Target::Scopes",
            ));
        }
        if subject_token.is_empty() {
            return Err(TokenError::config("the caller's token is empty"));
        }
        let subject = crate::util::sha256_base64url(subject_token);
        let key = cache_key("exchange", Some(&subject), target, scopes);
        self.inner
            .cache
            .get_or_fetch(key, || async {
                let scope = scopes.join(" ");
                let mut form = match grant {
                    ExchangeGrant::TokenExchange => vec![
                        ("grant_type", TOKEN_EXCHANGE),
                        ("subject_token", subject_token),
                        ("subject_token_type", ACCESS_TOKEN_TYPE),
                        ("requested_token_type", ACCESS_TOKEN_TYPE),
                    ],
                    ExchangeGrant::EntraOnBehalfOf => vec![
                        ("grant_type", JWT_BEARER),
                        ("assertion", subject_token),
                        ("requested_token_use", "on_behalf_of"),
                    ],
                };
                form.extend(target.field());
                if !scope.is_empty() {
                    form.push(("scope", &scope));
                }
                self.request(&form, true).await
            })
            .await
    }

    /// The token endpoint: the configured one, or the discovered one (found once).
    async fn endpoint(&self) -> Result<&Endpoint, TokenError> {
        let inner = &self.inner;
        inner
            .endpoint
            .get_or_try_init(|| async {
                if let Some(url) = &inner.explicit_endpoint {
                    let method = inner
                        .credentials
                        .method_for(None)
                        .map_err(TokenError::config)?;
                    return Ok(Endpoint {
                        url: url.clone(),
                        method,
                        dpop: inner.dpop.is_some(),
                    });
                }
                let issuer = inner.issuer.as_deref().unwrap_or_default();
                // The metadata the issuer's shared key cache already holds, when there is
                // one (a login provider's); else fetched here, once.
                let meta = match &inner.discovery {
                    Some(cache) => cache.metadata().await,
                    None => crate::discovery::discover(&inner.http, issuer)
                        .await
                        .map(Arc::new),
                }
                .map_err(|e| TokenError::unavailable(format!("discovery failed: {e}")))?;
                let token = meta.token_endpoint.as_deref().ok_or_else(|| {
                    TokenError::config(format!("{issuer} names no token_endpoint"))
                })?;
                let url = Url::parse(token)
                    .map_err(|e| TokenError::config(format!("token_endpoint: {e}")))?;
                let method = inner
                    .credentials
                    .method_for(meta.token_endpoint_auth_methods_supported.as_deref())
                    .map_err(TokenError::config)?;
                let dpop = inner.dpop.is_some()
                    && meta
                        .dpop_signing_alg_values_supported
                        .as_ref()
                        .is_some_and(|algs| algs.iter().any(|a| a == "ES256"));
                Ok(Endpoint { url, method, dpop })
            })
            .await
    }

    /// One token request; `exchange`: the answer must be an access token (RFC 8693
    /// §2.2.1 `issued_token_type`).
    async fn request(&self, form: &[(&str, &str)], exchange: bool) -> Result<Issued, TokenError> {
        let endpoint = self.endpoint().await?;
        let inner = &self.inner;
        let issuer = inner.issuer.as_deref().unwrap_or(endpoint.url.as_str());
        let post = Post {
            http: &inner.http,
            credentials: inner.credentials.view(issuer),
            method: endpoint.method,
            url: &endpoint.url,
            timeout: inner.timeout,
        };
        let dpop = inner.dpop.as_ref().filter(|_| endpoint.dpop);
        let bytes = match post_form(post, form, dpop.map(|k| &**k)).await {
            Ok(Answer::Ok(bytes)) => bytes,
            Ok(Answer::Refused(e)) => {
                return Err(TokenError::refused(
                    &e.error,
                    format!("{} refused: {}", endpoint.url, e.message()),
                ));
            }
            Err(PostError::Credentials(m)) => return Err(TokenError::config(m)),
            Err(e) => return Err(TokenError::unavailable(e.message())),
        };
        issued(&bytes, dpop, exchange)
    }
}

/// Reads a token response: a Bearer token, or a DPoP-bound one when the request
/// carried a proof of `dpop`.
fn issued(bytes: &[u8], dpop: Option<&Arc<DpopKey>>, exchange: bool) -> Result<Issued, TokenError> {
    let r = TokenResponse::parse(bytes).map_err(TokenError::invalid)?;
    if exchange
        && r.issued_token_type
            .as_deref()
            .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(TokenError::invalid(format!(
            "the exchange issued a `{}`, not an access token",
            crate::util::printable(r.issued_token_type.as_deref().unwrap_or_default(), 100)
        )));
    }
    let bound = r.dpop_bound(dpop.is_some()).map_err(TokenError::invalid)?;
    let lifetime = r.expires_in.or_else(|| jwt_lifetime(&r.access_token));
    let expires_at = lifetime.map(|s| crate::util::now().saturating_add(s));
    let key = dpop.filter(|_| bound).cloned();
    Ok(Issued {
        token: AccessToken::new(r.access_token, expires_at, r.scope, key),
        lifetime,
    })
}

/// The remaining lifetime a JWT access token's `exp` gives (read, not verified: the
/// client only decides how long to keep it).
fn jwt_lifetime(token: &str) -> Option<u64> {
    use base64::Engine as _;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims["exp"].as_u64()?.checked_sub(crate::util::now())
}

/// The cache key of a token: the grant, the caller's token digest, the target and the
/// scopes (in any order).
fn cache_key(grant: &str, subject: Option<&str>, target: &Target, scopes: &[&str]) -> String {
    let (kind, value) = target.field().unwrap_or(("scopes", ""));
    let subject = subject.unwrap_or_default();
    let mut key = String::with_capacity(
        grant.len()
            + subject.len()
            + value.len()
            + scopes.iter().map(|s| s.len() + 1).sum::<usize>()
            + 16,
    );
    for part in [grant, "\n", subject, "\n", kind, "=", value, "\n"] {
        key.push_str(part);
    }
    // In one order, once each.
    let mut sorted = scopes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    for (i, scope) in sorted.iter().enumerate() {
        if i > 0 {
            key.push(' ');
        }
        key.push_str(scope);
    }
    key
}

/// Builds a [`TokenClient`].
#[derive(Clone)]
#[must_use = "call `build()`"]
pub struct TokenClientBuilder {
    credentials: ClientCredentials,
    issuer: Option<String>,
    token_endpoint: Option<String>,
    http: Option<reqwest::Client>,
    timeout: Duration,
    dpop_key_pem: Option<String>,
    /// A key already loaded (a login provider's).
    dpop_key: Option<Arc<DpopKey>>,
    /// The issuer's shared key cache (a login provider's).
    discovery: Option<crate::jwks::KeyCache>,
    grant: ExchangeGrant,
    renew_before: Duration,
    retry_backoff: (Duration, Duration),
}

impl fmt::Debug for TokenClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenClientBuilder")
            .field("client", &self.credentials)
            .field("issuer", &self.issuer)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

impl TokenClientBuilder {
    /// The provider's issuer: its token endpoint and authentication methods come from
    /// discovery (on first use), and it is the audience of the client's assertions.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// The token endpoint, for a provider without discovery (or to skip it).
    pub fn token_endpoint(mut self, url: impl Into<String>) -> Self {
        self.token_endpoint = Some(url.into());
        self
    }

    /// The HTTP client for token and discovery requests (default: rustls, no
    /// redirects).
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// How long one request may take (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A P-256 PEM key whose DPoP proofs (RFC 9449) go with every token request when
    /// the provider takes ES256 proofs: its tokens are then bound to the key, and
    /// [`AccessToken::authorize`] adds a proof to each API call.
    pub fn dpop_key(mut self, pem: impl Into<String>) -> Self {
        self.dpop_key_pem = Some(pem.into());
        self
    }

    /// The DPoP key of a login provider, shared.
    #[cfg(feature = "login")]
    pub(crate) fn dpop_shared(mut self, key: Arc<DpopKey>) -> Self {
        self.dpop_key = Some(key);
        self
    }

    /// The issuer's key cache, whose discovered metadata the client uses instead of
    /// fetching it again.
    #[cfg(feature = "login")]
    pub(crate) fn discovery_shared(mut self, cache: crate::jwks::KeyCache) -> Self {
        self.discovery = Some(cache);
        self
    }

    /// How [`TokenClient::exchange`] asks (RFC 8693 by default).
    pub fn exchange_grant(mut self, grant: ExchangeGrant) -> Self {
        self.grant = grant;
        self
    }

    /// How long before expiry a cached token is renewed (default
    /// [`DEFAULT_RENEW_BEFORE`]; at most half a token's lifetime).
    pub fn renew_before(mut self, before: Duration) -> Self {
        self.renew_before = before;
        self
    }

    /// The first and the longest wait after a failed request before the same token is
    /// asked for again (default [`DEFAULT_TOKEN_RETRY_BACKOFF`]).
    pub fn retry_backoff(mut self, first: Duration, longest: Duration) -> Self {
        self.retry_backoff = (first, longest);
        self
    }

    /// The client; fails when the credentials do not fit together, no endpoint is given
    /// (an issuer or a token endpoint), a URL or the DPoP key is invalid.
    pub fn build(self) -> Result<TokenClient, ClientConfigError> {
        let problem = |text: String| Err(ClientConfigError(text));
        self.credentials.check()?;
        let explicit_endpoint = match &self.token_endpoint {
            Some(url) => Some(
                crate::util::url::check_url(url, crate::util::url::UrlUse::Endpoint)
                    .map_err(|p| ClientConfigError(format!("token_endpoint {p}")))?,
            ),
            None => None,
        };
        match &self.issuer {
            Some(issuer) => {
                crate::util::url::check_url(issuer, crate::util::url::UrlUse::Issuer)
                    .map_err(|p| ClientConfigError(format!("issuer {p}")))?;
            }
            None if explicit_endpoint.is_none() => {
                return problem("a token client needs an issuer or a token_endpoint".into());
            }
            None => {}
        }
        if self.timeout.is_zero() {
            return problem("timeout is zero".into());
        }
        if self.retry_backoff.0.is_zero() || self.retry_backoff.0 > self.retry_backoff.1 {
            return problem("retry_backoff: the first wait must be > 0 and ≤ the longest".into());
        }
        let dpop = match (&self.dpop_key_pem, self.dpop_key) {
            (Some(pem), _) => Some(Arc::new(
                DpopKey::from_pem(pem).map_err(|e| ClientConfigError(format!("dpop_key {e}")))?,
            )),
            (None, key) => key,
        };
        let http = match self.http {
            Some(http) => http,
            None => crate::jwks::default_http_client().map_err(ClientConfigError)?,
        };
        Ok(TokenClient {
            inner: Arc::new(Inner {
                credentials: self.credentials,
                issuer: self.issuer,
                explicit_endpoint,
                http,
                timeout: self.timeout,
                dpop,
                grant: self.grant,
                discovery: self.discovery,
                endpoint: OnceCell::new(),
                cache: TokenCache::new(self.renew_before, self.retry_backoff),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_in_any_order_share_a_key_and_targets_and_callers_do_not() {
        let api = Target::resource("https://api.example");
        assert_eq!(
            cache_key("cc", None, &api, &["b", "a"]),
            cache_key("cc", None, &api, &["a", "b", "a"])
        );
        assert_ne!(
            cache_key("cc", None, &api, &["a"]),
            cache_key("cc", None, &Target::audience("https://api.example"), &["a"])
        );
        assert_ne!(
            cache_key("x", Some("one"), &api, &["a"]),
            cache_key("x", Some("two"), &api, &["a"])
        );
    }

    #[test]
    fn a_token_response_is_bearer_or_bound_to_the_key_that_proved() {
        let bearer =
            br#"{"access_token":"t","token_type":"Bearer","expires_in":60,"scope":"read"}"#;
        let t = issued(bearer, None, false).unwrap();
        assert_eq!((t.token.secret(), t.lifetime), ("t", Some(60)));
        assert!(!t.token.is_dpop_bound());
        assert!(t.token.scopes().unwrap().contains("read"));
        // DPoP without a proof sent: refused.
        let dpop = br#"{"access_token":"t","token_type":"DPoP"}"#;
        assert!(issued(dpop, None, false).is_err());
        // An exchange must give an access token.
        let id = br#"{"access_token":"t","token_type":"N_A","issued_token_type":"urn:ietf:params:oauth:token-type:id_token"}"#;
        let e = issued(id, None, true).err().unwrap();
        assert!(e.to_string().contains("id_token"), "{e}");
        assert!(issued(b"{}", None, false).is_err());
    }
}
