#[derive(oauth2::FromClaims)]
struct User {
    #[claim(renam = "preferred_username")]
    username: String,
    #[claim(optional)]
    email: String,
}

fn main() {}
