//! A user's crate on edition 2021 with `#![deny(warnings)]` whose handlers are one
//! expression each, in every documented `#[protect]` form: the generated code must trip
//! no rustc lint (this crate does not compile otherwise; on 2021 a block around the
//! handler's body is an `unused_braces` warning at the user's braces) and no clippy lint
//! (CI runs clippy with `-D warnings` on every target), and the handlers still answer.
#![deny(warnings)]

use axum::routing::get;
use axum::{Json, Router};
use oauth2::{protect, providers, Authenticated, FromClaims, Scopes};

/// Production reads it with `env("SESSION_SECRET")`.
const SESSION_SECRET: &str = "the one-line handlers' session secret, 32+ bytes";

providers! {
    base_url: "https://app.corp.example",
    session_secret: SESSION_SECRET,
    corp {
        issuer: "https://login.corp.example",
        audience: "api://corp",
        client_id: "corp-web",
    }
}

#[derive(FromClaims)]
struct User {
    sub: String,
    #[claim(scopes)]
    scopes: Scopes,
}

// One line each, as users write them: rustc's `unused_braces` looks at one-line
// blocks only, so rustfmt must not spread them.
#[rustfmt::skip]
#[protect(provider = "corp", claims = User)]
async fn me(user: User) -> Json<String> { Json(user.sub) }

#[rustfmt::skip]
#[protect(provider = "corp", claims = User, scopes = ["items:write"])]
async fn write(user: User) -> String { format!("{} +{}", user.sub, user.scopes.iter().count()) }

#[rustfmt::skip]
#[protect(provider = "corp", claims = User, optional)]
async fn maybe(user: Option<User>) -> String { user.map(|u| u.sub).unwrap_or_default() }

#[rustfmt::skip]
#[protect(provider = "corp", claims = User, require = user.sub.starts_with("ad"))]
async fn admins(user: User) -> String { user.sub }

#[rustfmt::skip]
#[protect(provider = "corp", claims = Authenticated)]
async fn raw(user: Authenticated) -> String { user.claims()["sub"].to_string() }

#[rustfmt::skip]
#[protect(provider = "corp")]
async fn ping() -> &'static str { "pong" }

#[rustfmt::skip]
#[protect(session, provider = "corp", claims = User)]
async fn profile(user: User) -> String { user.sub }

/// The app: every handler above, the login routes, the layer.
pub fn app(providers: &Providers) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/write", get(write))
        .route("/maybe", get(maybe))
        .route("/admins", get(admins))
        .route("/raw", get(raw))
        .route("/ping", get(ping))
        .route("/profile", get(profile))
        .merge(providers.router())
        .layer(providers.layer())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use oauth2::dev::DevIssuer;
    use tower::ServiceExt;

    async fn answer(app: &Router, path: &str, header: Option<(&str, &str)>) -> (u16, String) {
        let mut request = Request::get(path);
        if let Some((name, value)) = header {
            request = request.header(name, value);
        }
        let response = app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn one_expression_handlers_compile_without_warnings_and_answer() {
        let idp = DevIssuer::start().await.unwrap();
        let providers = Providers::build(
            Providers::builder()
                .unwrap()
                .map_provider("corp", |p| p.retarget(&idp)),
            Providers::login_builder()
                .unwrap()
                .map_provider("corp", |p| p.retarget(&idp)),
        )
        .unwrap();
        providers.ready().await;
        let app = app(&providers);

        let token = idp
            .token()
            .subject("ada")
            .audience("api://corp")
            .scope("items:write")
            .sign();
        let bearer = format!("Bearer {token}");
        let auth = Some(("authorization", bearer.as_str()));
        assert_eq!(answer(&app, "/me", auth).await, (200, "\"ada\"".into()));
        assert_eq!(answer(&app, "/write", auth).await, (200, "ada +1".into()));
        assert_eq!(answer(&app, "/maybe", auth).await, (200, "ada".into()));
        assert_eq!(answer(&app, "/maybe", None).await, (200, String::new()));
        assert_eq!(answer(&app, "/admins", auth).await, (200, "ada".into()));
        assert_eq!(answer(&app, "/raw", auth).await, (200, "\"ada\"".into()));
        assert_eq!(answer(&app, "/ping", auth).await, (200, "pong".into()));
        // No token: the library's default answer (400 `invalid_request`).
        let (status, body) = answer(&app, "/me", None).await;
        assert_eq!(status, 400);
        assert!(body.contains("no bearer token"), "{body}");

        let bob = idp.token().subject("bob").audience("api://corp").sign();
        let bob = format!("Bearer {bob}");
        assert_eq!(
            answer(&app, "/admins", Some(("authorization", &bob)))
                .await
                .0,
            403
        );

        let cookie = oauth2::test_kit::log_in(&app, providers.login(), "corp", "ada").await;
        assert_eq!(
            answer(&app, "/profile", Some(("cookie", &cookie))).await,
            (200, "ada".into())
        );
    }
}
