//! Tokens for calling other APIs (`oauth2::client::TokenClient`) from the certified
//! oidc-provider: the app's own (client credentials) with a secret, `private_key_jwt`,
//! DPoP and a federated assertion file; cached, one request for many callers, renewed
//! before expiry, failures backed off; and on a caller's behalf (RFC 8693 token exchange
//! and Entra ID's on-behalf-of, a grant registered in the provider), the exchanged
//! token naming the middle tier in `act`.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use oauth2::client::{
    AccessToken, AssertionFile, ClientCredentials, ClientKey, ExchangeGrant, Target, TokenClient,
    TokenErrorKind,
};
use oauth2::config::Dpop;
use oauth2::{Authenticated, Authenticator, CallerToken, Provider};
use oauth2_tests::op::{
    API_CLIENT, DOWNSTREAM, OpenIdProvider, Options, SERVICE_PKJWT_CLIENT, client_key_pem, log_in,
    login_app_with,
};
use oauth2_tests::{client, serve};

const ES256_API: &str = "urn:example:api:es256";

/// The provider with the test keys registered for the `private_key_jwt` clients.
fn options() -> Options {
    let key = ClientKey::from_pem(&client_key_pem("client-p256.pem")).unwrap();
    Options {
        client_jwks: Some(serde_json::json!({"keys": [key.public_jwk()]})),
        ..Options::default()
    }
}

/// An API on 127.0.0.1 that accepts tokens for `audience` (with `dpop`) and answers
/// `GET /whoami` with `{sub} {client_id} {actor}`.
async fn api(op: &OpenIdProvider, audience: &str, dpop: Dpop) -> String {
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("op")
                .issuer(&op.issuer)
                .audience(audience)
                .dpop(dpop),
        )
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("discovery and keys");
    let routes = Router::new().route(
        "/whoami",
        get(|auth: Authenticated| async move {
            let claim = |name: &str| auth.claim(name).and_then(|v| v.as_str()).unwrap_or("-");
            format!(
                "{} {} {}",
                claim("sub"),
                claim("client_id"),
                auth.actor().unwrap_or("-")
            )
        }),
    );
    serve(routes.layer(auth.layer())).await
}

/// `GET {api}/whoami` with `token`: the status and the answer.
async fn whoami(token: &AccessToken, api: &str) -> (u16, String) {
    let answer = token
        .authorize(client().get(format!("{api}/whoami")))
        .unwrap()
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.text().await.unwrap())
}

fn service(op: &OpenIdProvider) -> TokenClient {
    let (id, secret) = OpenIdProvider::SERVICE;
    TokenClient::builder(ClientCredentials::new(id).secret(secret))
        .issuer(&op.issuer)
        .build()
        .unwrap()
}

#[tokio::test]
async fn many_callers_share_one_request_and_the_token_is_renewed_before_it_expires() {
    // Tokens that live 4 s: kept for half of it.
    let op = OpenIdProvider::start(Options {
        client_credentials_ttl: Some(4),
        ..Options::default()
    })
    .await;
    let tokens = service(&op);
    let target = Target::resource(ES256_API);
    let calls = (0..20).map(|_| {
        let (tokens, target) = (tokens.clone(), target.clone());
        tokio::spawn(async move { tokens.token_for(&target, &["read"]).await.unwrap() })
    });
    let mut values = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        values.push(call.await.unwrap().secret().to_owned());
    }
    values.dedup();
    // The provider issues a new token (its own jti) for each request: one value, one
    // request.
    assert_eq!(values.len(), 1, "20 concurrent callers, one token request");
    let first = tokens.token_for(&target, &["read"]).await.unwrap();
    assert_eq!(first.secret(), values[0], "kept");
    assert!(first.scopes().unwrap().contains("read"));

    // The token works at the API it is for.
    let url = api(&op, ES256_API, Dpop::Disabled).await;
    let service = OpenIdProvider::SERVICE.0;
    assert_eq!(
        whoami(&first, &url).await,
        (200, format!("{service} {service} -"))
    );

    // Another scope or API is another token.
    let admin = tokens.token_for(&target, &["read", "admin"]).await.unwrap();
    assert_ne!(admin.secret(), first.secret());
    // Half its life later, it is renewed.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    let renewed = tokens.token_for(&target, &["read"]).await.unwrap();
    assert_ne!(
        renewed.secret(),
        first.secret(),
        "renewed before it expired"
    );
}

