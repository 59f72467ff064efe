use oauth2::{protect, providers};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

const READ: &str = "read";

#[protect(provider = "google", scopes = [READ, "items write"])]
async fn a() {}

#[protect(provider = "google", scopes = "read")]
async fn b() {}

fn main() {}
