// The path's OpenAPI security says one thing, the guard another: the scope is missing
// and the second provider is not in `#[protect]`.
oauth2::providers! {
    google { issuer: "https://accounts.google.com", audience: "app" }
    corp { issuer: "https://login.corp.example", audience: "api://corp" }
}

#[oauth2::protect(provider = "google", scopes = ["items:read"])]
#[utoipa::path(
    get,
    path = "/items",
    security(("google" = []), ("corp" = [])),
    responses((status = 200, description = "Items"))
)]
async fn items() -> &'static str {
    "items"
}

fn main() {}
