//! The 303 answers the login routes share: `Location`, `Set-Cookie`s and
//! `Cache-Control: no-store`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cookie::Cookie;

/// A 303 with `Set-Cookie`s and `Cache-Control: no-store`.
pub(super) fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_cookies(response, cookies)
}

/// `response` with these cookies set.
pub(super) fn with_cookies(mut response: Response, cookies: Vec<Cookie<'static>>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}
