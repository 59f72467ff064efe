//! The steps of validation, in order: compact form → header → key → signature → claims.
//! (The provider is picked between decoding and the header checks, by `iss`.) Each is a
//! plain function over its inputs, so each is tested on its own.

use std::borrow::Cow;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ErrorKind, ValidationError};
use crate::config::{Provider, normalize_typ};
use crate::jwks::{KeyMiss, VerifyingKey};
use crate::util::printable;

fn malformed(message: &'static str) -> ValidationError {
    ValidationError::new(ErrorKind::Malformed, message)
}

/// A token split into its three parts; nothing decoded yet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Compact<'t> {
    pub(super) header: &'t str,
    pub(super) payload: &'t str,
    pub(super) signature: &'t str,
    /// `header.payload`: what the signature covers.
    pub(super) signing_input: &'t str,
}

/// Step 1: the size limit (before any decoding) and the compact JWS form.
pub(super) fn split(token: &str, max_size: usize) -> Result<Compact<'_>, ValidationError> {
    if token.len() > max_size {
        return Err(ValidationError::new(
            ErrorKind::TooLarge,
            format!("token is longer than {max_size} bytes"),
        ));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed(
            "token is not a JWT (expected three dot-separated parts)",
        ));
    };
    if parts.next().is_some() {
        return Err(malformed("encrypted tokens (JWE) are not supported"));
    }
    Ok(Compact {
        header,
        payload,
        signature,
        signing_input: &token[..header.len() + 1 + payload.len()],
    })
}

/// The JOSE header members this crate reads. `jku`, `x5u`, `jwk` and `x5c` are never
/// read, so a token cannot point at its own keys.
#[derive(Debug, Deserialize)]
pub(super) struct JoseHeader<'a> {
    #[serde(borrow)]
    pub(super) alg: Cow<'a, str>,
    #[serde(borrow, default)]
    pub(super) kid: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub(super) typ: Option<Cow<'a, str>>,
    #[serde(default)]
    pub(super) crit: Option<Vec<String>>,
}

/// Step 2: base64url-decodes the header and the payload; the payload must be a JSON
/// object. The header is parsed from `header_bytes`, which the caller keeps.
pub(super) fn decode(
    compact: &Compact<'_>,
) -> Result<(Vec<u8>, Map<String, Value>), ValidationError> {
    let header_bytes = URL_SAFE_NO_PAD
        .decode(compact.header)
        .map_err(|_| malformed("token header is not base64url"))?;
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(compact.payload)
        .map_err(|_| malformed("token payload is not base64url"))?;
    let payload: Value = serde_json::from_slice(&payload_bytes)
        .map_err(|_| malformed("token payload is not JSON"))?;
    match payload {
        Value::Object(claims) => Ok((header_bytes, claims)),
        _ => Err(malformed("token payload is not a JSON object")),
    }
}

/// Parses the decoded header.
pub(super) fn parse_header(bytes: &[u8]) -> Result<JoseHeader<'_>, ValidationError> {
    serde_json::from_slice(bytes).map_err(|_| malformed("token header is not a valid JOSE header"))
}

/// Step 3 (the provider is chosen by it): the `iss` claim, which must be a string.
pub(super) fn issuer(claims: &Map<String, Value>) -> Result<&str, ValidationError> {
    match claims.get("iss") {
        Some(Value::String(iss)) => Ok(iss),
        Some(_) => Err(ValidationError::new(
            ErrorKind::InvalidClaim,
            "token `iss` claim is not a string",
        )),
        None => Err(ValidationError::new(
            ErrorKind::MissingClaim,
            "token has no `iss` claim",
        )),
    }
}

/// Step 4: the header against the provider: `alg` parsed and allowed (`none` never),
/// no `crit` extension, the required `typ`. Returns the algorithm.
pub(super) fn check_header(
    header: &JoseHeader<'_>,
    config: &Provider,
) -> Result<Algorithm, ValidationError> {
    let alg = parse_alg(&header.alg, &config.algorithms)?;
    if let Some(crit) = &header.crit {
        return Err(ValidationError::new(
            ErrorKind::CriticalHeader,
            match crit.first() {
                Some(name) => format!(
                    "critical header extension `{}` is not understood",
                    printable(name, 40)
                ),
                None => "empty `crit` header is not allowed".to_owned(),
            },
        ));
    }
    if let Some(required) = &config.required_typ {
        let ok = header
            .typ
            .as_deref()
            .is_some_and(|t| normalize_typ(t) == *required);
        if !ok {
            return Err(ValidationError::new(
                ErrorKind::Type,
                format!("token type (typ) must be `{required}`"),
            ));
        }
    }
    Ok(alg)
}

