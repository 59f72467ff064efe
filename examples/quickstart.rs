//! `cargo run --example quickstart`: an embedded development identity provider on
//! 127.0.0.1:3001 and an app protected by it on 127.0.0.1:3000 (`OAUTH2_BIND` moves
//! it): an API for bearer tokens (prints `curl` commands with fresh tokens) and a
//! browser login (open the printed URL; the dev issuer signs you in at once). No
//! account, no internet.

use std::error::Error;
use std::net::SocketAddr;

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use oauth2::dev::DevIssuer;
use oauth2::{FromClaims, Scopes, protect, providers};
use serde_json::{Value, json};

const DEV_ISSUER: &str = "127.0.0.1:3001";

/// Where the app listens.
fn bind() -> String {
    std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into())
}

/// The session cookies' key: a fixed one is fine for a local demo only; real apps read
/// `session_secret: env("SESSION_SECRET")`.
const DEMO_SESSION_SECRET: &str = "quickstart demo secret, not for production use";

providers! {
    base_url: format!("http://{}", bind()),
    session_secret: DEMO_SESSION_SECRET,
    dev {
        issuer: "http://127.0.0.1:3001",
        audience: "dev-api",     // bearer tokens for the API
        client_id: "quickstart", // browser login for the pages
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    email: Option<String>,
    #[claim(scopes)]
    scopes: Scopes,
}

#[protect(provider = "dev", claims = User)]
async fn me(user: User) -> Json<Value> {
    let scopes: Vec<&str> = user.scopes.iter().collect();
    Json(json!({ "sub": user.sub, "email": user.email, "scopes": scopes }))
}

#[protect(provider = "dev", claims = User, scopes = ["admin"])]
async fn admin(user: User) -> String {
    format!("hello admin {}\n", user.sub)
}

#[derive(FromClaims, serde::Serialize)]
struct Visitor {
    sub: String,
    name: String,
    email: String,
}

#[protect(session, provider = "dev", claims = Visitor)]
async fn profile(visitor: Visitor) -> Json<Visitor> {
    Json(visitor)
}

#[protect(session, provider = "dev", claims = Visitor, optional)]
async fn home(visitor: Option<Visitor>) -> Html<String> {
    Html(match visitor {
        Some(v) => format!(
            "<p>Signed in as {} &lt;{}&gt;. <a href=\"/profile\">/profile</a></p>\
             <form method=\"post\" action=\"/auth/logout\"><button>Log out</button></form>",
            v.name, v.email
        ),
        None => "<p><a href=\"/auth/dev/login?return_to=/profile\">Log in</a> (the dev issuer \
                 signs you in as Dev User at once). The API: /me and /admin with a bearer \
                 token.</p>"
            .into(),
    })
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let idp = DevIssuer::start_on(DEV_ISSUER.parse::<SocketAddr>()?).await?;
    let providers = Providers::load()?;

    let app = Router::new()
        .route("/", get(home))
        .route("/profile", get(profile))
        .route("/me", get(me))
        .route("/admin", get(admin))
        .merge(providers.router())
        .layer(providers.layer());

    let listener = tokio::net::TcpListener::bind(bind()).await?;
    let addr = listener.local_addr()?;
    providers.ready().await;

    let user = idp
        .token()
        .subject("alice")
        .claim("email", "alice@example.com")
        .scope("read")
        .sign();
    let root = idp.token().subject("root").scope("read admin").sign();
    println!("dev issuer: {} (JWKS at {})", idp.issuer(), idp.jwks_url());
    println!("app:        http://{addr}\n");
    println!("# browser login: open http://{addr}/ and click \"Log in\"\n");
    println!("# a user token (200):\ncurl -i -H 'Authorization: Bearer {user}' http://{addr}/me\n");
    println!(
        "# the same token on /admin (403 insufficient_scope):\ncurl -i -H 'Authorization: Bearer {user}' http://{addr}/admin\n"
    );
    println!(
        "# an admin token (200):\ncurl -i -H 'Authorization: Bearer {root}' http://{addr}/admin\n"
    );
    println!("# no token (400 invalid_request):\ncurl -i http://{addr}/me\n");
    println!(
        "# more tokens from the dev issuer's token endpoint:\ncurl -s -d grant_type=client_credentials -d scope=admin {}\n",
        idp.token_url()
    );
    println!("Ctrl-C to stop.");

    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
