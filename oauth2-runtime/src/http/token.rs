//! Where a request's token is: the `Authorization: Bearer` header (or `DPoP`, when a
//! provider accepts DPoP-bound tokens); an optional cookie;
//! for WebSocket upgrades only, the `Sec-WebSocket-Protocol` pair `access_token, <token>`
//! and, when turned on, the `access_token` query parameter.

use std::borrow::Cow;

use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::{cookie, is_websocket_upgrade};
use crate::error::AuthError;

/// The subprotocol that precedes the token in `Sec-WebSocket-Protocol`.
pub const WEBSOCKET_TOKEN_PROTOCOL: &str = "access_token";

/// Where [`find_token`] looks besides the `Authorization` header.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sources<'a> {
    /// A cookie that may hold the token.
    pub(crate) cookie: Option<&'a str>,
    /// Whether a WebSocket upgrade may carry it in the `access_token` query parameter.
    pub(crate) websocket_query: bool,
    /// Whether `Authorization: DPoP <token>` is accepted (RFC 9449 §7.1).
    pub(crate) dpop: bool,
    /// Only the `Authorization` header: an `access_token` in the URL query is refused
    /// (the MCP mode; OAuth 2.1 §5.1.2).
    pub(crate) header_only: bool,
}

/// A token as the request presented it.
#[derive(Debug, Clone)]
pub(crate) struct Presented<'a> {
    pub(crate) token: Cow<'a, str>,
    /// Sent as `Authorization: DPoP <token>`: a DPoP proof must come with it.
    pub(crate) dpop: bool,
}

impl Presented<'_> {
    /// The same, owning its token.
    pub(crate) fn into_owned(self) -> Presented<'static> {
        Presented {
            token: Cow::Owned(self.token.into_owned()),
            dpop: self.dpop,
        }
    }
}

/// The token of a request, from the first source that has one.
pub(crate) fn find_token<'a>(
    parts: &'a Parts,
    sources: Sources<'_>,
) -> Result<Presented<'a>, AuthError> {
    let plain = |token| Presented { token, dpop: false };
    if sources.header_only && has_query_token(parts) {
        return Err(AuthError::invalid_token(
            "an access token in the URL query is refused (URLs end up in logs): send it in \
             the Authorization header",
        ));
    }
    let mut values = parts.headers.get_all(header::AUTHORIZATION).iter();
    if let Some(value) = values.next() {
        if values.next().is_some() {
            return Err(AuthError::invalid_request("several Authorization headers"));
        }
        let value = value
            .to_str()
            .map_err(|_| AuthError::invalid_request("Authorization header is not visible ASCII"))?;
        let (token, dpop) = authorization(value, sources.dpop)?;
        return Ok(Presented {
            token: Cow::Borrowed(token),
            dpop,
        });
    }
    if sources.header_only {
        return Err(AuthError::missing_token());
    }
    if let Some(token) = sources.cookie.and_then(|name| cookie(&parts.headers, name)) {
        let token = strip_bearer(token);
        if !token.is_empty() {
            return Ok(plain(Cow::Borrowed(token)));
        }
    }
    if is_websocket_upgrade(parts) {
        if let Some(token) = protocol_token(&parts.headers) {
            return Ok(plain(Cow::Owned(token)));
        }
        if let Some(token) = parts.uri.query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "access_token")
                .map(|(_, v)| v.into_owned())
        }) {
            if !sources.websocket_query {
                return Err(AuthError::invalid_request(
                    "the access_token query parameter is not accepted (URLs end up in access \
                     logs): send `Sec-WebSocket-Protocol: access_token, <token>`, or turn on \
                     `allow_websocket_query_token`",
                ));
            }
            return Ok(plain(Cow::Owned(token)));
        }
    }
    Err(AuthError::missing_token())
}

/// Whether the URL query has an `access_token` parameter.
fn has_query_token(parts: &Parts) -> bool {
    parts.uri.query().is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "access_token")
    })
}

/// Parses `Bearer <token>`, or `DPoP <token>` when `dpop` (schemes case-insensitive,
/// RFC 7235); says which.
fn authorization(value: &str, dpop: bool) -> Result<(&str, bool), AuthError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let is_dpop = dpop && scheme.eq_ignore_ascii_case("dpop");
    if !scheme.eq_ignore_ascii_case("bearer") && !is_dpop {
        return Err(AuthError::invalid_request(if dpop {
            "Authorization header must use the Bearer or DPoP scheme"
        } else {
            "Authorization header must use the Bearer scheme"
        }));
    }
    let token = rest.trim_start();
    if token.is_empty() {
        return Err(AuthError::invalid_request("the token is empty"));
    }
    // A header value is visible ASCII (`to_str` checked it), so a space or a tab is the
    // only whitespace it can hold; looking for those bytes is much cheaper than decoding
    // every character of a long token.
    if token.bytes().any(|b| b == b' ' || b == b'\t') {
        return Err(AuthError::invalid_request("the token is malformed"));
    }
    Ok((token, is_dpop))
}

fn strip_bearer(value: &str) -> &str {
    let value = value.trim().trim_matches('"');
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => value,
    }
}

/// The entry after `access_token` in `Sec-WebSocket-Protocol`.
fn protocol_token(headers: &HeaderMap) -> Option<String> {
    let entries: Vec<&str> = protocols(headers).collect();
    let at = entries
        .iter()
        .position(|e| *e == WEBSOCKET_TOKEN_PROTOCOL)?;
    entries.get(at + 1).map(|t| (*t).to_owned())
}

