//! Multi-tenant issuers: a provider declared with Entra ID's issuer template and a list
//! of tenants, retargeted to the dev issuer's tenants (each with its own issuer and
//! discovery document). The token's `tid` names the tenant, its `iss` must be exactly
//! that tenant's, and each tenant's keys come from its own discovery, once.

use axum::Router;
use axum::routing::get;
use oauth2::dev::{DEFAULT_AUDIENCE, DevIssuer, Fault};
use oauth2::{Authenticated, Authenticator, Provider, providers};
use oauth2_tests::{error_of, get_with_token, serve};

mod declared {
    oauth2::providers! {
        entra {
            issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
            audience: "dev-api",
            tenants: ["contoso", "fabrikam"],
        }
    }
}

/// `/tenant` answers the token's `tid`.
async fn app(auth: &Authenticator) -> String {
    let routes = Router::new().route(
        "/tenant",
        get(|auth: Authenticated| async move {
            auth.claim("tid").unwrap().as_str().unwrap().to_owned()
        }),
    );
    serve(routes.layer(auth.layer())).await
}

#[tokio::test]
async fn the_tid_selects_a_listed_tenant_whose_issuer_and_keys_are_its_own() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = declared::Providers::builder()
        .unwrap()
        .map_provider("entra", |p| p.retarget(&idp))
        .build()
        .unwrap();
    assert_eq!(auth.validator().tenant_caches("entra"), Some(0));
    let url = app(&auth).await;
    let token = |tenant: &str| idp.token().tenant(tenant).sign();

    // Each tenant's first token waits for that tenant's discovery and keys.
    for tenant in ["contoso", "fabrikam", "contoso"] {
        let res = get_with_token(&url, "/tenant", &token(tenant)).await;
        assert_eq!(res.status(), 200, "{tenant}");
        assert_eq!(res.text().await.unwrap(), tenant);
    }
    assert_eq!(idp.stats().discovery, 2, "one discovery per tenant");
    assert_eq!(auth.validator().tenant_caches("entra"), Some(2));

    let refused = |token: String| {
        let url = url.clone();
        async move { error_of(get_with_token(&url, "/tenant", &token).await).await }
    };
    // A tenant that is not listed: refused before any request to its issuer.
    let e = refused(token("northwind")).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("tenant is not accepted"),
        "{}",
        e.description
    );
    assert_eq!(idp.stats().discovery, 2);
    // A token of one tenant that names another in `tid`.
    let e = refused(
        idp.token()
            .tenant("contoso")
            .claim("tid", "fabrikam")
            .sign(),
    )
    .await;
    assert!(
        e.description.contains("issuer of its tenant"),
        "{}",
        e.description
    );
    // The issuer must be the tenant's exactly.
    let iss = format!("{}/tenants/contoso/", idp.issuer());
    let e = refused(idp.token().tenant("contoso").claim("iss", iss).sign()).await;
    assert!(
        e.description.contains("issuer is not accepted"),
        "{}",
        e.description
    );
    let e = refused(idp.token().sign()).await;
    assert!(
        e.description.contains("issuer is not accepted"),
        "{}",
        e.description
    );
    // The template itself is no tenant's issuer.
    let e = refused(
        idp.token()
            .claim("iss", idp.tenant_issuer_template())
            .sign(),
    )
    .await;
    assert!(
        e.description.contains("issuer is not accepted"),
        "{}",
        e.description
    );
    // Without `tid`, the issuer's tenant segment names the tenant.
    let e = refused(idp.token().tenant("northwind").without_claim("tid").sign()).await;
    assert!(
        e.description.contains("tenant is not accepted"),
        "{}",
        e.description
    );
    let res = get_with_token(&url, "/tenant", &token("fabrikam")).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn any_tenant_is_an_explicit_switch_and_each_tenant_keeps_its_own_keys() {
    let idp = DevIssuer::start().await.unwrap();
    let provider = Provider::builder("entra")
        .issuer(idp.tenant_issuer_template())
        .audience(DEFAULT_AUDIENCE);
    // Without a list or the switch, a template does not build.
    let e = provider.clone().build().unwrap_err();
    assert_eq!(e.field(), Some("tenants"));
    let auth = Authenticator::builder()
        .provider(provider.any_tenant())
        .build()
        .unwrap();
    let url = app(&auth).await;
    for tenant in ["a1", "b2", "c3"] {
        let token = idp.token().tenant(tenant).sign();
        assert_eq!(get_with_token(&url, "/tenant", &token).await.status(), 200);
    }
    assert_eq!(auth.validator().tenant_caches("entra"), Some(3));
    // After a key rotation, each tenant's cache finds the new key once (an unknown
    // `kid` refetches that tenant's keys only).
    idp.rotate();
    let before = idp.stats().jwks;
    let token = idp.token().tenant("a1").sign();
    assert_eq!(get_with_token(&url, "/tenant", &token).await.status(), 200);
    assert_eq!(idp.stats().jwks, before + 1);
    // A new tenant whose discovery fails: its first token is a 503, once the fetch has
    // failed, and its cache keeps trying in the background.
    idp.set_fault(Fault::Down);
    let token = idp.token().tenant("d4").sign();
    let res = get_with_token(&url, "/tenant", &token).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_of(res).await.status, 503);
    idp.set_fault(Fault::None);
    // A tenant id that could not be one is refused.
    let bad = idp
        .token()
        .claim("iss", format!("{}/tenants/a%2Fb", idp.issuer()))
        .without_claim("tid")
        .sign();
    let e = error_of(get_with_token(&url, "/tenant", &bad).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
}

/// `max_tenants` bounds the caches: more tenants than that still pass, the least used
/// tenant's cache goes and its next token fetches its keys again.
#[tokio::test]
async fn max_tenants_bounds_the_caches_and_a_dropped_tenant_loads_again() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("entra")
                .issuer(idp.tenant_issuer_template())
                .audience(DEFAULT_AUDIENCE)
                .any_tenant()
                .max_tenants(2),
        )
        .build()
        .unwrap();
    let url = app(&auth).await;
    for tenant in ["a1", "b2", "c3", "d4", "a1"] {
        let token = idp.token().tenant(tenant).subject(tenant).sign();
        assert_eq!(
            get_with_token(&url, "/tenant", &token).await.status(),
            200,
            "{tenant}"
        );
    }
    let caches = auth.validator().tenant_caches("entra").unwrap();
    assert!(caches <= 2, "{caches} caches");
    assert!(
        idp.stats().discovery >= 5,
        "a dropped tenant is discovered again"
    );
    // A list longer than the bound does not build.
    let e = Provider::builder("entra")
        .issuer(idp.tenant_issuer_template())
        .audience(DEFAULT_AUDIENCE)
        .tenants(["a1", "b2", "c3"])
        .max_tenants(2)
        .build()
        .unwrap_err();
    assert_eq!(e.field(), Some("max_tenants"));
}

#[allow(dead_code)]
mod dsl_checks {
    // The providers! spelling of the switch.
    super::providers! {
        any {
            issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
            audience: "api",
            any_tenant: true,
        }
    }
}
