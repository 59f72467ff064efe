// The surface of the documentation compiles, and the handlers are axum handlers.
use axum::{routing::{get, post}, Json, Router};
use oauth2::{protect, providers, FromClaims};

providers! {
    google {
        issuer: "https://accounts.google.com",
        audience: "1234.apps.googleusercontent.com",
    }
    corp {
        issuer: env("CORP_ISSUER"),
        audience: ["api://corp", "corp-cli"],
        jwks_url: "https://login.corp.example/keys",
        algorithms: [RS256, ES256],
        leeway: 30s,
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    email: Option<String>,
    #[claim(rename = "preferred_username")]
    username: String,
    #[claim(path = "realm_access.roles", default)]
    roles: Vec<String>,
    #[claim(scopes)]
    scopes: oauth2::Scopes,
}

#[protect(provider = "google", claims = User)]
async fn me(user: User) -> Json<String> {
    let _ = (&user.email, &user.username, &user.scopes);
    Json(user.sub)
}

#[protect(provider = "corp", claims = User, scopes = ["items:write"])]
async fn create(user: User, Json(item): Json<serde_json::Value>) -> Json<serde_json::Value> {
    let _ = user;
    Json(item)
}

#[protect(provider = any("google", "corp"), claims = User, require = user.roles.iter().any(|r| r == "admin"))]
async fn admin(user: User) -> &'static str {
    let _ = user;
    "hello admin"
}

#[protect(provider = "google", claims = User, optional)]
async fn maybe(user: Option<User>) -> String {
    user.map(|u| u.sub).unwrap_or_default()
}

// Step-up (RFC 9470): a strong and recent login.
#[protect(provider = "corp", claims = User, acr = ["urn:example:mfa", "hwk"], max_age = 5m)]
async fn payout(user: User) -> String {
    user.sub
}

#[protect(provider = "corp", max_age = 1h)]
async fn recent() {}

// Only DPoP-bound tokens (RFC 9449).
#[protect(provider = "corp", claims = User, dpop)]
async fn transfer(user: User) -> String {
    user.sub
}

#[protect(provider = "google")]
async fn ping() -> &'static str {
    "pong"
}

// Handlers in a child module see the providers declared before it.
mod nested {
    use oauth2::protect;

    #[protect(provider = "corp", claims = oauth2::Authenticated)]
    pub async fn raw(mut auth: oauth2::Authenticated) -> String {
        auth = auth.clone();
        auth.provider().to_owned()
    }
}

fn app(providers: &Providers) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/items", post(create))
        .route("/admin", get(admin))
        .route("/maybe", get(maybe))
        .route("/ping", get(ping))
        .route("/payout", post(payout))
        .route("/recent", get(recent))
        .route("/transfer", post(transfer))
        .route("/raw", get(nested::raw))
        .layer(providers.layer())
}

fn main() {
    use oauth2::guard::Guard;
    let _ = app;
    // The arguments become the guard's step-up rule; a route without them asks nothing.
    let rule = <__oauth2_guard_payout as Guard<User>>::STEP_UP;
    assert_eq!(rule.acr_values, ["urn:example:mfa", "hwk"]);
    assert_eq!(rule.max_age, Some(std::time::Duration::from_secs(300)));
    let rule = <__oauth2_guard_recent as Guard<oauth2::Authenticated>>::STEP_UP;
    assert!(rule.acr_values.is_empty());
    assert_eq!(rule.max_age, Some(std::time::Duration::from_secs(3600)));
    assert!(<__oauth2_guard_me as Guard<User>>::STEP_UP.is_empty());
    assert!(<__oauth2_guard_transfer as Guard<User>>::DPOP);
    assert!(!<__oauth2_guard_me as Guard<User>>::DPOP);
}
