// A session route's provider must log browsers in: `api` only accepts bearer tokens, so
// no session can ever come from it.
use oauth2::{protect, providers};

providers! {
    base_url: "https://app.example",
    session_secret: env("SESSION_SECRET"),
    corp {
        issuer: "https://login.corp.example",
        client_id: "app",
        audience: "api://corp",
    }
    api { issuer: "https://api.example", audience: "api" }
}

#[protect(session, provider = "api")]
async fn settings() {}

#[protect(session, provider = any("corp", "api"))]
async fn reports() {}

#[protect(session, provider = "crop")]
async fn typo() {}

fn main() {}