#[tokio::test]
async fn private_key_jwt_and_dpop_bind_the_apps_token_to_its_key() {
    let op = OpenIdProvider::start(options()).await;
    let key = ClientKey::from_pem(&client_key_pem("client-p256.pem")).unwrap();
    let tokens = TokenClient::builder(ClientCredentials::new(SERVICE_PKJWT_CLIENT).key(key))
        .issuer(&op.issuer)
        .dpop_key(client_key_pem("dpop-p256.pem"))
        .build()
        .unwrap();
    let token = tokens
        .token_for(&Target::resource(ES256_API), &["read"])
        .await
        .unwrap();
    assert!(
        token.is_dpop_bound(),
        "the provider bound it to the DPoP key"
    );

    // An API that wants DPoP: each call carries a fresh proof of the key.
    let url = api(&op, ES256_API, Dpop::Required).await;
    for _ in 0..2 {
        let (status, answer) = whoami(&token, &url).await;
        assert_eq!(status, 200);
        assert!(answer.starts_with(SERVICE_PKJWT_CLIENT), "{answer}");
    }
    // The token alone, as a bearer token, is refused.
    let stolen = client()
        .get(format!("{url}/whoami"))
        .bearer_auth(token.secret())
        .send()
        .await
        .unwrap();
    assert_eq!(stolen.status(), 401);
}

#[tokio::test]
async fn a_refused_client_is_reported_and_not_asked_again_at_once() {
    let op = OpenIdProvider::start(options()).await;
    let unknown = ClientKey::from_pem(&client_key_pem("client-unregistered.pem")).unwrap();
    let tokens = TokenClient::builder(ClientCredentials::new(SERVICE_PKJWT_CLIENT).key(unknown))
        .issuer(&op.issuer)
        .build()
        .unwrap();
    let target = Target::resource(ES256_API);
    let e = tokens.token_for(&target, &["read"]).await.unwrap_err();
    assert_eq!(e.kind(), TokenErrorKind::Refused, "{e}");
    assert_eq!(e.provider_error(), Some("invalid_client"));
    assert!(e.to_string().contains("invalid_client"), "{e}");
    // At once again: the same failure, without a request, saying when it asks again.
    let again = tokens.token_for(&target, &["read"]).await.unwrap_err();
    assert_eq!(again.kind(), TokenErrorKind::BackingOff);
    assert_eq!(again.provider_error(), Some("invalid_client"));
    assert!(again.retry_after().is_some());
    // As a handler's error: 502, no details for the caller.
    let response = axum::response::IntoResponse::into_response(e);
    assert_eq!(response.status(), 502);
}

/// A client assertion as a workload identity system writes it to a file: signed with
/// the registered key, with its own `jti`.
fn federated_assertion(op: &OpenIdProvider, jti: &str) -> String {
    use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
    let key = EncodingKey::from_ec_pem(client_key_pem("client-p256.pem").as_bytes()).unwrap();
    let kid = ClientKey::from_pem(&client_key_pem("client-p256.pem"))
        .unwrap()
        .kid()
        .to_owned();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(kid);
    let claims = serde_json::json!({
        "iss": SERVICE_PKJWT_CLIENT, "sub": SERVICE_PKJWT_CLIENT, "aud": op.issuer,
        "jti": jti, "iat": now, "exp": now + 300,
    });
    encode(&header, &claims, &key).unwrap()
}