/// The header's `alg`, parsed and in `allowed`, as the JWT crate names it.
pub(super) fn parse_alg(
    name: &str,
    allowed: &[crate::Algorithm],
) -> Result<Algorithm, ValidationError> {
    let err = |m: String| ValidationError::new(ErrorKind::Algorithm, m);
    if name.eq_ignore_ascii_case("none") {
        return Err(err("unsigned tokens (alg `none`) are not accepted".into()));
    }
    let alg: crate::Algorithm = name.parse().map_err(|_| {
        err(format!(
            "token algorithm `{}` is not supported",
            printable(name, 40)
        ))
    })?;
    if !allowed.contains(&alg) {
        return Err(err(format!(
            "token algorithm {alg:?} is not allowed for this provider"
        )));
    }
    Ok(alg.jwt())
}

/// No key has the token's `kid`, even after a refetch (or during its cooldown).
pub(super) fn unknown_kid() -> ValidationError {
    ValidationError::new(ErrorKind::UnknownKey, "token signing key (kid) is unknown")
}

/// Step 5's failure: why no key was found, as the error a client sees.
pub(super) fn key_miss(miss: KeyMiss, alg: Algorithm) -> ValidationError {
    let (kind, message) = match miss {
        KeyMiss::UnknownKid => return unknown_kid(),
        KeyMiss::Mismatch => (
            ErrorKind::KeyMismatch,
            format!("token signing key (kid) does not fit algorithm {alg:?}"),
        ),
        KeyMiss::Ambiguous => (
            ErrorKind::KeyMismatch,
            "token has no kid and several keys fit its algorithm".to_owned(),
        ),
        KeyMiss::NoneFits => (
            ErrorKind::KeyMismatch,
            format!("token has no kid and no key fits algorithm {alg:?}"),
        ),
    };
    ValidationError::new(kind, message)
}

/// Step 6: the signature over `header.payload`: with the key parsed when the JWK set
/// loaded when there is one for `alg`, else through `jsonwebtoken`.
pub(super) fn verify_signature(
    compact: &Compact<'_>,
    key: &DecodingKey,
    parsed: Option<&VerifyingKey>,
    alg: Algorithm,
) -> Result<(), ValidationError> {
    let input = compact.signing_input.as_bytes();
    if let Some(valid) = parsed.and_then(|k| k.verify_parsed(alg, input, compact.signature)) {
        return if valid {
            Ok(())
        } else {
            Err(ValidationError::new(
                ErrorKind::Signature,
                "token signature is invalid",
            ))
        };
    }
    crate::util::crypto_backend();
    match jsonwebtoken::crypto::verify(
        compact.signature,
        compact.signing_input.as_bytes(),
        key,
        alg,
    ) {
        Ok(true) => Ok(()),
        Ok(false) => Err(ValidationError::new(
            ErrorKind::Signature,
            "token signature is invalid",
        )),
        Err(_) => Err(ValidationError::new(
            ErrorKind::Signature,
            "token signature cannot be verified",
        )),
    }
}

fn numeric(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<f64>, ValidationError> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| {
            ValidationError::new(
                ErrorKind::InvalidClaim,
                format!("token `{name}` claim is not a number"),
            )
        }),
    }
}

/// Step 7: `exp` (required unless `exp_required` is false, then checked when present),
/// `nbf` and `iat` (when present) against the leeway at `now` (seconds since the
/// epoch), and `aud` (any of the accepted values).
pub(super) fn check_claims(
    config: &Provider,
    claims: &Map<String, Value>,
    now: f64,
    exp_required: bool,
) -> Result<(), ValidationError> {
    check_times(config, claims, now, exp_required)?;
    if let Some(accepted) = &config.audience {
        let claim = &*config.audience_claim;
        check_audience(accepted.values(), claim, claims.get(claim))?;
    }
    Ok(())
}

