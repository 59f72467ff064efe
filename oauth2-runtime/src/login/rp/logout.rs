//! Leaving and reading the session: `{prefix}/logout` (with RP-initiated logout at the
//! provider) and `{prefix}/userinfo`.

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::login::redirect::see_other;
use crate::login::session::Loaded;
use crate::login::tokens::printable;
use crate::login::{Login, LoginError};

/// The logout route's query.
#[derive(Deserialize)]
pub(crate) struct LogoutQuery {
    /// Where to land after logout: a path on this site or an allowed origin.
    return_to: Option<String>,
}

/// `GET` or `POST {prefix}/logout?return_to=/path`: ends the session, then 303 to the
/// provider's end-session endpoint or to `return_to`.
pub(crate) async fn logout(
    login: State<Login>,
    method: Method,
    query: Query<LogoutQuery>,
    headers: HeaderMap,
) -> Response {
    let span = tracing::info_span!("oauth2.logout");
    let app = login.0.clone();
    let work = end_session(login, method, query, headers.clone());
    crate::util::traced(span, work, |result| match result {
        // Counted in `end_session`, which knows the session's provider.
        Ok(r) => tracing::info!(status = r.status().as_u16(), "logout answered"),
        Err(e) => {
            let status = e.status().as_u16();
            tracing::info!(status, error = %e.description(), "logout refused");
            let outcome = crate::metrics::outcome(e.status());
            crate::metrics::logout(crate::metrics::UNKNOWN_PROVIDER, "front", outcome);
        }
    })
    .await
    .unwrap_or_else(|e| app.failure(&headers, None, e))
}

async fn end_session(
    State(login): State<Login>,
    method: Method,
    Query(query): Query<LogoutQuery>,
    headers: HeaderMap,
) -> Result<Response, LoginError> {
    if method == Method::POST {
        check_same_origin(&login, &headers)?;
    }
    let session: Option<Loaded> = login.load(&headers).await.unwrap_or(None);
    let mut cookies = login.end(&headers).await?;
    let ended = session
        .as_ref()
        .and_then(|s| login.provider(&s.record.provider));
    let label = ended.map_or(crate::metrics::UNKNOWN_PROVIDER, |p| p.name());
    crate::metrics::logout(label, "front", "ok");
    if let Some(app) = &login.inner.hooks.app_token {
        let mut removal = login.app_token_cookie(app, String::new(), Duration::ZERO);
        removal.make_removal();
        cookies.push(removal);
    }
    let return_to = query
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r));
    let target = login.absolute(return_to.as_deref());
    let Some(session) = session else {
        return Ok(see_other(&target, cookies));
    };
    let Some(p) = login.provider(&session.record.provider) else {
        return Ok(see_other(&target, cookies));
    };
    if p.inner.revoke_at_logout && session.record.tokens.refresh_token.is_some() {
        // After the answer: the browser need not wait for the provider.
        let (login, provider, tokens) = (login.clone(), p.clone(), session.record.tokens.clone());
        tokio::spawn(async move {
            let _ = login.revoke_refresh_token(&provider, &tokens).await;
        });
    }
    let end_session = match p.endpoints(&login.inner.upstream.registry).await {
        Ok(e) => e.end_session.clone(),
        Err(e) => {
            tracing::warn!("logout without the provider's end-session endpoint: {e}");
            None
        }
    };
    let Some(mut url) = end_session else {
        return Ok(see_other(&target, cookies));
    };
    {
        let mut q = url.query_pairs_mut();
        if let Some(hint) = &session.record.tokens.id_token {
            q.append_pair("id_token_hint", hint);
        }
        q.append_pair("client_id", &p.inner.client_id)
            .append_pair("post_logout_redirect_uri", &target);
    }
    Ok(see_other(url.as_str(), cookies))
}

/// Refuses a browser's request sent from another site (a cross-site form posting to
/// logout). It passes when `Sec-Fetch-Site` is `same-origin` (or `none`: typed by the
/// user), or when `Origin` is the base URL's or an allowed origin; a request with neither
/// header is not from a browser and cannot carry a victim's cookies, so it passes too.
fn check_same_origin(login: &Login, headers: &HeaderMap) -> Result<(), LoginError> {
    let refused = |why: String| {
        Err(LoginError::new(
            StatusCode::FORBIDDEN,
            "invalid_request",
            format!("refused a request from another site: {why}"),
        ))
    };
    let header = |name| headers.get(name).map(|v| v.to_str().unwrap_or("?"));
    let site = header(header::HeaderName::from_static("sec-fetch-site"));
    if matches!(site, Some("same-origin" | "none")) {
        return Ok(());
    }
    match (header(header::ORIGIN), site) {
        (Some(origin), _) if origin == login.base_origin() => Ok(()),
        (Some(origin), _) if login.inner.site.origins.iter().any(|o| o == origin) => Ok(()),
        (Some(origin), _) => refused(format!("Origin {}", printable(origin))),
        (None, Some(site)) => refused(format!("Sec-Fetch-Site {}", printable(site))),
        (None, None) => Ok(()),
    }
}

/// `GET {prefix}/userinfo`: the session's user as JSON; 401 without a session.
pub(crate) async fn userinfo(State(login): State<Login>, headers: HeaderMap) -> Response {
    match login.load(&headers).await {
        Ok(Some(s)) => (
            [(header::CACHE_CONTROL, "no-store")],
            axum::Json(json!({
                "provider": s.record.provider,
                "claims": s.record.claims,
                "app": s.record.app,
            })),
        )
            .into_response(),
        Ok(None) => LoginError::new(
            StatusCode::UNAUTHORIZED,
            "login_required",
            "no session: log in first",
        )
        .into_response(),
        Err(e) => e.into_response(),
    }
}
