//! The generated routes: login, logout, userinfo (the callback is in `callback.rs`), and
//! the responses they share.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cookie::Cookie;
use serde::Deserialize;
use serde_json::json;

use super::backchannel;
use super::callback::callback;
use super::native::NativeLogin;
use super::session::Loaded;
use super::token_endpoint;
use super::tokens::printable;
use super::transaction::{AuthorizationRequest, Transaction};
use super::{AppToken, Login, LoginError, TRANSACTION_TTL};
use crate::session::SessionCookie;

impl Login {
    /// The login routes under the prefix (default `/auth`): `/{provider}/login`,
    /// `/{provider}/callback`, `/logout` (`POST`, and `GET` only with
    /// [`allow_get_logout`](super::LoginBuilder::allow_get_logout)), `/userinfo`. Merge them into the
    /// app's router.
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let prefix = &self.inner.prefix;
        let router = Router::new()
            .route(&format!("{prefix}/{{provider}}/login"), get(login))
            .route(&format!("{prefix}/{{provider}}/callback"), get(callback))
            .route(
                &format!("{prefix}/{{provider}}/token"),
                post(token_endpoint::token),
            )
            .route(
                &format!("{prefix}/{{provider}}/device"),
                post(token_endpoint::device),
            )
            .route(
                &format!("{prefix}/{{provider}}/backchannel-logout"),
                post(backchannel::backchannel_logout),
            )
            .route(
                &format!("{prefix}/logout"),
                if self.inner.get_logout {
                    get(logout).post(logout)
                } else {
                    post(logout)
                },
            )
            .route(&format!("{prefix}/userinfo"), get(userinfo_route));
        #[cfg(feature = "broker")]
        let router = match &self.inner.broker {
            Some(broker) => router
                .route(
                    &format!("{prefix}/token"),
                    post(super::broker_grants::token),
                )
                .route(
                    &format!("{prefix}/revoke"),
                    post(super::broker_grants::revoke),
                )
                .merge(broker.router(prefix)),
            None => router,
        };
        router.with_state(self.clone())
    }

    pub(super) fn redirect_uri(&self, provider: &str) -> String {
        format!(
            "{}{}/{provider}/callback",
            self.inner.base, self.inner.prefix
        )
    }

    /// The transaction cookie of the login with this `state`: its own name, so that
    /// logins in several tabs do not overwrite each other; sent only to the provider's
    /// login and callback routes.
    pub(super) fn transaction_cookie(&self, provider: &str, state: &str) -> SessionCookie {
        let path = format!("{}/{provider}/", self.inner.prefix);
        self.inner
            .cookie
            .renamed(format!("oauth2_tx_{state}"), &path)
    }

    /// The app token's cookie: `HttpOnly`, `SameSite=Lax`, `Secure` like the session's.
    pub(super) fn app_token_cookie(
        &self,
        app: &AppToken,
        token: String,
        ttl: Duration,
    ) -> Cookie<'static> {
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

    /// `name` if it is a declared provider, else `unknown`: a metrics label, never the
    /// request's own text (which would make a label without bound).
    pub(super) fn metrics_label(&self, name: &str) -> String {
        match self.provider(name) {
            Some(p) => p.name().to_owned(),
            None => crate::metrics::UNKNOWN_PROVIDER.to_owned(),
        }
    }

    pub(super) fn find(&self, provider: &str) -> Result<&super::LoginProvider, LoginError> {
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
pub(super) fn see_other(location: &str, cookies: Vec<Cookie<'static>>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, v);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    with_cookies(response, cookies)
}

pub(super) fn with_cookies(mut response: Response, cookies: Vec<Cookie<'static>>) -> Response {
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
    /// A native client's (RFC 8252), with its PKCE challenge, `state` and `nonce`.
    redirect_uri: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    /// A step-up login (RFC 9470), as the session guard asks for one.
    acr_values: Option<String>,
    max_age: Option<String>,
    prompt: Option<String>,
}

/// What a step-up login asks the provider for.
#[derive(Debug, Default, PartialEq, Eq)]
struct StepUpRequest {
    /// Space-separated, as the authorization request carries them.
    acr_values: Option<String>,
    max_age: Option<u64>,
    /// `prompt=login`: authenticate again even with a session at the provider.
    prompt_login: bool,
}

impl StepUpRequest {
    /// The step-up parameters of a login request: `acr_values` (printable words), a
    /// `max_age` in seconds (at most a year), and `prompt`, which may only be `login`.
    fn from_query(query: &LoginQuery) -> Result<Self, LoginError> {
        let acr_values = match query.acr_values.as_deref() {
            None => None,
            Some(v)
                if v.len() > 1024
                    || !v.bytes().all(|b| {
                        b == b' ' || (b.is_ascii_graphic() && b != b'"' && b != b'\\')
                    }) =>
            {
                return Err(LoginError::request(
                    "`acr_values` is a space-separated list of printable values",
                ));
            }
            Some(v) => Some(v.split_ascii_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|v| !v.is_empty()),
        };
        let max_age = match query.max_age.as_deref() {
            None => None,
            Some(v) => match v.parse::<u64>() {
                Ok(secs) if secs <= oauth2_syntax::MAX_DURATION.as_secs() => Some(secs),
                _ => {
                    return Err(LoginError::request(
                        "`max_age` is a number of seconds, at most a year",
                    ));
                }
            },
        };
        let prompt_login = match query.prompt.as_deref() {
            None => false,
            Some("login") => true,
            Some(_) => {
                return Err(LoginError::request(
                    "a login request may only ask for `prompt=login`",
                ));
            }
        };
        Ok(Self {
            acr_values,
            max_age,
            prompt_login,
        })
    }

    /// The authorization request's extra parameters: the provider's configured ones,
    /// with this request's in place of theirs (`login` joins a configured `prompt`).
    fn params<'a>(&'a self, configured: &'a [(String, String)]) -> Vec<(&'a str, String)> {
        let mut params: Vec<(&str, String)> = Vec::with_capacity(configured.len() + 3);
        let mut prompt = self.prompt_login.then(|| "login".to_owned());
        for (k, v) in configured {
            match k.as_str() {
                "acr_values" if self.acr_values.is_some() => {}
                "max_age" if self.max_age.is_some() => {}
                // `none` forbids the login that `login` asks for.
                "prompt" if self.prompt_login => {
                    let others = v
                        .split_ascii_whitespace()
                        .filter(|p| !matches!(*p, "login" | "none"));
                    prompt = Some(
                        std::iter::once("login")
                            .chain(others)
                            .collect::<Vec<_>>()
                            .join(" "),
                    );
                }
                _ => params.push((k.as_str(), v.clone())),
            }
        }
        if let Some(acr_values) = &self.acr_values {
            params.push(("acr_values", acr_values.clone()));
        }
        if let Some(max_age) = self.max_age {
            params.push(("max_age", max_age.to_string()));
        }
        if let Some(prompt) = prompt {
            params.push(("prompt", prompt));
        }
        params
    }
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

/// `GET {prefix}/{provider}/login`; a browser whose login cannot start gets the
/// app's error page.
async fn login(
    State(login): State<Login>,
    Path(provider): Path<String>,
    query: Query<LoginQuery>,
    headers: HeaderMap,
) -> Response {
    match start_login(&login, &provider, query, &headers).await {
        Ok(response) => response,
        Err(e) => login.failure(&headers, Some(&provider), e),
    }
}

async fn start_login(
    login: &Login,
    provider: &str,
    Query(query): Query<LoginQuery>,
    headers: &HeaderMap,
) -> Result<Response, LoginError> {
    let p = login.find(provider)?;
    if let Some(redirect_uri) = &query.redirect_uri {
        let native = NativeLogin {
            redirect_uri,
            code_challenge: query.code_challenge.as_deref(),
            code_challenge_method: query.code_challenge_method.as_deref(),
            state: query.state.as_deref(),
            nonce: query.nonce.as_deref(),
        };
        return login.native_login(p, &native).await;
    }
    let endpoints = p
        .endpoints(&login.inner.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let return_to = query
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r));
    let step_up = StepUpRequest::from_query(&query)?;
    let mut tx =
        Transaction::new(provider, return_to).map_err(|e| LoginError::server(e.to_string()))?;
    tx.acr_values.clone_from(&step_up.acr_values);
    tx.max_age = step_up.max_age;
    let owned = step_up.params(&p.inner.params);
    let mut params: Vec<(&str, &str)> = owned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    // The code exchange will carry a proof of the login's DPoP key: bind the code to
    // that key too (RFC 9449 §10), so that a stolen code is useless without it.
    if let Some(key) = p.inner.dpop.as_deref().filter(|_| endpoints.dpop) {
        params.retain(|(k, _)| *k != "dpop_jkt");
        params.push(("dpop_jkt", key.jkt()));
    }
    let redirect_uri = login.redirect_uri(provider);
    let url = AuthorizationRequest {
        endpoint: endpoints.authorization.as_str(),
        client_id: &p.inner.client_id,
        redirect_uri: &redirect_uri,
        scope: &p.inner.scope,
        extra: &params,
    }
    .url(&tx)
    .map_err(|e| LoginError::server(e.to_string()))?;
    let url = match p.inner.par.endpoint(endpoints)? {
        Some(par) => super::par::push(&login.inner.http, p, endpoints, par, &url).await?,
        None => url,
    };
    let mut cookies = login
        .transaction_cookie(provider, &tx.state)
        .seal(&tx, TRANSACTION_TTL)
        .map_err(|e| LoginError::server(e.to_string()))?;
    // Abandoned logins leave cookies until they expire; past a few, drop the older ones
    // so that the browser's Cookie header stays small.
    let waiting = waiting_transactions(headers);
    if waiting.len() >= MAX_WAITING_LOGINS {
        for name in waiting {
            let mut removal = login.transaction_cookie(provider, "").clear_named(name);
            removal.make_removal();
            cookies.push(removal);
        }
    }
    Ok(see_other(url.as_str(), cookies))
}

