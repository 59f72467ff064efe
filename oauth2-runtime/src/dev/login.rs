//! The dev issuer's browser-login endpoints: an authorization endpoint that signs in a
//! dev user at once (no page), the `authorization_code` grant with PKCE, userinfo, and
//! an end-session endpoint. Tests can change the next ID tokens' and userinfo's claims to
//! check a relying party's refusals.

use std::collections::HashMap;
use std::sync::Arc;

use aws_lc_rs::digest::{SHA256, SHA384, SHA512, digest};
use axum::Json;
use axum::extract::{Query, State as Extract};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{State, TokenBuilder};
use crate::Algorithm;

/// A code waiting to be exchanged.
#[derive(Clone)]
pub(crate) struct Grant {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    challenge: Option<String>,
    scope: String,
    sub: String,
    /// When the user "authenticated": the authorization request's time.
    auth_time: u64,
    /// The first `acr_values` the request asked for: the dev issuer grants any.
    acr: Option<String>,
}

/// Login state of the dev issuer.
#[derive(Default)]
pub(crate) struct Logins {
    pub(crate) codes: HashMap<String, Grant>,
    /// Live refresh tokens (each used once: a refresh rotates it).
    pub(crate) refresh_tokens: HashMap<String, Grant>,
    /// The user of each access token issued by the code grant.
    pub(crate) users: HashMap<String, String>,
    /// Merged into the next ID tokens (`null` removes a claim).
    pub(crate) id_token_claims: Map<String, Value>,
    /// Merged into userinfo answers.
    pub(crate) userinfo_claims: Map<String, Value>,
    /// How the next ID tokens are signed.
    pub(crate) id_token_signing: super::IdTokenSigning,
}

/// The ID token, signed as [`IdTokenSigning`](super::IdTokenSigning) says.
fn sign_id_token(id: TokenBuilder, signing: super::IdTokenSigning) -> String {
    use super::IdTokenSigning::*;
    match signing {
        Normal => id.sign(),
        Algorithm(alg) => id.algorithm(alg).sign(),
        NoKid => id.without_kid().sign(),
        BadSignature(alg) => {
            let token = id.algorithm(alg).sign();
            let (signed, signature) = token.rsplit_once('.').expect("a compact JWS");
            let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x01;
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes))
        }
        Unsigned => {
            let token = id.sign();
            let payload = token.split('.').nth(1).expect("a compact JWS");
            let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
            format!("{header}.{payload}.")
        }
    }
}

fn random() -> String {
    crate::util::random_token().expect("system randomness")
}

fn error(description: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_request", "error_description": description})),
    )
        .into_response()
}

/// The dev user's claims: `Dev User` for `dev-user`, `Alice` for `alice`, ...
fn profile(sub: &str) -> Map<String, Value> {
    let name = match sub {
        "dev-user" => "Dev User".to_owned(),
        other => {
            let mut c = other.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    };
    let mut claims = Map::new();
    claims.insert("sub".into(), sub.into());
    claims.insert("name".into(), name.into());
    claims.insert("email".into(), format!("{sub}@example.com").into());
    claims.insert("email_verified".into(), true.into());
    claims
}

#[derive(Deserialize)]
pub(crate) struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    nonce: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scope: Option<String>,
    /// The user to sign in; default `dev-user`.
    login_hint: Option<String>,
    /// Step-up (RFC 9470): the first value becomes the tokens' `acr`.
    acr_values: Option<String>,
}

pub(crate) async fn authorize(
    Extract(state): Extract<Arc<State>>,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    if q.response_type.as_deref() != Some("code") {
        return error("response_type must be `code`");
    }
    let (Some(client_id), Some(redirect_uri)) = (q.client_id, q.redirect_uri) else {
        return error("client_id and redirect_uri are required");
    };
    let Ok(mut back) = url::Url::parse(&redirect_uri) else {
        return error("redirect_uri is not a URL");
    };
    if q.code_challenge.is_some() && q.code_challenge_method.as_deref() != Some("S256") {
        return error("code_challenge_method must be S256");
    }
    let code = random();
    let sub = q.login_hint.unwrap_or_else(|| "dev-user".into());
    state.logins.lock().expect("logins lock").codes.insert(
        code.clone(),
        Grant {
            client_id,
            redirect_uri,
            nonce: q.nonce,
            challenge: q.code_challenge,
            scope: q.scope.unwrap_or_default(),
            sub,
            auth_time: crate::util::now(),
            acr: q
                .acr_values
                .as_deref()
                .and_then(|v| v.split_ascii_whitespace().next())
                .map(str::to_owned),
        },
    );
    {
        let mut query = back.query_pairs_mut();
        query.append_pair("code", &code);
        if let Some(s) = &q.state {
            query.append_pair("state", s);
        }
        query.append_pair("iss", &state.issuer);
    }
    Redirect::to(back.as_str()).into_response()
}

pub(crate) struct CodeRequest {
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    client_id: Option<String>,
}

impl CodeRequest {
    pub(crate) fn new(
        code: Option<String>,
        redirect_uri: Option<String>,
        code_verifier: Option<String>,
        client_id: Option<String>,
    ) -> Self {
        Self {
            code,
            redirect_uri,
            code_verifier,
            client_id,
        }
    }
}

