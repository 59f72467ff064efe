// A scope given as an expression: #[protect] cannot compare it with the guard's.
const SCOPE: &str = "items:read";

oauth2::providers! {
    google { issuer: "https://accounts.google.com", audience: "app" }
}

#[oauth2::protect(provider = "google", scopes = ["items:read"])]
#[utoipa::path(
    get,
    path = "/items",
    security(("google" = [SCOPE])),
    responses((status = 200, description = "Items"))
)]
async fn items() -> &'static str {
    "items"
}

fn main() {}
