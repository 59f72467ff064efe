//! What a person sees when a login route fails in their browser (the user cancelled
//! at the provider, the login link expired, the provider is down): a page, or a
//! redirect to one of the app's, instead of the JSON an API client gets.
//!
//! A request is a browser's navigation when it says so (`Sec-Fetch-Mode: navigate`) or
//! asks for HTML before JSON (`Accept`); everything else keeps the JSON error.

use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::Login;
use super::error::LoginError;

/// A failed login route, as an error page hook sees it.
#[derive(Debug)]
#[non_exhaustive]
pub struct LoginFailure<'a> {
    /// The provider of the route, when it names a declared one.
    pub provider: Option<&'a str>,
    /// What failed: its status, its code (`access_denied` when the user cancelled,
    /// `invalid_state` for an expired or replayed login, `temporarily_unavailable`, ...)
    /// and its description.
    pub error: &'a LoginError,
    /// The path that starts the provider's login again, when there is a provider.
    pub retry: Option<String>,
}

/// The app's page for failed logins (see [`LoginBuilder::error_page`](super::LoginBuilder::error_page)).
pub(crate) type ErrorPageFn = Arc<dyn Fn(&LoginFailure<'_>) -> Response + Send + Sync>;

/// How failures are shown to browsers.
#[derive(Clone, Default)]
pub(crate) enum ErrorPages {
    /// The built-in page.
    #[default]
    Builtin,
    /// A 303 to this path of the app, with `error` and `provider` in the query.
    Redirect(String),
    /// The app's own response.
    Custom(ErrorPageFn),
}

impl Login {
    /// The answer to a failed login route: for a browser's navigation the app's page
    /// (or redirect, or the built-in page), for anyone else the JSON error.
    pub(super) fn failure(
        &self,
        headers: &HeaderMap,
        provider: Option<&str>,
        e: LoginError,
    ) -> Response {
        if !is_navigation(headers) {
            return e.into_response();
        }
        tracing::debug!(code = %e.code(), "login failed, answered with a page: {}", e.description());
        let provider = provider
            .and_then(|name| self.provider(name))
            .map(|p| p.name());
        let failure = LoginFailure {
            provider,
            error: &e,
            retry: provider.map(|p| format!("{}/{p}/login", self.inner.site.prefix)),
        };
        self.inner.hooks.error_pages.render(&failure)
    }
}

/// Whether the request is a browser loading a page (not `fetch`, not an API client).
pub(crate) fn is_navigation(headers: &HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(mode) = get("sec-fetch-mode") {
        return mode == "navigate";
    }
    let accept = get("accept").unwrap_or("");
    match (accept.find("text/html"), accept.find("application/json")) {
        (Some(html), Some(json)) => html < json,
        (Some(_), None) => true,
        _ => false,
    }
}

impl ErrorPages {
    /// The answer to `failure` for a browser.
    pub(crate) fn render(&self, failure: &LoginFailure<'_>) -> Response {
        let mut response = match self {
            ErrorPages::Builtin => builtin(failure),
            ErrorPages::Redirect(path) => redirect(path, failure),
            ErrorPages::Custom(page) => page(failure),
        };
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn redirect(path: &str, failure: &LoginFailure<'_>) -> Response {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("error", failure.error.code());
    if let Some(provider) = failure.provider {
        query.append_pair("provider", provider);
    }
    let separator = if path.contains('?') { '&' } else { '?' };
    let location = format!("{path}{separator}{}", query.finish());
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => builtin(failure),
    }
}

/// `&`, `<`, `>`, `"` and `'` as HTML entities.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A plain page in the failure's status: what happened in words, the details, and a
/// link to try again. No script, no outside resource (its CSP allows none).
fn builtin(failure: &LoginFailure<'_>) -> Response {
    let e = failure.error;
    let title = match e.code() {
        "access_denied" => "Sign-in was cancelled",
        "invalid_state" => "This sign-in has expired",
        "temporarily_unavailable" => "Sign-in is unavailable right now",
        _ if e.status() == StatusCode::SERVICE_UNAVAILABLE => "Sign-in is unavailable right now",
        _ => "Sign-in failed",
    };
    let retry = match &failure.retry {
        Some(path) => format!("<a href=\"{}\">Try again</a> · ", escape(path)),
        None => String::new(),
    };
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;\
         padding:0 1rem;line-height:1.5}}code{{color:#555}}</style></head><body>\
         <h1>{title}</h1><p>{description}</p><p><code>{code}</code></p>\
         <p>{retry}<a href=\"/\">Home</a></p></body></html>",
        description = escape(e.description()),
        code = escape(e.code()),
    );
    let mut response = (e.status(), Html(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_static(value));
        }
        h
    }

    #[test]
    fn navigations_are_told_from_api_clients() {
        assert!(is_navigation(&headers(&[("sec-fetch-mode", "navigate")])));
        assert!(!is_navigation(&headers(&[
            ("sec-fetch-mode", "cors"),
            ("accept", "text/html")
        ])));
        assert!(is_navigation(&headers(&[(
            "accept",
            "text/html,application/xhtml+xml,*/*;q=0.8"
        )])));
        assert!(!is_navigation(&headers(&[(
            "accept",
            "application/json, text/html"
        )])));
        assert!(!is_navigation(&headers(&[("accept", "*/*")])));
        assert!(!is_navigation(&HeaderMap::new()));
    }

    #[test]
    fn the_builtin_page_escapes_what_the_provider_said() {
        let e = LoginError::new(
            StatusCode::BAD_REQUEST,
            "access_denied",
            "the provider refused the login: <script>alert(1)</script>",
        );
        let failure = LoginFailure {
            provider: Some("dev"),
            error: &e,
            retry: Some("/auth/dev/login".into()),
        };
        let response = ErrorPages::Builtin.render(&failure);
        assert_eq!(response.status(), 400);
        assert!(
            response.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .starts_with("default-src 'none'")
        );
        let body = futures_body(response);
        assert!(body.contains("Sign-in was cancelled"));
        assert!(body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!body.contains("<script>"));
        assert!(body.contains("href=\"/auth/dev/login\""));
    }

    #[test]
    fn a_redirect_carries_the_code_and_provider_encoded() {
        let e = LoginError::new(StatusCode::BAD_REQUEST, "weird code&x=1", "d");
        let failure = LoginFailure {
            provider: Some("dev"),
            error: &e,
            retry: None,
        };
        let response = ErrorPages::Redirect("/signin?from=login".into()).render(&failure);
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()[header::LOCATION],
            "/signin?from=login&error=weird+code%26x%3D1&provider=dev"
        );
    }

    fn futures_body(response: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(response.into_body(), 1 << 20))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