/// The `authorization_code` grant.
pub(crate) fn exchange(state: &Arc<State>, headers: &HeaderMap, req: CodeRequest) -> Response {
    let invalid_grant = |d: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": d})),
        )
            .into_response()
    };
    let grant = {
        let mut logins = state.logins.lock().expect("logins lock");
        req.code.as_deref().and_then(|c| logins.codes.remove(c))
    };
    let Some(grant) = grant else {
        return invalid_grant("unknown or used code");
    };
    if req.redirect_uri.as_deref() != Some(grant.redirect_uri.as_str()) {
        return invalid_grant("redirect_uri differs from the authorization request's");
    }
    // The client: HTTP Basic or client_id in the body (secrets are not checked).
    let basic_client = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|pair| pair.split(':').next().map(str::to_owned));
    if basic_client.or(req.client_id).as_deref() != Some(grant.client_id.as_str()) {
        return invalid_grant("the code was issued to another client");
    }
    if let Some(challenge) = &grant.challenge {
        let verifier = req.code_verifier.unwrap_or_default();
        let computed = URL_SAFE_NO_PAD.encode(digest(&SHA256, verifier.as_bytes()));
        if computed != *challenge {
            return invalid_grant("PKCE verification failed");
        }
    }
    issue_tokens(state, grant)
}

/// The `refresh_token` grant: the refresh token is used up and a new one issued, with a
/// new access token and ID token (without `nonce`).
pub(crate) fn refresh(state: &Arc<State>, refresh_token: Option<&str>) -> Response {
    let grant = {
        let mut logins = state.logins.lock().expect("logins lock");
        refresh_token.and_then(|t| logins.refresh_tokens.remove(t))
    };
    match grant {
        Some(grant) => issue_tokens(state, Grant { nonce: None, ..grant }),
        None => (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant", "error_description": "unknown or used refresh token"})),
        )
            .into_response(),
    }
}

/// An access token, a refresh token and an ID token (with `at_hash`, the grant's
/// `nonce`, the user's profile and the test's overrides) for `grant`.
fn issue_tokens(state: &Arc<State>, grant: Grant) -> Response {
    let lifetime = state
        .token_lifetime
        .load(std::sync::atomic::Ordering::SeqCst);
    let lifetime = i64::try_from(lifetime).unwrap_or(3600);
    let mut access_token = TokenBuilder::new(state.clone())
        .subject(&grant.sub)
        .audience(grant.client_id.as_str())
        .scope(&grant.scope)
        .expires_in(lifetime)
        .claim("auth_time", grant.auth_time);
    if let Some(acr) = &grant.acr {
        access_token = access_token.claim("acr", acr.as_str());
    }
    let access_token = access_token.sign();
    let signing = state.logins.lock().expect("logins lock").id_token_signing;
    // The left half of the access token's hash, by the ID token's `alg` (OpenID Connect
    // Core §3.1.3.6; SHA-512 for EdDSA).
    let at_hash = {
        let hash = match signing.algorithm() {
            Algorithm::RS384 | Algorithm::PS384 | Algorithm::ES384 => &SHA384,
            Algorithm::RS512 | Algorithm::PS512 | Algorithm::EdDSA => &SHA512,
            _ => &SHA256,
        };
        let d = digest(hash, access_token.as_bytes());
        URL_SAFE_NO_PAD.encode(&d.as_ref()[..d.as_ref().len() / 2])
    };
    let mut id = TokenBuilder::new(state.clone())
        .subject(&grant.sub)
        .audience(grant.client_id.as_str())
        .claim("at_hash", at_hash)
        .claim("auth_time", grant.auth_time);
    if let Some(acr) = &grant.acr {
        id = id.claim("acr", acr.as_str());
    }
    if let Some(nonce) = &grant.nonce {
        id = id.claim("nonce", nonce.as_str());
    }
    for (k, v) in profile(&grant.sub) {
        id = id.claim(&k, v);
    }
    let refresh_token = random();
    let scope = grant.scope.clone();
    let overrides = {
        let mut logins = state.logins.lock().expect("logins lock");
        logins.users.insert(access_token.clone(), grant.sub.clone());
        logins.refresh_tokens.insert(refresh_token.clone(), grant);
        logins.id_token_claims.clone()
    };
    for (k, v) in overrides {
        id = if v.is_null() {
            id.without_claim(&k)
        } else {
            id.claim(&k, v)
        };
    }
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "refresh_token": refresh_token,
        "id_token": sign_id_token(id, signing),
        "scope": scope,
    }))
    .into_response()
}

pub(crate) async fn userinfo(Extract(state): Extract<Arc<State>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let logins = state.logins.lock().expect("logins lock");
    let Some(sub) = token.and_then(|t| logins.users.get(t)) else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer error=\"invalid_token\"")],
        )
            .into_response();
    };
    let mut claims = profile(sub);
    claims.extend(logins.userinfo_claims.clone());
    Json(Value::Object(claims)).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LogoutQuery {
    post_logout_redirect_uri: Option<String>,
}

/// Ends nothing (the dev issuer keeps no session) and sends the browser back.
pub(crate) async fn end_session(Query(q): Query<LogoutQuery>) -> Response {
    match q.post_logout_redirect_uri {
        Some(uri) => Redirect::to(&uri).into_response(),
        None => "signed out".into_response(),
    }
}
