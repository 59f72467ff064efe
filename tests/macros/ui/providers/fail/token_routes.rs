// `token_endpoint`, `device_flow` and `backchannel_logout` are switches of a login
// provider: `true`, `false` or a `bool` expression, and only where there is a
// `client_id`; back-channel logout only with an issuer (logout tokens are JWTs).
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
    gh {
        preset: github,
        client_id: "Iv1.0123456789",
        backchannel_logout: true,
    }
}

fn main() {}
