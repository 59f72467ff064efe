//! The token endpoint in broker mode: no token of the provider reaches the client.
//!
//! - The device code and authorization code grants run at the provider as before; the
//!   provider's tokens go into a broker session (kept server-side), and the client gets
//!   the broker's access token and an opaque refresh token.
//! - `grant_type=refresh_token` takes a broker refresh token: it rotates (a spent one
//!   revokes its login), and the provider's tokens behind it are refreshed first when
//!   they have expired (a refusal there ends the login).
//! - `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693) takes a
//!   token of a provider (validated through the registry) and gives a broker access
//!   token.
//! - `POST {prefix}/revoke` (RFC 7009) ends the login of a broker refresh token, and
//!   revokes the provider's refresh token when the provider has a revocation endpoint.
//!
//! The app-wide `POST {prefix}/token` (the broker's discovered token endpoint) serves
//! the refresh and token exchange grants; `POST {prefix}/{provider}/token` serves them
//! too, next to the provider's grants.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::Authenticated;
use crate::issuer::families::{Family, Grant, Redeem};
use crate::issuer::{Broker, BrokerError};
use crate::login::form::{bad, form, no_store, param};
use crate::login::provider::Endpoints;
use crate::login::rp::backchannel::session_tags;
use crate::login::rp::callback::{map_claims, merge_user, read_userinfo};
use crate::login::tokens::{Tokens, check_id_token_subject, printable};
use crate::login::{Login, LoginError, LoginProvider};
use crate::util::now;
use crate::validation::{ErrorKind, ValidationError};

/// The token exchange grant (RFC 8693 §2.1).
pub(crate) const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:id_token";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// Refresh the provider's access token when it has less than this left.
const UPSTREAM_MARGIN: u64 = 60;

fn broker_error(e: &BrokerError) -> LoginError {
    if e.is_unavailable() {
        LoginError::unavailable(e.to_string())
    } else {
        LoginError::server(e.to_string())
    }
}

fn redeem_error(e: Redeem) -> LoginError {
    match e {
        Redeem::Broker(e) => broker_error(&e),
        e => bad("invalid_grant", e.to_string()),
    }
}

/// The RFC 6749 §5.1 answer for a broker grant: no token of the provider.
fn grant_response(grant: &Grant) -> Value {
    let mut body = json!({
        "access_token": grant.access.token,
        "token_type": "Bearer",
        "expires_in": grant.access.expires_in,
        "refresh_token": grant.refresh_token,
    });
    if let Some(scope) = &grant.scope {
        body["scope"] = Value::String(scope.clone());
    }
    body
}

impl Login {
    /// A token of whichever OpenID Provider issued it for its client (its issuer and
    /// audience): the first provider whose checks it passes, else the most telling
    /// refusal (one past the `iss` check). `None` without an OpenID Provider.
    pub(crate) async fn any_provider_id_token(
        &self,
        token: &str,
    ) -> Option<Result<Authenticated, ValidationError>> {
        let mut refusal: Option<ValidationError> = None;
        for (_, validator) in &self.inner.upstream.id_tokens {
            match validator.validate(token).await {
                Ok(auth) => return Some(Ok(auth)),
                Err(e) if e.kind() == ErrorKind::Issuer && refusal.is_some() => {}
                Err(e) => {
                    if refusal
                        .as_ref()
                        .is_none_or(|r| r.kind() == ErrorKind::Issuer)
                    {
                        refusal = Some(e);
                    }
                }
            }
        }
        refusal.map(Err)
    }

    /// After a device or code grant at provider `p`: a broker session holding the
    /// provider's `tokens`, and the broker's tokens for the user: the validated ID
    /// token's claims with userinfo's (as the provider's userinfo mode says), as a
    /// browser login has them.
    pub(super) async fn broker_login_grant(
        &self,
        broker: &Broker,
        p: &LoginProvider,
        endpoints: &Endpoints,
        tokens: Tokens,
        id_token: Option<Authenticated>,
    ) -> Result<Response, LoginError> {
        let from_id_token = id_token.map(|auth| auth.claims().clone());
        let info = read_userinfo(self, p, endpoints, &tokens, from_id_token.is_some()).await?;
        let mut claims = merge_user(from_id_token, info.as_ref())?;
        map_claims(&mut claims, p.inner.claim_map);
        let tags = session_tags(p.name(), &claims);
        let family = Family {
            id: String::new(),
            provider: p.name().to_owned(),
            claims,
            scope: tokens.scope.clone(),
            upstream: serde_json::to_value(&tokens)
                .map_err(|e| LoginError::server(e.to_string()))?,
            created: 0,
        };
        let grant = broker
            .open_family(family, &tags)
            .await
            .map_err(redeem_error)?;
        Ok(no_store(StatusCode::OK, grant_response(&grant)))
    }

