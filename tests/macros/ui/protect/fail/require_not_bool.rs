use oauth2::{protect, providers, FromClaims};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[derive(FromClaims)]
struct User {
    roles: Vec<String>,
}

#[protect(provider = "google", claims = User, require = user.roles.first())]
async fn admin(user: User) {
    let _ = user;
}

// `require` needs a claims parameter to talk about.
#[protect(provider = "google", require = true)]
async fn guard() {}

fn main() {}
