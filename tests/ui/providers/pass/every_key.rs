// Every key, in each of its value forms.
use std::time::Duration;

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

oauth2::providers! {
    public_paths: ["/", "/health"],
    public_prefixes: env("PUBLIC_PREFIXES", default = "/docs,/static"),
    cookie: "access_token",
    realm: "corp-api",
    max_token_size: 16384,
    http_client: client(),

    google {
        issuer: "https://accounts.google.com",
        audience: "1234.apps.googleusercontent.com",
    }
    local {
        issuer: "http://127.0.0.1:8080/realms/dev",
        audience: vec!["a".to_owned(), "b".to_owned()],
        jwks_file: "keys.json",
        algorithms: [ES256],
        leeway: Duration::from_secs(5),
        required_typ: "at+jwt",
        refresh_interval: 15m,
        unknown_kid_cooldown: 500ms,
        fetch_timeout: 10s,
        retry_backoff: (Duration::from_secs(1), Duration::from_secs(60)),
        http_client: client(),
    }
    shared_secret {
        issuer: env("HS_ISSUER"),
        danger_accept_any_audience: true,
        hmac_secret: env("HS_SECRET"),
        algorithms: [HS256],
        leeway: env("HS_LEEWAY", optional),
        refresh_interval: 1h,
    }
}

fn main() {
    let _: fn() -> Result<oauth2::ProviderBuilder, oauth2::ConfigError> = SharedSecret::builder;
    assert_eq!(Providers::NAMES, ["google", "local", "shared_secret"]);
}
