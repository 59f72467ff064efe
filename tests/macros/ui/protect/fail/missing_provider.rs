use oauth2::{protect, Authenticated};

#[protect(claims = Authenticated)]
async fn me(auth: Authenticated) {
    let _ = auth;
}

fn main() {}