async fn logout(
    login: State<Login>,
    method: Method,
    query: Query<LoginQuery>,
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
    Query(query): Query<LoginQuery>,
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
        (Some(origin), _) if login.inner.origins.iter().any(|o| o == origin) => Ok(()),
        (Some(origin), _) => refused(format!("Origin {}", printable(origin))),
        (None, Some(site)) => refused(format!("Sec-Fetch-Site {}", printable(site))),
        (None, None) => Ok(()),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn query(acr_values: Option<&str>, max_age: Option<&str>, prompt: Option<&str>) -> LoginQuery {
        LoginQuery {
            return_to: None,
            redirect_uri: None,
            code_challenge: None,
            code_challenge_method: None,
            state: None,
            nonce: None,
            acr_values: acr_values.map(str::to_owned),
            max_age: max_age.map(str::to_owned),
            prompt: prompt.map(str::to_owned),
        }
    }

    #[test]
    fn step_up_parameters_are_checked() {
        let ok = StepUpRequest::from_query(&query(Some(" mfa  hwk "), Some("300"), Some("login")));
        assert_eq!(
            ok.unwrap(),
            StepUpRequest {
                acr_values: Some("mfa hwk".into()),
                max_age: Some(300),
                prompt_login: true
            }
        );
        assert_eq!(
            StepUpRequest::from_query(&query(None, None, None)).unwrap(),
            StepUpRequest::default()
        );
        for bad in [
            query(Some("a\"b"), None, None),
            query(Some("caf\u{e9}"), None, None),
            query(None, Some("-1"), None),
            query(None, Some("5m"), None),
            query(None, Some("99999999999"), None),
            query(None, None, Some("none")),
            query(None, None, Some("consent")),
        ] {
            let e = StepUpRequest::from_query(&bad).unwrap_err();
            assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        }
    }

    #[test]
    fn step_up_parameters_replace_the_configured_ones() {
        let configured = [
            ("prompt".to_owned(), "none consent".to_owned()),
            ("acr_values".to_owned(), "pwd".to_owned()),
            ("audience".to_owned(), "api".to_owned()),
        ];
        let step_up = StepUpRequest {
            acr_values: Some("mfa".into()),
            max_age: Some(60),
            prompt_login: true,
        };
        let params = step_up.params(&configured);
        let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(
            pairs,
            [
                ("audience", "api"),
                ("acr_values", "mfa"),
                ("max_age", "60"),
                ("prompt", "login consent")
            ]
        );
        // Nothing asked: the configured parameters as they are.
        let nothing = StepUpRequest::default();
        let plain = nothing.params(&configured);
        assert_eq!(plain.len(), 3);
        assert_eq!(plain[0], ("prompt", "none consent".to_owned()));
    }
}
