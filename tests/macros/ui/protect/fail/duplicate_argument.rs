use oauth2::{protect, providers, Authenticated};

providers! {
    google { issuer: "https://accounts.google.com", audience: "api" }
}

#[protect(provider = "google", claims = Authenticated, claims = Authenticated)]
async fn me(auth: Authenticated) {
    let _ = auth;
}

fn main() {}
