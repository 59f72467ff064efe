struct Roles;

#[derive(oauth2::FromClaims)]
struct User {
    sub: String,
    roles: Roles,
}

fn main() {}
