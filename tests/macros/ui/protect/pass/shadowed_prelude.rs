// The generated code names everything by full path: it compiles in a module that
// shadows the prelude.
#![allow(dead_code, non_camel_case_types)]

mod shadowing {
    struct Result;
    struct Option;
    struct Ok;
    struct Some;
    struct None;
    struct Err;
    struct String;
    struct Vec;
    struct Default;
    struct Clone;
    struct bool;
    struct str;

    oauth2::providers! {
        public_paths: ["/health"],
        cookie: "access_token",
        corp {
            issuer: env("CORP_ISSUER", default = "https://login.corp.example"),
            audience: env("CORP_AUDIENCE"),
            jwks_url: env("CORP_JWKS", optional),
            leeway: env("CORP_LEEWAY", default = 30s),
            algorithms: env("CORP_ALGS", default = "RS256,ES256"),
            retry_backoff: [1s, 5m],
            danger_accept_any_audience: false,
        }
    }

    #[derive(oauth2::FromClaims)]
    pub struct User {
        sub: ::std::string::String,
        email: ::core::option::Option<::std::string::String>,
        #[claim(path = "realm_access.roles", default)]
        roles: ::std::vec::Vec<::std::string::String>,
        #[claim(scopes)]
        scopes: oauth2::Scopes,
    }

    #[oauth2::protect(provider = "corp", claims = User, scopes = ["read"], require = !user.roles.is_empty())]
    pub async fn me(user: User) -> &'static ::core::primitive::str {
        let _ = user;
        "me"
    }

    #[oauth2::protect(provider = "corp", claims = User, optional)]
    pub async fn maybe(user: ::core::option::Option<User>) -> &'static ::core::primitive::str {
        let _ = user;
        "maybe"
    }
}

fn main() {
    let _ = axum::Router::<()>::new()
        .route("/me", axum::routing::get(shadowing::me))
        .route("/maybe", axum::routing::get(shadowing::maybe));
}
