//! Where a login provider's endpoints are: discovered once from the issuer's metadata
//! (with the client authentication method, DPoP and RFC 9207 choices that depend on
//! it), or given explicitly for a plain OAuth 2.0 provider.

use url::Url;

use super::{ClientAuth, LoginProvider, LoginProviderBuilder, Problem};
use crate::discovery::{DiscoveryError, ProviderMetadata};
use crate::jwks::KeyRegistry;
use crate::util::url::{UrlUse, check_url};

/// Where the provider's endpoints are.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub(crate) authorization: Url,
    pub(crate) token: Url,
    pub(crate) userinfo: Option<Url>,
    pub(crate) end_session: Option<Url>,
    /// RFC 8628 device authorization, when the provider has it.
    pub(crate) device: Option<Url>,
    /// RFC 9126 pushed authorization requests, when the provider has them.
    pub(crate) par: Option<Url>,
    /// The provider takes authorization requests only pushed.
    pub(crate) par_required: bool,
    /// RFC 7009 revocation, when the provider has it.
    pub(crate) revocation: Option<Url>,
    pub(crate) client_auth: ClientAuth,
    /// Token requests carry a DPoP proof of the login's key (RFC 9449): a key is
    /// configured and the provider takes ES256 proofs (or its endpoints are explicit).
    pub(crate) dpop: bool,
    /// Authorization responses must carry `iss` (RFC 9207 §2.4: the provider announces
    /// `authorization_response_iss_parameter_supported`; and under `fapi2`).
    pub(crate) iss_required: bool,
}

impl LoginProvider {
    /// The token URL of a plain OAuth 2.0 provider (explicit endpoints).
    pub(crate) fn explicit_token_url(&self) -> Option<&Url> {
        self.inner.explicit.as_ref().map(|e| &e.token)
    }

    /// The endpoints: explicit ones, or from the issuer's discovery document, which the
    /// registry fetches once for login and key loading alike (a failed discovery is
    /// tried again on the next login).
    pub(crate) async fn endpoints(
        &self,
        registry: &KeyRegistry,
    ) -> Result<&Endpoints, DiscoveryError> {
        if let Some(e) = &self.inner.explicit {
            return Ok(e);
        }
        let issuer = self.inner.issuer.as_deref().unwrap_or_default();
        self.inner
            .discovered
            .get_or_try_init(|| async {
                let cache = registry
                    .get(issuer)
                    .ok_or_else(|| DiscoveryError::Invalid {
                        url: issuer.to_owned(),
                        reason: "the issuer is not registered for login".into(),
                    })?;
                let meta = cache.metadata().await?;
                let meta = ProviderMetadata::clone(&meta);
                let missing = |name: &str| DiscoveryError::Invalid {
                    url: issuer.to_owned(),
                    reason: format!("the metadata has no {name}"),
                };
                let parse = |s: String| Url::parse(&s).ok();
                let authorization = meta
                    .authorization_endpoint
                    .and_then(parse)
                    .ok_or_else(|| missing("authorization_endpoint"))?;
                let token = meta
                    .token_endpoint
                    .and_then(parse)
                    .ok_or_else(|| missing("token_endpoint"))?;
                let supported = meta.token_endpoint_auth_methods_supported;
                let client_auth =
                    self.inner
                        .client
                        .method_for(supported.as_deref())
                        .map_err(|reason| DiscoveryError::Invalid {
                            url: issuer.to_owned(),
                            reason,
                        })?;
                let dpop = self.inner.dpop.is_some()
                    && meta
                        .dpop_signing_alg_values_supported
                        .is_some_and(|algs| algs.iter().any(|a| a == "ES256"));
                if self.inner.fapi2 && !dpop {
                    return Err(DiscoveryError::Invalid {
                        url: issuer.to_owned(),
                        reason: "fapi2: FAPI 2.0 tokens are sender-constrained, and the \
                                 metadata lists no ES256 in dpop_signing_alg_values_supported"
                            .into(),
                    });
                }
                Ok(Endpoints {
                    authorization,
                    token,
                    userinfo: meta.userinfo_endpoint.and_then(parse),
                    end_session: meta.end_session_endpoint.and_then(parse),
                    device: meta.device_authorization_endpoint.and_then(parse),
                    revocation: meta.revocation_endpoint.and_then(parse),
                    par: meta.pushed_authorization_request_endpoint.and_then(parse),
                    par_required: meta.require_pushed_authorization_requests,
                    client_auth,
                    dpop,
                    iss_required: self.inner.fapi2
                        || meta.authorization_response_iss_parameter_supported,
                })
            })
            .await
    }
}

impl LoginProviderBuilder {
    /// A plain OAuth 2.0 provider's endpoints: both `authorize_url` and `token_url`, or
    /// neither (then they are discovered).
    pub(super) fn explicit_endpoints(&mut self) -> Result<Option<Endpoints>, Problem> {
        let url = |f: &'static str, v: String| check_url(&v, UrlUse::Endpoint).map_err(|p| (f, p));
        match (self.authorize_url.take(), self.token_url.take()) {
            (None, None) => Ok(None),
            (Some(a), Some(t)) => Ok(Some(Endpoints {
                authorization: url("authorize_url", a)?,
                token: url("token_url", t)?,
                userinfo: self
                    .userinfo_url
                    .clone()
                    .map(|u| url("userinfo_url", u))
                    .transpose()?,
                end_session: None,
                device: None,
                revocation: None,
                par: None,
                par_required: false,
                client_auth: match self.client_auth {
                    Some(a) => a,
                    // An explicit endpoint lists no methods: the credentials decide.
                    None => crate::client::choose(
                        self.client_key.is_some() || self.client_assertion.is_some(),
                        self.client_secret.is_some(),
                        None,
                    )
                    .map_err(|e| ("client_auth", e))?,
                },
                dpop: false,
                iss_required: false,
            })),
            (Some(_), None) => Err(("token_url", "is not set".into())),
            (None, Some(_)) => Err(("authorize_url", "is not set".into())),
        }
    }
}
