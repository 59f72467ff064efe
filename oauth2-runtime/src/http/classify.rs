//! What kind of request this is: a WebSocket upgrade, a CORS preflight.

use axum::http::request::Parts;
use axum::http::{Method, header};

/// Whether the request is a WebSocket upgrade (HTTP/1.1 `Upgrade: websocket`).
pub(crate) fn is_websocket_upgrade(parts: &Parts) -> bool {
    parts.method == Method::GET
        && parts
            .headers
            .get(header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// Whether the request is a CORS preflight, which must reach the CORS layer untouched.
pub(crate) fn is_cors_preflight(parts: &Parts) -> bool {
    parts.method == Method::OPTIONS
        && parts.headers.contains_key(header::ORIGIN)
        && parts
            .headers
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(b: axum::http::request::Builder) -> Parts {
        b.uri("/x").body(()).unwrap().into_parts().0
    }

    #[test]
    fn preflight_detection() {
        let p = parts(
            Request::builder()
                .method("OPTIONS")
                .header("origin", "https://a.example")
                .header("access-control-request-method", "GET"),
        );
        assert!(is_cors_preflight(&p));
        assert!(!is_cors_preflight(&parts(
            Request::builder().method("OPTIONS")
        )));
    }

    #[test]
    fn upgrade_detection() {
        let ws = parts(Request::builder().header("upgrade", "WebSocket"));
        assert!(is_websocket_upgrade(&ws));
        let post = parts(
            Request::builder()
                .method("POST")
                .header("upgrade", "websocket"),
        );
        assert!(!is_websocket_upgrade(&post));
    }
}
