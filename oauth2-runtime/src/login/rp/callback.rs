//! The callback route: the provider sends the browser back with a code, which becomes
//! a session.

use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cookie::Cookie;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::transaction::Transaction;
use crate::claims::Authenticated;
use crate::login::provider::{Endpoints, Userinfo};
use crate::login::redirect::{see_other, with_cookies};
use crate::login::session::{Record, SessionClaims};
use crate::login::tokens::{
    Tokens, UserinfoBody, check_login_binding, printable, token_request, userinfo,
};
use crate::login::{Login, LoginError, LoginEvent, LoginProvider};
use crate::util::now;
use crate::validation::{ErrorKind, Profile, StepUp};

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
    iss: Option<String>,
}

pub(crate) async fn callback(
    login: State<Login>,
    Path(provider): Path<String>,
    query: Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let span = tracing::info_span!("oauth2.login", provider = %printable(&provider));
    let label = login.metrics_label(&provider);
    let work = finish_login(login, provider, query, headers);
    crate::util::traced(span, work, |r| {
        tracing::info!(status = r.status().as_u16(), "login callback answered");
        crate::metrics::login(&label, crate::metrics::outcome(r.status()));
    })
    .await
}

async fn finish_login(
    State(login): State<Login>,
    provider: String,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let Some(state) = query.state.clone().filter(|s| !s.is_empty()) else {
        if let Some(error) = &query.error {
            let e = provider_error(error, query.error_description.as_deref());
            return login.failure(&headers, Some(&provider), e);
        }
        let e = LoginError::request("the callback has no `state` parameter");
        return login.failure(&headers, Some(&provider), e);
    };
    if state.len() > 128
        || !state
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        let e = LoginError::state("the `state` parameter is not one this application issues");
        return login.failure(&headers, Some(&provider), e);
    }
    if let Err(e) = login.find(&provider) {
        return login.failure(&headers, None, e);
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
        Err(e) => with_cookies(login.failure(&headers, Some(&provider), e), clear),
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
/// cookies. In order: the response checks, the code exchange, the ID token, userinfo,
/// the `on_login` hook, the new session.
async fn finish(
    login: &Login,
    provider: &str,
    state: &str,
    tx: Transaction,
    query: &CallbackQuery,
    headers: &HeaderMap,
) -> Result<(String, Vec<Cookie<'static>>), LoginError> {
    let p = login.find(provider)?;
    let endpoints = p
        .endpoints(&login.inner.upstream.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    let code = check_response(p, endpoints, provider, state, &tx, query)?;
    let tokens = exchange(login, p, endpoints, code, &tx).await?;
    let from_id_token = id_token_claims(login, p, &tokens, &tx).await?;
    check_step_up(&tx, from_id_token.as_ref())?;
    let info = read_userinfo(login, p, endpoints, &tokens, from_id_token.is_some()).await?;
    let mut claims = merge_user(from_id_token, info.as_ref())?;
    map_claims(&mut claims, p.inner.claim_map);
    let app = run_hook(login, provider, &claims, info, &tokens).await?;
    let cookies = start_session(login, headers, provider, claims, app, tokens).await?;
    // Checked when the login began; checked again, as the allowed origins may change.
    let location = tx
        .return_to
        .as_deref()
        .and_then(|r| login.safe_return_to(r))
        .unwrap_or_else(|| login.absolute(None));
    Ok((location, cookies))
}

/// The callback's own checks: its `state` and provider are the transaction's, an RFC
/// 9207 `iss` (mix-up defence) is this provider's (and is there when the provider
/// announces it), the provider sent no error, and there is a code, which is returned.
fn check_response<'q>(
    p: &LoginProvider,
    endpoints: &Endpoints,
    provider: &str,
    state: &str,
    tx: &Transaction,
    query: &'q CallbackQuery,
) -> Result<&'q str, LoginError> {
    if tx.state != state || tx.provider != provider {
        return Err(LoginError::state("the `state` does not match this login"));
    }
    if let (Some(iss), Some(issuer)) = (&query.iss, p.issuer())
        && iss != issuer
    {
        return Err(LoginError::state(
            "the response's `iss` is not this provider's issuer",
        ));
    }
    if query.iss.is_none() && endpoints.iss_required {
        return Err(LoginError::state(
            "the response has no `iss`, which this provider puts in every one (RFC 9207): \
             a response from elsewhere?",
        ));
    }
    if let Some(error) = &query.error {
        return Err(provider_error(error, query.error_description.as_deref()));
    }
    query
        .code
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| LoginError::request("the callback has no `code` parameter"))
}

