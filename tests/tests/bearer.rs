//! The bearer layer and extractors over HTTP: statuses, RFC 6750 headers, bodies, and
//! the attack classes of RFC 8725.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::dev::DevIssuer;
use oauth2::{Algorithm, Authenticator, Provider};
use oauth2_tests::{TestApp, client, error_of, get_with_token, routes, serve};
use serde_json::json;

fn b64(v: &serde_json::Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test]
async fn valid_tokens_of_every_algorithm_reach_the_handler() {
    let app = TestApp::start().await;
    for alg in [Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA] {
        let token = app.idp.token().subject("alice").algorithm(alg).sign();
        let res = app.get("/me", &token).await;
        assert_eq!(res.status(), 200, "{alg:?}");
        assert_eq!(res.text().await.unwrap(), "alice");
    }
    // The scheme is case-insensitive (RFC 7235).
    let token = app.idp.token().sign();
    let res = client()
        .get(format!("{}/me", app.url))
        .header("authorization", format!("bEaReR {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn missing_or_malformed_header_is_400_invalid_request() {
    let app = TestApp::start_with(|b| b.realm("test-api")).await;
    let res = client()
        .get(format!("{}/me", app.url))
        .send()
        .await
        .unwrap();
    let e = error_of(res).await;
    assert_eq!(e.status, 400);
    assert_eq!(e.error, "invalid_request");
    let challenge = e.challenge.unwrap();
    assert!(
        challenge.starts_with(r#"Bearer realm="test-api", error="invalid_request""#),
        "{challenge}"
    );

    for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b"] {
        let res = client()
            .get(format!("{}/me", app.url))
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        let e = error_of(res).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (400, "invalid_request"),
            "{header}"
        );
    }
}

/// The RFC 6750 §3.1 answer, when asked for: no credentials → 401 and a bare challenge;
/// a malformed header is still a 400 and a bad token a 401 with its error code.
#[tokio::test]
async fn a_missing_token_can_get_the_bare_rfc6750_challenge() {
    let app = TestApp::start_with(|b| b.realm("test-api").missing_token_challenge()).await;
    let res = client()
        .get(format!("{}/me", app.url))
        .send()
        .await
        .unwrap();
    let e = error_of(res).await;
    assert_eq!(e.status, 401);
    assert_eq!(e.challenge.as_deref(), Some(r#"Bearer realm="test-api""#));
    assert!(
        e.description.contains("no bearer token"),
        "{}",
        e.description
    );

    let res = client()
        .get(format!("{}/me", app.url))
        .header("authorization", "Basic dXNlcjpwYXNz")
        .send()
        .await
        .unwrap();
    let e = error_of(res).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    assert!(e.challenge.unwrap().contains(r#"error="invalid_request""#));

    let e = error_of(app.get("/me", "not.a.token").await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(e.challenge.unwrap().contains(r#"error="invalid_token""#));
}

#[tokio::test]
async fn bad_tokens_are_401_invalid_token_with_a_reason() {
    let app = TestApp::start().await;
    let idp = &app.idp;
    let valid = idp.token().sign();
    let (head, rest) = valid.split_once('.').unwrap();
    let (_, sig) = rest.split_once('.').unwrap();
    let tampered = format!(
        "{head}.{}.{sig}",
        b64(&json!({"iss": idp.issuer(), "sub": "mallory", "aud": "dev-api", "exp": 4e9}))
    );

    let cases = [
        (
            "expired",
            idp.token().expires_in(-120).sign(),
            "token has expired",
        ),
        (
            "not yet valid",
            idp.token().not_before_in(600).sign(),
            "not valid yet",
        ),
        (
            "issued in the future",
            idp.token().issued_in(600).sign(),
            "issued in the future",
        ),
        (
            "wrong audience",
            idp.token().audience("other-api").sign(),
            "audience is not accepted",
        ),
        (
            "no audience",
            idp.token().without_claim("aud").sign(),
            "no `aud` claim",
        ),
        (
            "wrong issuer",
            idp.token().claim("iss", "https://evil.example").sign(),
            "issuer is not accepted",
        ),
        (
            "no exp",
            idp.token().without_claim("exp").sign(),
            "no `exp` claim",
        ),
        ("tampered payload", tampered, "signature is invalid"),
        (
            "unknown kid",
            idp.token().kid("no-such-key").sign(),
            "signing key (kid) is unknown",
        ),
        (
            "kid of another key type",
            idp.token()
                .algorithm(Algorithm::ES256)
                .kid("rs256-1")
                .sign(),
            "does not fit",
        ),
        (
            "crit header",
            idp.token()
                .header("crit", json!(["exp"]))
                .header("exp", 1)
                .sign(),
            "critical header",
        ),
        ("not a JWT", "abc".to_owned(), "not a JWT"),
        ("JWE", "a.b.c.d.e".to_owned(), "JWE"),
        ("bad base64", "!!.!!.!!".to_owned(), "not base64url"),
        (
            "too large",
            idp.token().claim("pad", "x".repeat(9000)).sign(),
            "longer than 8192",
        ),
        (
            "claims do not fit the handler's type",
            idp.token().without_claim("sub").sign(),
            "token has no `sub` claim",
        ),
    ];
    for (name, token, reason) in cases {
        let e = error_of(app.get("/me", &token).await).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (401, "invalid_token"),
            "{name}: {e:?}"
        );
        assert!(e.description.contains(reason), "{name}: {}", e.description);
        let challenge = e.challenge.expect("WWW-Authenticate");
        assert!(
            challenge.contains(r#"error="invalid_token""#),
            "{name}: {challenge}"
        );
        assert!(
            challenge.contains("error_description=\""),
            "{name}: {challenge}"
        );
        if token.len() > 20 {
            assert!(
                !e.description.contains(&token[token.len() - 20..]),
                "{name}: token echoed"
            );
        }
    }
}

#[tokio::test]
async fn leeway_accepts_small_clock_skew() {
    let app = TestApp::start().await;
    let token = app
        .idp
        .token()
        .expires_in(-30)
        .not_before_in(30)
        .issued_in(30)
        .sign();
    assert_eq!(app.get("/me", &token).await.status(), 200);
}

#[tokio::test]
async fn alg_none_and_algorithm_confusion_are_rejected() {
    let app = TestApp::start().await;
    let claims = json!({"iss": app.idp.issuer(), "sub": "mallory", "aud": "dev-api", "exp": 4e9});
    for alg in ["none", "None", "NONE"] {
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": alg, "typ": "JWT"})),
            b64(&claims)
        );
        let e = error_of(app.get("/me", &token).await).await;
        assert_eq!(e.status, 401, "{alg}");
        assert!(e.description.contains("alg `none`"), "{}", e.description);
    }
    // HS256 "signed" with the provider's public RSA key as the HMAC secret.
    let jwks = app.idp.jwks();
    let rsa = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kty"] == "RSA")
        .unwrap();
    for secret in [rsa.to_string(), rsa["n"].as_str().unwrap().to_owned()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = Some(rsa["kid"].as_str().unwrap().to_owned());
        let token = jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap();
        let e = error_of(app.get("/me", &token).await).await;
        assert_eq!(e.status, 401);
        assert!(
            e.description.contains("HS256 is not allowed"),
            "{}",
            e.description
        );
    }
}

#[tokio::test]
async fn jku_x5u_and_embedded_jwk_headers_are_never_trusted() {
    let app = TestApp::start().await;
    // The attacker runs an issuer of their own and points the headers at it.
    let evil = DevIssuer::start().await.unwrap();
    let evil_jwks = evil.jwks();
    let evil_key = evil_jwks["keys"][0].clone();
    let token = evil
        .token()
        .claim("iss", app.idp.issuer())
        .kid("rs256-1")
        .header("jku", evil.jwks_url())
        .header("x5u", format!("{}/cert.pem", evil.issuer()))
        .header("jwk", evil_key)
        .sign();
    let e = error_of(app.get("/me", &token).await).await;
    assert_eq!(e.status, 401);
    assert!(
        e.description.contains("signature is invalid"),
        "{}",
        e.description
    );
    assert_eq!(evil.stats().jwks, 0, "the jku URL was fetched");
    assert_eq!(evil.stats().discovery, 0);
}

#[tokio::test]
async fn token_without_kid_needs_exactly_one_fitting_key() {
    let app = TestApp::start().await;
    // One key per algorithm: without `kid`, the ES256 key is the only fit.
    let token = app
        .idp
        .token()
        .algorithm(Algorithm::ES256)
        .without_kid()
        .sign();
    assert_eq!(app.get("/me", &token).await.status(), 200);
}

#[tokio::test]
async fn public_paths_optional_claims_and_raw_claims() {
    let app = TestApp::start().await;
    let c = client();
    let res = c.get(format!("{}/", app.url)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Prefixes match whole segments only.
    let res = c
        .get(format!("{}/publicity", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    let maybe = format!("{}/public/maybe", app.url);
    assert_eq!(
        c.get(&maybe).send().await.unwrap().text().await.unwrap(),
        "anonymous"
    );
    let good = app.idp.token().subject("bob").sign();
    assert_eq!(
        c.get(&maybe)
            .bearer_auth(&good)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "bob"
    );
    let bad = app.idp.token().expires_in(-3600).sign();
    let res = c.get(&maybe).bearer_auth(&bad).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "anonymous");

    let res = app
        .get(
            "/raw",
            &app.idp.token().claim("email", "bob@example.com").sign(),
        )
        .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["provider"], "dev");
    assert_eq!(body["claims"]["email"], "bob@example.com");
}

#[tokio::test]
async fn scopes_from_scope_or_scp_and_403_insufficient_scope() {
    let app = TestApp::start().await;
    let e = error_of(
        app.get("/admin", &app.idp.token().scope("read write").sign())
            .await,
    )
    .await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    let challenge = e.challenge.unwrap();
    assert!(
        challenge.contains(r#"error="insufficient_scope""#),
        "{challenge}"
    );
    assert!(challenge.ends_with(r#"scope="admin""#), "{challenge}");
    assert_eq!(
        app.get("/admin", &app.idp.token().scope("read admin").sign())
            .await
            .status(),
        200
    );
    assert_eq!(
        app.get(
            "/admin",
            &app.idp.token().claim("scp", json!(["admin"])).sign()
        )
        .await
        .status(),
        200
    );
}

#[tokio::test]
async fn token_from_a_cookie_when_configured() {
    let app = TestApp::start_with(|b| b.cookie("access_token")).await;
    let token = app.idp.token().subject("carol").sign();
    for value in [token.clone(), format!("\"Bearer {token}\"")] {
        let res = client()
            .get(format!("{}/me", app.url))
            .header("cookie", format!("theme=dark; access_token={value}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.unwrap(), "carol");
    }
}

#[tokio::test]
async fn cors_preflight_reaches_the_cors_layer_outside() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(idp.provider("dev"))
        .build()
        .unwrap();
    let app = routes()
        .layer(auth.layer())
        .layer(tower_http::cors::CorsLayer::permissive());
    let url = serve(app).await;
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{url}/me"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");

    // Without a CORS layer, the preflight reaches the router (405: `/me` has no OPTIONS
    // route) instead of being rejected for lack of a token; a plain OPTIONS is no
    // preflight and needs a token.
    let bare = serve(routes().layer(auth.layer())).await;
    let preflight = client()
        .request(reqwest::Method::OPTIONS, format!("{bare}/me"))
        .header("origin", "https://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 405);
    let res = client()
        .request(reqwest::Method::OPTIONS, format!("{bare}/me"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn one_hook_replaces_every_error_response() {
    use axum::response::IntoResponse;
    let app = TestApp::start_with(|b| {
        b.on_error(|e| {
            (
                axum::http::StatusCode::from_u16(e.status().as_u16()).unwrap(),
                [("x-auth-error", e.error_code())],
                format!("custom: {}", e.description()),
            )
                .into_response()
        })
    })
    .await;
    let res = client()
        .get(format!("{}/me", app.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["x-auth-error"], "invalid_request");
    assert!(
        res.text()
            .await
            .unwrap()
            .starts_with("custom: no bearer token")
    );
    let res = app
        .get("/me", &app.idp.token().expires_in(-999).sign())
        .await;
    assert_eq!(res.status(), 401);
    assert_eq!(res.text().await.unwrap(), "custom: token has expired");
    // Extractor rejections use it too.
    let res = app
        .get("/me", &app.idp.token().without_claim("sub").sign())
        .await;
    assert_eq!(res.headers()["x-auth-error"], "invalid_token");
    let res = app.get("/admin", &app.idp.token().sign()).await;
    assert_eq!(res.headers()["x-auth-error"], "insufficient_scope");
}

#[tokio::test]
async fn several_providers_are_told_apart_by_issuer() {
    let a = DevIssuer::start().await.unwrap();
    let b = DevIssuer::start().await.unwrap();
    let stranger = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(a.provider("alpha"))
        .provider(b.provider("beta").audience(["dev-api", "beta-cli"]))
        .build()
        .unwrap();
    auth.ready().await;
    let url = serve(routes().layer(auth.layer())).await;
    let raw = |token: String| {
        let url = url.clone();
        async move { get_with_token(&url, "/raw", &token).await }
    };
    let body: serde_json::Value = raw(a.token().sign()).await.json().await.unwrap();
    assert_eq!(body["provider"], "alpha");
    let body: serde_json::Value = raw(b.token().audience("beta-cli").sign())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["provider"], "beta");
    // alpha does not accept beta's extra audience.
    let e = error_of(raw(a.token().audience("beta-cli").sign()).await).await;
    assert_eq!(e.status, 401);
    // Signed by beta's key but claiming alpha's issuer: verified against alpha only.
    let e = error_of(raw(b.token().claim("iss", a.issuer()).sign()).await).await;
    assert_eq!(e.status, 401);
    let e = error_of(raw(stranger.token().sign()).await).await;
    assert_eq!(e.status, 401);
    assert!(e.description.contains("issuer is not accepted"));
}

#[tokio::test]
async fn hmac_provider_accepts_only_its_secret() {
    let secret = "a shared secret that is at least 32 bytes long";
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("hs")
                .issuer("https://hs.example")
                .audience("api")
                .hmac_secret(secret),
        )
        .build()
        .unwrap();
    let url = serve(routes().layer(auth.layer())).await;
    let claims = json!({"iss": "https://hs.example", "sub": "svc", "aud": "api", "exp": 4e9});
    let sign = |key: &[u8], alg| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(alg),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(key),
        )
        .unwrap()
    };
    let get = |token: String| {
        let url = url.clone();
        async move { get_with_token(&url, "/me", &token).await }
    };
    assert_eq!(
        get(sign(secret.as_bytes(), jsonwebtoken::Algorithm::HS256))
            .await
            .status(),
        200
    );
    assert_eq!(
        get(sign(secret.as_bytes(), jsonwebtoken::Algorithm::HS512))
            .await
            .status(),
        200
    );
    let e = error_of(
        get(sign(
            b"another secret of at least thirty-two bytes",
            jsonwebtoken::Algorithm::HS256,
        ))
        .await,
    )
    .await;
    assert_eq!(e.status, 401);
    assert!(e.description.contains("signature is invalid"));
}

#[tokio::test]
async fn required_typ_for_rfc9068_access_tokens() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(idp.provider("dev").required_typ("at+jwt"))
        .build()
        .unwrap();
    auth.ready().await;
    let v = auth.validator();
    assert!(
        v.validate(&idp.token().header("typ", "at+jwt").sign())
            .await
            .is_ok()
    );
    assert!(
        v.validate(&idp.token().header("typ", "application/AT+JWT").sign())
            .await
            .is_ok()
    );
    let e = v.validate(&idp.token().sign()).await.unwrap_err();
    assert_eq!(e.kind(), oauth2::validation::ErrorKind::Type);
}

#[tokio::test]
async fn hostile_inputs_never_crash_the_server() {
    let app = TestApp::start().await;
    let valid = app.idp.token().sign();
    let mut inputs: Vec<String> = vec![
        ".".into(),
        "..".into(),
        "...".into(),
        "a..b".into(),
        "=".repeat(100),
        format!("{}.{}.", b64(&json!({"alg": 5})), b64(&json!({}))),
        format!(
            "{}.{}.x",
            b64(&json!({"alg": "RS256", "kid": ["a"]})),
            b64(&json!([]))
        ),
        format!(
            "{}.{}.x",
            b64(&json!({"alg": "RS256", "alg": "none"})),
            b64(&json!({"iss": 1}))
        ),
        format!("{}.{}.x", b64(&json!("str")), b64(&json!(null))),
        format!(
            "{}.{}.x",
            b64(&json!({"alg": "RS256"})),
            URL_SAFE_NO_PAD.encode("[".repeat(5000))
        ),
    ];
    // Every truncation and a flipped byte at many positions of a valid token.
    for i in (1..valid.len()).step_by(7) {
        inputs.push(valid[..i].to_owned());
        let mut bytes = valid.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        inputs.push(String::from_utf8(bytes).unwrap());
    }
    for token in &inputs {
        let status = app.get("/me", token).await.status().as_u16();
        assert!(status == 401 || status == 400, "{token}: {status}");
    }
    assert_eq!(app.get("/me", &valid).await.status(), 200);
}

#[tokio::test]
async fn the_audience_can_come_from_another_claim_as_cognito_access_tokens_need() {
    let idp = DevIssuer::start().await.unwrap();
    let auth = Authenticator::builder()
        .provider(
            idp.provider("cognito")
                .audience("app-client-1")
                .audience_claim("client_id"),
        )
        .build()
        .unwrap();
    auth.ready().await;
    let url = serve(routes().layer(auth.layer())).await;
    // An access token: `client_id`, no `aud`.
    let access = idp
        .token()
        .without_claim("aud")
        .claim("client_id", "app-client-1")
        .claim("token_use", "access")
        .sign();
    assert_eq!(get_with_token(&url, "/me", &access).await.status(), 200);
    // The pool's ID token: an `aud` naming the client, but no `client_id`.
    let id_token = idp
        .token()
        .audience("app-client-1")
        .claim("token_use", "id")
        .sign();
    let e = error_of(get_with_token(&url, "/me", &id_token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("no `client_id` claim"),
        "{}",
        e.description
    );
    // Another app client's access token.
    let other = idp
        .token()
        .without_claim("aud")
        .claim("client_id", "app-client-2")
        .sign();
    let e = error_of(get_with_token(&url, "/me", &other).await).await;
    assert_eq!(e.status, 401);
    assert!(e.description.contains("audience"), "{}", e.description);
}

#[tokio::test]
async fn an_issuer_that_differs_only_by_a_trailing_slash_is_refused_with_a_hint() {
    let app = TestApp::start().await;
    let slashed = format!("{}/", app.idp.issuer());
    let token = app.idp.token().claim("iss", slashed).sign();
    let e = error_of(app.get("/me", &token).await).await;
    assert_eq!((e.status, e.error.as_str()), (401, "invalid_token"));
    assert!(
        e.description.contains("only by a trailing `/`"),
        "{}",
        e.description
    );
    // Another issuer altogether gets no hint.
    let token = app
        .idp
        .token()
        .claim("iss", "https://elsewhere.example")
        .sign();
    let e = error_of(app.get("/me", &token).await).await;
    assert_eq!(e.description, "token issuer is not accepted");
}
