#[derive(oauth2::FromClaims)]
struct User {
    #[claim(path = "")]
    roles: Vec<String>,
    #[claim(path = "realm_access..roles")]
    more: Vec<String>,
    #[claim(rename = "x", path = "a.b")]
    both: String,
}

fn main() {}
