//! URLs of issuers and endpoints: `https://`, or `http://` on a loopback host.

use std::net::{Ipv4Addr, Ipv6Addr};

/// What a URL is for: it decides whether a query is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlUse {
    /// An issuer (compared exactly with `iss`, and the base of discovery): no query.
    Issuer,
    /// The application's base URL: no query.
    Base,
    /// A protected resource's identifier (RFC 8707 §2, RFC 9728 §1.2), which tokens
    /// carry in `aud`: no query.
    Resource,
    /// An endpoint (JWKS, authorization, token, userinfo): a query is allowed, as some
    /// providers put the tenant there.
    Endpoint,
}

/// Whether `host` (as written in a URL, IPv6 in brackets or not) is loopback:
/// `localhost`, an address in 127.0.0.0/8, or `::1`. `127.0.0.1.example.com` is not.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
        || host.parse::<Ipv6Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Why `value` is not an acceptable URL for `used`, if it is not: it must be
/// `https://host...` (or `http://` on a loopback host), with a host, without
/// credentials, a backslash or a fragment, and without a query where `used` allows none.
pub fn url_problem(value: &str, used: UrlUse) -> Option<String> {
    let Some((scheme, rest)) = value.split_once("://") else {
        return Some("must be an https:// URL".into());
    };
    if value.contains('\\') {
        return Some("must not contain a backslash".into());
    }
    if value.contains('#') {
        return Some("must not have a fragment (`#...`)".into());
    }
    if value.contains('?') && used != UrlUse::Endpoint {
        return Some("must not have a query (`?...`)".into());
    }
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.contains('@') {
        return Some("must not contain credentials (`user@`)".into());
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        return Some("has no host".into());
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => None,
        "http" if is_loopback_host(host) => None,
        "http" => Some(
            "uses http: only https is allowed, except on loopback (127.0.0.1, [::1], localhost)"
                .into(),
        ),
        other => Some(format!("has scheme `{other}`: it must be an https:// URL")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_or_loopback_http() {
        for ok in [
            "https://accounts.google.com",
            "http://127.0.0.1:3001/realms/x",
            "http://127.1.2.3",
            "http://[::1]:80",
            "http://localhost",
            "http://LOCALHOST:8080/",
        ] {
            assert_eq!(url_problem(ok, UrlUse::Issuer), None, "{ok}");
        }
        for bad in [
            "http://login.corp.example",
            "http://127.0.0.1.example.com",
            "http://localhost.example.com",
            "http://127.0.0.1@evil.example",
            "http://[::2]",
            "https://",
            "ftp://x",
            "accounts.google.com",
            "https://x.example/#f",
            "https://x.example\\@y",
        ] {
            assert!(url_problem(bad, UrlUse::Endpoint).is_some(), "{bad}");
        }
    }

    #[test]
    fn queries_only_on_endpoints() {
        let tenant = "https://idp.example/authorize?tenant=t1";
        assert_eq!(url_problem(tenant, UrlUse::Endpoint), None);
        assert!(
            url_problem(tenant, UrlUse::Issuer)
                .unwrap()
                .contains("query")
        );
        assert!(url_problem(tenant, UrlUse::Base).is_some());
    }
}
