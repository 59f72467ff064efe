//! The token endpoint (code exchange, refresh), the ID token checks that signature
//! validation leaves to the relying party, and userinfo.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256, Sha384, Sha512};

use super::error::LoginError;
use super::provider::{ClientAuth, Endpoints, LoginProvider};
use crate::client::DpopKey;
use crate::client::request::{Post, PostError, TokenResponse};
use crate::util::now;

/// How long token endpoint and userinfo requests may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The tokens a login gave. `Debug` shows none of them.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tokens {
    /// The access token, for calls to APIs on the user's behalf.
    pub access_token: String,
    /// The refresh token, when the provider issued one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// The ID token (OpenID Providers), kept as `id_token_hint` for logout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The granted scopes, when the provider said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The access token is DPoP-bound to the login's key (`token_type` `DPoP`): calls
    /// with it need a proof ([`LoginSession::api_headers`](crate::login::LoginSession::api_headers)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound: bool,
    /// Access tokens for other APIs of the same login, by resource (RFC 8707 §2.2:
    /// refreshed with `resource`), as
    /// [`LoginSession::access_token_for`](crate::login::LoginSession::access_token_for)
    /// gets them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) resources: BTreeMap<String, ResourceToken>,
}

/// An access token of a login for one resource.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ResourceToken {
    pub(crate) access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) expires_at: Option<u64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) dpop_bound: bool,
}