#[tokio::test]
async fn an_assertion_file_is_sent_as_it_is_and_read_again_when_renewed() {
    let op = OpenIdProvider::start(options()).await;
    let dir = std::env::temp_dir().join(format!("federated-{}", oauth2_tests::nanos()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token");
    std::fs::write(&path, federated_assertion(&op, "first")).unwrap();
    let credentials = ClientCredentials::new(SERVICE_PKJWT_CLIENT)
        .assertion_file(AssertionFile::new(&path).unwrap());
    let tokens = TokenClient::builder(credentials)
        .issuer(&op.issuer)
        .build()
        .unwrap();
    let target = Target::resource(ES256_API);
    tokens.token_for(&target, &["read"]).await.unwrap();
    // The same assertion again (another token, so another request): oidc-provider
    // refuses a `jti` it has seen, and the client says so.
    let e = tokens.token_for(&target, &["admin"]).await.unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_error()),
        (TokenErrorKind::Refused, Some("invalid_client")),
        "{e}"
    );
    // Renewed in the file: read again, and accepted.
    std::fs::write(&path, federated_assertion(&op, "second, a longer jti")).unwrap();
    tokens
        .token_for(&target, &["read", "admin"])
        .await
        .expect("the renewed assertion");
    // An assertion that expired is not sent: the error names the file.
    let expired = "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjF9.c2ln";
    std::fs::write(&path, expired).unwrap();
    let e = tokens
        .token_for(&Target::resource("urn:example:api:rs256"), &["read"])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), TokenErrorKind::Config);
    assert!(
        e.to_string().contains("expired") && e.to_string().contains("token"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A user's access token for the middle tier (`urn:example:api:es256`, scope `read`),
/// from a login, and the provider.
async fn user_token(user: &str) -> (OpenIdProvider, String) {
    let (op, base) = login_app_with(Options::default(), |op| {
        op.web_login("oidc")
            .scopes(["openid", "read"])
            .authorize_param("resource", ES256_API)
    })
    .await;
    let (callback, browser) = log_in(&base, "oidc", user).await;
    assert_eq!(callback.status(), 303);
    let token = oauth2_tests::session_token(&browser, &base).await;
    assert_eq!(token.matches('.').count(), 2, "a JWT for the middle tier");
    (op, token)
}

fn middle_tier(op: &OpenIdProvider, grant: ExchangeGrant) -> TokenClient {
    TokenClient::builder(ClientCredentials::new(API_CLIENT.0).secret(API_CLIENT.1))
        .issuer(&op.issuer)
        .exchange_grant(grant)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_callers_token_is_exchanged_for_one_to_the_next_api_naming_the_middle_tier() {
    let (op, alice) = user_token("alice").await;
    let downstream = api(&op, DOWNSTREAM, Dpop::Disabled).await;
    let tokens = middle_tier(&op, ExchangeGrant::TokenExchange);

    // The middle tier: takes the user's token, calls downstream with an exchanged one.
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("op")
                .issuer(&op.issuer)
                .audience(ES256_API),
        )
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("discovery and keys");
    let routes = Router::new()
        .route(
            "/stock",
            get(
                |caller: CallerToken, State((tokens, downstream)): State<(TokenClient, String)>| async move {
                    let target = Target::resource(DOWNSTREAM);
                    let token = tokens.exchange(caller.secret(), &target, &["read"]).await?;
                    let answer = token
                        .authorize(reqwest::Client::new().get(format!("{downstream}/whoami")))?
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(0);
                    Ok::<_, oauth2::client::TokenError>(format!(
                        "{answer} {}",
                        token.scopes().map(|s| s.iter().collect::<Vec<_>>().join(" ")).unwrap_or_default()
                    ))
                },
            ),
        )
        .with_state((tokens.clone(), downstream.clone()));
    let middle = serve(routes.layer(auth.layer())).await;
    let answer = client()
        .get(format!("{middle}/stock"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.text().await.unwrap(), "200 read");

    // What downstream sees: the user, and the middle tier acting for them.
    let target = Target::resource(DOWNSTREAM);
    let exchanged = tokens.exchange(&alice, &target, &["read"]).await.unwrap();
    assert_eq!(
        whoami(&exchanged, &downstream).await,
        (200, format!("alice {} {}", API_CLIENT.0, API_CLIENT.0))
    );
    // Kept per caller token, target and scopes.
    let again = tokens.exchange(&alice, &target, &["read"]).await.unwrap();
    assert_eq!(again.secret(), exchanged.secret());
    // The user's own token is not accepted downstream: it is not for that API.
    let forwarded = client()
        .get(format!("{downstream}/whoami"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 401);

    // A token the provider does not know is refused, and the error says so.
    let e = tokens
        .exchange("made-up-token", &target, &["read"])
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind(), e.provider_error()),
        (TokenErrorKind::Refused, Some("invalid_grant")),
        "{e}"
    );
    // Without a token, the middle tier's own layer refuses before anything is called.
    let anonymous = client()
        .get(format!("{middle}/stock"))
        .send()
        .await
        .unwrap();
    assert!(
        anonymous.status().is_client_error(),
        "{}",
        anonymous.status()
    );
}

#[tokio::test]
async fn entra_on_behalf_of_asks_with_the_jwt_bearer_grant_and_scopes() {
    let (op, bob) = user_token("bob").await;
    let downstream = api(&op, DOWNSTREAM, Dpop::Disabled).await;
    let tokens = middle_tier(&op, ExchangeGrant::EntraOnBehalfOf);
    let token = tokens
        .exchange(&bob, &Target::Scopes, &[&format!("{DOWNSTREAM}/read")])
        .await
        .unwrap();
    assert_eq!(token.scopes().unwrap().iter().collect::<Vec<_>>(), ["read"]);
    assert_eq!(
        whoami(&token, &downstream).await,
        (200, format!("bob {} {}", API_CLIENT.0, API_CLIENT.0))
    );
    // Entra names the API in the scopes: a resource is a configuration error.
    let e = tokens
        .exchange(&bob, &Target::resource(DOWNSTREAM), &["read"])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), TokenErrorKind::Config);
}

/// One registration for the login and the app's calls: `Login::token_client` takes the
/// login provider's client id, credentials and issuer.
#[tokio::test]
async fn a_login_providers_registration_gets_the_apps_tokens() {
    use oauth2::login::{Login, LoginProvider};
    let op = OpenIdProvider::start(Options::default()).await;
    let login = Login::builder()
        .base_url("http://127.0.0.1:9")
        .session_secret("the token client test's session secret")
        .provider(
            LoginProvider::builder("api")
                .issuer(&op.issuer)
                .client_id(API_CLIENT.0)
                .client_secret(API_CLIENT.1),
        )
        .build()
        .unwrap();
    let tokens = login.token_client("api").unwrap();
    let token = tokens
        .token_for(&Target::resource(ES256_API), &["read"])
        .await
        .unwrap();
    let url = api(&op, ES256_API, Dpop::Disabled).await;
    assert_eq!(
        whoami(&token, &url).await,
        (200, format!("{0} {0} -", API_CLIENT.0))
    );
    let e = login.token_client("nope").unwrap_err();
    assert!(e.to_string().contains("`nope`"), "{e}");
}
