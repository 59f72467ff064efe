//! A web application with browser login, configured only by environment:
//!
//! | variable | meaning |
//! |---|---|
//! | `OIDC_ISSUER` | the OpenID Provider's issuer URL (required) |
//! | `OIDC_CLIENT_ID` | the client id registered there (required) |
//! | `OIDC_CLIENT_SECRET` | its secret (optional: without one the client is public, PKCE only) |
//! | `OIDC_CLIENT_AUTH` | how the client authenticates on every request to the provider: `client_secret_basic` (default), `client_secret_post`, `client_secret_jwt` or `private_key_jwt` |
//! | `OIDC_CLIENT_KEY_FILE` | for `private_key_jwt`: a PKCS #8 PEM private key (P-256 or RSA) whose public JWK the provider has registered, with its RFC 7638 thumbprint as `kid` |
//! | `APP_BASE_URL` | this app's public URL (default `http://127.0.0.1:3000`); register `{APP_BASE_URL}/auth/oidc/callback` as redirect URI and `{APP_BASE_URL}/` as post-logout redirect URI |
//! | `SESSION_SECRET` | 32 bytes or more that encrypt the cookies (required) |
//! | `SESSION_STORE` | `cookie` (default: the session in encrypted cookies), `memory`, `redis://...`, `redis+cluster://host:port,...` (a Redis Cluster) or `postgres://...` |
//! | `OIDC_SCOPES` | scopes, space-separated (default `openid profile email`) |
//! | `OAUTH2_BIND` | listen address (default `127.0.0.1:3000`) |
//!
//! Routes: `/` a public page with a login link or a logout form; `/me` the logged-in user as
//! JSON (401 for API clients, a redirect to the login for browsers); `/me/provider` the
//! provider's userinfo, fetched with the session's access token (refreshed first when
//! it expires within a minute: a call on the user's behalf); the generated
//! `/auth/oidc/login`, `/auth/oidc/callback`, `/auth/logout` and `/auth/userinfo`; and
//! for devices and CLIs `POST /auth/oidc/device` and `POST /auth/oidc/token` (device
//! code and refresh grants, with this app's client authentication); and
//! `POST /auth/oidc/backchannel-logout`, to register as the client's
//! `backchannel_logout_uri`: a logout at the provider ends the session here (on every
//! instance sharing a Redis or PostgreSQL store).

use std::error::Error;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use oauth2::client::{ClientAuth, ClientKey};
use oauth2::login::{Login, LoginProvider, LoginSession, Session};
use oauth2::session::{MemoryStore, PostgresStore, RedisStore};

#[derive(oauth2::FromClaims, serde::Serialize)]
struct User {
    sub: String,
    name: Option<String>,
    email: Option<String>,
}

async fn home(user: Option<Session<User>>) -> Html<String> {
    Html(match user {
        Some(Session(user)) => format!(
            "<h1>Hello, {}</h1><p><a id=\"me\" href=\"/me\">Your profile</a></p>\
             <form method=\"post\" action=\"/auth/logout\">\
             <button id=\"logout\">Log out</button></form>",
            escape(user.name.as_deref().unwrap_or(&user.sub))
        ),
        None => "<h1>Welcome</h1><p><a id=\"login\" href=\"/auth/oidc/login?return_to=/me\">\
                 Log in</a></p>"
            .to_owned(),
    })
}

async fn me(Session(user): Session<User>) -> Json<User> {
    Json(user)
}

/// The provider's userinfo endpoint, discovered on first use.
#[derive(Clone)]
struct Upstream {
    http: reqwest::Client,
    issuer: String,
    userinfo: Arc<tokio::sync::OnceCell<String>>,
}

impl Upstream {
    async fn userinfo_url(&self) -> Result<&str, String> {
        let url = self
            .userinfo
            .get_or_try_init(|| async {
                let meta = oauth2::discovery::discover(&self.http, &self.issuer)
                    .await
                    .map_err(|e| e.to_string())?;
                meta.userinfo_endpoint
                    .ok_or_else(|| "the provider has no userinfo endpoint".to_owned())
            })
            .await?;
        Ok(url)
    }