impl Tokens {
    /// The access token for `resource` (`None`: the login's own) and whether it is
    /// DPoP-bound; `None` when there is none yet.
    pub(crate) fn access_for(&self, resource: Option<&str>) -> Option<(&str, Option<u64>, bool)> {
        match resource {
            None => Some((&self.access_token, self.expires_at, self.dpop_bound)),
            Some(r) => self
                .resources
                .get(r)
                .map(|t| (t.access_token.as_str(), t.expires_at, t.dpop_bound)),
        }
    }
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens")
            .field("refresh_token", &self.refresh_token.is_some())
            .field("id_token", &self.id_token.is_some())
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("dpop_bound", &self.dpop_bound)
            .field("resources", &self.resources.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

pub(crate) use crate::client::request::{Answer, ProviderError};

/// POSTs `form` to `url` (a token, device authorization, pushed authorization or
/// revocation endpoint) as the provider's client, authenticated by `client_auth` (see
/// [`crate::client::request::post_form`]), with a DPoP proof of `dpop` when given.
pub(crate) async fn post_form(
    http: &reqwest::Client,
    provider: &LoginProvider,
    client_auth: ClientAuth,
    url: &url::Url,
    form: &[(&str, &str)],
    dpop: Option<&DpopKey>,
) -> Result<Answer, LoginError> {
    let post = Post {
        http,
        credentials: provider.credentials(url),
        method: client_auth,
        url,
        timeout: TIMEOUT,
    };
    crate::client::request::post_form(post, form, dpop)
        .await
        .map_err(|e| match e {
            PostError::Credentials(m) => LoginError::server(m),
            PostError::Unreachable(m) => LoginError::unavailable(m),
            PostError::Status(m) => LoginError::exchange(m),
        })
}

/// A token endpoint request (`grant_type` and its parameters), authenticated as the
/// provider's client.
pub(crate) async fn token_request(
    http: &reqwest::Client,
    provider: &LoginProvider,
    endpoints: &Endpoints,
    form: &[(&str, &str)],
) -> Result<Tokens, LoginError> {
    let dpop = provider.inner.dpop.as_deref().filter(|_| endpoints.dpop);
    let answer = post_form(
        http,
        provider,
        endpoints.client_auth,
        &endpoints.token,
        form,
        dpop,
    )
    .await?;
    let bytes = match answer {
        Answer::Ok(bytes) => bytes,
        Answer::Refused(e) => {
            return Err(LoginError::exchange(e.message()));
        }
    };
    tokens_from(&bytes, dpop.is_some())
}

/// Reads a successful token response: Bearer tokens, or DPoP-bound ones when the
/// request carried a proof (`dpop`).
pub(crate) fn tokens_from(bytes: &[u8], dpop: bool) -> Result<Tokens, LoginError> {
    let t = TokenResponse::parse(bytes).map_err(LoginError::exchange)?;
    let dpop_bound = t.dpop_bound(dpop).map_err(LoginError::exchange)?;
    Ok(Tokens {
        access_token: t.access_token,
        refresh_token: t.refresh_token,
        id_token: t.id_token,
        expires_at: t.expires_in.map(|s| now().saturating_add(s)),
        scope: t.scope,
        dpop_bound,
        resources: BTreeMap::new(),
    })
}

/// At most 200 printable ASCII characters of a provider's message.
pub(crate) fn printable(s: &str) -> String {
    crate::util::printable(s, 200)
}

/// The ID token checks after signature, `iss`, `aud`, `exp` (OpenID Connect Core
/// §3.1.3.7): `sub` and `iat` present, `azp`, `nonce`, and `at_hash` when present.
#[cfg(test)]
fn check_id_token(
    claims: &Map<String, Value>,
    id_token: &str,
    client_id: &str,
    nonce: &str,
    access_token: &str,
) -> Result<(), LoginError> {
    check_id_token_subject(claims, client_id)?;
    check_login_binding(claims, id_token, nonce, access_token)
}

/// The checks that bind an ID token to the login that asked for it: its `nonce`, and
/// `at_hash` (when present) of the access token it came with.
pub(crate) fn check_login_binding(
    claims: &Map<String, Value>,
    id_token: &str,
    nonce: &str,
    access_token: &str,
) -> Result<(), LoginError> {
    let bad = |m: &str| LoginError::id_token(m.to_owned());
    match claims.get("nonce") {
        Some(Value::String(n)) if constant_time_eq(n.as_bytes(), nonce.as_bytes()) => {}
        Some(_) => return Err(bad("ID token `nonce` does not match this login")),
        None => return Err(bad("ID token has no `nonce`")),
    }
    if let Some(at_hash) = claims.get("at_hash") {
        let expected = token_hash(id_token, access_token)
            .ok_or_else(|| bad("ID token `at_hash` uses an unsupported algorithm"))?;
        if at_hash.as_str() != Some(expected.as_str()) {
            return Err(bad("ID token `at_hash` does not match the access token"));
        }
    }
    Ok(())
}

/// The ID token checks that do not depend on the login that asked for it: `sub` and
/// `iat` present, and `azp` this client (required with several audiences).
pub(crate) fn check_id_token_subject(
    claims: &Map<String, Value>,
    client_id: &str,
) -> Result<(), LoginError> {
    let bad = |m: &str| LoginError::id_token(m.to_owned());
    if !matches!(claims.get("sub"), Some(Value::String(s)) if !s.is_empty()) {
        return Err(bad("ID token has no `sub`"));
    }
    if !matches!(claims.get("iat"), Some(Value::Number(_))) {
        return Err(bad("ID token has no `iat`"));
    }
    let several_audiences = matches!(claims.get("aud"), Some(Value::Array(a)) if a.len() > 1);
    match claims.get("azp") {
        Some(Value::String(azp)) if azp == client_id => Ok(()),
        Some(_) => Err(bad("ID token `azp` is not this client")),
        None if several_audiences => Err(bad("ID token has several audiences but no `azp`")),
        None => Ok(()),
    }
}

impl super::Login {
    /// An ID token that a token endpoint returned outside the login (device code,
    /// refresh): signature by the issuer's keys, `iss`, `aud` = the client id, `exp`,
    /// then `sub`, `iat`, `azp`. Its claims; `None` for a provider without ID tokens.
    pub(crate) async fn returned_id_token(
        &self,
        p: &LoginProvider,
        id_token: &str,
    ) -> Result<Option<crate::Authenticated>, LoginError> {
        let Some(validator) = self.id_token_validator(p.name()) else {
            return Ok(None);
        };
        let auth = validator
            .validate(id_token)
            .await
            .map_err(|e| LoginError::id_token(format!("ID token: {e}")))?;
        check_id_token_subject(auth.claims(), &p.inner.client_id)?;
        Ok(Some(auth))
    }
}

impl super::Login {
    /// The refresh token grant at `provider` with the refresh token of `tokens`, and
    /// the ID token it returns checked before anything uses it (OpenID Connect Core
    /// §12.2): validated like the first, and about the same user (`sub`). The new
    /// tokens, keeping the old refresh and ID tokens when the provider sent none.
    pub(crate) async fn refresh_upstream(
        &self,
        provider: &str,
        tokens: &Tokens,
        sub: Option<&Value>,
        resource: Option<&str>,
    ) -> Result<Tokens, LoginError> {
        let p = self
            .provider(provider)
            .ok_or_else(|| LoginError::server("the provider is no longer configured"))?;
        let endpoints = p
            .endpoints(&self.inner.upstream.registry)
            .await
            .map_err(|e| LoginError::unavailable(e.to_string()))?;
        let refresh_token = tokens.refresh_token.as_deref().unwrap_or_default();
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token),
        ];
        form.extend(resource.map(|r| ("resource", r)));
        let mut fresh = token_request(&self.inner.upstream.http, p, endpoints, &form).await?;
        if let Some(id_token) = &fresh.id_token
            && let Some(auth) = self.returned_id_token(p, id_token).await?
            && auth.claim("sub") != sub
        {
            return Err(LoginError::id_token(
                "the ID token of the refresh is about another user (`sub` differs)",
            ));
        }
        if fresh.refresh_token.is_none() {
            fresh.refresh_token.clone_from(&tokens.refresh_token);
        }
        if fresh.id_token.is_none() {
            fresh.id_token.clone_from(&tokens.id_token);
        }
        let Some(resource) = resource else {
            fresh.resources.clone_from(&tokens.resources);
            return Ok(fresh);
        };
        // A token for another API: the login's own stays, the refresh token (rotated)
        // and ID token are the new ones.
        let mut merged = tokens.clone();
        merged.refresh_token = fresh.refresh_token;
        merged.id_token = fresh.id_token;
        merged.resources.insert(
            resource.to_owned(),
            ResourceToken {
                access_token: fresh.access_token,
                expires_at: fresh.expires_at,
                dpop_bound: fresh.dpop_bound,
            },
        );
        Ok(merged)
    }
}