/// Claims that only an OpenID Connect ID token has: `nonce` (Core §2), `at_hash`,
/// `c_hash` (Core §3.3.2.11) and `s_hash` (FAPI 1.0 Advanced §5.1). RFC 9068 access
/// tokens have none of them; `auth_time`, `acr`, `amr` and `azp` are left out, as
/// RFC 9068 §2.2.1 and several providers (Keycloak) put them in access tokens.
pub(super) const ID_TOKEN_CLAIMS: [&str; 4] = ["nonce", "at_hash", "c_hash", "s_hash"];

/// Step 8: a token presented as an access token must not be an ID token (RFC 8725
/// §3.11): one that carries an ID-token-only claim is refused, unless its `typ` header
/// says it is an access token (RFC 9068 `at+jwt`).
pub(super) fn check_not_id_token(
    header: &JoseHeader<'_>,
    claims: &Map<String, Value>,
) -> Result<(), ValidationError> {
    if header
        .typ
        .as_deref()
        .is_some_and(|t| normalize_typ(t) == "at+jwt")
    {
        return Ok(());
    }
    match ID_TOKEN_CLAIMS.iter().find(|c| claims.contains_key(**c)) {
        Some(claim) => Err(ValidationError::new(
            ErrorKind::IdToken,
            format!(
                "token is an ID token (it has `{claim}`), not an access token: send the \
                 access token"
            ),
        )),
        None => Ok(()),
    }
}

/// The checks that depend on the time: `exp`, `nbf`, `iat`, with the provider's
/// leeway. Made on every request, also when the verified-token cache knows the token.
pub(super) fn check_times(
    config: &Provider,
    claims: &Map<String, Value>,
    now: f64,
    exp_required: bool,
) -> Result<(), ValidationError> {
    let leeway = config.leeway.as_secs_f64();
    let exp = match numeric(claims, "exp")? {
        Some(exp) => Some(exp),
        None if exp_required => {
            return Err(ValidationError::new(
                ErrorKind::MissingClaim,
                "token has no `exp` claim",
            ));
        }
        None => None,
    };
    // RFC 7519 §4.1.4: not accepted "on or after" `exp`. With `now` in whole seconds, a
    // token is refused from the second its `exp` names.
    if exp.is_some_and(|exp| now >= exp + leeway) {
        return Err(ValidationError::new(
            ErrorKind::Expired,
            "token has expired",
        ));
    }
    if numeric(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
        return Err(ValidationError::new(
            ErrorKind::NotYetValid,
            "token is not valid yet (nbf)",
        ));
    }
    if numeric(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
        return Err(ValidationError::new(
            ErrorKind::IssuedInFuture,
            "token was issued in the future (iat)",
        ));
    }
    Ok(())
}

