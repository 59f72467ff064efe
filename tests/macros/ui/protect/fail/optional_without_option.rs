use oauth2::{protect, providers, FromClaims};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[derive(FromClaims)]
struct User {
    sub: String,
}

#[protect(provider = "google", claims = User, optional)]
async fn maybe(user: User) -> String {
    user.sub
}

// And the other way round: an `Option<User>` parameter without `optional`.
#[protect(provider = "google", claims = User)]
async fn forgot(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

fn main() {}
