use oauth2::{protect, providers};

providers! {
    google { issuer: "https://accounts.google.com", audience: "1234.apps.googleusercontent.com" }
    corp { issuer: "https://login.corp.example", audience: "api" }
}

#[protect(provider = "gogle")]
async fn me() {}

#[protect(provider = any("corp", "okta"))]
async fn admin() {}

fn main() {}
