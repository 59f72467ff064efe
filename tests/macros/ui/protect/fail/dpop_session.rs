// `dpop` asks for DPoP-bound access tokens; a session route has none from the client.
use oauth2::{protect, providers};

providers! {
    corp {
        issuer: "https://login.corp.example",
        client_id: "app",
        audience: "api",
    }
    base_url: "https://app.example",
    session_secret: env("SESSION_SECRET"),
}

#[protect(provider = "corp", session, dpop)]
async fn settings() {}

#[protect(provider = "corp", dpop = true)]
async fn transfer() {}

fn main() {}