    /// `grant_type=refresh_token` with a broker refresh token (of provider `p`'s logins
    /// when the route names one).
    pub(super) async fn broker_refresh(
        &self,
        broker: &Broker,
        p: Option<&LoginProvider>,
        refresh_token: &str,
    ) -> Result<Response, LoginError> {
        let mut family = broker.redeem(refresh_token).await.map_err(redeem_error)?;
        if p.is_some_and(|p| p.name() != family.provider) {
            return Err(bad(
                "invalid_grant",
                "the refresh token is of another provider's login",
            ));
        }
        let upstream: Tokens = serde_json::from_value(family.upstream.clone())
            .map_err(|e| LoginError::server(format!("stored provider tokens: {e}")))?;
        let expiring = upstream
            .expires_at
            .is_some_and(|e| e <= now().saturating_add(UPSTREAM_MARGIN));
        if expiring && upstream.refresh_token.is_some() {
            let sub = family.claims.get("sub");
            match self
                .refresh_upstream(&family.provider, &upstream, sub, None)
                .await
            {
                Ok(fresh) => {
                    family.upstream = serde_json::to_value(&fresh)
                        .map_err(|e| LoginError::server(e.to_string()))?;
                }
                // The provider is away: the login goes on, the next refresh tries again.
                Err(e) if e.status() == StatusCode::SERVICE_UNAVAILABLE => {
                    tracing::warn!("the provider's tokens could not be refreshed: {e}");
                }
                Err(e) => {
                    broker
                        .end_family(&family.id)
                        .await
                        .map_err(|e| broker_error(&e))?;
                    return Err(bad(
                        "invalid_grant",
                        format!(
                            "the provider refused to refresh this login, which has ended: {}",
                            e.description()
                        ),
                    ));
                }
            }
        }
        let grant = broker.save_and_grant(&family).await.map_err(redeem_error)?;
        Ok(no_store(StatusCode::OK, grant_response(&grant)))
    }

    /// RFC 8693 token exchange: a provider's ID token or JWT access token for a broker
    /// access token. The subject token must be valid for one of the login providers
    /// (their keys in the registry, `aud` their client id).
    pub(super) async fn broker_exchange(
        &self,
        broker: &Broker,
        form: &Map<String, Value>,
    ) -> Result<Response, LoginError> {
        let subject = param(form, "subject_token")?;
        let kind = param(form, "subject_token_type")?;
        if ![ACCESS_TOKEN_TYPE, ID_TOKEN_TYPE, JWT_TYPE].contains(&kind) {
            return Err(bad(
                "invalid_request",
                format!(
                    "the `subject_token_type` `{}` is not accepted (an ID token or a JWT access token)",
                    printable(kind)
                ),
            ));
        }
        let auth = self
            .any_provider_id_token(subject)
            .await
            .ok_or_else(|| bad("invalid_grant", "no OpenID Provider is configured"))?
            .map_err(|e| bad("invalid_grant", format!("subject token: {}", e.message())))?;
        let p = self
            .provider(auth.provider())
            .ok_or_else(|| bad("invalid_grant", "the subject token is of no login provider"))?;
        check_id_token_subject(auth.claims(), &p.inner.client_id).map_err(|e| {
            bad(
                "invalid_grant",
                format!("subject token: {}", e.description()),
            )
        })?;
        let scope = form.get("scope").and_then(Value::as_str);
        let access = broker
            .access_token(auth.claims(), scope)
            .await
            .map_err(|e| broker_error(&e))?;
        let mut body = json!({
            "access_token": access.token,
            "issued_token_type": ACCESS_TOKEN_TYPE,
            "token_type": "Bearer",
            "expires_in": access.expires_in,
        });
        if let Some(scope) = scope {
            body["scope"] = Value::String(scope.to_owned());
        }
        Ok(no_store(StatusCode::OK, body))
    }

    /// Revokes the provider's refresh token of an ended login, when it can (best
    /// effort: the login has ended here either way).
    async fn revoke_upstream(&self, family: &Family) {
        let Some(p) = self.provider(&family.provider) else {
            return;
        };
        if let Ok(tokens) = serde_json::from_value::<Tokens>(family.upstream.clone()) {
            let _ = self.revoke_refresh_token(p, &tokens).await;
        }
    }

    fn broker_or_404(&self) -> Result<&Broker, LoginError> {
        self.broker().ok_or_else(|| {
            LoginError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "this app runs no broker",
            )
        })
    }
}

/// `POST {prefix}/token`: the broker's own token endpoint (refresh, token exchange).
pub(crate) async fn token(
    State(login): State<Login>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let broker = login.broker_or_404()?;
    let form = form(&headers, &body)?;
    match param(&form, "grant_type")? {
        "refresh_token" => {
            let token = param(&form, "refresh_token")?;
            login.broker_refresh(broker, None, token).await
        }
        TOKEN_EXCHANGE => login.broker_exchange(broker, &form).await,
        other => Err(bad(
            "unsupported_grant_type",
            format!(
                "the grant `{}` is not served here (device and code grants are at {{prefix}}/{{provider}}/token)",
                printable(other)
            ),
        )),
    }
}

/// `POST {prefix}/revoke` (RFC 7009): 200 whether or not the token was known.
pub(crate) async fn revoke(
    State(login): State<Login>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, LoginError> {
    let broker = login.broker_or_404()?;
    let form = form(&headers, &body)?;
    let token = param(&form, "token")?;
    if let Some(family) = broker.revoke(token).await.map_err(|e| broker_error(&e))? {
        login.revoke_upstream(&family).await;
    }
    Ok(no_store(StatusCode::OK, Value::Object(Map::new())))
}
