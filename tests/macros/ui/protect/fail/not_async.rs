use oauth2::{protect, providers};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[protect(provider = "google")]
fn ping() -> &'static str {
    "pong"
}

fn main() {}
