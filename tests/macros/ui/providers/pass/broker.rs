// The broker: a block named `broker` with its keys; handlers protect with it like any
// provider, and `Providers` builds the login (which holds the broker) before the
// authenticator that takes its keys.
use axum::Router;
use oauth2::{protect, providers, FromClaims};

providers! {
    base_url: "https://app.example",
    session_secret: env("SESSION_SECRET"),
    oidc {
        issuer: "https://login.example",
        client_id: "app",
        client_secret: env("OIDC_CLIENT_SECRET", optional),
        device_flow: true,
        backchannel_logout: true,
    }
    broker {
        audience: env("BROKER_AUDIENCE", default = "https://api.example"),
        store: oauth2::session::MemoryStore::new(),
        token_ttl: 5m,
        refresh_ttl: 336h,
        algorithm: EdDSA,
        rotate_every: 720h,
        claims: ["email", "groups"],
        trusted_issuers: ["https://peer.example/auth"],
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    email: Option<String>,
}

#[protect(provider = "broker", claims = User)]
async fn me(user: User) -> String {
    let _ = &user.email;
    user.sub
}

#[protect(provider = any("broker", "oidc"), claims = User, optional)]
async fn maybe(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

fn _use(p: &Providers) -> Router {
    let _: Option<&oauth2::issuer::Broker> = p.login().broker();
    let _ = Broker::broker_builder();
    assert_eq!(Broker::NAME, "broker");
    Router::new()
        .route("/me", axum::routing::get(me))
        .route("/maybe", axum::routing::get(maybe))
        .merge(p.router())
        .layer(p.layer())
}

fn main() {
    assert_eq!(Providers::NAMES, ["oidc", "broker"]);
}
