use oauth2::{protect, providers};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[derive(serde::Deserialize)]
struct User {
    sub: String,
}

#[protect(provider = "google", claims = User)]
async fn me(user: User) -> String {
    user.sub
}

fn main() {}
