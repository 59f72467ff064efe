//! An application that depends on `oauth2-runtime` as `auth` and on the `oauth2` client
//! crate as `oauth2`: `#[auth::protect]` and `#[derive(auth::FromClaims)]` find the
//! runtime without `crate = "..."`, and `oauth2::...` is the client crate.

use std::sync::OnceLock;

use axum::Router;
use axum::routing::get;

static ISSUER: OnceLock<String> = OnceLock::new();

fn issuer() -> String {
    ISSUER.get().expect("set before load").clone()
}

auth::providers! {
    dev { issuer: issuer(), audience: auth::dev::DEFAULT_AUDIENCE }
}

/// Typed claims, derived through the renamed crate.
#[derive(auth::FromClaims)]
pub struct User {
    /// The subject.
    pub sub: String,
}

#[auth::protect(provider = "dev", claims = User)]
async fn me(user: User) -> String {
    user.sub
}

/// The app's routes: `/me` needs a token of the `dev` provider.
pub fn app(providers: &Providers) -> Router {
    Router::new().route("/me", get(me)).layer(providers.layer())
}

/// The other crate named `oauth2`: its client id type, to show both are in scope.
pub fn client_id(id: &str) -> oauth2::ClientId {
    oauth2::ClientId::new(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn the_renamed_runtime_protects_a_route_next_to_the_oauth2_crate() {
        let idp = auth::dev::DevIssuer::start().await.unwrap();
        ISSUER.set(idp.issuer().to_owned()).unwrap();
        let providers = Providers::load().unwrap();
        providers.ready().await;
        let get = |token: Option<String>| {
            let mut request = Request::get("/me");
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            app(&providers).oneshot(request.body(Body::empty()).unwrap())
        };
        assert_eq!(get(None).await.unwrap().status(), StatusCode::BAD_REQUEST);
        let response = get(Some(idp.token().subject("ada").sign())).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        assert_eq!(&body[..], b"ada");
        assert_eq!(client_id("web").as_str(), "web");
    }
}
