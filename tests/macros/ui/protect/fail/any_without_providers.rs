// `any()` with no provider: a guard that no token can pass.
oauth2::providers! {
    google { issuer: "https://accounts.google.com", audience: "app" }
}

#[oauth2::protect(provider = any())]
async fn nobody() -> &'static str {
    "unreachable"
}

fn main() {}