/// The authorization code grant, with the PKCE verifier.
async fn exchange(
    login: &Login,
    p: &LoginProvider,
    endpoints: &Endpoints,
    code: &str,
    tx: &Transaction,
) -> Result<Tokens, LoginError> {
    let redirect_uri = login.redirect_uri(p.name());
    token_request(
        &login.inner.upstream.http,
        p,
        endpoints,
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &tx.verifier),
        ],
    )
    .await
}

/// For an OpenID Provider: the ID token, validated through the issuer's shared key
/// cache (signature, `iss`, `aud` = client id, `exp`) and then by the relying party's
/// checks (`sub`, `iat`, `azp`, `nonce`, `at_hash`); its claims. `None` for a plain
/// OAuth 2.0 provider.
async fn id_token_claims(
    login: &Login,
    p: &LoginProvider,
    tokens: &Tokens,
    tx: &Transaction,
) -> Result<Option<Map<String, Value>>, LoginError> {
    if p.issuer().is_none() {
        return Ok(None);
    }
    let id_token = tokens.id_token.as_deref().ok_or_else(|| {
        LoginError::id_token("the token response has no ID token (is `openid` a scope?)")
    })?;
    let Some(auth) = login.returned_id_token(p, id_token).await? else {
        return Ok(None);
    };
    check_login_binding(auth.claims(), id_token, &tx.nonce, &tokens.access_token)?;
    Ok(Some(auth.claims().clone()))
}

/// A step-up login's answer (RFC 9470): the ID token's `acr` is one the login asked
/// for and its `auth_time` is within the `max_age` it asked for (OpenID Connect Core
/// §3.1.3.7): the same check the session guard makes, so that a login that passes here
/// is not sent straight back to log in again.
fn check_step_up(
    tx: &Transaction,
    id_token: Option<&Map<String, Value>>,
) -> Result<(), LoginError> {
    if tx.acr_values.is_none() && tx.max_age.is_none() {
        return Ok(());
    }
    let refused = |why: String| {
        LoginError::new(
            StatusCode::UNAUTHORIZED,
            "insufficient_user_authentication",
            why,
        )
    };
    let Some(claims) = id_token else {
        return Err(refused(
            "a step-up login needs an OpenID Provider: this provider issues no ID token".into(),
        ));
    };
    let acr_values: Vec<&str> = tx
        .acr_values
        .as_deref()
        .map(|v| v.split(' ').collect())
        .unwrap_or_default();
    let step_up = StepUp {
        acr_values: &acr_values,
        max_age: tx.max_age.map(Duration::from_secs),
    };
    step_up.check(claims, now()).map_err(|e| {
        refused(format!(
            "the provider did not authenticate the user as asked: {e}"
        ))
    })
}

/// The userinfo response, as the provider's [`Userinfo`] mode says: with an ID token in
/// `auto` mode, an endpoint that refuses the access token only costs its claims.
pub(crate) async fn read_userinfo(
    login: &Login,
    p: &LoginProvider,
    endpoints: &Endpoints,
    tokens: &Tokens,
    have_id_token: bool,
) -> Result<Option<Map<String, Value>>, LoginError> {
    let Some(url) = &endpoints.userinfo else {
        return Ok(None);
    };
    let refusal_ok = match p.inner.userinfo {
        Userinfo::Never if have_id_token => return Ok(None),
        Userinfo::Auto => have_id_token,
        Userinfo::Required | Userinfo::Never => false,
    };
    let dpop = p.inner.dpop.as_deref().filter(|_| tokens.dpop_bound);
    let body = userinfo(
        &login.inner.upstream.http,
        url,
        &tokens.access_token,
        refusal_ok,
        dpop,
    )
    .await?;
    match body {
        None => Ok(None),
        Some(UserinfoBody::Claims(claims)) => Ok(Some(claims)),
        Some(UserinfoBody::Jwt(jwt)) => signed_userinfo(login, p, &jwt).await.map(Some),
    }
}

