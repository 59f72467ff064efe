// Browser-login keys need a provider with `client_id`, and login needs `base_url` and
// `session_secret`; bearer keys need `audience`; presets are names, and only some know
// their issuer.
oauth2::providers! {
    base_url: "https://app.example",
    web {
        issuer: "https://login.example",
        client_id: "app",
        leeway: 30s,
    }
}

mod other {
    oauth2::providers! {
        api {
            issuer: "https://login.example",
            audience: "api",
            scopes: ["openid"],
        }
    }
}

mod secret {
    oauth2::providers! {
        base_url: "https://app.example",
        session_secret: "a literal secret that is long enough to be one",
        web {
            issuer: "https://login.example",
            client_id: "app",
            client_secret: "s3cret",
        }
    }
}

mod presets {
    oauth2::providers! {
        base_url: "https://app.example",
        session_secret: std::env::var("SESSION_SECRET").unwrap(),
        gh {
            preset: gihub,
            client_id: "app",
        }
        okta {
            preset: okta,
            client_id: "app",
        }
    }
}

fn main() {}
