//! Tokens of a multi-tenant issuer: which tenant a token is for, and one key cache per
//! tenant, started on the first token of that tenant and bounded in number.

use std::convert::Infallible;
use std::sync::Arc;

use quick_cache::sync::Cache;
use serde_json::{Map, Value};

use super::{ErrorKind, ValidationError};
use crate::config::Tenants;
use crate::jwks::{KeyCache, KeySource, RefreshPolicy};

/// The key caches of one template provider's tenants, by issuer.
pub(super) struct TenantKeys {
    provider: Arc<str>,
    policy: RefreshPolicy,
    client: reqwest::Client,
    caches: Cache<String, KeyCache>,
}

impl TenantKeys {
    /// At most `capacity` tenants' caches, each fetching with `client` by `policy`.
    pub(super) fn new(
        provider: Arc<str>,
        policy: RefreshPolicy,
        client: reqwest::Client,
        capacity: usize,
    ) -> Self {
        Self {
            provider,
            policy,
            client,
            caches: Cache::new(capacity),
        }
    }

    /// The key cache of the tenant issuer `issuer`, started now (discovery and keys
    /// loading in the background) if it is not there.
    pub(super) fn cache(&self, issuer: &str) -> KeyCache {
        let started = self.caches.get_or_insert_with(issuer, || {
            Ok::<_, Infallible>(KeyCache::start(
                self.provider.clone(),
                issuer.to_owned(),
                KeySource::Discovery,
                self.policy,
                self.client.clone(),
            ))
        });
        match started {
            Ok(cache) => cache,
        }
    }

    /// The key cache of `issuer`, if it is there.
    pub(super) fn get(&self, issuer: &str) -> Option<KeyCache> {
        self.caches.get(issuer)
    }

    /// How many tenants' caches are kept.
    pub(super) fn len(&self) -> usize {
        self.caches.len()
    }
}

/// Checks that a token whose `iss` fits `tenants`' template is for an accepted tenant:
/// its `tid` (or, without one, the issuer's tenant segment) names the tenant, and its
/// `iss` is exactly that tenant's issuer.
pub(super) fn check_tenant(
    tenants: &Tenants,
    iss: &str,
    claims: &Map<String, Value>,
) -> Result<(), ValidationError> {
    let segment = tenants.tenant_of(iss);
    let tenant = match claims.get("tid") {
        Some(Value::String(tid)) => tid.as_str(),
        Some(_) => {
            return Err(ValidationError::new(
                ErrorKind::InvalidClaim,
                "token `tid` claim is not a string",
            ));
        }
        None => segment.unwrap_or_default(),
    };
    if segment != Some(tenant) || tenants.issuer_of(tenant) != iss {
        return Err(ValidationError::new(
            ErrorKind::Issuer,
            "token issuer is not the issuer of its tenant (`tid`)",
        ));
    }
    if !tenants.accepts(tenant) {
        return Err(ValidationError::new(
            ErrorKind::Issuer,
            "token tenant is not accepted",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn the_tenants_caches_are_bounded() {
        let keys = TenantKeys::new(
            "entra".into(),
            RefreshPolicy::default(),
            reqwest::Client::new(),
            2,
        );
        // Loopback with nothing listening: the caches' fetches fail at once.
        for tenant in ["a", "b", "c", "d", "a"] {
            keys.cache(&format!("http://127.0.0.1:1/tenants/{tenant}"));
        }
        assert!(keys.len() <= 2, "{} caches", keys.len());
        assert!(keys.get("http://127.0.0.1:1/tenants/a").is_some());
    }

    #[test]
    fn the_tid_names_the_tenant_and_the_issuer_must_be_its_own() {
        let template = "https://login.microsoftonline.com/{tenantid}/v2.0";
        let tenants = Tenants::new(template, Some(vec!["contoso".into()]), None).unwrap();
        let iss = |t: &str| format!("https://login.microsoftonline.com/{t}/v2.0");
        let check = |iss: &str, claims: Value| {
            check_tenant(&tenants, iss, claims.as_object().unwrap()).map_err(|e| e.kind())
        };
        assert_eq!(check(&iss("contoso"), json!({"tid": "contoso"})), Ok(()));
        assert_eq!(check(&iss("contoso"), json!({})), Ok(()));
        // A token of one tenant claiming another (or the other way round).
        assert_eq!(
            check(&iss("fabrikam"), json!({"tid": "contoso"})),
            Err(ErrorKind::Issuer)
        );
        assert_eq!(
            check(&iss("contoso"), json!({"tid": "fabrikam"})),
            Err(ErrorKind::Issuer)
        );
        // A tenant that is not on the list.
        assert_eq!(
            check(&iss("fabrikam"), json!({"tid": "fabrikam"})),
            Err(ErrorKind::Issuer)
        );
        assert_eq!(
            check(&iss("contoso"), json!({"tid": 7})),
            Err(ErrorKind::InvalidClaim)
        );
    }
}
