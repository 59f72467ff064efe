// `token_endpoint` and `device_flow` are switches of a login provider: `true`, `false`
// or a `bool` expression, and only where there is a `client_id`.
oauth2::providers! {
    base_url: "https://app.example",
    session_secret: std::env::var("SESSION_SECRET").unwrap_or_default(),
    web {
        issuer: "https://login.example",
        client_id: "app",
        device_flow: "yes",
    }
    api {
        issuer: "https://api.example",
        audience: "api",
        token_endpoint: true,
    }
}

fn main() {}
