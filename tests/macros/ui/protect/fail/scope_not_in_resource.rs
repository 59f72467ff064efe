// With a resource, the protected resource metadata lists every scope the app uses: a
// route's scope that `providers!` does not declare is a typo or a missing declaration.
oauth2::providers! {
    resource: "https://api.example.com",
    scopes_supported: ["orders:read", "orders:write"],
    corp {
        issuer: "https://login.example.com",
        audience: "https://api.example.com",
    }
}

#[oauth2::protect(provider = "corp", scopes = ["orders:read", "orders:wirte"])]
async fn orders() -> &'static str {
    "orders"
}

fn main() {}
