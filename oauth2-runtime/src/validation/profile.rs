//! Claim profiles: the same signature and key checks serve several kinds of token, and
//! each kind adds its own header and claim rules.
//!
//! - [`Profile::Access`]: bearer access tokens (`exp` required).
//! - [`Profile::Logout`]: OpenID Connect Back-Channel Logout 1.0 logout tokens, §2.6:
//!   no symmetric algorithm (unless keyed with the client secret), `typ` when present
//!   is `logout+jwt` or the generic `JWT`, `iat` and `jti`
//!   present, `exp` checked when present, the back-channel logout event, `sid` or `sub`,
//!   and no `nonce`. (Replay of `jti` needs a store and is the route's to check.)
//! - [`Profile::Userinfo`]: a signed userinfo response (OpenID Connect Core §5.3.2):
//!   `iss` and `aud` as the provider's, `exp` checked when present.

use jsonwebtoken::Algorithm;
use serde_json::{Map, Value};

use super::steps::JoseHeader;
use super::{ErrorKind, ValidationError};
use crate::config::normalize_typ;

/// The member of `events` that makes a JWT a logout token.
pub(crate) const BACKCHANNEL_LOGOUT_EVENT: &str =
    "http://schemas.openid.net/event/backchannel-logout";

/// What kind of token is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// A bearer access token.
    Access,
    /// A back-channel logout token.
    #[cfg_attr(not(feature = "login"), allow(dead_code))]
    Logout,
    /// A signed userinfo response.
    #[cfg_attr(not(feature = "login"), allow(dead_code))]
    Userinfo,
}

impl Profile {
    /// Whether `exp` must be present (else it is checked only when present).
    pub(super) fn requires_exp(self) -> bool {
        self == Self::Access
    }

