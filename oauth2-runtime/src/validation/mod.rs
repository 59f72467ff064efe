//! JWT validation for one or more providers (RFC 7515, RFC 8725, RFC 9068).
//!
//! This core knows nothing of incoming requests or axum: it takes a token string (for
//! DPoP also the proof, the method and the URL, as plain values) and returns the
//! validated claims or a [`ValidationError`] with a [`ErrorKind`] and a message that says what was
//! wrong without echoing the token. In order, it checks:
//!
//! 1. the size limit (before any decoding) and the compact JWS form;
//! 2. the header: `alg` parsed and in the provider's allow-list (`none` never), `crit`
//!    empty (no extension is understood), `typ` when one is required; `jku`, `x5u`, `jwk`
//!    and `x5c` are never used;
//! 3. the provider, picked by the token's exact `iss`;
//! 4. the key: by `kid` (one refetch per cooldown when unknown), whose type and `alg` must
//!    fit the token's `alg`; without `kid`, the one key that fits;
//! 5. the signature;
//! 6. `exp` (required), `nbf` and `iat` (when present) against the leeway, and `aud`
//!    (any of the configured values);
//! 7. that it is not an OpenID Connect ID token (`nonce`, `at_hash`, `c_hash` or
//!    `s_hash`, unless typed `at+jwt`), unless the provider
//!    [accepts ID tokens](crate::ProviderBuilder::accept_id_tokens).
//!
//! A token that is not a JWS goes, when a provider introspects (RFC 7662,
//! [`ProviderBuilder::introspection_client_id`](crate::ProviderBuilder::introspection_client_id)),
//! to that provider's introspection endpoint; an active answer meets the same claim
//! rules (step 6, `iss` when given, `token_type` `Bearer`, no `cnf`). The only HTTP it
//! sends is the key caches' (discovery, JWKS) and introspection's, to the providers.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! use oauth2::{Provider, validation::{ErrorKind, Validator}};
//!
//! let provider = Provider::builder("corp")
//!     .issuer("https://login.corp.example")
//!     .audience("api")
//!     .hmac_secret("an example secret of at least 32 bytes")
//!     .build()
//!     .unwrap();
//! let validator = Validator::new(vec![provider]).unwrap();
//!
//! let err = validator.validate("not-a-jwt").await.unwrap_err();
//! assert_eq!(err.kind(), ErrorKind::Malformed);
//! # }
//! ```

mod cache;
mod dpop;
mod error;
mod introspected;
mod profile;
mod step_up;
mod steps;
mod tenants;

pub use cache::{DEFAULT_TOKEN_CACHE_MAX_AGE, DEFAULT_TOKEN_CACHE_SIZE, TokenCacheStats};
pub use dpop::{DEFAULT_DPOP_ALGORITHMS, DEFAULT_DPOP_MAX_AGE};
pub(crate) use dpop::{ProofRequest, check_proof, normalize_htu};
pub use error::{ErrorKind, ValidationError};
pub(crate) use profile::Profile;
pub use step_up::{StepUp, StepUpError};

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::DecodingKey;

use crate::claims::Authenticated;
use crate::config::{ConfigError, Provider};
use crate::introspection::{Answer, Introspector, PAUSE_AFTER_FAILURE, Unavailable};
use crate::jwks::{KeyCache, KeyMiss, KeyRegistry, KeySource, KeyStats, RegistryError};
use crate::util::now;

pub use crate::defaults::DEFAULT_MAX_TOKEN_SIZE;

/// Why a token could not be validated against the keys held now.
pub(crate) enum NotYet {
    /// It is invalid; waiting would not help.
    Invalid(ValidationError),
    /// It needs a request to the provider first: [`Validator::finish`] makes it.
    Pending(Pending),
}

/// The request a token waits for.
#[derive(Clone)]
pub(crate) enum Pending {
    /// The token's `kid` is not in key set `generation` of the issuer's `keys`
    /// (validated as `profile`): one refetch may find it.
    UnknownKey {
        keys: KeyCache,
        generation: u64,
        profile: Profile,
    },
    /// The token is the first of a tenant: its key cache has just started loading.
    KeysLoading { keys: KeyCache, profile: Profile },
    /// The token is not a JWS and a provider introspects: ask it.
    Introspection,
}

