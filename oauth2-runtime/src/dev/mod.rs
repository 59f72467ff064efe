//! A development identity provider, in process, on 127.0.0.1 (feature `dev-issuer`).
//!
//! It generates RS256, ES256 and EdDSA keys, serves OIDC discovery, a JWKS, a
//! `client_credentials` token endpoint and a browser login that signs a dev user in at
//! once (authorization code with PKCE, ID tokens, userinfo, end-session), mints tokens
//! with any claims and headers,
//! rotates keys, counts requests, and switches into fault modes (down, slow, malformed
//! JWKS) so that tests can check what a real provider's outage does. No account, no
//! network. Not for production: it accepts any client.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{dev::DevIssuer, Authenticator};
//!
//! let idp = DevIssuer::start().await.unwrap();
//! let auth = Authenticator::builder().provider(idp.provider("dev")).build().unwrap();
//! auth.ready().await; // keys fetched through discovery
//!
//! let token = idp.token().subject("alice").scope("read").sign();
//! let valid = auth.validator().validate(&token).await.unwrap();
//! assert_eq!(valid.subject(), Some("alice"));
//!
//! idp.rotate(); // new keys: the next token has an unknown kid, fetched once
//! let token = idp.token().sign();
//! assert!(auth.validator().validate(&token).await.is_ok());
//! assert_eq!(auth.key_stats("dev").unwrap().unknown_kid_refetches, 1);
//! # }
//! ```

mod login;
mod server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::Algorithm;
use serde_json::{Map, Value, json};

use crate::issuer::signing_key::SigningKey;

/// The algorithms the dev issuer has keys for.
pub const DEV_ALGORITHMS: [Algorithm; 3] = [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA];

use crate::config::{Provider, ProviderBuilder};

/// The audience of the dev issuer's tokens unless one is set.
pub const DEFAULT_AUDIENCE: &str = "dev-api";

/// How the dev issuer misbehaves, to test outages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Fault {
    /// Answers normally.
    #[default]
    None,
    /// Every endpoint answers 503.
    Down,
    /// Every endpoint answers after this delay.
    Slow(Duration),
    /// Every endpoint holds its answer until the fault changes ([`DevIssuer::set_fault`]):
    /// a test knows that a request is in flight (the [`DevStats`] count it on arrival)
    /// and decides when it finishes, without guessing a delay.
    Hold,
    /// The JWKS endpoint answers 200 with a body that is not JSON.
    MalformedJwks,
    /// The JWKS endpoint answers 200 with JSON that is not a JWK set.
    InvalidJwks,
    /// The JWKS endpoint answers 200 with a JWK set without keys.
    EmptyJwks,
    /// The JWKS endpoint answers 200 with a JWK set of 2 MiB (over the 1 MiB limit).
    HugeJwks,
}

/// How the dev issuer signs the ID tokens it issues from now on, to test a relying
/// party's checks (the OpenID Connect RP certification's key and signature cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum IdTokenSigning {
    /// RS256 with the current key, `kid` set (the default).
    #[default]
    Normal,
    /// With this algorithm's current key.
    Algorithm(Algorithm),
    /// Signed with this algorithm, then the signature changed: it does not verify.
    BadSignature(Algorithm),
    /// `alg: none` and an empty signature.
    Unsigned,
    /// RS256 without a `kid` header.
    NoKid,
}

impl IdTokenSigning {
    /// The `alg` the ID token's header names (or whose hash `at_hash` uses).
    fn algorithm(self) -> Algorithm {
        match self {
            Self::Algorithm(alg) | Self::BadSignature(alg) => alg,
            Self::Normal | Self::Unsigned | Self::NoKid => Algorithm::RS256,
        }
    }
}

/// Request counters of the dev issuer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct DevStats {
    /// Requests to `/.well-known/openid-configuration`.
    pub discovery: u64,
    /// Requests to `/jwks`.
    pub jwks: u64,
    /// Of those, conditional requests answered 304 (the keys had not changed).
    pub jwks_not_modified: u64,
    /// Requests to `/token`.
    pub token: u64,
}

pub(crate) struct State {
    issuer: String,
    keys: RwLock<Vec<Arc<SigningKey>>>,
    generation: AtomicU64,
    /// The current fault; a held request waits for it to change.
    fault: tokio::sync::watch::Sender<Fault>,
    jwks_max_age: Mutex<Option<u64>>,
    discovery: AtomicU64,
    jwks: AtomicU64,
    jwks_not_modified: AtomicU64,
    token: AtomicU64,
    /// Lifetime of the access tokens of the code and refresh grants, in seconds.
    token_lifetime: AtomicU64,
    logins: Mutex<login::Logins>,
}

impl State {
    fn key(&self, alg: Algorithm) -> Arc<SigningKey> {
        self.keys
            .read()
            .expect("keys lock")
            .iter()
            .find(|k| k.alg == alg.jwt())
            .cloned()
            .unwrap_or_else(|| {
                panic!("the dev issuer has no {alg:?} key; use one of {DEV_ALGORITHMS:?}")
            })
    }