    /// The profile's header rules, after the provider's own (`alg` allowed, `crit`,
    /// a required `typ`). `client_secret`: a symmetric `alg` is keyed with the login
    /// client's secret, as the provider's ID tokens are (OpenID Connect Core §10.1).
    pub(super) fn check_header(
        self,
        header: &JoseHeader<'_>,
        alg: Algorithm,
        client_secret: bool,
    ) -> Result<(), ValidationError> {
        if self != Self::Logout {
            return Ok(());
        }
        if matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) && !client_secret {
            return Err(ValidationError::new(
                ErrorKind::Algorithm,
                "a logout token must not use a symmetric algorithm",
            ));
        }
        // Explicit typing is RECOMMENDED (§2.4), not required: `JWT`, which says only
        // that it is a JWT, is taken as untyped (Glewlwyd writes it); another explicit
        // type (`at+jwt`, `dpop+jwt`, ...) is another kind of token (§4.1).
        if let Some(typ) = header.typ.as_deref()
            && !matches!(normalize_typ(typ).as_str(), "logout+jwt" | "jwt")
        {
            return Err(ValidationError::new(
                ErrorKind::Type,
                "a logout token's type (typ) must be `logout+jwt` (or the generic `JWT`)",
            ));
        }
        Ok(())
    }

    /// The profile's claim rules, after the time and audience checks.
    pub(super) fn check_claims(self, claims: &Map<String, Value>) -> Result<(), ValidationError> {
        if self != Self::Logout {
            return Ok(());
        }
        let missing = |name: &str| {
            ValidationError::new(
                ErrorKind::MissingClaim,
                format!("the logout token has no `{name}` claim"),
            )
        };
        let invalid =
            |message: &'static str| ValidationError::new(ErrorKind::InvalidClaim, message);
        if !claims.contains_key("iat") {
            return Err(missing("iat"));
        }
        match claims.get("jti") {
            Some(Value::String(jti)) if !jti.is_empty() => {}
            Some(_) => return Err(invalid("the logout token's `jti` is not a string")),
            None => return Err(missing("jti")),
        }
        let event = claims
            .get("events")
            .ok_or_else(|| missing("events"))?
            .as_object()
            .ok_or_else(|| invalid("the logout token's `events` is not an object"))?
            .get(BACKCHANNEL_LOGOUT_EVENT)
            .ok_or_else(|| {
                invalid("the logout token's `events` has no back-channel logout event")
            })?;
        if !event.is_object() {
            return Err(invalid(
                "the logout token's back-channel logout event is not a JSON object",
            ));
        }
        let text = |name: &str| claims.get(name).map(Value::as_str);
        match (text("sid"), text("sub")) {
            (None, None) => return Err(missing("sid` or `sub")),
            (Some(None), _) | (_, Some(None)) => {
                return Err(invalid("the logout token's `sid` or `sub` is not a string"));
            }
            _ => {}
        }
        if claims.contains_key("nonce") {
            return Err(invalid("a logout token must not have a `nonce`"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(overrides: Value) -> Map<String, Value> {
        let mut base = json!({
            "iss": "https://op.example", "aud": "app", "iat": 1, "jti": "j1", "sid": "s1",
            "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
        });
        for (k, v) in overrides.as_object().unwrap() {
            if v.is_null() {
                base.as_object_mut().unwrap().remove(k);
            } else {
                base[k] = v.clone();
            }
        }
        base.as_object().unwrap().clone()
    }

    fn check(overrides: Value) -> Result<(), (ErrorKind, String)> {
        Profile::Logout
            .check_claims(&claims(overrides))
            .map_err(|e| (e.kind(), e.message().to_owned()))
    }

    #[test]
    fn a_logout_token_has_every_required_claim_and_no_nonce() {
        assert_eq!(check(json!({})), Ok(()));
        assert_eq!(check(json!({"sid": null, "sub": "u1"})), Ok(()));
        for (overrides, says) in [
            (json!({"iat": null}), "no `iat`"),
            (json!({"jti": null}), "no `jti`"),
            (json!({"jti": 5}), "`jti` is not a string"),
            (json!({"events": null}), "no `events`"),
            (json!({"events": []}), "`events` is not an object"),
            (
                json!({"events": {"other": {}}}),
                "no back-channel logout event",
            ),
            (
                json!({"events": {BACKCHANNEL_LOGOUT_EVENT: "yes"}}),
                "not a JSON object",
            ),
            (json!({"sid": null}), "no `sid` or `sub`"),
            (json!({"sid": 7}), "not a string"),
            (json!({"nonce": "n"}), "must not have a `nonce`"),
        ] {
            let (_, message) = check(overrides.clone()).expect_err(&overrides.to_string());
            assert!(message.contains(says), "{overrides}: {message}");
        }
        assert_eq!(
            Profile::Access.check_claims(&claims(json!({"jti": null}))),
            Ok(())
        );
    }

    #[test]
    fn a_logout_token_header_is_typed_logout_jwt_and_symmetric_only_with_a_client_secret() {
        fn header(json: &'static str) -> JoseHeader<'static> {
            serde_json::from_str(json).unwrap()
        }
        let ok = header(r#"{"alg":"RS256","typ":"logout+jwt"}"#);
        assert_eq!(
            Profile::Logout.check_header(&ok, Algorithm::RS256, false),
            Ok(())
        );
        let untyped = header(r#"{"alg":"ES256"}"#);
        assert_eq!(
            Profile::Logout.check_header(&untyped, Algorithm::ES256, false),
            Ok(())
        );
        let jwt = header(r#"{"alg":"RS256","typ":"JWT"}"#);
        assert_eq!(
            Profile::Logout.check_header(&jwt, Algorithm::RS256, false),
            Ok(())
        );
        let access = header(r#"{"alg":"RS256","typ":"at+jwt"}"#);
        let e = Profile::Logout
            .check_header(&access, Algorithm::RS256, false)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Type);
        let hmac = header(r#"{"alg":"HS256","typ":"logout+jwt"}"#);
        let e = Profile::Logout
            .check_header(&hmac, Algorithm::HS256, false)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Algorithm);
        // Keyed with the client secret of a provider that signs ID tokens so (OpenID
        // Connect Core §10.1), a symmetric logout token is as good as its ID tokens.
        assert_eq!(
            Profile::Logout.check_header(&hmac, Algorithm::HS256, true),
            Ok(())
        );
        assert_eq!(
            Profile::Access.check_header(&jwt, Algorithm::HS256, false),
            Ok(())
        );
    }
}
