//! The checks of an introspection answer (RFC 7662 §2.2) for an active token: the same
//! rules a JWT access token meets, on the claims the provider returned.

use serde_json::{Map, Value};

use super::{ErrorKind, ValidationError, steps};
use crate::claims::Authenticated;
use crate::config::Provider;

/// The claims of a token the provider called active, checked: `iss` (when given) the
/// provider's, `token_type` (when given) `Bearer` (or `DPoP` for a DPoP-bound token), no
/// other `cnf` than `jkt`, `exp`/`nbf`/`iat` with the leeway, and `aud`.
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
    // A DPoP-bound token (`cnf.jkt`, `token_type` DPoP) goes on to the DPoP checks of
    // the request; another confirmation (mTLS `x5t#S256`) cannot be checked here.
    let dpop_bound = claims
        .get("cnf")
        .is_some_and(|cnf| cnf.get("jkt").is_some_and(Value::is_string));
    if let Some(token_type) = claims.get("token_type")
        && !token_type.as_str().is_some_and(|t| {
            t.eq_ignore_ascii_case("bearer") || (dpop_bound && t.eq_ignore_ascii_case("dpop"))
        })
    {
        return Err(ValidationError::new(
            ErrorKind::InvalidClaim,
            "introspected token is not an access token of a known type (its `token_type`)",
        ));
    }
    if claims.contains_key("cnf") && !dpop_bound {
        return Err(ValidationError::new(
            ErrorKind::InvalidClaim,
            "introspected token is bound to a client certificate (`cnf`), which is not \
             checked here",
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
        assert_eq!(with("token_type", json!("DPoP")), ErrorKind::InvalidClaim);
        let x5t = json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"});
        assert_eq!(with("cnf", x5t), ErrorKind::InvalidClaim);
        // A DPoP-bound token passes here; the request's proof is checked next.
        let mut bound = ok.clone();
        bound["cnf"] = json!({"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"});
        bound["token_type"] = json!("DPoP");
        assert!(check_json(bound).is_ok());
        assert_eq!(
            check_json(json!({"sub": "alice"})).unwrap_err(),
            ErrorKind::MissingClaim
        );
    }
}