    pub(crate) fn jwks(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .read()
            .expect("keys lock")
            .iter()
            .map(|k| k.jwk.clone())
            .collect();
        json!({ "keys": keys })
    }
}

fn generate_keys(generation: u64) -> Vec<Arc<SigningKey>> {
    DEV_ALGORITHMS
        .iter()
        .map(|&alg| {
            let kid = format!("{}-{generation}", format!("{alg:?}").to_ascii_lowercase());
            Arc::new(SigningKey::generate(alg.jwt(), Some(kid)).expect("dev issuer key generation"))
        })
        .collect()
}

fn now() -> i64 {
    i64::try_from(crate::util::now()).unwrap_or(i64::MAX)
}

/// A running development identity provider. Stops when dropped.
pub struct DevIssuer {
    state: Arc<State>,
    addr: SocketAddr,
    task: tokio::task::AbortHandle,
}

impl std::fmt::Debug for DevIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevIssuer")
            .field("issuer", &self.state.issuer)
            .finish_non_exhaustive()
    }
}

impl Drop for DevIssuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DevIssuer {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on `addr`.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let issuer = format!("http://{addr}");
        let keys = tokio::task::spawn_blocking(|| generate_keys(1))
            .await
            .map_err(std::io::Error::other)?;
        let state = Arc::new(State {
            issuer,
            keys: RwLock::new(keys),
            generation: AtomicU64::new(1),
            fault: tokio::sync::watch::Sender::new(Fault::None),
            jwks_max_age: Mutex::new(None),
            discovery: AtomicU64::new(0),
            jwks: AtomicU64::new(0),
            jwks_not_modified: AtomicU64::new(0),
            token: AtomicU64::new(0),
            logins: Mutex::default(),
            token_lifetime: AtomicU64::new(3600),
        });
        let app = server::router(state.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "dev issuer stopped");
            }
        });
        Ok(Self {
            state,
            addr,
            task: task.abort_handle(),
        })
    }

    /// The issuer identifier, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> &str {
        &self.state.issuer
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The JWKS URL.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.state.issuer)
    }

    /// The token endpoint URL (`client_credentials`, any client).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.state.issuer)
    }

    /// A provider configuration for this issuer (discovery, audience
    /// [`DEFAULT_AUDIENCE`]); adjust it further before building.
    pub fn provider(&self, name: &str) -> ProviderBuilder {
        Provider::builder(name)
            .issuer(self.issuer())
            .audience(DEFAULT_AUDIENCE)
    }

    /// The issuer template of its tenants, `http://127.0.0.1:PORT/tenants/{tenantid}`:
    /// each tenant has its own issuer and discovery document (with the same keys), as
    /// Entra ID's tenants do. Sign a tenant's token with [`TokenBuilder::tenant`].
    pub fn tenant_issuer_template(&self) -> String {
        tenant_issuer(&self.state.issuer, crate::config::TENANT_PLACEHOLDER)
    }

    /// The published JWK set.
    pub fn jwks(&self) -> Value {
        self.state.jwks()
    }

    /// Starts a token with `iss`, `sub` = `dev-user`, `aud` = [`DEFAULT_AUDIENCE`],
    /// `iat` = now and `exp` = now + 1 h, signed RS256 with the current key.
    pub fn token(&self) -> TokenBuilder {
        TokenBuilder::new(self.state.clone())
    }

    /// Replaces every key with a new one (new `kid`s); tokens signed before no longer
    /// verify with the published keys.
    pub fn rotate(&self) {
        let generation = self.state.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let keys = generate_keys(generation);
        *self.state.keys.write().expect("keys lock") = keys;
    }

    /// Rolls the keys over as providers do on schedule: a new key per algorithm signs
    /// from now on, and the current ones stay published (tokens they signed still
    /// verify) until the next roll-over or [`rotate`](Self::rotate).
    pub fn roll_keys(&self) {
        let generation = self.state.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let mut keys = self.state.keys.write().expect("keys lock");
        let current: Vec<_> = keys.iter().take(DEV_ALGORITHMS.len()).cloned().collect();
        *keys = generate_keys(generation)
            .into_iter()
            .chain(current)
            .collect();
    }

    /// How the ID tokens of logins and refreshes are signed from now on.
    pub fn set_id_token_signing(&self, signing: IdTokenSigning) {
        self.state
            .logins
            .lock()
            .expect("logins lock")
            .id_token_signing = signing;
    }

    /// Switches a fault mode on (or off with [`Fault::None`]).
    pub fn set_fault(&self, fault: Fault) {
        self.state.fault.send_replace(fault);
    }

    /// Sends `Cache-Control: max-age=N` with the JWKS (or nothing with `None`).
    pub fn set_jwks_max_age(&self, seconds: Option<u64>) {
        *self.state.jwks_max_age.lock().expect("max-age lock") = seconds;
    }

    /// The authorization endpoint: it signs in the `login_hint` user (default
    /// `dev-user`) at once and redirects back with a code (PKCE S256 checked at the token
    /// endpoint). For browser-login demos and tests; any client and redirect URI.
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.state.issuer)
    }

    /// Merges `claims` into the ID tokens issued from now on; a `null` value removes
    /// that claim. For testing a relying party's ID token checks.
    pub fn set_id_token_claims(&self, claims: Value) {
        let mut logins = self.state.logins.lock().expect("logins lock");
        logins.id_token_claims = claims.as_object().cloned().unwrap_or_default();
    }

    /// The lifetime of the access tokens that logins and refreshes issue from now on
    /// (default 1 h; the code and refresh grants also issue a refresh token, rotated on
    /// every use). A short one makes a relying party refresh at once.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.state
            .token_lifetime
            .store(lifetime.as_secs(), Ordering::SeqCst);
    }

    /// Merges `claims` into userinfo answers from now on.
    pub fn set_userinfo_claims(&self, claims: Value) {
        let mut logins = self.state.logins.lock().expect("logins lock");
        logins.userinfo_claims = claims.as_object().cloned().unwrap_or_default();
    }

    /// How many requests each endpoint has answered.
    pub fn stats(&self) -> DevStats {
        DevStats {
            discovery: self.state.discovery.load(Ordering::SeqCst),
            jwks: self.state.jwks.load(Ordering::SeqCst),
            jwks_not_modified: self.state.jwks_not_modified.load(Ordering::SeqCst),
            token: self.state.token.load(Ordering::SeqCst),
        }
    }
}