/// `at_hash`/`c_hash`: the left half of the hash of `value` with the hash function of
/// the ID token's `alg`, base64url (OpenID Connect Core §3.1.3.6).
fn token_hash(id_token: &str, value: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let header = id_token.split('.').next()?;
    let header: Header = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let digest: Vec<u8> = match header.alg.as_str() {
        "RS256" | "PS256" | "ES256" | "HS256" => Sha256::digest(value).to_vec(),
        "RS384" | "PS384" | "ES384" | "HS384" => Sha384::digest(value).to_vec(),
        // EdDSA here is Ed25519, whose hash is SHA-512.
        "RS512" | "PS512" | "ES512" | "HS512" | "EdDSA" => Sha512::digest(value).to_vec(),
        _ => return None,
    };
    Some(URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2]))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `DPoP-Nonce` a response hands out, if any.
fn handed_nonce(response: &reqwest::Response) -> Option<String> {
    let nonce = response.headers().get("dpop-nonce")?.to_str().ok()?;
    Some(nonce.to_owned())
}

/// The nonce a resource server's 401 `use_dpop_nonce` asks for (RFC 9449 §9): the
/// `DPoP-Nonce` header of a 401 whose `WWW-Authenticate` names that error.
fn asked_nonce(response: &reqwest::Response) -> Option<String> {
    let asks = response.status() == reqwest::StatusCode::UNAUTHORIZED
        && response
            .headers()
            .get_all(reqwest::header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.contains("use_dpop_nonce"));
    if asks { handed_nonce(response) } else { None }
}

/// A userinfo response: JSON claims, or a JWT (`Content-Type: application/jwt`, OpenID
/// Connect Core §5.3.2) for the caller to verify with the provider's keys.
#[derive(Debug)]
pub(crate) enum UserinfoBody {
    Claims(Map<String, Value>),
    Jwt(String),
}

