// A syntax error in `providers!` (a missing comma) is the only error: `Providers` and
// the `#[protect]` handlers still resolve, so they add none of their own.
use axum::{routing::get, Router};

oauth2::providers! {
    public_paths: ["/"]
    google { issuer: "https://accounts.google.com", audience: "app" }
}

#[oauth2::protect(provider = "google")]
async fn ping() -> &'static str {
    "pong"
}

#[tokio::main]
async fn main() -> Result<(), oauth2::ConfigError> {
    let providers = Providers::load()?;
    let _app: Router = Router::new()
        .route("/ping", get(ping))
        .merge(providers.router())
        .layer(providers.layer());
    providers.ready().await;
    Ok(())
}