fn check_audience(
    accepted: &[String],
    claim: &str,
    aud: Option<&Value>,
) -> Result<(), ValidationError> {
    let not_strings = || {
        ValidationError::new(
            ErrorKind::InvalidClaim,
            format!("token `{claim}` claim is not a string or an array of strings"),
        )
    };
    let ok = |aud: &str| accepted.iter().any(|a| a == aud);
    let found = match aud {
        None => {
            return Err(ValidationError::new(
                ErrorKind::MissingClaim,
                format!("token has no `{claim}` claim"),
            ));
        }
        Some(Value::String(aud)) => ok(aud),
        Some(Value::Array(auds)) => {
            if auds.iter().any(|a| !a.is_string()) {
                return Err(not_strings());
            }
            auds.iter().filter_map(Value::as_str).any(ok)
        }
        Some(_) => return Err(not_strings()),
    };
    if !found {
        return Err(ValidationError::new(
            ErrorKind::Audience,
            "token audience is not accepted",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::time::Duration;

    fn provider() -> Provider {
        Provider::builder("p")
            .issuer("https://issuer.example")
            .audience(["api", "cli"])
            .leeway(Duration::from_secs(60))
            .hmac_secret([1u8; 32])
            .build()
            .unwrap()
    }

    fn check(claims: Value) -> Result<(), ErrorKind> {
        check_claims(&provider(), claims.as_object().unwrap(), 1_000_000.0, true)
            .map_err(|e| e.kind())
    }

    #[test]
    fn time_claims_with_leeway() {
        assert_eq!(check(json!({"aud": "api"})), Err(ErrorKind::MissingClaim));
        assert_eq!(
            check(json!({"aud": "api", "exp": "soon"})),
            Err(ErrorKind::InvalidClaim)
        );
        assert_eq!(check(json!({"aud": "api", "exp": 999_945})), Ok(()));
        assert_eq!(check(json!({"aud": "api", "exp": 999_940.5})), Ok(()));
        // Refused on the second `exp` names (plus the leeway), not one second later.
        assert_eq!(
            check(json!({"aud": "api", "exp": 999_940})),
            Err(ErrorKind::Expired)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 999_939})),
            Err(ErrorKind::Expired)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "nbf": 1_000_059})),
            Ok(())
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "nbf": 1_000_061})),
            Err(ErrorKind::NotYetValid)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "iat": 1_000_061})),
            Err(ErrorKind::IssuedInFuture)
        );
        assert_eq!(
            check(json!({"aud": "api", "exp": 2e6, "iat": 999_000})),
            Ok(())
        );
    }

    #[test]
    fn audience_any_of() {
        assert_eq!(check(json!({"exp": 2e6, "aud": ["other", "cli"]})), Ok(()));
        assert_eq!(
            check(json!({"exp": 2e6, "aud": "other"})),
            Err(ErrorKind::Audience)
        );
        assert_eq!(
            check(json!({"exp": 2e6, "aud": []})),
            Err(ErrorKind::Audience)
        );
        assert_eq!(
            check(json!({"exp": 2e6, "aud": [1]})),
            Err(ErrorKind::InvalidClaim)
        );
        assert_eq!(check(json!({"exp": 2e6})), Err(ErrorKind::MissingClaim));
    }

    #[test]
    fn alg_parsing() {
        let allowed = [crate::Algorithm::RS256];
        assert_eq!(
            parse_alg("none", &allowed).unwrap_err().kind(),
            ErrorKind::Algorithm
        );
        assert_eq!(
            parse_alg("NoNe", &allowed).unwrap_err().kind(),
            ErrorKind::Algorithm
        );
        assert!(
            parse_alg("HS256", &allowed)
                .unwrap_err()
                .message()
                .contains("not allowed")
        );
        assert!(
            parse_alg("XX\"1", &allowed)
                .unwrap_err()
                .message()
                .contains("`XX'1`")
        );
        assert_eq!(parse_alg("RS256", &allowed).unwrap(), Algorithm::RS256);
    }

    #[test]
    fn split_checks_size_and_form() {
        let c = split("a.b.c", 5).unwrap();
        assert_eq!(
            (c.header, c.payload, c.signature, c.signing_input),
            ("a", "b", "c", "a.b")
        );
        assert_eq!(split("a.b.c", 4).unwrap_err().kind(), ErrorKind::TooLarge);
        assert_eq!(split("a.b", 10).unwrap_err().kind(), ErrorKind::Malformed);
        assert!(
            split("a.b.c.d.e", 10)
                .unwrap_err()
                .message()
                .contains("JWE")
        );
    }

    fn b64(v: &str) -> String {
        URL_SAFE_NO_PAD.encode(v)
    }

    #[test]
    fn decode_needs_base64url_json_and_an_object_payload() {
        let token = |h: &str, p: &str| format!("{h}.{p}.sig");
        let decoded = |t: &str| decode(&split(t, 1000).unwrap()).map(|(_, p)| p);
        let ok = token(&b64(r#"{"alg":"RS256"}"#), &b64(r#"{"iss":"x"}"#));
        assert_eq!(decoded(&ok).unwrap()["iss"], "x");
        for (bad, says) in [
            (token("!!", &b64("{}")), "header is not base64url"),
            (token(&b64("{}"), "!!"), "payload is not base64url"),
            (token(&b64("{}"), &b64("nope")), "payload is not JSON"),
            (token(&b64("{}"), &b64("[1]")), "not a JSON object"),
        ] {
            let e = decoded(&bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Malformed);
            assert!(e.message().contains(says), "{}", e.message());
        }
        assert_eq!(
            parse_header(b"[]").unwrap_err().kind(),
            ErrorKind::Malformed
        );
        let h = parse_header(br#"{"alg":"ES256","kid":"k","jku":"https://evil"}"#).unwrap();
        assert_eq!((&*h.alg, h.kid.as_deref()), ("ES256", Some("k")));
    }

    #[test]
    fn issuer_must_be_a_string() {
        let claims = |v: Value| v.as_object().unwrap().clone();
        assert_eq!(issuer(&claims(json!({"iss": "x"}))).unwrap(), "x");
        assert_eq!(
            issuer(&claims(json!({"iss": 1}))).unwrap_err().kind(),
            ErrorKind::InvalidClaim
        );
        assert_eq!(
            issuer(&claims(json!({}))).unwrap_err().kind(),
            ErrorKind::MissingClaim
        );
    }

    #[test]
    fn header_checks_alg_crit_and_typ() {
        let typed = Provider::builder("p")
            .issuer("https://issuer.example")
            .audience("api")
            .algorithms([crate::Algorithm::ES256])
            .required_typ("at+jwt")
            .jwks_json(r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#)
            .build()
            .unwrap();
        let check = |h: &str| {
            check_header(&parse_header(h.as_bytes()).unwrap(), &typed).map_err(|e| e.kind())
        };
        assert_eq!(
            check(r#"{"alg":"ES256","typ":"application/AT+JWT"}"#),
            Ok(Algorithm::ES256)
        );
        assert_eq!(check(r#"{"alg":"ES256"}"#), Err(ErrorKind::Type));
        assert_eq!(
            check(r#"{"alg":"RS256","typ":"at+jwt"}"#),
            Err(ErrorKind::Algorithm)
        );
        assert_eq!(
            check(r#"{"alg":"ES256","typ":"at+jwt","crit":["exp"]}"#),
            Err(ErrorKind::CriticalHeader)
        );
        assert_eq!(
            check(r#"{"alg":"ES256","typ":"at+jwt","crit":[]}"#),
            Err(ErrorKind::CriticalHeader)
        );
    }

    #[test]
    fn an_id_token_is_known_by_its_own_claims_unless_typed_as_an_access_token() {
        let check = |header: &str, claims: Value| {
            check_not_id_token(
                &parse_header(header.as_bytes()).unwrap(),
                claims.as_object().unwrap(),
            )
            .map_err(|e| (e.kind(), e.message().to_owned()))
        };
        let access = json!({"sub": "a", "scope": "read", "client_id": "c", "auth_time": 1,
                            "azp": "c", "acr": "1", "amr": ["pwd"]});
        assert_eq!(check(r#"{"alg":"ES256"}"#, access.clone()), Ok(()));
        for claim in ID_TOKEN_CLAIMS {
            let mut id = access.clone();
            id[claim] = json!("x");
            let (kind, message) = check(r#"{"alg":"ES256","typ":"JWT"}"#, id.clone()).unwrap_err();
            assert_eq!(kind, ErrorKind::IdToken);
            assert!(message.contains(claim), "{message}");
            // RFC 9068's explicit type wins.
            assert_eq!(
                check(r#"{"alg":"ES256","typ":"application/at+jwt"}"#, id),
                Ok(())
            );
        }
    }

    #[test]
    fn every_key_miss_has_one_error() {
        assert_eq!(
            key_miss(KeyMiss::UnknownKid, Algorithm::RS256).kind(),
            ErrorKind::UnknownKey
        );
        for miss in [KeyMiss::Mismatch, KeyMiss::Ambiguous, KeyMiss::NoneFits] {
            let e = key_miss(miss, Algorithm::ES256);
            assert_eq!(e.kind(), ErrorKind::KeyMismatch);
            assert!(e.message().contains("kid"), "{}", e.message());
        }
    }

    #[test]
    fn signature_is_verified_over_header_and_payload() {
        crate::util::crypto_backend();
        let key = jsonwebtoken::EncodingKey::from_secret(&[1u8; 32]);
        let token =
            jsonwebtoken::encode(&jsonwebtoken::Header::default(), &json!({"a": 1}), &key).unwrap();
        let verifying = DecodingKey::from_secret(&[1u8; 32]);
        let compact = split(&token, 1000).unwrap();
        assert!(verify_signature(&compact, &verifying, None, Algorithm::HS256).is_ok());
        let other = DecodingKey::from_secret(&[2u8; 32]);
        assert_eq!(
            verify_signature(&compact, &other, None, Algorithm::HS256)
                .unwrap_err()
                .kind(),
            ErrorKind::Signature
        );
        let tampered = format!(
            "{}.{}.{}",
            compact.header,
            b64(r#"{"a":2}"#),
            compact.signature
        );
        let compact = split(&tampered, 1000).unwrap();
        assert_eq!(
            verify_signature(&compact, &verifying, None, Algorithm::HS256)
                .unwrap_err()
                .kind(),
            ErrorKind::Signature
        );
    }
}