/// The issuer of tenant `tenant` of the dev issuer at `issuer`.
fn tenant_issuer(issuer: &str, tenant: &str) -> String {
    format!("{issuer}/tenants/{tenant}")
}

/// Builds and signs a token of the [`DevIssuer`]. Any claim or header can be set, so
/// tests can make every kind of bad token.
#[must_use = "call `.sign()`"]
pub struct TokenBuilder {
    state: Arc<State>,
    header: Map<String, Value>,
    claims: Map<String, Value>,
    alg: Algorithm,
    kid: Option<Option<String>>,
}

impl TokenBuilder {
    fn new(state: Arc<State>) -> Self {
        let now = now();
        let mut claims = Map::new();
        claims.insert("iss".into(), state.issuer.clone().into());
        claims.insert("sub".into(), "dev-user".into());
        claims.insert("aud".into(), DEFAULT_AUDIENCE.into());
        claims.insert("iat".into(), now.into());
        claims.insert("exp".into(), (now + 3600).into());
        let mut header = Map::new();
        header.insert("typ".into(), "JWT".into());
        Self {
            state,
            header,
            claims,
            alg: Algorithm::RS256,
            kid: None,
        }
    }

    /// Sets any claim.
    pub fn claim(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.claims.insert(name.to_owned(), value.into());
        self
    }

    /// Removes a claim (e.g. `exp`).
    pub fn without_claim(mut self, name: &str) -> Self {
        self.claims.remove(name);
        self
    }

    /// Makes it a token of tenant `tenant`: `iss` that tenant's issuer (see
    /// [`DevIssuer::tenant_issuer_template`]) and `tid` the tenant.
    pub fn tenant(self, tenant: &str) -> Self {
        let issuer = tenant_issuer(&self.state.issuer, tenant);
        self.claim("iss", issuer).claim("tid", tenant)
    }

    /// Sets `sub`.
    pub fn subject(self, sub: &str) -> Self {
        self.claim("sub", sub)
    }

    /// Sets `aud` (a string or an array).
    pub fn audience(self, aud: impl Into<Value>) -> Self {
        self.claim("aud", aud)
    }

    /// Sets `scope` (space-separated).
    pub fn scope(self, scope: &str) -> Self {
        self.claim("scope", scope)
    }

    /// Sets `exp` relative to now; negative values make an expired token.
    pub fn expires_in(self, seconds: i64) -> Self {
        self.claim("exp", now() + seconds)
    }

    /// Sets `nbf` relative to now.
    pub fn not_before_in(self, seconds: i64) -> Self {
        self.claim("nbf", now() + seconds)
    }

    /// Sets `iat` relative to now.
    pub fn issued_in(self, seconds: i64) -> Self {
        self.claim("iat", now() + seconds)
    }

    /// Signs with the key for `alg`: RS256 (default), ES256 or EdDSA.
    pub fn algorithm(mut self, alg: Algorithm) -> Self {
        self.alg = alg;
        self
    }

    /// Sets a `kid` header other than the signing key's.
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Some(Some(kid.to_owned()));
        self
    }

    /// Leaves the `kid` header out.
    pub fn without_kid(mut self) -> Self {
        self.kid = Some(None);
        self
    }

    /// Sets any header (e.g. `alg`, `jku`, `crit`); set last, it wins.
    pub fn header(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.header.insert(name.to_owned(), value.into());
        self
    }

    /// The compact JWS.
    pub fn sign(self) -> String {
        let key = self.state.key(self.alg);
        let mut header = Map::new();
        header.insert("alg".into(), format!("{:?}", self.alg).into());
        match self.kid {
            None => {
                header.insert("kid".into(), key.kid.clone().into());
            }
            Some(Some(kid)) => {
                header.insert("kid".into(), kid.into());
            }
            Some(None) => {}
        }
        header.extend(self.header);
        key.sign_jws(&Value::Object(header), &Value::Object(self.claims))
    }
}
