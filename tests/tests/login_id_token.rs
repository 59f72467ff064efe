//! The callback's ID token and userinfo checks, end to end: the in-process dev issuer
//! signs in at once and issues ID tokens whose claims each case bends (a real provider
//! cannot be made to send bad ones). Every bent token is refused with 400
//! `invalid_id_token` (or `userinfo_failed`) naming the check, and no session starts.

use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession, SessionRejection};
use oauth2_tests::browser::{Browser, location};
use serde_json::{Value, json};

const SECRET: &str = "the ID token test's session secret, 32+ bytes";

async fn me(session: LoginSession) -> Json<Value> {
    Json(Value::Object(session.claims().clone()))
}

/// The session's access token, refreshed when it is about to expire.
async fn token(session: LoginSession) -> Result<String, SessionRejection> {
    session.access_token().await
}

/// An app logging in through `idp` as client `web`; returns its base URL.
async fn app(idp: &DevIssuer) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let login = Login::builder()
        .base_url(&base)
        .session_secret(SECRET)
        .provider(
            LoginProvider::builder("dev")
                .issuer(idp.issuer())
                .client_id("web")
                .client_secret("dev-secret")
                .token_endpoint(),
        )
        .build()
        .unwrap();
    let routes = Router::new()
        .route("/me", get(me))
        .route("/token", get(token))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    base
}

/// One login; returns the callback's response and the browser.
async fn log_in(base: &str) -> (reqwest::Response, Browser) {
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/dev/login?return_to=/me")).await;
    assert_eq!(start.status(), 303);
    let back = b.get(&location(&start)).await;
    assert_eq!(back.status(), 303, "the dev issuer signs in at once");
    let callback = location(&back);
    assert!(callback.starts_with(&format!("{base}/auth/dev/callback?code=")));
    (b.get(&callback).await, b)
}

#[tokio::test]
async fn the_dev_issuer_logs_in_with_a_valid_id_token() {
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    let (done, b) = log_in(&base).await;
    assert_eq!(done.status(), 303);
    assert_eq!(location(&done), format!("{base}/me"));
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(me["sub"], "dev-user");
    assert_eq!(me["name"], "Dev User");
    assert_eq!(me["aud"], "web");
    assert!(me["at_hash"].is_string(), "at_hash was present and checked");
}

#[tokio::test]
async fn bent_id_tokens_and_userinfo_are_refused() {
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let cases = [
        (json!({"nonce": "another login's"}), "nonce` does not match"),
        (json!({"nonce": null}), "no `nonce`"),
        (json!({"aud": "another-client"}), "audience is not accepted"),
        (
            json!({"aud": ["web", "api"]}),
            "several audiences but no `azp`",
        ),
        (json!({"azp": "another-client"}), "`azp` is not this client"),
        (json!({"exp": now - 3600}), "expired"),
        (json!({"iat": null}), "no `iat`"),
        (json!({"sub": null}), "no `sub`"),
        (
            json!({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}),
            "`at_hash` does not match",
        ),
        (
            json!({"iss": "http://127.0.0.1:9"}),
            "issuer is not accepted",
        ),
    ];
    for (claims, reason) in cases {
        idp.set_id_token_claims(claims.clone());
        refused(&base, &claims.to_string(), reason).await;
    }

    // The userinfo `sub` must be the ID token's.
    idp.set_id_token_claims(json!({}));
    idp.set_userinfo_claims(json!({"sub": "mallory"}));
    let (done, _) = log_in(&base).await;
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["error"], "userinfo_failed");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("`sub`")
    );
}

/// A login whose ID token must be refused: 400 `invalid_id_token` naming `reason`, and
/// no session.
async fn refused(base: &str, case: &str, reason: &str) {
    let (done, b) = log_in(base).await;
    assert!(
        !done
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("session=")),
        "{case}: no session"
    );
    assert_eq!(done.status(), 400, "{case}");
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["error"], "invalid_id_token", "{case}");
    let description = body["error_description"].as_str().unwrap();
    assert!(
        description.to_lowercase().contains(reason),
        "{case}: {description}"
    );
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401, "{case}");
}

/// A login that must work: the session reads the dev user.
async fn accepted(base: &str, case: &str) {
    let (done, b) = log_in(base).await;
    let status = done.status();
    assert_eq!(status, 303, "{case}: {}", done.text().await.unwrap());
    let me: Value = b.get(&format!("{base}/me")).await.json().await.unwrap();
    assert_eq!(me["sub"], "dev-user", "{case}");
}

