//! What the fuzz targets share: one app, built once per fuzzing process, that serves
//! every entry point an attacker reaches over HTTP, and the request each target sends.
//!
//! - `/api`: bearer tokens through [`oauth2::AuthLayer`], for two providers: `hs`
//!   (HS256 with [`HMAC_SECRET`], so that a target can sign any claims) and `dev`
//!   (the in-process [`DevIssuer`], through discovery and its JWKS).
//! - `/me`: a browser session through the login layer (stateless sealed cookies).
//! - `/auth/dev/...`: the login routes (login, callback with its transaction cookie,
//!   the token endpoint, back-channel logout) for the dev issuer.
//!
//! Requests go to the router in process (`oneshot`): no socket per input. Only the
//! dev issuer listens, on 127.0.0.1, for discovery, keys and code exchanges.

use std::sync::OnceLock;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode};
use axum::routing::get;
use oauth2::Authenticator;
use oauth2::config::Provider;
use oauth2::dev::DevIssuer;
use oauth2::login::{Login, LoginProvider, LoginSession};
use tokio::runtime::Runtime;
use tower::ServiceExt;

/// The `hs` provider's issuer.
pub const HS_ISSUER: &str = "https://hs.fuzz.invalid";
/// The `hs` provider's audience.
pub const HS_AUDIENCE: &str = "fuzz-api";
/// The `hs` provider's HMAC secret, with which [`sign_hs256`] signs.
pub const HMAC_SECRET: &[u8] = b"the fuzz targets' HS256 secret, 32+ bytes long";
/// The login's session secret: fixed, so that committed seeds hold cookies it opens.
pub const SESSION_SECRET: &str = "the fuzz targets' session secret, 32+ bytes long";
/// The app's base URL (never listened on: requests go to the router in process).
pub const BASE_URL: &str = "http://127.0.0.1:9";
/// The largest input a target uses; longer ones are cut (a header over this size is
/// refused by the layer's size limit long before).
pub const MAX_INPUT: usize = 64 * 1024;

/// The app and the runtime it runs on.
pub struct App {
    runtime: Runtime,
    router: Router,
    /// The dev issuer the `dev` provider and the login use.
    pub dev: DevIssuer,
}

/// The app, started on first use.
pub fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(App::start)
}

async fn me(session: LoginSession) -> String {
    session.subject().unwrap_or_default().to_owned()
}

impl App {
    fn start() -> App {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let (router, dev) = runtime.block_on(async {
            let dev = DevIssuer::start().await.expect("the dev issuer starts");
            let auth = Authenticator::builder()
                .provider(
                    Provider::builder("hs")
                        .issuer(HS_ISSUER)
                        .audience(HS_AUDIENCE)
                        .hmac_secret(HMAC_SECRET),
                )
                .provider(dev.provider("dev"))
                .build()
                .expect("the bearer config is valid");
            auth.ready().await;
            let login = Login::builder()
                .base_url(BASE_URL)
                .session_secret(SESSION_SECRET)
                .provider(
                    LoginProvider::builder("dev")
                        .issuer(dev.issuer())
                        .client_id("fuzz")
                        .client_secret("dev-secret")
                        .token_endpoint()
                        .backchannel_logout(),
                )
                .build()
                .expect("the login config is valid");
            let api = Router::new()
                .route("/api", get(|| async { "ok" }))
                .layer(auth.layer());
            let web = Router::new()
                .route("/me", get(me))
                .merge(login.router())
                .layer(login.layer());
            (api.merge(web), dev)
        });
        App {
            runtime,
            router,
            dev,
        }
    }

    /// Sends `request` to the app and returns its response. Panics when the app
    /// answers with a server error for an input that is only bad (a 500 is a bug the
    /// fuzzer reports; 503 is the right answer while the dev issuer cannot be reached).
    pub fn send(&self, request: Request<Body>) -> Response<Body> {
        let response = self
            .runtime
            .block_on(self.router.clone().oneshot(request))
            .expect("the router is infallible");
        let status = response.status();
        assert!(
            !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "the app answered {status} to a bad request"
        );
        response
    }

    /// Runs `future` on the app's runtime.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// A request to `uri` with `headers`, or `None` when the fuzzer's bytes cannot be a
/// header value at all (the HTTP server would have refused them before the app).
pub fn request(
    method: &str,
    uri: &str,
    headers: &[(&str, &[u8])],
    body: Vec<u8>,
) -> Option<Request<Body>> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        let value = axum::http::HeaderValue::from_bytes(value).ok()?;
        builder = builder.header(*name, value);
    }
    builder.body(Body::from(body)).ok()
}

/// An HS256 JWT over exactly these header and payload bytes, signed with
/// [`HMAC_SECRET`]: lets a target reach the claim checks with any claims.
pub fn sign_hs256(header: &[u8], payload: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let message = format!("{}.{}", b64.encode(header), b64.encode(payload));
    let key = jsonwebtoken::EncodingKey::from_secret(HMAC_SECRET);
    let signature =
        jsonwebtoken::crypto::sign(message.as_bytes(), &key, jsonwebtoken::Algorithm::HS256)
            .expect("HMAC signing cannot fail");
    format!("{message}.{signature}")
}

/// `data` cut at the first `separator`: the two parts of a target's input.
pub fn split(data: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match data.iter().position(|b| *b == separator) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[]),
    }
}