impl From<ValidationError> for NotYet {
    fn from(e: ValidationError) -> Self {
        Self::Invalid(e)
    }
}

struct ProviderState {
    config: Provider,
    keys: Keys,
}

/// Where a provider's verifying keys are.
enum Keys {
    /// The HMAC secret.
    Secret(Arc<DecodingKey>),
    /// The issuer's key cache, shared through the registry.
    Cache(KeyCache),
    /// An issuer template's: one cache per tenant.
    Tenants(tenants::TenantKeys),
}

impl Keys {
    fn cache(&self) -> Option<&KeyCache> {
        match self {
            Self::Cache(cache) => Some(cache),
            Self::Secret(_) | Self::Tenants(_) => None,
        }
    }
}

/// Validates tokens of one or more providers against their issuers' key caches.
///
/// Building it registers each provider's issuer in a [`KeyRegistry`] (starting its
/// background key loading, so it must happen inside a Tokio runtime). The caches stop
/// when the registry and every validator using it are dropped.
pub struct Validator {
    providers: Vec<ProviderState>,
    max_token_size: usize,
    registry: KeyRegistry,
    /// Access tokens verified before (none: every token is verified).
    cache: Option<cache::TokenCache>,
    /// The provider (by index) that introspects tokens that are not JWTs.
    introspection: Option<(usize, Introspector)>,
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Validator")
            .field(
                "providers",
                &self.providers.iter().map(|p| &p.config).collect::<Vec<_>>(),
            )
            .field("max_token_size", &self.max_token_size)
            .finish()
    }
}

impl Validator {
    /// Builds a validator for these providers with the default size limit and a
    /// registry of its own.
    pub fn new(providers: Vec<Provider>) -> Result<Self, ConfigError> {
        Self::with_registry(providers, DEFAULT_MAX_TOKEN_SIZE, &KeyRegistry::new())
    }

    /// Builds a validator whose providers share the key caches of `registry` with
    /// everything else registered there.
    pub fn with_registry(
        providers: Vec<Provider>,
        max_token_size: usize,
        registry: &KeyRegistry,
    ) -> Result<Self, ConfigError> {
        if providers.is_empty() {
            return Err(ConfigError::NoProvider);
        }
        for (i, p) in providers.iter().enumerate() {
            if let Some(first) = providers[..i].iter().find(|q| q.name == p.name) {
                return Err(ConfigError::DuplicateProvider(first.name.to_string()));
            }
            if let Some(first) = providers[..i].iter().find(|q| q.issuer == p.issuer) {
                return Err(ConfigError::DuplicateIssuer {
                    first: first.name.to_string(),
                    second: p.name.to_string(),
                    issuer: p.issuer.clone(),
                });
            }
        }
        // A provider's trusted issuers are more entries of the same name, found by
        // their `iss` like any, each with the keys of its own discovery document.
        let mut entries: Vec<Provider> = Vec::with_capacity(providers.len());
        for p in providers {
            let peers: Vec<Provider> = p
                .trusted_issuers
                .iter()
                .map(|issuer| Provider {
                    issuer: issuer.clone(),
                    keys: KeySource::Discovery,
                    refresh: crate::jwks::RefreshPolicy::default(),
                    trusted_issuers: Vec::new(),
                    issuer_aliases: Vec::new(),
                    introspection: None,
                    ..p.clone()
                })
                .collect();
            entries.push(p);
            entries.extend(peers);
        }
        for (i, p) in entries.iter().enumerate() {
            if let Some(first) = entries[..i].iter().find(|q| q.issuer == p.issuer) {
                return Err(ConfigError::DuplicateIssuer {
                    first: first.name.to_string(),
                    second: p.name.to_string(),
                    issuer: p.issuer.clone(),
                });
            }
        }
        let mut introspecting = entries.iter().filter(|p| p.introspects());
        if let (Some(first), Some(second)) = (introspecting.next(), introspecting.next()) {
            return Err(ConfigError::Field {
                provider: second.name.to_string(),
                field: "introspection_client_id",
                problem: format!(
                    "is set, but provider {:?} introspects too: an opaque token names no \
                     issuer, so one provider of an authenticator may introspect",
                    first.name
                ),
            });
        }
        let providers: Vec<ProviderState> = entries
            .into_iter()
            .map(|config| {
                let keys = match (&config.keys, &config.tenants) {
                    (KeySource::Secret(secret), _) => Keys::Secret(secret.clone()),
                    (_, Some(tenant_list)) => {
                        if tokio::runtime::Handle::try_current().is_err() {
                            return Err(ConfigError::NoRuntime);
                        }
                        Keys::Tenants(tenants::TenantKeys::new(
                            config.name.clone(),
                            config.refresh,
                            http_client(&config, registry)?,
                            tenant_list.max_caches(),
                        ))
                    }
                    (source, None) => Keys::Cache(
                        registry
                            .register(
                                &config.name,
                                &config.issuer,
                                source,
                                config.refresh,
                                config.http.as_ref(),
                            )
                            .map_err(|e| registry_error(&config, e))?,
                    ),
                };
                Ok(ProviderState { config, keys })
            })
            .collect::<Result<_, ConfigError>>()?;
        let introspection = match providers
            .iter()
            .position(|p| p.config.introspection.is_some())
        {
            None => None,
            Some(index) => {
                let state = &providers[index];
                let config = &state.config;
                let client = config.introspection.clone().expect("found above");
                let introspector = Introspector::new(
                    config.issuer.clone(),
                    client,
                    http_client(config, registry)?,
                    config.refresh.fetch_timeout,
                    state.keys.cache().cloned(),
                );
                Some((index, introspector))
            }
        };
        Ok(Self {
            providers,
            max_token_size,
            registry: registry.clone(),
            cache: None,
            introspection,
        })
    }