/// The userinfo response for `access_token`. For plain OAuth 2.0 providers a numeric
/// or string `id` becomes `sub` when there is none.
pub(crate) async fn userinfo(
    http: &reqwest::Client,
    url: &url::Url,
    access_token: &str,
    refusal_ok: bool,
    dpop: Option<&DpopKey>,
) -> Result<Option<UserinfoBody>, LoginError> {
    let mut nonce = dpop.and_then(DpopKey::provider_nonce);
    let mut signed_again = false;
    let response = loop {
        let mut request = http
            .get(url.clone())
            .timeout(TIMEOUT)
            .header(reqwest::header::ACCEPT, "application/json, application/jwt");
        request = match dpop {
            Some(key) => {
                let proof = key
                    .proof("GET", url.as_str(), Some(access_token), nonce.as_deref())
                    .map_err(LoginError::server)?;
                request
                    .header(
                        reqwest::header::AUTHORIZATION,
                        format!("DPoP {access_token}"),
                    )
                    .header("dpop", proof)
            }
            None => request.bearer_auth(access_token),
        };
        let response = request
            .send()
            .await
            .map_err(|e| LoginError::userinfo(format!("userinfo endpoint unreachable: {e}")))?;
        if let (Some(key), Some(handed)) = (dpop, handed_nonce(&response)) {
            key.remember_provider_nonce(&handed);
        }
        // A userinfo endpoint that wants its nonce in the proof (RFC 9449 §9): once
        // more, with it.
        match asked_nonce(&response) {
            Some(asked) if dpop.is_some() && !signed_again => {
                nonce = Some(asked);
                signed_again = true;
            }
            _ => break response,
        }
    };
    let status = response.status();
    if refusal_ok && matches!(status.as_u16(), 401 | 403) {
        tracing::warn!(
            %status,
            "the userinfo endpoint refused the access token (is it for an API?); \
             the user is the ID token's claims"
        );
        return Ok(None);
    }
    if !status.is_success() {
        return Err(LoginError::userinfo(format!(
            "userinfo endpoint answered HTTP {status}"
        )));
    }
    let signed = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/jwt"));
    let bytes = response
        .bytes()
        .await
        .map_err(|e| LoginError::userinfo(format!("userinfo response: {e}")))?;
    if signed {
        let jwt = std::str::from_utf8(&bytes)
            .map_err(|_| LoginError::userinfo("the signed userinfo response is not text"))?;
        return Ok(Some(UserinfoBody::Jwt(jwt.trim().to_owned())));
    }
    let mut user: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|e| {
        LoginError::userinfo(format!("userinfo response is not a JSON object: {e}"))
    })?;
    if !user.contains_key("sub") {
        let id = match user.get("id") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        if let Some(id) = id {
            user.insert("sub".into(), Value::String(id));
        }
    }
    Ok(Some(UserinfoBody::Claims(user)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn token_with_alg(alg: &str) -> String {
        format!(
            "{}.e30.sig",
            URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}"}}"#))
        )
    }

    #[test]
    fn at_hash_follows_the_id_token_algorithm() {
        // OpenID Connect Core, example in §A.3: at_hash of this access token with RS256.
        let at = "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y";
        assert_eq!(
            token_hash(&token_with_alg("RS256"), at).unwrap(),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(token_hash(&token_with_alg("ES384"), at).unwrap().len(), 32);
        assert_eq!(token_hash(&token_with_alg("EdDSA"), at).unwrap().len(), 43);
        assert_eq!(token_hash(&token_with_alg("none"), at), None);
    }

    fn claims(extra: Value) -> Map<String, Value> {
        let mut base = json!({"sub": "alice", "iat": 1, "aud": "app", "nonce": "n-1"});
        base.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        base.as_object().unwrap().clone()
    }

    fn check(extra: Value) -> Result<(), String> {
        let token = token_with_alg("RS256");
        check_id_token(&claims(extra), &token, "app", "n-1", "at").map_err(|e| e.to_string())
    }

    #[test]
    fn id_token_claims_are_checked() {
        assert_eq!(check(json!({})), Ok(()));
        assert!(
            check(json!({"nonce": "n-2"}))
                .unwrap_err()
                .contains("nonce")
        );
        let mut no_nonce = claims(json!({}));
        no_nonce.remove("nonce");
        assert!(
            check_id_token(&no_nonce, &token_with_alg("RS256"), "app", "n-1", "at")
                .unwrap_err()
                .to_string()
                .contains("no `nonce`")
        );
        assert!(check(json!({"azp": "other"})).unwrap_err().contains("azp"));
        assert_eq!(check(json!({"azp": "app"})), Ok(()));
        assert!(
            check(json!({"aud": ["app", "api"]}))
                .unwrap_err()
                .contains("no `azp`")
        );
        assert_eq!(check(json!({"aud": ["app", "api"], "azp": "app"})), Ok(()));
        assert!(check(json!({"iat": "x"})).unwrap_err().contains("iat"));
        assert!(check(json!({"sub": ""})).unwrap_err().contains("sub"));
        assert!(
            check(json!({"at_hash": "wrong"}))
                .unwrap_err()
                .contains("at_hash")
        );
        let good = token_hash(&token_with_alg("RS256"), "at").unwrap();
        assert_eq!(check(json!({"at_hash": good})), Ok(()));
    }

    #[test]
    fn provider_messages_are_cut_and_cleaned() {
        assert_eq!(printable("bad\r\nthing\u{7}é"), "badthing");
        assert_eq!(printable(&"x".repeat(500)).len(), 200);
    }
}
