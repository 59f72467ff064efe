//! The URL rules of every configured or discovered endpoint: `https://`, or `http://`
//! on a loopback host; no fragment.

use std::net::IpAddr;

use url::Url;

/// Parses a URL that must be `https://`, or `http://` on a loopback host, without a
/// fragment. The error says what is wrong, quoting the value.
pub(crate) fn check_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("`{value}` is not a URL: {e}"))?;
    if url.fragment().is_some() {
        return Err(format!("`{value}` must not have a fragment"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(format!(
            "`{value}` must use https:// (http:// is allowed only on loopback hosts)"
        )),
        other => Err(format!(
            "`{value}` has scheme `{other}`; https:// is required"
        )),
    }
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