    async fn userinfo(&self, token: &str) -> Result<serde_json::Value, String> {
        let response = self
            .http
            .get(self.userinfo_url().await?)
            .bearer_auth(token)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("userinfo: {e}"))?;
        response.json().await.map_err(|e| format!("userinfo: {e}"))
    }
}

/// The provider's userinfo for the session's user, with its (fresh) access token.
async fn provider_profile(State(up): State<Upstream>, session: LoginSession) -> Response {
    let token = match session.access_token().await {
        Ok(token) => token,
        Err(rejection) => return rejection.into_response(),
    };
    match up.userinfo(&token).await {
        Ok(info) => Json(info).into_response(),
        Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("environment variable {name} is not set"))
}

async fn run() -> Result<(), Box<dyn Error>> {
    // The device flow (and the token endpoint that polls it) for CLIs and devices, and
    // back-channel logout from the provider.
    let issuer = var("OIDC_ISSUER")?;
    let mut provider = LoginProvider::builder("oidc")
        .issuer(&issuer)
        .client_id(var("OIDC_CLIENT_ID")?)
        .device_flow()
        .backchannel_logout();
    if let Ok(secret) = std::env::var("OIDC_CLIENT_SECRET") {
        provider = provider.client_secret(secret);
    }
    if let Ok(path) = std::env::var("OIDC_CLIENT_KEY_FILE") {
        let pem = std::fs::read_to_string(&path)
            .map_err(|e| format!("OIDC_CLIENT_KEY_FILE {path}: {e}"))?;
        let key =
            ClientKey::from_pem(&pem).map_err(|e| format!("OIDC_CLIENT_KEY_FILE {path}: {e}"))?;
        provider = provider.client_key(key);
    }
    let auth = std::env::var("OIDC_CLIENT_AUTH").unwrap_or_else(|_| "client_secret_basic".into());
    let Some(method) = ClientAuth::from_name(&auth).filter(|m| *m != ClientAuth::None) else {
        return Err(format!(
            "OIDC_CLIENT_AUTH `{auth}` is not client_secret_basic, client_secret_post, \
             client_secret_jwt or private_key_jwt"
        )
        .into());
    };
    // Without a secret (a public client) the default is no client authentication.
    if std::env::var("OIDC_CLIENT_AUTH").is_ok() || std::env::var("OIDC_CLIENT_SECRET").is_ok() {
        provider = provider.client_auth(method);
    }
    if let Ok(scopes) = std::env::var("OIDC_SCOPES") {
        provider = provider.scopes(scopes.split_whitespace().map(str::to_owned));
    }
    let base = std::env::var("APP_BASE_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let mut login = Login::builder()
        .base_url(&base)
        .session_secret(var("SESSION_SECRET")?)
        .provider(provider);
    let store = std::env::var("SESSION_STORE").unwrap_or_else(|_| "cookie".into());
    login = match store.as_str() {
        "cookie" => login,
        "memory" => login.session_store(MemoryStore::new()),
        url if url.starts_with("redis") => login.session_store(RedisStore::connect(url).await?),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            login.session_store(PostgresStore::connect(url).await?)
        }
        other => {
            return Err(format!(
                "SESSION_STORE `{other}` is not cookie, memory, redis://..., redis+cluster://... or postgres://..."
            )
            .into());
        }
    };
    let login = login.build()?;

    let upstream = Upstream {
        http: reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .build()?,
        issuer,
        userinfo: Arc::default(),
    };
    let app = Router::new()
        .route("/", get(home))
        .route("/me", get(me))
        .route("/me/provider", get(provider_profile))
        .with_state(upstream)
        .merge(login.router())
        .layer(login.layer());
    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("listening on http://{bind} (public URL {base}, sessions: {store})");
    axum::serve(listener, app).await?;
    Ok(())
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,oauth2=debug".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    if let Err(e) = run().await {
        tracing::error!("{e}");
        std::process::exit(1);
    }
}
