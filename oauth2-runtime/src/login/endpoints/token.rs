//! The app's own token endpoint and device authorization, in front of the provider's
//! (opt-in per provider): `POST {prefix}/{provider}/device` starts RFC 8628 device
//! authorization, and `POST {prefix}/{provider}/token` answers the refresh and device
//! code grants. Clients hold no client secret: the app adds its client authentication,
//! passes the provider's errors on, and validates a returned ID token before passing it
//! on. Every answer is JSON with `Cache-Control: no-store`; bad input is a 400, never a
//! 500.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::native::check_redirect_uri;
use crate::login::form::{bad, form, no_store, param};
use crate::login::provider::Endpoints;
use crate::login::tokens::{Answer, ProviderError, Tokens, post_form, printable, tokens_from};
use crate::login::{Login, LoginError, LoginProvider};
use crate::util::now;

/// The device code grant's `grant_type` (RFC 8628 §3.4).
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// The interval RFC 8628 §3.2 gives when the provider names none.
const DEFAULT_INTERVAL: u64 = 5;

/// The provider's refusal, passed on with its own code.
fn refused(e: &ProviderError) -> LoginError {
    let code = printable(&e.error);
    let description = e
        .error_description
        .as_deref()
        .map_or_else(|| format!("the provider answered `{code}`"), printable);
    bad(&code, description)
}

/// The provider named in the path, if it serves this route, and its endpoints.
async fn provider<'l>(
    login: &'l Login,
    name: &str,
    enabled: impl Fn(&LoginProvider) -> bool,
    route: &str,
) -> Result<(&'l LoginProvider, &'l Endpoints), LoginError> {
    let p = login.find(name)?;
    if !enabled(p) {
        return Err(LoginError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("provider `{}` does not serve `{route}`", p.name()),
        ));
    }
    let endpoints = p
        .endpoints(&login.inner.upstream.registry)
        .await
        .map_err(|e| LoginError::unavailable(e.to_string()))?;
    Ok((p, endpoints))
}

#[derive(Deserialize)]
struct DeviceAuthorization {
    device_code: String,
    user_code: String,
    verification_uri: String,
    #[serde(default)]
    verification_uri_complete: Option<String>,
    expires_in: u64,
    #[serde(default)]
    interval: Option<u64>,
}

/// `POST {prefix}/{provider}/device` (form, optional `scope`).
pub(crate) async fn device(
    State(login): State<Login>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let (p, endpoints) = provider(&login, &name, |p| p.inner.device_flow, "device").await?;
    let form = form(&headers, &body)?;
    let url = endpoints.device.as_ref().ok_or_else(|| {
        bad(
            "unsupported_grant_type",
            format!(
                "provider `{}` has no device authorization endpoint",
                p.name()
            ),
        )
    })?;
    let scope = form
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or(&p.inner.scope);
    let answer = post_form(
        &login.inner.upstream.http,
        p,
        endpoints.client_auth,
        url,
        &[("scope", scope)],
        None,
    )
    .await?;
    let bytes = match answer {
        Answer::Refused(e) => return Err(refused(&e)),
        Answer::Ok(bytes) => bytes,
    };
    let d: DeviceAuthorization = serde_json::from_slice(&bytes).map_err(|e| {
        LoginError::exchange(format!("the device authorization response is invalid: {e}"))
    })?;
    let mut body = json!({
        "device_code": d.device_code,
        "user_code": d.user_code,
        "verification_uri": d.verification_uri,
        "expires_in": d.expires_in,
        "interval": d.interval.unwrap_or(DEFAULT_INTERVAL),
    });
    if let Some(complete) = d.verification_uri_complete {
        body["verification_uri_complete"] = Value::String(complete);
    }
    Ok(no_store(StatusCode::OK, body))
}

