//! The request's `Cookie` headers (RFC 6265 §5.4): every `name=value` pair, in order.

use axum::http::{HeaderMap, header};

/// Every `name=value` pair of the request's `Cookie` headers, names and values trimmed.
/// Pairs without `=` and headers that are not visible ASCII are skipped.
pub(crate) fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            Some((name.trim(), value.trim()))
        })
}

/// The value of the first cookie named `name`.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    cookies(headers).find_map(|(n, v)| (n == name).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn pairs_of_every_cookie_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1; b = 2 ;flag"));
        headers.append(header::COOKIE, HeaderValue::from_static("c=x=y"));
        let all: Vec<_> = cookies(&headers).collect();
        assert_eq!(all, [("a", "1"), ("b", "2"), ("c", "x=y")]);
        assert_eq!(cookie(&headers, "c"), Some("x=y"));
        assert_eq!(cookie(&headers, "flag"), None);
    }
}
