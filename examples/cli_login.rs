//! A command-line client that logs in through the `login` example's app (provider
//! `oidc`, prefix `/auth`). It holds no client secret: the app adds its own client
//! authentication at the provider.
//!
//! ```text
//! cargo run --example cli_login                      # device flow (RFC 8628)
//! cargo run --example cli_login -- --browser         # loopback redirect (RFC 8252)
//! cargo run --example cli_login -- --browser --port 8400
//! ```
//!
//! `APP_URL` is the app's URL (default `http://127.0.0.1:3000`). With the device flow,
//! it prints the code and the page where to enter it, then polls. With `--browser`, it
//! listens on `127.0.0.1` (on `--port`, else a free one; the provider must allow
//! `http://127.0.0.1:PORT/callback` for the app's client), prints the URL to open, and
//! waits for the code. Either way it ends with `logged in as SUB`.

use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth2::login::Transaction;
use serde_json::Value;

const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

type Failure = Box<dyn Error + Send + Sync>;

/// POSTs `form` to the app; the JSON answer and whether it was a success.
async fn post(
    http: &reqwest::Client,
    url: &str,
    form: &[(&str, &str)],
) -> Result<(bool, Value), Failure> {
    let response = http.post(url).form(form).send().await?;
    let ok = response.status().is_success();
    Ok((ok, response.json().await?))
}

fn failed(answer: &Value) -> Failure {
    format!(
        "{}: {}",
        answer["error"].as_str().unwrap_or("error"),
        answer["error_description"].as_str().unwrap_or("")
    )
    .into()
}

/// The device flow: the user enters a code on another device, the CLI polls.
async fn device(http: &reqwest::Client, app: &str) -> Result<Value, Failure> {
    let (ok, started) = post(http, &format!("{app}/auth/oidc/device"), &[]).await?;
    if !ok {
        return Err(failed(&started));
    }
    let code = started["device_code"].as_str().unwrap_or_default();
    println!(
        "enter the code {} at {}",
        started["user_code"].as_str().unwrap_or_default(),
        started["verification_uri"].as_str().unwrap_or_default()
    );
    if let Some(complete) = started["verification_uri_complete"].as_str() {
        println!("or open {complete}");
    }
    let mut interval = started["interval"].as_u64().unwrap_or(5);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        let form = [("grant_type", DEVICE_CODE), ("device_code", code)];
        let (ok, answer) = post(http, &format!("{app}/auth/oidc/token"), &form).await?;
        match answer["error"].as_str() {
            _ if ok => return Ok(answer),
            Some("authorization_pending") => {}
            Some("slow_down") => interval += 5,
            _ => return Err(failed(&answer)),
        }
    }
}

/// The loopback redirect: the browser logs in, the code comes back to this process.
async fn browser(http: &reqwest::Client, app: &str, port: u16) -> Result<Value, Failure> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let redirect_uri = format!("http://{}/callback", listener.local_addr()?);
    let tx = Transaction::new("oidc", None)?;
    let (send, received) = tokio::sync::mpsc::channel::<HashMap<String, String>>(1);
    let callback = get(
        move |Query(query): Query<HashMap<String, String>>| async move {
            let _ = send.send(query).await;
            "You are logged in; you can close this page."
        },
    );
    let server = axum::serve(listener, Router::new().route("/callback", callback));
    tokio::spawn(async move { server.await });

    let mut open = url::Url::parse(&format!("{app}/auth/oidc/login"))?;
    open.query_pairs_mut()
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("code_challenge", &tx.challenge())
        .append_pair("code_challenge_method", "S256")
        .append_pair("state", &tx.state)
        .append_pair("nonce", &tx.nonce);
    println!("open {open}");
    let mut received = received;
    let query = received.recv().await.ok_or("the callback server stopped")?;
    if query.get("state") != Some(&tx.state) {
        return Err("the callback's state is not this login's".into());
    }
    if let Some(error) = query.get("error") {
        return Err(format!("the provider refused: {error}").into());
    }
    let code = query.get("code").ok_or("the callback has no code")?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("code_verifier", tx.verifier.as_str()),
    ];
    let (ok, tokens) = post(http, &format!("{app}/auth/oidc/token"), &form).await?;
    if !ok {
        return Err(failed(&tokens));
    }
    // The app validated the ID token; the nonce binds it to this login.
    if claims(&tokens)?["nonce"].as_str() != Some(tx.nonce.as_str()) {
        return Err("the ID token is not for this login (nonce)".into());
    }
    Ok(tokens)
}

/// The ID token's claims. The app validated its signature, issuer and audience before
/// passing it on, so the CLI only reads them.
fn claims(tokens: &Value) -> Result<Value, Failure> {
    let id_token = tokens["id_token"].as_str().ok_or("no ID token")?;
    let payload = id_token
        .split('.')
        .nth(1)
        .ok_or("the ID token is not a JWT")?;
    Ok(serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?)
}

async fn run() -> Result<(), Failure> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let app = std::env::var("APP_URL").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let app = app.trim_end_matches('/');
    let port = match args.iter().position(|a| a == "--port") {
        Some(i) => args.get(i + 1).ok_or("--port needs a number")?.parse()?,
        None => 0,
    };
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let tokens = if args.iter().any(|a| a == "--browser") {
        browser(&http, app, port).await?
    } else {
        device(&http, app).await?
    };
    println!(
        "logged in as {}; the access token expires in {} s",
        claims(&tokens)?["sub"].as_str().unwrap_or("?"),
        tokens["expires_in"].as_u64().unwrap_or(0)
    );
    Ok(())
}

#[tokio::main]
async fn main() {
    if let Err(e) = run().await {
        eprintln!("cli_login: {e}");
        std::process::exit(1);
    }
}