/// `POST {prefix}/{provider}/token` (form): the refresh, device code and (for native
/// clients, RFC 8252) authorization code grants.
///
/// In a span `oauth2.token` with the provider and the grant; refreshes are counted in
/// [`crate::metrics::REFRESHES`].
pub(crate) async fn token(
    login: State<Login>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let grant_type = form(&headers, &body)
        .ok()
        .and_then(|f| f.get("grant_type").and_then(Value::as_str).map(grant_name));
    let span = tracing::info_span!(
        "oauth2.token",
        provider = %printable(&name),
        grant = grant_type.unwrap_or("none"),
    );
    let label = login.metrics_label(&name);
    let work = grant(login, name, headers, body);
    crate::util::traced(span, work, |result| {
        let outcome = match result {
            Ok(r) => {
                tracing::info!(status = r.status().as_u16(), "token request answered");
                "ok"
            }
            Err(e) => {
                tracing::info!(status = e.status().as_u16(), error = %e.description(), "token request refused");
                crate::metrics::outcome(e.status())
            }
        };
        if grant_type == Some("refresh_token") {
            crate::metrics::refresh(&label, "token_endpoint", outcome);
        }
    })
    .await
}

/// A grant's name for logs: one of those served, or `other` (never the request's text).
fn grant_name(grant_type: &str) -> &'static str {
    match grant_type {
        "refresh_token" => "refresh_token",
        "authorization_code" => "authorization_code",
        DEVICE_CODE_GRANT => DEVICE_CODE_GRANT,
        #[cfg(feature = "broker")]
        super::broker_grants::TOKEN_EXCHANGE => super::broker_grants::TOKEN_EXCHANGE,
        _ => "other",
    }
}

async fn grant(
    State(login): State<Login>,
    name: String,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let (p, endpoints) = provider(&login, &name, |p| p.inner.token_endpoint, "token").await?;
    let form = form(&headers, &body)?;
    #[cfg(feature = "broker")]
    if let Some(broker) = login.broker() {
        match param(&form, "grant_type")? {
            "refresh_token" => {
                let token = param(&form, "refresh_token")?;
                return login.broker_refresh(broker, Some(p), token).await;
            }
            super::broker_grants::TOKEN_EXCHANGE => {
                return login.broker_exchange(broker, &form).await;
            }
            _ => {}
        }
    }
    // The grant and the parameters it passes on to the provider.
    let (grant_type, names): (&str, &[&str]) = match param(&form, "grant_type")? {
        "refresh_token" => ("refresh_token", &["refresh_token"]),
        DEVICE_CODE_GRANT if p.inner.device_flow => (DEVICE_CODE_GRANT, &["device_code"]),
        "authorization_code" => (
            "authorization_code",
            &["code", "redirect_uri", "code_verifier"],
        ),
        other => {
            return Err(bad(
                "unsupported_grant_type",
                format!("the grant `{}` is not served here", printable(other)),
            ));
        }
    };
    let mut pass_on = vec![("grant_type", grant_type)];
    for name in names {
        pass_on.push((name, param(&form, name)?));
    }
    if grant_type == "authorization_code" {
        check_redirect_uri(p, param(&form, "redirect_uri")?)?;
    }
    let answer = post_form(
        &login.inner.upstream.http,
        p,
        endpoints.client_auth,
        &endpoints.token,
        &pass_on,
        None,
    )
    .await?;
    let bytes = match answer {
        Answer::Refused(e) => return Err(refused(&e)),
        Answer::Ok(bytes) => bytes,
    };
    // The app's token endpoint passes the provider's tokens on to its own clients (a
    // device, a native app): they are bearer tokens, never bound to the app's key.
    let tokens = tokens_from(&bytes, false)?;
    let id_token = match &tokens.id_token {
        Some(id_token) => login.returned_id_token(p, id_token).await?,
        None => None,
    };
    #[cfg(feature = "broker")]
    if let Some(broker) = login.broker() {
        return login
            .broker_login_grant(broker, p, endpoints, tokens, id_token)
            .await;
    }
    #[cfg(not(feature = "broker"))]
    let _ = id_token;
    Ok(no_store(StatusCode::OK, token_response(&tokens)))
}

/// The RFC 6749 §5.1 answer for `tokens`.
fn token_response(tokens: &Tokens) -> Value {
    let mut body = json!({
        "access_token": tokens.access_token,
        "token_type": "Bearer",
    });
    if let Some(at) = tokens.expires_at {
        body["expires_in"] = at.saturating_sub(now()).into();
    }
    for (name, value) in [
        ("refresh_token", &tokens.refresh_token),
        ("id_token", &tokens.id_token),
        ("scope", &tokens.scope),
    ] {
        if let Some(value) = value {
            body[name] = Value::String(value.clone());
        }
    }
    body
}
