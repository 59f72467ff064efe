#[derive(oauth2::FromClaims)]
struct User(String);

fn main() {}
