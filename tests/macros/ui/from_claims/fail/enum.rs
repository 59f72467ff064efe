#[derive(oauth2::FromClaims)]
enum Role {
    Admin,
    User,
}

fn main() {}
