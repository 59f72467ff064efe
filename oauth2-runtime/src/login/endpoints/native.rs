//! Native and CLI clients (RFC 8252) through the app: the client starts at
//! `GET {prefix}/{provider}/login?redirect_uri=http://127.0.0.1:PORT/...` with its own
//! PKCE challenge and `state`, the app sends the browser to the provider with its own
//! client id, the provider redirects to the client's loopback listener with a code, and
//! the client redeems it at `POST {prefix}/{provider}/token`
//! (`grant_type=authorization_code`), where the app adds its client authentication.
//!
//! Only loopback IP redirect URIs (any port, RFC 8252 §7.3; not `localhost`, §8.3) or
//! ones the provider allows explicitly
//! ([`LoginProviderBuilder::native_redirect_uri`](crate::login::LoginProviderBuilder::native_redirect_uri))
//! are accepted, so the app's client cannot be used to send codes anywhere else. PKCE
//! with S256 is required.

use std::net::IpAddr;

use axum::http::StatusCode;
use axum::response::Response;
use url::Url;

use crate::login::form::bad;
use crate::login::redirect::see_other;
use crate::login::rp::transaction::AuthorizationRequest;
use crate::login::{Login, LoginError, LoginProvider};

/// What a native client sends to `GET {prefix}/{provider}/login`.
pub(crate) struct NativeLogin<'a> {
    pub(crate) redirect_uri: &'a str,
    pub(crate) code_challenge: Option<&'a str>,
    pub(crate) code_challenge_method: Option<&'a str>,
    pub(crate) state: Option<&'a str>,
    pub(crate) nonce: Option<&'a str>,
}

/// Whether `uri` may receive codes of provider `p`'s native clients: an `http` URL on a
/// loopback IP address, any port, without credentials, query or fragment; or one that
/// the provider allows explicitly.
pub(super) fn check_redirect_uri(p: &LoginProvider, uri: &str) -> Result<(), LoginError> {
    if p.inner
        .native_redirect_uris
        .iter()
        .any(|allowed| allowed == uri)
    {
        return Ok(());
    }
    let refuse = |why: &str| {
        bad(
            "invalid_request",
            format!("the `redirect_uri` is not allowed: {why}"),
        )
    };
    let url = Url::parse(uri).map_err(|_| refuse("it is not a URL"))?;
    let loopback_ip = match url.host() {
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        _ => false,
    };
    if url.scheme() != "http" || !loopback_ip {
        return Err(refuse(
            "a native client's must be http://127.0.0.1:PORT/... or http://[::1]:PORT/... (RFC 8252 §7.3)",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("it has credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() || uri.contains('#') {
        return Err(refuse("it has a query or a fragment"));
    }
    Ok(())
}

/// A PKCE S256 challenge: 43 base64url characters (RFC 7636 §4.2).
fn check_challenge<'a>(
    challenge: Option<&'a str>,
    method: Option<&str>,
) -> Result<&'a str, LoginError> {
    let challenge = challenge.filter(|c| !c.is_empty()).ok_or_else(|| {
        bad(
            "invalid_request",
            "the `code_challenge` parameter is missing",
        )
    })?;
    if method != Some("S256") {
        return Err(bad(
            "invalid_request",
            "`code_challenge_method` must be `S256`",
        ));
    }
    let well_formed = challenge.len() == 43
        && challenge
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !well_formed {
        return Err(bad(
            "invalid_request",
            "the `code_challenge` is not a base64url SHA-256 (43 characters)",
        ));
    }
    Ok(challenge)
}

/// `GET {prefix}/{provider}/login` with a native client's `redirect_uri`: 303 to the
/// provider with the client's redirect URI, challenge, `state` and `nonce`, and this
/// app's client id. No cookie: the client keeps its own secrets.
pub(crate) async fn start(
    login: &Login,
    provider: &str,
    native: &NativeLogin<'_>,
) -> Result<Response, LoginError> {
    let p = login.find(provider)?;
    if !p.inner.token_endpoint {
        return Err(LoginError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!(
                "provider `{}` serves no native clients (no token endpoint): `redirect_uri` is not accepted",
                p.name()
            ),
        ));
    }
    check_redirect_uri(p, native.redirect_uri)?;
    let challenge = check_challenge(native.code_challenge, native.code_challenge_method)?;
    let state = native
        .state
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("invalid_request", "the `state` parameter is missing"))?;
    let endpoints = p
        .endpoints(&login.inner.upstream.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let params: Vec<(&str, &str)> = p
        .inner
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let url = AuthorizationRequest {
        endpoint: endpoints.authorization.as_str(),
        client_id: &p.inner.client_id,
        redirect_uri: native.redirect_uri,
        scope: &p.inner.scope,
        extra: &params,
    }
    .url_for(state, native.nonce, challenge)
    .map_err(|e| LoginError::server(e.to_string()))?;
    Ok(see_other(url.as_str(), Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(allowed: &[&str]) -> LoginProvider {
        let mut b = LoginProvider::builder("corp")
            .issuer("https://login.corp.example")
            .client_id("app")
            .token_endpoint();
        for uri in allowed {
            b = b.native_redirect_uri(*uri);
        }
        b.build().unwrap()
    }

    #[test]
    fn only_loopback_ip_redirect_uris_or_allowed_ones_receive_codes() {
        let p = provider(&["com.example.cli:/callback"]);
        for good in [
            "http://127.0.0.1:49152/callback",
            "http://127.0.0.1/",
            "http://[::1]:8080/cb",
            "com.example.cli:/callback",
        ] {
            assert!(check_redirect_uri(&p, good).is_ok(), "{good}");
        }
        for bad in [
            "http://localhost:8080/cb",
            "https://127.0.0.1:8080/cb",
            "http://127.0.0.1.evil.example/cb",
            "http://evil.example/cb",
            "http://user:pw@127.0.0.1:8080/cb",
            "http://127.0.0.1:8080/cb?next=https://evil.example",
            "http://127.0.0.1:8080/cb#frag",
            "com.example.cli:/other",
            "not a url",
        ] {
            let e = check_redirect_uri(&p, bad).unwrap_err();
            assert_eq!(
                (e.status(), e.code()),
                (StatusCode::BAD_REQUEST, "invalid_request"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_challenge_must_be_s256_and_well_formed() {
        let good = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(check_challenge(Some(good), Some("S256")).unwrap(), good);
        for (challenge, method) in [
            (None, Some("S256")),
            (Some(good), None),
            (Some(good), Some("plain")),
            (Some("short"), Some("S256")),
            (
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM"),
                Some("S256"),
            ),
        ] {
            assert!(check_challenge(challenge, method).is_err(), "{challenge:?}");
        }
    }
}