/// Every subprotocol the client offers in `Sec-WebSocket-Protocol`, in order.
fn protocols(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
}

/// Whether the client offered the `access_token` subprotocol (a rejection must then
/// select it, as browsers require).
#[cfg(feature = "ws")]
pub(crate) fn offers_token_protocol(headers: &HeaderMap) -> bool {
    protocols(headers).any(|p| p == WEBSOCKET_TOKEN_PROTOCOL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AuthErrorKind;
    use axum::http::Request;

    fn parts(
        f: impl FnOnce(axum::http::request::Builder) -> axum::http::request::Builder,
    ) -> Parts {
        f(Request::builder().uri("/x"))
            .body(())
            .unwrap()
            .into_parts()
            .0
    }

    fn token(p: &Parts, cookie: Option<&str>) -> Result<String, AuthErrorKind> {
        let sources = Sources {
            cookie,
            websocket_query: true,
            dpop: false,
            header_only: false,
        };
        find_token(p, sources)
            .map(|t| t.token.into_owned())
            .map_err(|e| e.kind())
    }

    #[test]
    fn header_scheme_is_case_insensitive() {
        for h in ["Bearer abc", "bearer abc", "BEARER   abc", " Bearer abc "] {
            assert_eq!(
                token(&parts(|b| b.header("authorization", h)), None),
                Ok("abc".into())
            );
        }
    }

    #[test]
    fn bad_headers_are_invalid_requests() {
        for h in [
            "Basic dXNlcjpwYXNz",
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearerabc",
            "Token abc",
        ] {
            assert_eq!(
                token(&parts(|b| b.header("authorization", h)), None),
                Err(AuthErrorKind::InvalidRequest),
                "{h}"
            );
        }
        let p = parts(|b| {
            b.header("authorization", "Bearer a")
                .header("authorization", "Bearer b")
        });
        assert_eq!(token(&p, None), Err(AuthErrorKind::InvalidRequest));
        assert_eq!(token(&parts(|b| b), None), Err(AuthErrorKind::MissingToken));
    }

    #[test]
    fn header_only_refuses_a_query_token_and_reads_nothing_else() {
        let header_only = Sources {
            cookie: Some("at"),
            header_only: true,
            ..Sources::default()
        };
        let kind = |p: &Parts| find_token(p, header_only).map(|_| ()).map_err(|e| e.kind());
        let p = parts(|b| b.uri("/mcp?access_token=abc"));
        assert_eq!(kind(&p), Err(AuthErrorKind::InvalidToken));
        let p = parts(|b| {
            b.uri("/mcp?access_token=abc")
                .header("authorization", "Bearer abc")
        });
        assert_eq!(
            kind(&p),
            Err(AuthErrorKind::InvalidToken),
            "not even beside a header"
        );
        let p = parts(|b| b.header("cookie", "at=abc"));
        assert_eq!(kind(&p), Err(AuthErrorKind::MissingToken));
        let p = parts(|b| b.uri("/mcp?x=1").header("authorization", "Bearer abc"));
        assert_eq!(kind(&p), Ok(()));
    }

    #[test]
    fn the_dpop_scheme_only_when_a_provider_accepts_it() {
        let p = parts(|b| b.header("authorization", "DPoP abc"));
        assert_eq!(token(&p, None), Err(AuthErrorKind::InvalidRequest));
        let dpop = Sources {
            dpop: true,
            ..Sources::default()
        };
        let found = find_token(&p, dpop).unwrap();
        assert_eq!((&*found.token, found.dpop), ("abc", true));
        let p = parts(|b| b.header("authorization", "bearer abc"));
        assert!(!find_token(&p, dpop).unwrap().dpop);
        let p = parts(|b| b.header("authorization", "Basic abc"));
        let e = find_token(&p, dpop).unwrap_err();
        assert!(e.description().contains("Bearer or DPoP"), "{e}");
    }

    #[test]
    fn cookie_source() {
        let p = parts(|b| b.header("cookie", "a=1; at=Bearer%20x; tok=\"Bearer xyz\""));
        assert_eq!(token(&p, Some("tok")), Ok("xyz".into()));
        assert_eq!(token(&p, Some("a")), Ok("1".into()));
        assert_eq!(token(&p, None), Err(AuthErrorKind::MissingToken));
    }

    #[test]
    fn websocket_sources_only_on_upgrade() {
        let ws = |b: axum::http::request::Builder| {
            b.header("upgrade", "websocket")
                .header("connection", "upgrade")
        };
        let q = parts(|b| ws(b.uri("/ws?x=1&access_token=q.t.s")));
        assert_eq!(token(&q, None), Ok("q.t.s".into()));
        let q = parts(|b| b.uri("/ws?access_token=q.t.s"));
        assert_eq!(token(&q, None), Err(AuthErrorKind::MissingToken));
        let p = parts(|b| ws(b).header("sec-websocket-protocol", "chat, access_token, p.t.s"));
        assert_eq!(token(&p, None), Ok("p.t.s".into()));
        let p = parts(|b| ws(b).header("sec-websocket-protocol", "access_token"));
        assert_eq!(token(&p, None), Err(AuthErrorKind::MissingToken));
        // The query source is off unless turned on, and says so.
        let q = parts(|b| ws(b.uri("/ws?access_token=q.t.s")));
        let off = find_token(&q, Sources::default()).unwrap_err();
        assert_eq!(off.kind(), AuthErrorKind::InvalidRequest);
        assert!(off.description().contains("allow_websocket_query_token"));
    }
}
