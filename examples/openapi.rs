//! `cargo run --example openapi`: an API documented with utoipa, its security written by
//! `#[protect]` and its schemes by `providers!`, served as `/openapi.json` and in
//! Swagger UI at `/swagger-ui/` (the example's default feature `swagger-ui`; without it,
//! `--no-default-features`, only the JSON). "Authorize" in Swagger UI signs in at the
//! embedded dev issuer (client `swagger-ui`, PKCE, no secret), and "Try it out" then
//! sends the token. The app listens on 127.0.0.1:3000 (`OAUTH2_BIND`), the dev issuer on
//! 127.0.0.1:3002 (`DEV_ISSUER_BIND`). No account, no internet.

use std::error::Error;
use std::net::SocketAddr;

use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, Scopes, protect, providers};
use serde_json::{Value, json};
use utoipa::OpenApi;

fn bind() -> String {
    std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into())
}

fn dev_issuer_bind() -> String {
    std::env::var("DEV_ISSUER_BIND").unwrap_or_else(|_| "127.0.0.1:3002".into())
}

/// The session cookies' key: a fixed one is fine for a local demo only.
const DEMO_SESSION_SECRET: &str = "openapi demo secret, not for production use";

providers! {
    base_url: format!("http://{}", bind()),
    session_secret: DEMO_SESSION_SECRET,
    dev {
        issuer: format!("http://{}", dev_issuer_bind()),
        // The dev issuer's access tokens name the client that asked for them as their
        // audience: Swagger UI signs in as `swagger-ui`.
        audience: "swagger-ui",
        client_id: "openapi-demo", // the browser login of `/profile`
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    #[claim(scopes)]
    scopes: Scopes,
}

/// Who the token is for, and its scopes.
#[protect(provider = "dev", claims = User)]
#[utoipa::path(get, path = "/me", responses((status = 200, description = "The caller")))]
async fn me(user: User) -> Json<Value> {
    let scopes: Vec<&str> = user.scopes.iter().collect();
    Json(json!({ "sub": user.sub, "scopes": scopes }))
}

/// The items: needs `items:read`.
#[protect(provider = "dev", claims = User, scopes = ["items:read"])]
#[utoipa::path(get, path = "/items", responses((status = 200, description = "The items")))]
async fn items(user: User) -> Json<Value> {
    Json(json!({ "owner": user.sub, "items": ["apple", "pear"] }))
}

/// Your profile, from the browser login's session.
#[derive(FromClaims, serde::Serialize)]
struct Visitor {
    sub: String,
    name: String,
}

#[protect(session, provider = "dev", claims = Visitor)]
#[utoipa::path(get, path = "/profile", responses((status = 200, description = "The signed-in user")))]
async fn profile(visitor: Visitor) -> Json<Visitor> {
    Json(visitor)
}

/// Links to the document and the UI.
async fn index() -> axum::response::Html<&'static str> {
    axum::response::Html(
        "<p><a href=\"/swagger-ui/\">Swagger UI</a> (with the feature <code>swagger-ui</code>) \
         and <a href=\"/openapi.json\">/openapi.json</a>.</p>",
    )
}

/// Open to all.
#[utoipa::path(get, path = "/health", responses((status = 200, description = "Up")))]
async fn health() -> &'static str {
    "ok"
}

#[derive(OpenApi)]
#[openapi(
    info(title = "oauth2 OpenAPI example"),
    paths(me, items, profile, health)
)]
struct ApiDoc;

/// The document: the paths utoipa collected (with the security `#[protect]` wrote) and
/// the providers' schemes.
async fn document(providers: &Providers) -> Result<utoipa::openapi::OpenApi, Box<dyn Error>> {
    let mut doc = ApiDoc::openapi();
    let schemes = providers.openapi().await?;
    schemes.apply(&mut doc);
    // Every path names a declared scheme (a typo in `security` would show here).
    let undeclared = schemes.undeclared(&doc);
    assert!(undeclared.is_empty(), "undeclared schemes: {undeclared:?}");
    Ok(doc)
}

#[cfg(feature = "swagger-ui")]
fn docs_routes(doc: utoipa::openapi::OpenApi) -> Router {
    use utoipa_swagger_ui::{SwaggerUi, oauth};
    let oauth = oauth::Config::new()
        .client_id("swagger-ui")
        .use_pkce_with_authorization_code_grant(true)
        .scopes(vec!["openid".into(), "items:read".into()]);
    SwaggerUi::new("/swagger-ui")
        .url("/openapi.json", doc)
        .oauth(oauth)
        .into()
}

#[cfg(not(feature = "swagger-ui"))]
fn docs_routes(doc: utoipa::openapi::OpenApi) -> Router {
    Router::new().route("/openapi.json", get(move || async move { Json(doc) }))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let idp = DevIssuer::start_on(dev_issuer_bind().parse::<SocketAddr>()?).await?;
    let providers = Providers::load()?;
    let doc = document(&providers).await?;

    let app = Router::new()
        .route("/", get(index))
        .route("/me", get(me))
        .route("/items", get(items))
        .route("/profile", get(profile))
        .route("/health", get(health))
        .merge(providers.router())
        .layer(providers.layer())
        .merge(docs_routes(doc));

    let listener = tokio::net::TcpListener::bind(bind()).await?;
    let addr = listener.local_addr()?;
    println!("dev issuer: {}", idp.issuer());
    println!("OpenAPI:    http://{addr}/openapi.json");
    if cfg!(feature = "swagger-ui") {
        println!(
            "Swagger UI: http://{addr}/swagger-ui/ (\"Authorize\" signs in at the dev issuer)"
        );
    }
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