    /// Keeps up to `capacity` verified access tokens, each for at most `max_age` (and
    /// never past its `exp`), so that a repeated token costs no signature check;
    /// `capacity` 0 keeps none.
    pub fn with_token_cache(mut self, capacity: usize, max_age: Duration) -> Self {
        self.cache = (capacity > 0).then(|| cache::TokenCache::new(capacity, max_age));
        self
    }

    /// The verified-token cache's hits, misses, evictions and size; `None` without one.
    pub fn token_cache_stats(&self) -> Option<TokenCacheStats> {
        self.cache.as_ref().map(cache::TokenCache::stats)
    }

    /// The generation of the keys that would verify `hit` now (`0` for a secret): its
    /// provider's, or its tenant's.
    fn generation(&self, hit: &cache::Verified) -> Option<u64> {
        let generation = |keys: &KeyCache| keys.current().as_ref().map(|set| set.generation());
        match &self.providers.get(hit.provider)?.keys {
            Keys::Secret(_) => Some(0),
            Keys::Cache(keys) => generation(keys),
            Keys::Tenants(tenants) => {
                let iss = hit.auth.claim("iss")?.as_str()?;
                generation(&tenants.get(iss)?)
            }
        }
    }

    /// How many tenants' key caches provider `name` keeps (an issuer template's);
    /// `None` for another provider.
    pub fn tenant_caches(&self, name: &str) -> Option<usize> {
        match &self.state(name)?.keys {
            Keys::Tenants(tenants) => Some(tenants.len()),
            _ => None,
        }
    }

    /// The configured providers.
    pub fn providers(&self) -> impl Iterator<Item = &Provider> {
        self.providers.iter().map(|p| &p.config)
    }

    /// The registry that holds this validator's key caches.
    pub fn registry(&self) -> &KeyRegistry {
        &self.registry
    }

    /// The key cache state of provider `name` (of its issuer, shared with every other
    /// user of that issuer).
    pub fn key_stats(&self, name: &str) -> Option<KeyStats> {
        self.state(name)?.keys.cache().map(KeyCache::stats)
    }

    /// Waits until every provider has keys. Requests before then get
    /// [`ErrorKind::KeysUnavailable`]; servers need not wait, tests often do.
    pub async fn ready(&self) {
        for keys in self.providers.iter().filter_map(|p| p.keys.cache()) {
            keys.ready().await;
        }
    }

    fn state(&self, name: &str) -> Option<&ProviderState> {
        self.providers.iter().find(|p| &*p.config.name == name)
    }

