//! The checks of an introspection answer (RFC 7662 §2.2) for an active token: the same
//! rules a JWT access token meets, on the claims the provider returned.

use serde_json::{Map, Value};

use super::{ErrorKind, ValidationError, steps};
use crate::claims::Authenticated;
use crate::config::Provider;

/// The claims of a token the provider called active, checked: `iss` (when given) the
/// provider's, `token_type` (when given) `Bearer`, no `cnf` (a sender-constrained
/// token is not a bearer token), `exp`/`nbf`/`iat` with the leeway, and `aud`.
pub(super) fn check(
    config: &Provider,
    claims: Map<String, Value>,
    now: f64,
) -> Result<Authenticated, ValidationError> {
    if let Some(iss) = claims.get("iss") {
        let Some(iss) = iss.as_str() else {
            return Err(ValidationError::new(
                ErrorKind::InvalidClaim,
                "introspected token's `iss` is not a string",
            ));
        };
        if !config.is_issuer(iss) {
            return Err(ValidationError::new(
                ErrorKind::Issuer,
                "introspected token's issuer is not the provider's",
            ));
        }
    }
    if let Some(token_type) = claims.get("token_type")
        && !token_type
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
    {
        return Err(ValidationError::new(
            ErrorKind::InvalidClaim,
            "introspected token is not a bearer access token (its `token_type`)",
        ));
    }
    if claims.contains_key("cnf") {
        return Err(ValidationError::new(
            ErrorKind::InvalidClaim,
            "introspected token is sender-constrained (`cnf`): it cannot be used as a bearer token",
        ));
    }
    steps::check_claims(config, &claims, now, false)?;
    Ok(Authenticated::new(
        config.name.clone(),
        Value::Object(claims),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn provider() -> Provider {
        Provider::builder("corp")
            .issuer("https://idp.example")
            .audience("api")
            .hmac_secret([7u8; 32])
            .introspection_client_id("rs")
            .introspection_client_secret("rs-secret")
            .introspection_endpoint("https://idp.example/introspect")
            .build()
            .unwrap()
    }

    fn check_json(claims: Value) -> Result<Authenticated, ErrorKind> {
        let Value::Object(claims) = claims else {
            unreachable!()
        };
        check(&provider(), claims, 1_000_000.0).map_err(|e| e.kind())
    }

    #[test]
    fn an_active_answer_meets_the_access_token_rules() {
        let ok = json!({"iss": "https://idp.example", "aud": "api", "exp": 1_000_100,
                        "sub": "alice", "scope": "read", "token_type": "Bearer"});
        let auth = check_json(ok.clone()).unwrap();
        assert_eq!(auth.subject(), Some("alice"));
        assert_eq!(auth.provider(), "corp");
        assert!(auth.scopes().contains("read"));
        // Optional members may be absent, but `aud` is as required as in a JWT.
        assert!(check_json(json!({"aud": ["x", "api"]})).is_ok());

        let with = |key: &str, value: Value| {
            let mut claims = ok.clone();
            claims[key] = value;
            check_json(claims).unwrap_err()
        };
        assert_eq!(
            with("iss", json!("https://evil.example")),
            ErrorKind::Issuer
        );
        assert_eq!(with("iss", json!(1)), ErrorKind::InvalidClaim);
        assert_eq!(with("aud", json!("other")), ErrorKind::Audience);
        assert_eq!(with("exp", json!(999_000)), ErrorKind::Expired);
        assert_eq!(with("nbf", json!(1_000_500)), ErrorKind::NotYetValid);
        assert_eq!(
            with("token_type", json!("refresh_token")),
            ErrorKind::InvalidClaim
        );
        assert_eq!(
            with(
                "cnf",
                json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"})
            ),
            ErrorKind::InvalidClaim
        );
        assert_eq!(
            check_json(json!({"sub": "alice"})).unwrap_err(),
            ErrorKind::MissingClaim
        );
    }
}
