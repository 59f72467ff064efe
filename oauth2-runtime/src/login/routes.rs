//! The generated routes: login, callback, logout, userinfo.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cookie::Cookie;
use serde::Deserialize;
use serde_json::{Value, json};

use super::session::{Loaded, Record};
use super::tokens::{check_id_token, printable, token_request, userinfo};
use super::transaction::{AuthorizationRequest, Transaction};
use super::{AppToken, Login, LoginError, LoginEvent, TRANSACTION_TTL};
use crate::claims::Authenticated;
use crate::session::SessionCookie;
use crate::util::now;

impl Login {
    /// The login routes under the prefix (default `/auth`): `/{provider}/login`,
    /// `/{provider}/callback`, `/logout`, `/userinfo`. Merge them into the app's router.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let prefix = &self.inner.prefix;
        Router::new()
            .route(&format!("{prefix}/{{provider}}/login"), get(login))
            .route(&format!("{prefix}/{{provider}}/callback"), get(callback))
            .route(&format!("{prefix}/logout"), get(logout).post(logout))
            .route(&format!("{prefix}/userinfo"), get(userinfo_route))
            .with_state(self.clone())
    }

    fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}{}/{provider}/callback",
            self.inner.base, self.inner.prefix
        )
    }

    /// The transaction cookie of the login with this `state`: its own name, so that
    /// logins in several tabs do not overwrite each other; sent only to the provider's
    /// login and callback routes.
    fn transaction_cookie(&self, provider: &str, state: &str) -> SessionCookie {
        let path = format!("{}/{provider}/", self.inner.prefix);
        self.inner
            .cookie
            .renamed(format!("oauth2_tx_{state}"), &path)
    }

    /// The app token's cookie: `HttpOnly`, `SameSite=Lax`, `Secure` like the session's.
    fn app_token_cookie(&self, app: &AppToken, token: String, ttl: Duration) -> Cookie<'static> {
        let mut c = Cookie::new(app.cookie().to_owned(), token);
        c.set_http_only(true);
        c.set_secure(self.inner.cookie.is_secure());
        c.set_same_site(cookie::SameSite::Lax);
        c.set_path("/");
        c.set_max_age(cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        c
    }

    fn find(&self, provider: &str) -> Result<&super::LoginProvider, LoginError> {
        self.provider(provider).ok_or_else(|| {
            LoginError::new(
                StatusCode::NOT_FOUND,
                "unknown_provider",
                format!("no login provider is named `{}`", printable(provider)),
            )
        })
    }
}

/// A 303 with `Set-Cookie`s and `Cache-Control: no-store`.
fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_cookies(response, cookies)
}