    /// Validates an access token; may wait for one key refetch when its `kid` is
    /// unknown.
    pub async fn validate(&self, token: &str) -> Result<Authenticated, ValidationError> {
        self.validate_as(token, Profile::Access).await
    }

    /// Validates a token of kind `profile` (the same keys, refetch and cooldown).
    pub(crate) async fn validate_as(
        &self,
        token: &str,
        profile: Profile,
    ) -> Result<Authenticated, ValidationError> {
        match self.validate_held(token, profile) {
            Ok(auth) => Ok(auth),
            Err(NotYet::Invalid(e)) => Err(e),
            Err(NotYet::Pending(pending)) => self.finish(token, pending).await,
        }
    }

    /// The slow path of [`validate`](Self::validate): after an unknown `kid`, one
    /// refetch (shared with every concurrent request and every user of the issuer),
    /// then validation again; for an opaque token, its introspection.
    pub(crate) async fn finish(
        &self,
        token: &str,
        pending: Pending,
    ) -> Result<Authenticated, ValidationError> {
        match pending {
            Pending::Introspection => self.introspect(token).await,
            Pending::UnknownKey {
                keys,
                generation,
                profile,
            } => {
                if !keys.refetch_for_unknown_kid(generation).await {
                    return Err(steps::unknown_kid());
                }
                match self.validate_held(token, profile) {
                    Ok(auth) => Ok(auth),
                    Err(NotYet::Invalid(e)) => Err(e),
                    Err(NotYet::Pending(_)) => Err(steps::unknown_kid()),
                }
            }
            Pending::KeysLoading { keys, profile } => {
                // Discovery, then the JWKS: two requests of at most the fetch timeout.
                let wait = keys.fetch_timeout() * 2;
                let _ = tokio::time::timeout(wait, keys.first_attempt()).await;
                match self.validate_held(token, profile) {
                    Ok(auth) => Ok(auth),
                    Err(NotYet::Invalid(e)) => Err(e),
                    Err(NotYet::Pending(Pending::UnknownKey { .. })) => Err(steps::unknown_kid()),
                    Err(NotYet::Pending(_)) => Err(keys_not_loaded(&keys)),
                }
            }
        }
    }

    /// Asks the introspecting provider about `token`, checks an active answer's claims
    /// and caches them (until `exp`, at most the cache's maximum age).
    async fn introspect(&self, token: &str) -> Result<Authenticated, ValidationError> {
        let Some((index, introspector)) = &self.introspection else {
            return Err(ValidationError::new(
                ErrorKind::Malformed,
                "token is not a JWT, and no provider introspects",
            ));
        };
        let config = &self.providers[*index].config;
        let key = cache::digest(token);
        match introspector.introspect(token, &key).await {
            Err(unavailable) => {
                // A pause after a failure was logged with that failure.
                if let Unavailable::Failed(why) = unavailable {
                    tracing::warn!(provider = %config.name, "token introspection failed: {why}");
                }
                Err(ValidationError::new(
                    ErrorKind::IntrospectionUnavailable,
                    "the token cannot be checked now: the provider's introspection endpoint \
                     did not answer",
                )
                .with_retry_after(PAUSE_AFTER_FAILURE))
            }
            Ok(Answer::Inactive) => Err(ValidationError::new(
                ErrorKind::Inactive,
                "token is not active (revoked, expired, or unknown to the provider)",
            )),
            Ok(Answer::Active(claims)) => {
                let auth = introspected::check(config, claims, now() as f64)?;
                if let Some(cache) = &self.cache {
                    cache.insert(key, auth.clone(), *index, None);
                }
                Ok(auth)
            }
        }
    }

    /// Validates an access token against the keys held now, without waiting.
    pub(crate) fn validate_with_held_keys(&self, token: &str) -> Result<Authenticated, NotYet> {
        self.validate_held(token, Profile::Access)
    }