/// A signed userinfo response (OpenID Connect Core §5.3.2): verified with the
/// provider's keys (or the client secret, for HS256 and friends the client was
/// registered with), `iss` the issuer and `aud` holding the client id; `exp` checked
/// when present. Its claims, without those about the JWT itself. An encrypted one
/// (JWE) is refused with that reason.
pub(crate) async fn signed_userinfo(
    login: &Login,
    p: &LoginProvider,
    jwt: &str,
) -> Result<Map<String, Value>, LoginError> {
    if jwt.split('.').count() == 5 {
        return Err(LoginError::userinfo(
            "the userinfo response is encrypted (a JWE), which this library does not \
             decrypt: register the client without userinfo_encrypted_response_alg",
        ));
    }
    let validator = login.id_token_validator(p.name()).ok_or_else(|| {
        LoginError::userinfo("a signed userinfo response needs an OpenID Provider (an issuer)")
    })?;
    let auth = validator
        .validate_as(jwt, Profile::Userinfo)
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::KeysUnavailable => LoginError::unavailable(e.message().to_owned()),
            _ => LoginError::userinfo(format!("signed userinfo response: {e}")),
        })?;
    let mut claims = auth.claims().clone();
    for about_the_jwt in ["iss", "aud", "exp", "iat", "nbf", "jti"] {
        claims.remove(about_the_jwt);
    }
    Ok(claims)
}

/// The user's claims: the ID token's with the userinfo claims it lacks (their `sub`
/// must agree), or userinfo's alone for a plain OAuth 2.0 provider.
pub(crate) fn merge_user(
    from_id_token: Option<Map<String, Value>>,
    info: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, LoginError> {
    match (from_id_token, info) {
        (Some(mut claims), Some(info)) => {
            if claims.get("sub") != info.get("sub") {
                return Err(LoginError::userinfo(
                    "the userinfo `sub` differs from the ID token's",
                ));
            }
            for (k, v) in info {
                claims.entry(k.clone()).or_insert_with(|| v.clone());
            }
            Ok(claims)
        }
        (Some(claims), None) => Ok(claims),
        (None, Some(info)) => {
            if !matches!(info.get("sub"), Some(Value::String(s)) if !s.is_empty()) {
                return Err(LoginError::userinfo("the user has no `sub` or `id`"));
            }
            Ok(info.clone())
        }
        (None, None) => Err(LoginError::server(
            "the provider gave neither an ID token nor userinfo",
        )),
    }
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

/// Runs `on_login`: its data goes into the session; its refusal is a 403.
async fn run_hook(
    login: &Login,
    provider: &str,
    claims: &Map<String, Value>,
    userinfo: Option<Map<String, Value>>,
    tokens: &Tokens,
) -> Result<Value, LoginError> {
    let Some(hook) = &login.inner.hooks.on_login else {
        return Ok(Value::Null);
    };
    Ok(hook(LoginEvent {
        user: Authenticated::new(provider.to_owned(), Value::Object(claims.clone())),
        userinfo,
        tokens: tokens.clone(),
    })
    .await?)
}

/// Starts the new session (and the app's own token cookie, when configured).
async fn start_session(
    login: &Login,
    headers: &HeaderMap,
    provider: &str,
    claims: Map<String, Value>,
    app: Value,
    tokens: Tokens,
) -> Result<Vec<Cookie<'static>>, LoginError> {
    let app_token = match &login.inner.hooks.app_token {
        Some(app_token) => Some(
            app_token
                .create(&claims)
                .map_err(|e| LoginError::server(format!("app token: {e}")))?,
        ),
        None => None,
    };
    let t = now();
    let record = Record {
        provider: provider.to_owned(),
        claims: SessionClaims::new(claims),
        app,
        tokens,
        created: t,
        seen: t,
        started_ms: crate::util::now_millis(),
    };
    let mut cookies = login.start(headers, record).await?;
    if let (Some(app), Some(token)) = (&login.inner.hooks.app_token, app_token) {
        cookies.push(login.app_token_cookie(app, token, app.lifetime()));
    }
    Ok(cookies)
}
