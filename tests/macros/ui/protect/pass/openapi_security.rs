// `#[protect]` above `#[utoipa::path]`: a path without `security` gets the guard's, one
// that states the same (in any order) keeps its own.
use utoipa::OpenApi;

#[derive(oauth2::FromClaims)]
struct User {
    sub: String,
}

oauth2::providers! {
    google { issuer: "https://accounts.google.com", audience: "app" }
    corp { issuer: "https://login.corp.example", audience: "api://corp" }
}

#[oauth2::protect(provider = any("google", "corp"), scopes = ["a", "b"])]
#[utoipa::path(get, path = "/written", responses((status = 200, description = "Written")))]
async fn written() -> &'static str {
    "written"
}

#[oauth2::protect(provider = "google", claims = User, optional)]
#[utoipa::path(
    get,
    path = "/stated",
    security(("google" = []), ()),
    responses((status = 200, description = "Stated"))
)]
async fn stated(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

#[derive(OpenApi)]
#[openapi(paths(written, stated))]
struct Doc;

fn main() {
    let doc = serde_json::to_value(Doc::openapi()).unwrap();
    assert_eq!(
        doc["paths"]["/written"]["get"]["security"],
        serde_json::json!([{"corp": ["a", "b"]}, {"google": ["a", "b"]}])
    );
    assert_eq!(
        doc["paths"]["/stated"]["get"]["security"],
        serde_json::json!([{"google": []}, {}])
    );
}
