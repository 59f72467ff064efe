// Keys renamed to their builder method's name still work, with a deprecation warning at
// the old name (an error here, under `deny(deprecated)`), which says the new one.
#![deny(deprecated)]

oauth2::providers! {
    websocket_query_token: true,
    base_url: "https://app.example",
    session_secret: env("SESSION_SECRET"),
    get_logout: true,
    corp {
        issuer: "https://login.corp.example",
        audience: "api",
        jwks: "https://login.corp.example/keys",
        client_id: "web",
    }
}

fn main() {}
