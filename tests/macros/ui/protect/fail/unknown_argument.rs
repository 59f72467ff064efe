use oauth2::{protect, providers};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[protect(provider = "google", scope = ["read"], role = "admin")]
async fn me() {}

fn main() {}
