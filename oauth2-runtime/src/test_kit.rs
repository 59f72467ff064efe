//! Testing your own app (feature `test-kit`, for `[dev-dependencies]`): point a
//! provider you declared at an in-process [`DevIssuer`], mint its tokens with the claims
//! and scopes a test needs, and log a browser in to get a session cookie. No network,
//! no global state: each test builds its app with its own issuer.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use axum::{body::Body, http::Request, routing::get, Router};
//! use oauth2::{dev::DevIssuer, Authenticator, Provider};
//! use tower::ServiceExt;
//!
//! // The app's configuration, as production has it (here by hand; with `providers!`,
//! // `Providers::builder()?` gives the same builder).
//! let declared = Authenticator::builder().provider(
//!     Provider::builder("corp").issuer("https://login.corp.example").audience("api://corp"),
//! );
//!
//! let idp = DevIssuer::start().await?;
//! let auth = declared.map_provider("corp", |p| p.retarget(&idp)).build()?;
//! auth.ready().await;
//! let app = Router::new().route("/items", get(|| async { "items" })).layer(auth.layer());
//!
//! let token = idp.token().audience("api://corp").scope("items:read").sign();
//! let request = Request::get("/items").header("authorization", format!("Bearer {token}"));
//! let response = app.oneshot(request.body(Body::empty())?).await?;
//! assert_eq!(response.status(), 200);
//! # Ok(()) }
//! ```
//!
//! With `providers!`, retarget both sides and build:
//! `Providers::build(Providers::builder()?.map_provider("corp", |p| p.retarget(&idp)),
//! Providers::login_builder()?.map_provider("corp", |p| p.retarget(&idp)))?`; then
//! [`log_in`] returns the `Cookie` header of a logged-in browser.

use crate::config::ProviderBuilder;
use crate::dev::DevIssuer;

impl ProviderBuilder {
    /// This provider, as declared, at `idp` instead of its issuer: tokens `idp` signs
    /// pass when they carry the declared audience (and `typ`, algorithm, scopes); keys
    /// come from `idp`'s discovery. A multi-tenant provider (`{tenantid}` in its
    /// issuer) goes to `idp`'s tenants ([`DevIssuer::tenant_issuer_template`]), its
    /// tenant list unchanged.
    pub fn retarget(self, idp: &DevIssuer) -> Self {
        if self.is_multi_tenant() {
            self.point_at(&idp.tenant_issuer_template())
        } else {
            self.point_at(idp.issuer())
        }
    }
}

#[cfg(feature = "login")]
mod login {
    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, Response, header};
    use tower::ServiceExt;

    use crate::dev::DevIssuer;
    use crate::login::{Login, LoginProviderBuilder};

    impl LoginProviderBuilder {
        /// This login, as declared, at `idp` instead of its provider (a preset and
        /// explicit endpoints give way to `idp`'s discovery; the client id stays).
        pub fn retarget(self, idp: &DevIssuer) -> Self {
            self.point_at(idp.issuer())
        }
    }

    /// Logs `user` in through the login routes of `app` (which merges
    /// `login.router()`) at `provider`, retargeted to a [`DevIssuer`], which signs `user`
    /// in at once; returns the `Cookie` header value of the browser afterwards (its
    /// session). The requests go to `app` in process; only the issuer is called over
    /// HTTP.
    ///
    /// # Panics
    ///
    /// When a step of the login does not answer as a working login does, with that
    /// answer in the message: a test helper's failure is the test's.
    pub async fn log_in(app: &Router, login: &Login, provider: &str, user: &str) -> String {
        let prefix = login.login_prefix();
        let start = send(app, &format!("{prefix}/{provider}/login"), "").await;
        let authorize = redirect(&start, "the login route");
        let transaction = cookies(&start);
        let to_idp = format!("{authorize}&login_hint={}", encode(user));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        let back = client
            .get(&to_idp)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the dev issuer is unreachable at {to_idp}: {e}"));
        let callback = back
            .headers()
            .get(header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or_else(|| panic!("the dev issuer did not redirect back: {}", back.status()))
            .to_owned();
        let path = url::Url::parse(&callback)
            .map(|u| format!("{}?{}", u.path(), u.query().unwrap_or("")))
            .unwrap_or(callback);
        let done = send(app, &path, &transaction).await;
        redirect(&done, "the callback");
        cookies(&done)
    }

    async fn send(app: &Router, path: &str, cookie: &str) -> Response<Body> {
        let mut request = Request::get(path);
        if !cookie.is_empty() {
            request = request.header(header::COOKIE, cookie);
        }
        let request = request.body(Body::empty()).expect("a valid request");
        app.clone()
            .oneshot(request)
            .await
            .expect("routers do not fail")
    }

    /// The `Location` of a 303, or a panic that shows the answer.
    fn redirect(response: &Response<Body>, what: &str) -> String {
        match response.headers().get(header::LOCATION) {
            Some(location) if response.status().is_redirection() => {
                location.to_str().unwrap_or_default().to_owned()
            }
            _ => panic!(
                "{what} answered {} instead of a redirect (is `login.router()` merged \
                 into the app, under `login.layer()`?)",
                response.status()
            ),
        }
    }

    /// The cookies a response sets (not removals), as a `Cookie` header value.
    fn cookies(response: &Response<Body>) -> String {
        response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|c| c.to_str().ok()?.split(';').next())
            .filter(|pair| pair.split_once('=').is_some_and(|(_, v)| !v.is_empty()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn encode(text: &str) -> String {
        url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
    }
}

#[cfg(feature = "login")]
pub use login::log_in;
