//! The URL rules of every configured or discovered endpoint, as `oauth2_syntax` defines
//! them for the macro too: `https://`, or `http://` on a loopback host; no fragment,
//! credentials or backslash; no query in an issuer or base URL.

use std::net::IpAddr;

pub(crate) use oauth2_syntax::UrlUse;
use url::Url;

/// Parses a URL that follows the rules for `used`. The error says what is wrong,
/// quoting the value.
pub(crate) fn check_url(value: &str, used: UrlUse) -> Result<Url, String> {
    if let Some(problem) = oauth2_syntax::url_problem(value, used) {
        return Err(format!("`{value}` {problem}"));
    }
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not a URL: {e}"))?;
    // The parser's reading of the host must agree with the rule's.
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(format!(
            "`{value}` must use https:// (http:// is allowed only on loopback hosts)"
        ));
    }
    Ok(url)
}

/// Whether the URL's host is `localhost` or a loopback address.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_macro_rules_hold_at_run_time() {
        assert!(check_url("http://127.0.0.1:8080", UrlUse::Issuer).is_ok());
        let e = check_url("http://127.0.0.1.example.com", UrlUse::Issuer).unwrap_err();
        assert!(e.contains("only https"), "{e}");
        assert!(check_url("https://x.example/?a=1", UrlUse::Issuer).is_err());
        assert!(check_url("https://x.example/?a=1", UrlUse::Endpoint).is_ok());
        // `127.1` is 127.0.0.1 to the URL parser but not to the rule: refused by both.
        assert!(check_url("http://127.1/", UrlUse::Endpoint).is_err());
    }
}
