//! Pushed authorization requests (RFC 9126) against a certified provider (npm
//! `oidc-provider`, which advertises its PAR endpoint): a login pushes its request with
//! the client's authentication (Basic, post, or a public client's `client_id`) and sends
//! the browser with `client_id` and `request_uri` only; `never` keeps the request in
//! the URL; a provider that requires PAR refuses `never` with a clear error; a pushed
//! request the provider refuses fails the login with its reason.

use axum::Router;
use axum::routing::get;
use oauth2::login::{
    ClientAuth, Login, LoginProvider, LoginProviderBuilder, PushedAuthorization, Session,
};
use oauth2_tests::browser::{Browser, location};
use oauth2_tests::op::{OpenIdProvider, Options, POST_CLIENT, PUBLIC_CLIENT, WEB_CLIENT};
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

const SECRET: &str = "the PAR test's session secret, 32 bytes or more";

#[derive(oauth2::FromClaims)]
struct User {
    sub: String,
}

async fn me(Session(user): Session<User>) -> String {
    user.sub
}

/// Serves an app that logs in with `provider` (one login provider per issuer: each
/// client gets an app of its own). The listener is bound first, as the provider must
/// know the app's URL.
fn app(listener: TcpListener, base: &str, provider: LoginProviderBuilder) {
    let login = Login::builder()
        .base_url(base)
        .session_secret(SECRET)
        .provider(provider)
        .build()
        .unwrap();
    let app = Router::new()
        .route("/me", get(me))
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
}

/// Starts the provider for one app per login provider; serves them; returns their
/// base URLs in order.
async fn apps(
    options: Options,
    providers: impl Fn(&OpenIdProvider) -> Vec<LoginProviderBuilder>,
    n: usize,
) -> (OpenIdProvider, Vec<String>) {
    let mut listeners = Vec::new();
    let mut bases = Vec::new();
    for _ in 0..n {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        bases.push(format!("http://{}", listener.local_addr().unwrap()));
        listeners.push(listener);
    }
    let op = OpenIdProvider::start(Options {
        apps: bases.clone(),
        ..options
    })
    .await;
    for ((listener, base), provider) in listeners.into_iter().zip(&bases).zip(providers(&op)) {
        app(listener, base, provider);
    }
    (op, bases)
}

fn query(url: &str) -> Vec<(String, String)> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

fn client(op: &OpenIdProvider, name: &str, id: &str, secret: Option<&str>) -> LoginProviderBuilder {
    let p = LoginProvider::builder(name)
        .issuer(&op.issuer)
        .client_id(id)
        .scopes(["openid"]);
    match secret {
        Some(secret) => p.client_secret(secret),
        None => p,
    }
}

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn logins_push_their_request_with_each_client_authentication() {
    let (_op, bases) = apps(
        Options::default(),
        |op| {
            vec![
                client(op, "oidc", WEB_CLIENT.0, Some(WEB_CLIENT.1)),
                client(op, "post", POST_CLIENT.0, Some(POST_CLIENT.1))
                    .client_auth(ClientAuth::SecretPost),
                client(op, "public", PUBLIC_CLIENT, None),
                client(op, "other", WEB_CLIENT.0, Some(WEB_CLIENT.1))
                    .pushed_authorization(PushedAuthorization::Never),
            ]
        },
        4,
    )
    .await;

    for (base, name, client_id) in [
        (&bases[0], "oidc", WEB_CLIENT.0),
        (&bases[1], "post", POST_CLIENT.0),
        (&bases[2], "public", PUBLIC_CLIENT),
    ] {
        let b = Browser::new();
        let start = b
            .navigate(&format!("{base}/auth/{name}/login?return_to=/me"))
            .await;
        assert_eq!(start.status(), 303, "{name}");
        let to_provider = location(&start);
        // Nothing of the request but its reference passes through the browser.
        let q = query(&to_provider);
        let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["client_id", "request_uri"], "{name}: {to_provider}");
        assert_eq!(q[0].1, client_id);
        assert!(
            q[1].1.starts_with("urn:ietf:params:oauth:request_uri:"),
            "{name}: {to_provider}"
        );
        let callback = b.authorize(&to_provider, base, "alice").await;
        let done = b.get(&callback).await;
        assert_eq!(done.status(), 303, "{name}: {:?}", done.text().await);
        let me = b.get(&format!("{base}/me")).await;
        assert_eq!(me.text().await.unwrap(), "alice", "{name}");
    }

    // `never`: the whole request in the URL, as without PAR.
    let base = &bases[3];
    let b = Browser::new();
    let start = b.navigate(&format!("{base}/auth/other/login")).await;
    let q = query(&location(&start));
    assert!(
        q.iter()
            .any(|(k, v)| k == "code_challenge_method" && v == "S256")
    );
    assert!(!q.iter().any(|(k, _)| k == "request_uri"));
    let callback = b.authorize(&location(&start), base, "bob").await;
    assert_eq!(b.get(&callback).await.status(), 303);
}

#[tokio::test]
async fn a_provider_that_requires_par_and_a_request_it_refuses() {
    let options = Options {
        require_par: true,
        ..Options::default()
    };
    let (_op, bases) = apps(
        options,
        |op| {
            vec![
                client(op, "oidc", WEB_CLIENT.0, Some(WEB_CLIENT.1))
                    .pushed_authorization(PushedAuthorization::Required),
                client(op, "other", WEB_CLIENT.0, Some(WEB_CLIENT.1))
                    .pushed_authorization(PushedAuthorization::Never),
                // A resource the provider does not know: it refuses the pushed request.
                client(op, "post", POST_CLIENT.0, Some(POST_CLIENT.1))
                    .client_auth(ClientAuth::SecretPost)
                    .authorize_param("resource", "urn:example:api:unknown"),
            ]
        },
        3,
    )
    .await;

    // Required, and the provider requires it: the login works.
    let b = Browser::new();
    let base = &bases[0];
    let start = b
        .navigate(&format!("{base}/auth/oidc/login?return_to=/me"))
        .await;
    let callback = b.authorize(&location(&start), base, "alice").await;
    assert_eq!(b.get(&callback).await.status(), 303);
    let me = b.get(&format!("{base}/me")).await;
    assert_eq!(me.text().await.unwrap(), "alice");

    // Turned off where the provider requires it: a 500 that says why, before the
    // browser is sent anywhere.
    let (status, body) = error_of(b.get(&format!("{}/auth/other/login", bases[1])).await).await;
    assert_eq!(status, 500);
    let why = body["error_description"].as_str().unwrap();
    assert!(
        why.contains("require_pushed_authorization_requests"),
        "{body}"
    );

    // The provider refuses the pushed request: 502 with its error.
    let (status, body) = error_of(b.get(&format!("{}/auth/post/login", bases[2])).await).await;
    assert_eq!(status, 502);
    assert_eq!(body["error"], "pushed_authorization_failed");
    let why = body["error_description"].as_str().unwrap();
    assert!(why.contains("invalid_target"), "{body}");
}