    /// Validates a token of kind `profile` against the keys held now, without waiting:
    /// the steps of [`steps`] in order, with the profile's own rules.
    fn validate_held(&self, token: &str, profile: Profile) -> Result<Authenticated, NotYet> {
        let cached = match &self.cache {
            Some(cache) if profile == Profile::Access && token.len() <= self.max_token_size => {
                let key = cache::digest(token);
                if let Some(hit) = cache.get(&key, |hit| self.generation(hit)) {
                    let config = &self.providers[hit.provider].config;
                    // An introspected token need not have an `exp`.
                    let exp_required = hit.generation.is_some();
                    let claims = hit.auth.claims();
                    return match steps::check_times(config, claims, now() as f64, exp_required) {
                        Ok(()) => Ok(hit.auth),
                        Err(e) => {
                            cache.forget(&key);
                            Err(e.into())
                        }
                    };
                }
                Some((cache, key))
            }
            _ => None,
        };
        let (auth, index, generation) = match self.verify(token, profile) {
            Ok(verified) => verified,
            // Not a JWS at all: an opaque token, for the introspecting provider.
            Err(NotYet::Invalid(e))
                if e.kind() == ErrorKind::Malformed
                    && profile == Profile::Access
                    && self.introspection.is_some() =>
            {
                return Err(NotYet::Pending(Pending::Introspection));
            }
            Err(e) => return Err(e),
        };
        if let Some((cache, key)) = cached {
            cache.insert(key, auth.clone(), index, Some(generation));
        }
        Ok(auth)
    }

    /// Why `iss` names no provider, with a hint when a configured issuer differs from it
    /// only by a trailing `/` (Auth0's issuers end with one; many others' do not).
    fn unknown_issuer(&self, iss: &str) -> &'static str {
        let trimmed = iss.trim_end_matches('/');
        let near = self
            .providers
            .iter()
            .any(|p| p.config.issuer.trim_end_matches('/') == trimmed);
        if near {
            "token issuer is not accepted: it differs from a configured issuer only by a \
             trailing `/` (issuers must match exactly, as the provider's tokens write them)"
        } else {
            "token issuer is not accepted"
        }
    }

    /// The full check of `token`: its claims, which provider, and the generation of
    /// the keys that verified it.
    fn verify(&self, token: &str, profile: Profile) -> Result<(Authenticated, usize, u64), NotYet> {
        let compact = steps::split(token, self.max_token_size)?;
        let (header_bytes, claims) = steps::decode(&compact)?;
        let header = steps::parse_header(&header_bytes)?;
        let iss = steps::issuer(&claims)?;
        let index = self
            .providers
            .iter()
            .position(|p| p.config.is_issuer(iss))
            .or_else(|| {
                self.providers.iter().position(|p| {
                    p.config
                        .tenants
                        .as_ref()
                        .is_some_and(|t| t.tenant_of(iss).is_some())
                })
            });
        let Some(index) = index else {
            return Err(ValidationError::new(ErrorKind::Issuer, self.unknown_issuer(iss)).into());
        };
        let provider = &self.providers[index];
        let config = &provider.config;
        if let Some(tenants) = &config.tenants {
            tenants::check_tenant(tenants, iss, &claims)?;
        }
        let alg = steps::check_header(&header, config)?;
        // A symmetric algorithm is keyed with the login client's secret, never with a
        // key of the issuer's key set (algorithm confusion).
        let client_secret = config.client_secret_key.as_deref().filter(|_| {
            matches!(
                alg,
                jsonwebtoken::Algorithm::HS256
                    | jsonwebtoken::Algorithm::HS384
                    | jsonwebtoken::Algorithm::HS512
            )
        });
        profile.check_header(&header, alg, client_secret.is_some())?;

        let tenant_keys;
        let keys = match &provider.keys {
            Keys::Secret(_) => None,
            Keys::Cache(keys) => Some(keys),
            Keys::Tenants(tenants) => {
                tenant_keys = tenants.cache(iss);
                Some(&tenant_keys)
            }
        };
        let guard;
        let mut generation = 0;
        let (key, parsed) = match (&provider.keys, keys, client_secret) {
            (_, _, Some(secret)) => (secret, None),
            (Keys::Secret(secret), _, None) => (&**secret, None),
            (_, None, None) => unreachable!("every other kind of keys has a cache"),
            (_, Some(keys), None) => {
                guard = keys.current();
                let Some(set) = guard.as_ref() else {
                    if matches!(provider.keys, Keys::Tenants(_)) && keys.loading_first() {
                        return Err(NotYet::Pending(Pending::KeysLoading {
                            keys: keys.clone(),
                            profile,
                        }));
                    }
                    return Err(keys_not_loaded(keys).into());
                };
                generation = set.generation();
                match set.select(header.kid.as_deref(), alg) {
                    Ok(key) => (key.decoding_key(), Some(key)),
                    Err(KeyMiss::UnknownKid) => {
                        return Err(NotYet::Pending(Pending::UnknownKey {
                            keys: keys.clone(),
                            generation: set.generation(),
                            profile,
                        }));
                    }
                    Err(miss) => return Err(steps::key_miss(miss, alg).into()),
                }
            }
        };
        steps::verify_signature(&compact, key, parsed, alg)?;
        steps::check_claims(config, &claims, now() as f64, profile.requires_exp())?;
        profile.check_claims(&claims)?;
        if profile == Profile::Access && !config.accept_id_tokens {
            steps::check_not_id_token(&header, &claims)?;
        }
        let mut claims = claims;
        if !config.roles_from.is_empty() {
            let clients = config.audience.as_ref().map_or(&[][..], |a| a.values());
            let clients: Vec<&str> = clients.iter().map(String::as_str).collect();
            crate::config::gather_roles(&mut claims, config.roles_from, &clients);
        }
        let auth = Authenticated::new(config.name.clone(), serde_json::Value::Object(claims));
        Ok((auth, index, generation))
    }
}

