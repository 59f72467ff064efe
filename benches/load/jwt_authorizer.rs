//! The load benchmark's jwt-authorizer server (see `benches/load/run.sh`): the peer
//! crate on its own axum (0.7), with `/open` as its own baseline and `/jwt-authorizer`
//! behind its layer, keys from the dev issuer's JWKS at `--jwks URL`.

use axum07::Router;
use axum07::routing::get;
use jwt_authorizer::{IntoLayer, JwtAuthorizer, JwtClaims, Validation};

#[derive(Clone, serde::Deserialize)]
struct User {
    sub: String,
}

async fn handler(JwtClaims(user): JwtClaims<User>) -> String {
    user.sub
}

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    args.get(i + 1).cloned()
}

fn main() {
    let port: u16 = arg("--port").map_or(8701, |p| p.parse().unwrap());
    let jwks = arg("--jwks").expect("--jwks URL");
    let issuer = arg("--issuer").expect("--issuer URL");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let validation = Validation::new()
            .iss(&[issuer.as_str()])
            .aud(&[oauth2::dev::DEFAULT_AUDIENCE]);
        let auth = JwtAuthorizer::<User>::from_jwks_url(&jwks)
            .validation(validation)
            .build()
            .await
            .expect("jwt-authorizer")
            .into_layer();
        let app = Router::new()
            .route("/jwt-authorizer", get(handler))
            .layer(auth)
            .route("/open", get(|| async { "open" }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap();
        axum07::serve(listener, app).await.unwrap();
    });
}
