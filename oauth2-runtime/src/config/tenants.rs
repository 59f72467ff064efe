//! Multi-tenant issuers: an issuer template such as Entra ID's
//! `https://login.microsoftonline.com/{tenantid}/v2.0`, and which tenants it accepts.

use crate::util::url::{UrlUse, check_url};

/// The placeholder of the tenant in an issuer template.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// The longest tenant id accepted.
const MAX_TENANT: usize = 64;

pub use crate::defaults::DEFAULT_MAX_TENANTS;

/// An issuer template and the tenants it accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tenants {
    /// The template's text before and after `{tenantid}`.
    prefix: String,
    suffix: String,
    /// `None`: any tenant (the explicit switch).
    allowed: Option<Vec<String>>,
    /// How many tenants' key caches are kept.
    max_caches: usize,
}

/// Whether `tenant` can be a tenant id: letters, digits, `-`, `_` and `.` (not first),
/// as Entra ID's GUIDs and domain names are; never `/`, `?`, `#`, `@` or `:`.
fn valid_tenant(tenant: &str) -> bool {
    !tenant.is_empty()
        && tenant.len() <= MAX_TENANT
        && !tenant.starts_with('.')
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

impl Tenants {
    /// Checks `template` (one `{tenantid}`, after the scheme; with a sample tenant in
    /// its place, an issuer URL) and the accepted tenants: an allow-list (each a valid
    /// tenant id), or `None` for any (whether exactly one of the two was configured is
    /// a rule shared with the macro); and `max_caches` (default [`DEFAULT_MAX_TENANTS`]).
    pub(crate) fn new(
        template: &str,
        allowed: Option<Vec<String>>,
        max_caches: Option<usize>,
    ) -> Result<Self, (&'static str, String)> {
        let (prefix, suffix) = template
            .split_once(TENANT_PLACEHOLDER)
            .ok_or(("issuer", "has no {tenantid}".to_owned()))?;
        if suffix.contains(TENANT_PLACEHOLDER) {
            return Err(("issuer", "has {tenantid} more than once".into()));
        }
        if !prefix.contains("://") {
            return Err((
                "issuer",
                "has {tenantid} before the host: the scheme is not a tenant's".into(),
            ));
        }
        check_url(&format!("{prefix}sample-tenant{suffix}"), UrlUse::Issuer)
            .map_err(|p| ("issuer", p))?;
        if let Some(list) = &allowed {
            if list.is_empty() {
                return Err(("tenants", "is empty".into()));
            }
            if let Some(bad) = list.iter().find(|t| !valid_tenant(t)) {
                return Err((
                    "tenants",
                    format!("contains `{bad}`, which is not a tenant id"),
                ));
            }
        }
        let max_caches = match (max_caches, &allowed) {
            (Some(0), _) => return Err(("max_tenants", "is zero".into())),
            (Some(n), Some(list)) if n < list.len() => {
                return Err((
                    "max_tenants",
                    format!(
                        "is {n}, fewer than the {} tenants listed: their caches would \
                         push each other out",
                        list.len()
                    ),
                ));
            }
            (Some(n), _) => n,
            // Every listed tenant keeps its cache.
            (None, Some(list)) => DEFAULT_MAX_TENANTS.max(list.len()),
            (None, None) => DEFAULT_MAX_TENANTS,
        };
        Ok(Self {
            prefix: prefix.to_owned(),
            suffix: suffix.to_owned(),
            allowed,
            max_caches,
        })
    }

    /// How many tenants' key caches are kept.
    pub(crate) fn max_caches(&self) -> usize {
        self.max_caches
    }

    /// The tenant segment of `iss`, when `iss` is the template with a valid tenant id.
    pub(crate) fn tenant_of<'a>(&self, iss: &'a str) -> Option<&'a str> {
        let tenant = iss
            .strip_prefix(&*self.prefix)?
            .strip_suffix(&*self.suffix)?;
        valid_tenant(tenant).then_some(tenant)
    }

    /// The issuer of `tenant`.
    pub(crate) fn issuer_of(&self, tenant: &str) -> String {
        format!("{}{tenant}{}", self.prefix, self.suffix)
    }

    /// Whether `tenant` is accepted.
    pub(crate) fn accepts(&self, tenant: &str) -> bool {
        match &self.allowed {
            None => valid_tenant(tenant),
            Some(list) => list.iter().any(|t| t == tenant),
        }
    }

    /// The accepted tenants; `None` for any.
    pub(crate) fn allowed(&self) -> Option<&[String]> {
        self.allowed.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRA: &str = "https://login.microsoftonline.com/{tenantid}/v2.0";

    #[test]
    fn a_template_splits_around_the_tenant() {
        let t = Tenants::new(ENTRA, Some(vec!["contoso".into()]), None).unwrap();
        let iss = "https://login.microsoftonline.com/contoso/v2.0";
        assert_eq!(t.tenant_of(iss), Some("contoso"));
        assert_eq!(t.issuer_of("contoso"), iss);
        assert!(t.accepts("contoso") && !t.accepts("fabrikam"));
        for other in [
            "https://login.microsoftonline.com/contoso/v2.0/",
            "https://login.microsoftonline.com/a/b/v2.0",
            "https://login.microsoftonline.com//v2.0",
            "https://login.microsoftonline.com/con%2Fsoso/v2.0",
            "https://evil.example/contoso/v2.0",
        ] {
            assert_eq!(t.tenant_of(other), None, "{other}");
        }
        let any = Tenants::new(ENTRA, None, None).unwrap();
        assert!(any.accepts("9188040d-6c67-4c5b-b112-36a304b66dad"));
        assert!(!any.accepts("a/b") && !any.accepts(".."));
    }

    #[test]
    fn the_template_and_the_tenants_are_checked() {
        let err = |template: &str, allowed: Option<Vec<String>>| {
            Tenants::new(template, allowed, None).unwrap_err()
        };
        let one = || Some(vec!["a".to_owned()]);
        assert!(
            err("https://x/{tenantid}/{tenantid}", one())
                .1
                .contains("more than once")
        );
        assert!(err("{tenantid}://x", one()).1.contains("before the host"));
        assert_eq!(err("http://x.example/{tenantid}", one()).0, "issuer");
        assert!(err(ENTRA, Some(vec![])).1.contains("empty"));
        assert!(err(ENTRA, Some(vec!["a/b".into()])).1.contains("a/b"));
        // A tenant in the host works too (one organisation per subdomain).
        let host = Tenants::new("https://{tenantid}.okta.example", None, None).unwrap();
        assert_eq!(host.tenant_of("https://acme.okta.example"), Some("acme"));
    }

    #[test]
    fn the_number_of_tenant_caches_fits_the_tenants() {
        let max = |allowed: Option<Vec<String>>, max: Option<usize>| {
            Tenants::new(ENTRA, allowed, max).map(|t| t.max_caches())
        };
        let many: Vec<String> = (0..300).map(|i| format!("t{i}")).collect();
        assert_eq!(max(None, None), Ok(DEFAULT_MAX_TENANTS));
        assert_eq!(max(None, Some(10_000)), Ok(10_000));
        // Every listed tenant keeps its cache.
        assert_eq!(max(Some(many.clone()), None), Ok(300));
        assert_eq!(max(Some(vec!["a".into()]), None), Ok(DEFAULT_MAX_TENANTS));
        let e = max(Some(many), Some(100)).unwrap_err();
        assert_eq!(e.0, "max_tenants");
        assert!(e.1.contains("fewer than the 300 tenants"), "{}", e.1);
        assert_eq!(max(None, Some(0)).unwrap_err().0, "max_tenants");
    }
}