fn with_cookies(mut response: Response, cookies: Vec<Cookie<'static>>) -> Response {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

#[derive(Deserialize)]
struct LoginQuery {
    return_to: Option<String>,
}

/// Logins of one provider that may wait at once in one browser.
const MAX_WAITING_LOGINS: usize = 4;

/// The names of the transaction cookies a request carries.
fn waiting_transactions(headers: &HeaderMap) -> Vec<String> {
    crate::http::cookies(headers)
        .map(|(name, _)| name)
        .filter(|n| n.starts_with("oauth2_tx_"))
        .map(str::to_owned)
        .collect()
}

async fn login(
    State(login): State<Login>,
    Path(provider): Path<String>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, LoginError> {
    let p = login.find(&provider)?;
    let endpoints = p
        .endpoints(&login.inner.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let return_to = query
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r));
    let tx =
        Transaction::new(&provider, return_to).map_err(|e| LoginError::server(e.to_string()))?;
    let params: Vec<(&str, &str)> = p
        .inner
        .params
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let redirect_uri = login.redirect_uri(&provider);
    let url = AuthorizationRequest {
        endpoint: endpoints.authorization.as_str(),
        client_id: &p.inner.client_id,
        redirect_uri: &redirect_uri,
        scope: &p.inner.scope,
        extra: &params,
    }
    .url(&tx)
    .map_err(|e| LoginError::server(e.to_string()))?;
    let mut cookies = login
        .transaction_cookie(&provider, &tx.state)
        .seal(&tx, TRANSACTION_TTL)
        .map_err(|e| LoginError::server(e.to_string()))?;
    // Abandoned logins leave cookies until they expire; past a few, drop the older ones
    // so that the browser's Cookie header stays small.
    let waiting = waiting_transactions(&headers);
    if waiting.len() >= MAX_WAITING_LOGINS {
        for name in waiting {
            let mut removal = login.transaction_cookie(&provider, "").clear_named(name);
            removal.make_removal();
            cookies.push(removal);
        }
    }
    Ok(see_other(url.as_str(), cookies))
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

async fn callback(
    State(login): State<Login>,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(state) = query.state.clone().filter(|s| !s.is_empty()) else {
        if let Some(error) = &query.error {
            return provider_error(error, query.error_description.as_deref()).into_response();
        }
        return LoginError::request("the callback has no `state` parameter").into_response();
    };
    if state.len() > 128
        || !state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return LoginError::state("the `state` parameter is not one this application issues")
            .into_response();
    }
    if let Err(e) = login.find(&provider) {
        return e.into_response();
    }
    let jar = login.transaction_cookie(&provider, &state);
    // The transaction is used once, whatever happens next.
    let clear = jar.clear(&headers);
    let result = match jar.open::<Transaction>(&headers) {
        Ok(Some(tx)) => finish(&login, &provider, &state, tx, &query, &headers).await,
        Ok(None) => Err(LoginError::state(
            "no login is waiting for this `state`: it expired, was already completed, or was \
             started in another browser",
        )),
        Err(e) => Err(LoginError::state(format!(
            "the login transaction cookie is refused: {e}"
        ))),
    };
    match result {
        Ok((location, mut cookies)) => {
            cookies.extend(clear);
            see_other(&location, cookies)
        }
        Err(e) => with_cookies(e.into_response(), clear),
    }
}

fn provider_error(error: &str, description: Option<&str>) -> LoginError {
    LoginError::new(
        StatusCode::BAD_REQUEST,
        printable(error),
        match description {
            Some(d) => format!("the provider refused the login: {}", printable(d)),
            None => "the provider refused the login".to_owned(),
        },
    )
}

/// The callback after the transaction is found: returns where to go and the session
/// cookies.
async fn finish(
    login: &Login,
    provider: &str,
    state: &str,
    tx: Transaction,
    query: &CallbackQuery,
    headers: &HeaderMap,
) -> Result<(String, Vec<Cookie<'static>>), LoginError> {
    if tx.state != state || tx.provider != provider {
        return Err(LoginError::state("the `state` does not match this login"));
    }
    if let Some(error) = &query.error {
        return Err(provider_error(error, query.error_description.as_deref()));
    }
    let p = login.find(provider)?;
    // RFC 9207: an `iss` in the response must be this provider's (mix-up defence).
    if let (Some(iss), Some(issuer)) = (&query.iss, p.issuer())
        && iss != issuer
    {
        return Err(LoginError::state(
            "the response's `iss` is not this provider's issuer",
        ));
    }
    let code = query
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LoginError::request("the callback has no `code` parameter"))?;
    let http = &login.inner.http;
    let endpoints = p
        .endpoints(&login.inner.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let redirect_uri = login.redirect_uri(provider);
    let tokens = token_request(
        http,
        p,
        endpoints,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &tx.verifier),
        ],
    )
    .await?;

    let mut claims = match (p.issuer(), &login.inner.validator) {
        (Some(_), Some(validator)) => {
            let id_token = tokens.id_token.as_deref().ok_or_else(|| {
                LoginError::id_token("the token response has no ID token (is `openid` a scope?)")
            })?;
            let auth = validator
                .validate(id_token)
                .await
                .map_err(|e| LoginError::id_token(format!("ID token: {e}")))?;
            if auth.provider() != provider {
                return Err(LoginError::id_token(
                    "the ID token is from another provider",
                ));
            }
            check_id_token(
                auth.claims(),
                id_token,
                &p.inner.client_id,
                &tx.nonce,
                &tokens.access_token,
            )?;
            Some(auth.claims().clone())
        }
        _ => None,
    };
    let info = match &endpoints.userinfo {
        Some(url) if p.inner.userinfo || claims.is_none() => {
            Some(userinfo(http, url, &tokens.access_token).await?)
        }
        _ => None,
    };
    match (&mut claims, &info) {
        (Some(claims), Some(info)) => {
            if claims.get("sub") != info.get("sub") {
                return Err(LoginError::userinfo(
                    "the userinfo `sub` differs from the ID token's",
                ));
            }
            for (k, v) in info {
                claims.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        (Some(_), None) => {}
        (None, Some(info)) => {
            if !matches!(info.get("sub"), Some(Value::String(s)) if !s.is_empty()) {
                return Err(LoginError::userinfo("the user has no `sub` or `id`"));
            }
            claims = Some(info.clone());
        }
        (None, None) => {
            return Err(LoginError::server(
                "the provider gave neither an ID token nor userinfo",
            ));
        }
    }
    let mut claims = claims.unwrap_or_default();
    map_claims(&mut claims, p.inner.claim_map);
    let app = match &login.inner.on_login {
        Some(hook) => {
            hook(LoginEvent {
                user: Authenticated::new(provider.to_owned(), Value::Object(claims.clone())),
                userinfo: info,
                tokens: tokens.clone(),
            })
            .await?
        }
        None => Value::Null,
    };
    let t = now();
    let app_token = match &login.inner.app_token {
        Some(app) => Some(
            app.create(&claims)
                .map_err(|e| LoginError::server(format!("app token: {e}")))?,
        ),
        None => None,
    };
    let mut cookies = login
        .start(
            headers,
            Record {
                provider: provider.to_owned(),
                claims,
                app,
                tokens,
                created: t,
                seen: t,
            },
        )
        .await?;
    if let (Some(app), Some(token)) = (&login.inner.app_token, app_token) {
        cookies.push(login.app_token_cookie(app, token, app.lifetime()));
    }
    // Checked when the login began; checked again, as the allowed origins may change.
    let location = tx
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r))
        .unwrap_or_else(|| login.absolute(None));
    Ok((location, cookies))
}

/// Copies each `from` claim to `to` when `to` is absent (a preset's claim names).
pub(crate) fn map_claims(
    claims: &mut serde_json::Map<String, Value>,
    map: &[(&'static str, &'static str)],
) {
    for (from, to) in map {
        if !claims.contains_key(*to)
            && let Some(v) = claims.get(*from).cloned()
        {
            claims.insert((*to).to_owned(), v);
        }
    }
}

async fn logout(
    State(login): State<Login>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, LoginError> {
    let session: Option<Loaded> = login.load(&headers).await.unwrap_or(None);
    let mut cookies = login.end(&headers).await?;
    if let Some(app) = &login.inner.app_token {
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
    let end_session = match p.endpoints(&login.inner.registry).await {
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

async fn userinfo_route(State(login): State<Login>, headers: HeaderMap) -> Response {
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