/// The HTTP client of `config`'s requests: its own, or the registry's.
fn http_client(config: &Provider, registry: &KeyRegistry) -> Result<reqwest::Client, ConfigError> {
    match &config.http {
        Some(client) => Ok(client.clone()),
        None => registry
            .http_client()
            .map_err(|e| registry_error(config, e)),
    }
}

/// The error while `keys` has none, with when to try again.
fn keys_not_loaded(keys: &KeyCache) -> ValidationError {
    ValidationError::new(
        ErrorKind::KeysUnavailable,
        "the provider's signing keys are not loaded yet",
    )
    .with_retry_after(keys.retry_after())
}

fn registry_error(config: &Provider, e: RegistryError) -> ConfigError {
    match e {
        RegistryError::NoRuntime => ConfigError::NoRuntime,
        RegistryError::HttpClient(problem) => ConfigError::Field {
            provider: config.name.to_string(),
            field: "http_client",
            problem,
        },
        RegistryError::Conflict { existing, wanted } => ConfigError::Field {
            provider: config.name.to_string(),
            field: "jwks_url",
            problem: format!(
                "is {wanted}, but issuer {} is already registered with {existing}",
                config.issuer
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A P-256 test key: its PKCS #8 form signs, its JWK verifies.
    const EC_PKCS8: &str = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwOB09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXptqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER";
    const EC_JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","x":"ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI","y":"vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE"}]}"#;

    /// `claims` signed ES256 with the test key (`kid` `k1`), with this `typ`.
    fn es256(typ: Option<&str>, claims: &serde_json::Value) -> String {
        use base64::Engine as _;
        crate::util::crypto_backend();
        let der = base64::engine::general_purpose::STANDARD
            .decode(EC_PKCS8)
            .unwrap();
        let key = jsonwebtoken::EncodingKey::from_ec_der(&der);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some("k1".into());
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    /// A validator of `https://issuer.example` tokens for `api`, with the test key.
    fn ec_validator() -> Validator {
        let provider = Provider::builder("p")
            .issuer("https://issuer.example")
            .audience("api")
            .jwks_json(EC_JWKS)
            .build()
            .unwrap();
        Validator::new(vec![provider]).unwrap()
    }

    /// A login's ID-token validator for a provider that signs with the client secret
    /// (OpenID Connect Core §10.1): HS256 keyed with the secret and ES256 with the
    /// issuer's key both pass; HS256 keyed with anything else (the issuer's public key,
    /// the algorithm-confusion attack) does not, nor HS256 where it is not configured.
    #[cfg(feature = "login")]
    #[tokio::test]
    async fn symmetric_id_tokens_are_keyed_with_the_client_secret_only() {
        let secret = "the client secret of at least 32 bytes";
        let validator = |algorithms: &[crate::Algorithm], with_secret: bool| {
            let mut p = Provider::builder("p")
                .issuer("https://issuer.example")
                .audience("web")
                .accept_id_tokens()
                .jwks_json(EC_JWKS)
                .algorithms(algorithms.iter().copied());
            if with_secret {
                p = p.client_secret_key(secret);
            }
            Validator::new(vec![p.build().unwrap()]).unwrap()
        };
        let claims = serde_json::json!({
            "iss": "https://issuer.example", "aud": "web", "sub": "ada",
            "exp": now() + 60, "iat": now(),
        });
        let hs256 = |key: &[u8]| {
            crate::util::crypto_backend();
            let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
            jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(key),
            )
            .unwrap()
        };
        let both = validator(&[crate::Algorithm::ES256, crate::Algorithm::HS256], true);
        assert!(both.validate(&hs256(secret.as_bytes())).await.is_ok());
        assert!(both.validate(&es256(None, &claims)).await.is_ok());
        let wrong = both
            .validate(&hs256(b"another secret of at least 32 bytes"))
            .await;
        assert_eq!(wrong.unwrap_err().kind(), ErrorKind::Signature);
        let confused = both.validate(&hs256(EC_JWKS.as_bytes())).await;
        assert_eq!(confused.unwrap_err().kind(), ErrorKind::Signature);
        // Not configured for HS256 (the default), or no secret: the algorithm is refused.
        let asymmetric = validator(&[crate::Algorithm::ES256], true);
        let refused = asymmetric.validate(&hs256(secret.as_bytes())).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::Algorithm);
    }

    /// What the presets change for bearer tokens, through the whole validation.
    #[tokio::test]
    async fn presets_remove_the_providers_traps() {
        use crate::Preset;
        let exp = now() + 60;
        // Google writes `iss` as `https://accounts.google.com` or the bare host.
        let google = Provider::builder("google")
            .preset(Preset::Google)
            .audience("client.apps.googleusercontent.com")
            .accept_id_tokens()
            .jwks_json(EC_JWKS)
            .build()
            .unwrap();
        assert_eq!(google.issuer(), "https://accounts.google.com");
        let validator = Validator::new(vec![google]).unwrap();
        for iss in ["https://accounts.google.com", "accounts.google.com"] {
            let token = es256(
                None,
                &json!({"iss": iss, "aud": "client.apps.googleusercontent.com", "sub": "a", "exp": exp}),
            );
            let auth = validator.validate(&token).await.unwrap();
            assert_eq!(auth.provider(), "google", "{iss}");
        }
        let other = es256(
            None,
            &json!({"iss": "accounts.google.com/", "aud": "client.apps.googleusercontent.com", "exp": exp}),
        );
        let e = validator.validate(&other).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Issuer);

        // Auth0's tokens' `iss` ends with `/`; the preset adds it to the configured one.
        let auth0 = Provider::builder("auth0")
            .preset(Preset::Auth0)
            .issuer("https://tenant.auth0.com")
            .audience("https://api.example")
            .jwks_json(EC_JWKS)
            .build()
            .unwrap();
        assert_eq!(auth0.issuer(), "https://tenant.auth0.com/");
        let validator = Validator::new(vec![auth0]).unwrap();
        let token = es256(
            None,
            &json!({"iss": "https://tenant.auth0.com/", "aud": "https://api.example", "exp": exp}),
        );
        assert!(validator.validate(&token).await.is_ok());

        // Cognito's access tokens carry the app client in `client_id`, and no `aud`.
        let pool = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example";
        let cognito = Provider::builder("cognito")
            .preset(Preset::Cognito)
            .issuer(pool)
            .audience("app-client")
            .jwks_json(EC_JWKS)
            .build()
            .unwrap();
        let validator = Validator::new(vec![cognito]).unwrap();
        let access = es256(
            None,
            &json!({"iss": pool, "client_id": "app-client", "token_use": "access", "exp": exp}),
        );
        assert!(validator.validate(&access).await.is_ok());
        let other_client = es256(
            None,
            &json!({"iss": pool, "client_id": "another", "token_use": "access", "exp": exp}),
        );
        let e = validator.validate(&other_client).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Audience);

        // GitHub's tokens are opaque: no bearer provider.
        let e = Provider::builder("github")
            .preset(Preset::GitHub)
            .audience("x")
            .build()
            .unwrap_err();
        assert_eq!(e.field(), Some("preset"));
        assert!(e.to_string().contains("opaque"), "{e}");
    }

    /// A logout token goes through the same keys and signature check as an access
    /// token, then the logout profile: no `exp` needed, but a `nonce` refused.
    #[tokio::test]
    async fn a_logout_token_is_validated_with_its_own_profile() {
        let sign = |claims: serde_json::Value| es256(Some("logout+jwt"), &claims);
        let logout = json!({
            "iss": "https://issuer.example", "aud": "api", "iat": now(), "jti": "j1",
            "sid": "s1", "events": { profile::BACKCHANNEL_LOGOUT_EVENT: {} },
        });
        let validator = ec_validator();
        let token = sign(logout.clone());
        let auth = validator
            .validate_as(&token, Profile::Logout)
            .await
            .unwrap();
        assert_eq!(auth.claim("sid"), Some(&json!("s1")));
        // As an access token it has no `exp`.
        let e = validator.validate(&token).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingClaim);
        let mut with_nonce = logout;
        with_nonce["nonce"] = json!("n");
        let e = validator
            .validate_as(&sign(with_nonce), Profile::Logout)
            .await
            .unwrap_err();
        assert!(e.message().contains("nonce"), "{}", e.message());
    }

    /// Runs with whichever crypto backend the features pick (CI builds each): an
    /// asymmetric signature verifies, and a tampered one does not.
    #[tokio::test]
    async fn an_es256_token_verifies_with_the_configured_backend() {
        let claims =
            json!({"iss": "https://issuer.example", "aud": "api", "sub": "a", "exp": now() + 60});
        let token = es256(None, &claims);
        let validator = ec_validator();
        let auth = validator.validate(&token).await.unwrap();
        assert_eq!(auth.subject(), Some("a"));
        let (signed, signature) = token.rsplit_once('.').unwrap();
        let flipped = if signature.starts_with('A') { "B" } else { "A" };
        let tampered = format!("{signed}.{flipped}{}", &signature[1..]);
        let e = validator.validate(&tampered).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Signature);
    }

    #[test]
    fn providers_must_be_told_apart() {
        let p = |name: &str, issuer: &str| {
            Provider::builder(name)
                .issuer(issuer)
                .audience("api")
                .hmac_secret([1u8; 32])
                .build()
                .unwrap()
        };
        assert_eq!(Validator::new(vec![]).unwrap_err(), ConfigError::NoProvider);
        let e = Validator::new(vec![p("a", "https://x"), p("a", "https://y")]).unwrap_err();
        assert_eq!(e.to_string(), r#"provider "a" is declared twice"#);
        let e = Validator::new(vec![p("a", "https://x"), p("b", "https://x")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            r#"providers "a" and "b" have the same issuer https://x"#
        );
        assert_eq!(e.field(), Some("issuer"));
    }

    #[tokio::test]
    async fn one_provider_may_introspect() {
        let p = |name: &str, issuer: &str| {
            Provider::builder(name)
                .issuer(issuer)
                .audience("api")
                .jwks_json(EC_JWKS)
                .introspection_client_id("rs")
                .introspection_client_secret("rs-secret")
                .build()
                .unwrap()
        };
        // Loopback with nothing listening: discovery fails at once, without traffic.
        let (x, y) = ("http://127.0.0.1:1", "http://127.0.0.1:2");
        let e = Validator::new(vec![p("a", x), p("b", y)]).unwrap_err();
        assert_eq!(e.field(), Some("introspection_client_id"));
        assert!(e.to_string().contains("one provider"), "{e}");
        let validator = Validator::new(vec![p("a", x)]).unwrap();
        // Without introspection, a token that is no JWS is malformed; with it, the
        // introspection endpoint decides (here: discovery fails: 503).
        let e = validator.validate("opaque-token").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::IntrospectionUnavailable);
        assert!(e.retry_after().is_some());
        let e = ec_validator().validate("opaque-token").await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
    }

    #[test]
    fn fetched_keys_need_a_runtime() {
        let p = Provider::builder("a")
            .issuer("https://x")
            .audience("api")
            .build()
            .unwrap();
        assert_eq!(Validator::new(vec![p]).unwrap_err(), ConfigError::NoRuntime);
    }
}
