// `crate = "..."` and `#[claim(crate = "...")]` name the runtime crate by another path.
mod inner {
    pub use ::oauth2 as auth;
}

oauth2::providers! {
    corp { issuer: "https://login.corp.example", audience: "api" }
}

#[derive(oauth2::FromClaims)]
#[claim(crate = "inner::auth")]
struct User {
    sub: String,
}

#[oauth2::protect(provider = "corp", claims = User, crate = "inner::auth")]
async fn me(user: User) -> String {
    user.sub
}

fn main() {
    let _ = axum::Router::<()>::new().route("/me", axum::routing::get(me));
}
