use axum::extract::Path;
use oauth2::{protect, providers, FromClaims};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[derive(FromClaims)]
struct User {
    sub: String,
}

#[derive(FromClaims)]
struct Admin {
    sub: String,
}

#[protect(provider = "google", claims = User)]
async fn me(Path(id): Path<u32>, admin: Admin) -> String {
    format!("{id} {}", admin.sub)
}

#[protect(provider = "google", claims = User)]
async fn nobody(Path(id): Path<u32>) -> String {
    id.to_string()
}

fn main() {}