/// The OpenID Connect RP certification's signature and key cases, each through the real
/// login flow with the dev issuer bent to produce it (the claim cases are above).
#[tokio::test]
async fn the_rp_certifications_signature_and_key_cases() {
    use oauth2::Algorithm::{ES256, EdDSA, RS256};
    use oauth2::dev::IdTokenSigning::*;
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    for (signing, reason) in [
        (BadSignature(RS256), "signature"),
        (BadSignature(ES256), "signature"),
        (Unsigned, "none"),
    ] {
        idp.set_id_token_signing(signing);
        refused(&base, &format!("{signing:?}"), reason).await;
    }
    // Other algorithms the provider announces, and no `kid` while one key fits.
    for signing in [Algorithm(ES256), Algorithm(EdDSA), NoKid] {
        idp.set_id_token_signing(signing);
        accepted(&base, &format!("{signing:?}")).await;
    }

    // The provider's keys rotated between two logins: the second refetches them.
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    accepted(&base, "before the rotation").await;
    idp.rotate();
    accepted(&base, "after the rotation").await;

    // No `kid` while two RS256 keys are published (a roll-over): which one signed it
    // cannot be told, and OpenID Connect Core §10.1 requires a `kid` then.
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    idp.roll_keys();
    accepted(&base, "signed by the new key, both published").await;
    idp.set_id_token_signing(NoKid);
    refused(&base, "no kid, two RS256 keys", "kid").await;
}

#[tokio::test]
async fn an_id_token_from_a_refresh_is_checked_before_it_is_stored() {
    let idp = DevIssuer::start().await.unwrap();
    // 30 s access tokens: under the one-minute margin, every read refreshes.
    idp.set_token_lifetime(std::time::Duration::from_secs(30));
    let base = app(&idp).await;
    let (done, b) = log_in(&base).await;
    assert_eq!(done.status(), 303);
    let before = idp.stats().token;
    assert_eq!(b.get(&format!("{base}/token")).await.status(), 200);
    assert_eq!(b.get(&format!("{base}/token")).await.status(), 200);
    assert_eq!(idp.stats().token, before + 2, "each read refreshed");

    // A refresh whose ID token is about someone else ends the session.
    idp.set_id_token_claims(json!({"sub": "mallory"}));
    let refused = b.get(&format!("{base}/token")).await;
    assert_eq!(refused.status(), 401);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "refresh_failed");
    let description = body["error_description"].as_str().unwrap();
    assert!(description.contains("`sub` differs"), "{description}");
    assert_eq!(b.get(&format!("{base}/me")).await.status(), 401);

    // So does one that does not verify (another audience).
    idp.set_id_token_claims(json!({}));
    let (_, b) = log_in(&base).await;
    assert_eq!(b.get(&format!("{base}/token")).await.status(), 200);
    idp.set_id_token_claims(json!({"aud": "another-client"}));
    let refused = b.get(&format!("{base}/token")).await;
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "refresh_failed");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("audience is not accepted")
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_a_bent_id_token() {
    let idp = DevIssuer::start().await.unwrap();
    let base = app(&idp).await;
    // A refresh token of client `web`, straight from the dev issuer's code grant.
    let client = oauth2_tests::client();
    let back = client
        .get(format!(
            "{}?response_type=code&client_id=web&redirect_uri=http://127.0.0.1:9/cb&scope=openid",
            idp.authorize_url()
        ))
        .send()
        .await
        .unwrap();
    let code = url::Url::parse(back.headers()["location"].to_str().unwrap())
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens: Value = client
        .post(idp.token_url())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("client_id", "web"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let post = |refresh: String| {
        let client = client.clone();
        let url = format!("{base}/auth/dev/token");
        async move {
            let response = client
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", refresh.as_str()),
                ])
                .send()
                .await
                .unwrap();
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    let (status, fresh) = post(refresh).await;
    assert_eq!(status, 200, "{fresh}");
    idp.set_id_token_claims(json!({"aud": "another-client"}));
    let (status, body) = post(fresh["refresh_token"].as_str().unwrap().to_owned()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_id_token")),
        "{body}"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("audience is not accepted"),
        "{body}"
    );
}
