// No provider logs browsers in: a session route names one anyway.
use oauth2::{protect, providers};

providers! {
    api { issuer: "https://api.example", audience: "api" }
}

#[protect(session, provider = "api")]
async fn settings() {}

fn main() {}
