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
    missing_token_challenge: true,
    allow_websocket_query_token: true,
    max_token_size: 16384,
    token_cache: 50000,
    token_cache_max_age: 15m,
    http_client: client(),
    dpop_base_url: "https://api.example.com",
    dpop_replay_store: oauth2::dpop::MemoryReplayCache::new(1000),
    dpop_proof_max_age: 30s,
    dpop_nonce_secret: env("DPOP_NONCE_SECRET"),
    dpop_nonce_period: 2m,

    google {
        issuer: "https://accounts.google.com",
        audience: "1234.apps.googleusercontent.com",
        dpop: allowed,
    }
    entra {
        issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
        audience: "api://orders",
        tenants: ["contoso", "fabrikam"],
    }
    entra_any {
        issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
        audience: "api://orders",
        any_tenant: true,
        max_tenants: 5000,
    }
    cognito {
        issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123",
        audience: "5f7k2example3n8clientid",
        audience_claim: "client_id",
    }
    local {
        issuer: "http://127.0.0.1:8080/realms/dev",
        audience: vec!["a".to_owned(), "b".to_owned()],
        jwks_file: "keys.json",
        algorithms: [ES256],
        leeway: Duration::from_secs(5),
        required_typ: "at+jwt",
        accept_id_tokens: false,
        refresh_interval: 15m,
        unknown_kid_cooldown: 500ms,
        fetch_timeout: 10s,
        retry_backoff: (Duration::from_secs(1), Duration::from_secs(60)),
        http_client: client(),
        introspection_client_id: "api-resource-server",
        introspection_client_secret: env("INTROSPECTION_SECRET"),
        introspection_client_auth: client_secret_post,
        introspection_endpoint: "http://127.0.0.1:8080/realms/dev/introspect",
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

// Browser login: every login key, with a login-only provider, a plain OAuth 2.0
// provider and one that also takes bearer tokens.
mod login {
    oauth2::providers! {
        base_url: env("APP_BASE_URL"),
        login_prefix: "/auth",
        session_secret: env("SESSION_SECRET"),
        old_session_secret: env("OLD_SESSION_SECRET", optional),
        session_cookie: "app_session",
        session_store: oauth2::session::MemoryStore::new(),
        session_ttl: 8h,
        idle_timeout: std::time::Duration::from_secs(1800),
        session_cache: 4194304,
        allow_get_logout: true,
        allowed_origins: ["https://admin.example"],
        on_login: |_event: oauth2::login::LoginEvent| async { Ok::<_, oauth2::login::LoginRejected>(()) },
        error_redirect: "/signin-failed",
        app_token: oauth2::login::AppToken::hs256("https://app.example", "app", [7u8; 32]).unwrap(),
        public_paths: ["/"],
        logout_store: oauth2::session::MemoryStore::new(),

        corp {
            issuer: env("OIDC_ISSUER"),
            client_id: env("OIDC_CLIENT_ID"),
            client_secret: env("OIDC_CLIENT_SECRET", optional),
            dpop_key: env("OIDC_DPOP_KEY", optional),
            id_token_algorithms: [HS256, RS256],
            scopes: env("OIDC_SCOPES", default = "openid profile email offline_access"),
            prompt: "consent",
            authorize_params: [("audience", "https://api.corp.example"), ("ui_locales", "de")],
            userinfo: auto,
            pushed_authorization: required,
            token_endpoint: true,
            device_flow: std::env::var("DEVICES").is_ok(),
            backchannel_logout: true,
        }
        github {
            client_id: "Iv1.0123456789",
            client_secret: std::env::var("GITHUB_SECRET").unwrap_or_default(),
            scopes: ["read:user"],
            authorize_url: "https://github.com/login/oauth/authorize",
            token_url: "https://github.com/login/oauth/access_token",
            userinfo_url: "https://api.github.com/user",
        }
        gh {
            preset: github,
            client_id: "Iv1.abcdef",
        }
        goog {
            preset: google,
            client_id: env("GOOGLE_CLIENT_ID"),
        }
        kc {
            preset: keycloak,
            issuer: "https://sso.corp.example/realms/staff",
            client_id: "staff-portal",
            userinfo: required,
            // Signed client assertions: private_key_jwt, audience the token endpoint.
            client_auth: private_key_jwt,
            client_key: env("KC_CLIENT_KEY"),
            assertion_audience: endpoint,
        }
        // The FAPI 2.0 Security Profile: private_key_jwt, DPoP, PAR, RFC 9207.
        bank {
            issuer: "https://as.bank.example",
            client_id: "tpp",
            client_key: env("BANK_CLIENT_KEY"),
            dpop_key: env("BANK_DPOP_KEY"),
            fapi2: true,
        }
        // A federated credential: the workload's token, renewed in a file.
        entra {
            issuer: "https://login.microsoftonline.com/11111111-2222-3333-4444-555555555555/v2.0",
            client_id: "22222222-3333-4444-5555-666666666666",
            client_assertion_file: env("AZURE_FEDERATED_TOKEN_FILE"),
            assertion_audience: endpoint,
            keep_refresh_token_at_logout: true,
        }
        both {
            issuer: "https://login.both.example",
            audience: "api",
            client_id: "web",
            scopes: ["openid"],
            userinfo: never,
        }
    }

    fn _use(p: &Providers) {
        let _: &oauth2::login::Login = p.login();
        let _: &oauth2::Authenticator = p.authenticator();
        let _: axum::Router = axum::Router::new().merge(p.router()).layer(p.layer());
        let _ = Github::login_builder();
        let _ = Both::builder();
        let _ = Both::login_builder();
    }
}

fn main() {
    let _: fn() -> Result<oauth2::ProviderBuilder, oauth2::ConfigError> = SharedSecret::builder;
    assert_eq!(
        Providers::NAMES,
        ["google", "entra", "entra_any", "cognito", "local", "shared_secret"]
    );
}
