//! Authorization server discovery, RFC 8414 and OpenID Connect, in the order MCP
//! clients use: the URLs asked, which answer is taken, and which failures end the search.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use oauth2::dev::DevIssuer;
use oauth2::discovery::{DiscoveryError, discover};
use oauth2::{Authenticator, Provider};
use serde_json::json;

/// An authorization server on 127.0.0.1 whose issuer has the path `/tenant`: it answers
/// metadata at the paths in `serves` only (others: 404), naming `claimed` as issuer
/// (`None`: its own), with the dev issuer's keys. Every path asked is recorded.
struct Server {
    issuer: String,
    asked: Arc<Mutex<Vec<String>>>,
}

#[derive(Clone)]
struct Served {
    serves: Vec<&'static str>,
    claimed: Option<String>,
    issuer: String,
    jwks_uri: String,
    asked: Arc<Mutex<Vec<String>>>,
}

async fn answer(State(s): State<Served>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    s.asked.lock().unwrap().push(path.clone());
    if path == "/broken" || !s.serves.contains(&path.as_str()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let issuer = s.claimed.clone().unwrap_or(s.issuer.clone());
    axum::Json(json!({"issuer": issuer, "jwks_uri": s.jwks_uri})).into_response()
}

async fn start(idp: &DevIssuer, serves: &[&'static str], claimed: Option<&str>) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}/tenant", listener.local_addr().unwrap());
    let asked = Arc::new(Mutex::new(Vec::new()));
    let served = Served {
        serves: serves.to_vec(),
        claimed: claimed.map(str::to_owned),
        issuer: issuer.clone(),
        jwks_uri: idp.jwks_url(),
        asked: Arc::clone(&asked),
    };
    let app = Router::new().fallback(answer).with_state(served);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Server { issuer, asked }
}

const RFC8414: &str = "/.well-known/oauth-authorization-server/tenant";
const OIDC_INSERTED: &str = "/.well-known/openid-configuration/tenant";
const OIDC_APPENDED: &str = "/tenant/.well-known/openid-configuration";

#[tokio::test]
async fn an_issuer_with_a_path_is_looked_up_as_mcp_clients_do() {
    let idp = DevIssuer::start().await.unwrap();
    let client = reqwest::Client::new();
    for (serves, asked) in [
        (vec![RFC8414, OIDC_APPENDED], vec![RFC8414]),
        (vec![OIDC_INSERTED], vec![RFC8414, OIDC_INSERTED]),
        (
            vec![OIDC_APPENDED],
            vec![RFC8414, OIDC_INSERTED, OIDC_APPENDED],
        ),
    ] {
        let server = start(&idp, &serves, None).await;
        let meta = discover(&client, &server.issuer).await.unwrap();
        assert_eq!(meta.issuer, server.issuer);
        assert_eq!(*server.asked.lock().unwrap(), asked, "serving {serves:?}");
    }
    // None of them: the error names every URL asked.
    let server = start(&idp, &[], None).await;
    let e = discover(&client, &server.issuer).await.unwrap_err();
    assert!(
        matches!(e, DiscoveryError::Status { status: 404, .. }),
        "{e}"
    );
    for path in [RFC8414, OIDC_INSERTED, OIDC_APPENDED] {
        assert!(e.to_string().contains(path), "{e}");
    }
}

#[tokio::test]
async fn a_document_that_names_another_issuer_ends_the_search() {
    let idp = DevIssuer::start().await.unwrap();
    let server = start(
        &idp,
        &[RFC8414, OIDC_APPENDED],
        Some("https://evil.example"),
    )
    .await;
    let e = discover(&reqwest::Client::new(), &server.issuer)
        .await
        .unwrap_err();
    assert!(matches!(e, DiscoveryError::IssuerMismatch { .. }), "{e}");
    // Not masked by a later document.
    assert_eq!(*server.asked.lock().unwrap(), [RFC8414]);
}

#[tokio::test]
async fn tokens_of_an_rfc8414_only_server_are_validated_with_its_keys() {
    let idp = DevIssuer::start().await.unwrap();
    let server = start(&idp, &[RFC8414], None).await;
    let auth = Authenticator::builder()
        .provider(
            Provider::builder("as")
                .issuer(&server.issuer)
                .audience("api"),
        )
        .build()
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), auth.ready())
        .await
        .expect("keys load through RFC 8414 metadata");
    let token = idp
        .token()
        .claim("iss", server.issuer.as_str())
        .audience("api")
        .sign();
    let valid = auth.validator().validate(&token).await.unwrap();
    assert_eq!(valid.provider(), "as");
    // A server without a path: the RFC 8414 form first, then OpenID Connect's.
    let plain = DevIssuer::start().await.unwrap();
    let meta = discover(&reqwest::Client::new(), plain.issuer())
        .await
        .unwrap();
    assert_eq!(meta.issuer, plain.issuer());
    assert_eq!(plain.stats().discovery, 1);
}
