//! Glewlwyd, a second OpenID Provider written independently of oidc-provider (C, from
//! Debian's `glewlwyd` package), started on 127.0.0.1 for one test: a fresh SQLite
//! database from the package's schema, a generated ES256 key, the OpenID Connect plugin,
//! users and a client configured through its admin API.
//!
//! Its login page is a web app that calls Glewlwyd's API; [`Glewlwyd::authorize`] does
//! what it does: sign in (`POST /api/auth/`), grant the scopes to the client, and go on
//! with the authorization (`g_continue`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::browser::{Browser, location};

const SERVER: &str = "/usr/bin/glewlwyd";
const SCHEMA: &str = "/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3";
const CONFIG: &str = "/etc/glewlwyd/glewlwyd.conf";
/// The package's administrator and password (from its schema).
const ADMIN: (&str, &str) = ("admin", "password");
/// Every user's password.
const PASSWORD: &str = "correct horse battery staple";

/// The client of the tests' app: a confidential client with this secret.
pub const CLIENT: (&str, &str) = ("rp", "rp-secret-rp-secret-rp-secret-rp-secret");

/// Whether Debian's package is installed.
pub fn installed() -> bool {
    [SERVER, SCHEMA, CONFIG]
        .iter()
        .all(|p| Path::new(p).exists())
}

/// A running Glewlwyd; stopped when dropped.
pub struct Glewlwyd {
    _child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:{port}/api`.
    api: String,
    /// The OpenID Connect plugin's issuer, `{api}/oidc`.
    pub issuer: String,
    /// Signed in as the administrator.
    admin: reqwest::Client,
    /// The signing keys (private JWKS), the first one signing.
    keys: std::sync::Mutex<Value>,
}

impl Drop for Glewlwyd {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Glewlwyd {
    /// Starts one whose client [`CLIENT`] may redirect to `{app}/auth/glewlwyd/callback`
    /// and back to `{app}/` after logout, and whose back-channel logout goes to
    /// `{app}/auth/glewlwyd/backchannel-logout`.
    pub async fn start(app: &str) -> Self {
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("glewlwyd-{port}-{}", crate::nanos()));
        std::fs::create_dir_all(&dir).unwrap();
        init_database(&dir.join("db"));
        std::fs::write(dir.join("glewlwyd.conf"), config(port, &dir)).unwrap();
        let log = std::fs::File::create(dir.join("log")).unwrap();
        let child = Command::new(SERVER)
            .arg(format!(
                "--config-file={}",
                dir.join("glewlwyd.conf").display()
            ))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("glewlwyd starts");
        let api = format!("http://127.0.0.1:{port}/api");
        let admin = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        // Up when it takes the administrator's password.
        let started = std::time::Instant::now();
        loop {
            let signed_in = admin
                .post(format!("{api}/auth/"))
                .json(&json!({"username": ADMIN.0, "password": ADMIN.1}))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200);
            if signed_in {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "glewlwyd did not start: {}",
                std::fs::read_to_string(dir.join("log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let issuer = format!("{api}/oidc");
        let g = Self {
            _child: child,
            dir,
            api,
            issuer,
            admin,
            keys: std::sync::Mutex::new(new_key("es1")),
        };
        let keys = g.keys.lock().unwrap().clone();
        g.plugin(&keys).await;
        g.admin_send(
            reqwest::Method::POST,
            "/client/",
            json!({
                "client_id": CLIENT.0,
                "name": "the tests' app",
                "confidential": true,
                "password": CLIENT.1,
                "redirect_uri": [format!("{app}/auth/glewlwyd/callback")],
                "post_logout_redirect_uri": format!("{app}/"),
                "backchannel_logout_uri": format!("{app}/auth/glewlwyd/backchannel-logout"),
                "authorization_type": ["code", "refresh_token"],
                "token_endpoint_auth_method": ["client_secret_basic", "client_secret_post"],
                "enabled": true,
                "scope": [],
            }),
        )
        .await;
        g
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Adds a second client of the app, `client_id`, that authenticates with
    /// `private_key_jwt` with the public keys `jwks` (a JWK set).
    pub async fn add_key_client(&self, app: &str, client_id: &str, jwks: &Value) {
        self.admin_send(
            reqwest::Method::POST,
            "/client/",
            json!({
                "client_id": client_id,
                "name": "the tests' app, with a key",
                "confidential": true,
                "redirect_uri": [format!("{app}/auth/glewlwyd/callback")],
                "authorization_type": ["code", "refresh_token"],
                "token_endpoint_auth_method": ["private_key_jwt"],
                "jwks": jwks,
                "enabled": true,
                "scope": [],
            }),
        )
        .await;
    }

    /// Adds user `name` (e-mail `{name}@example.com`) who may ask for `openid`.
    pub async fn add_user(&self, name: &str) {
        self.admin_send(
            reqwest::Method::POST,
            "/user/",
            json!({
                "username": name,
                "password": PASSWORD,
                "name": format!("{} Example", capitalized(name)),
                "email": format!("{name}@example.com"),
                "enabled": true,
                "scope": ["openid"],
            }),
        )
        .await;
    }

    /// A key rotation: a new key named `kid` signs from now on; the others stay
    /// published.
    pub async fn rotate(&self, kid: &str) {
        let keys = {
            let mut keys = self.keys.lock().unwrap();
            let mut list = new_key(kid)["keys"].as_array().unwrap().clone();
            list.extend(keys["keys"].as_array().unwrap().iter().cloned());
            keys["keys"] = Value::Array(list);
            keys.clone()
        };
        self.plugin(&keys).await;
    }

    /// What the login page does for `user` after the app sent the browser to
    /// `authorize` (Glewlwyd's authorization endpoint): sign in, grant the scopes, go on.
    /// The callback URL at `app`, not yet fetched.
    pub async fn authorize(
        &self,
        browser: &Browser,
        authorize: &str,
        app: &str,
        user: &str,
    ) -> String {
        let query = redirect_query(browser, authorize).await;
        let signed_in = browser
            .client
            .post(format!("{}/auth/", self.api))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(signed_in.status(), 200, "{user} signs in");
        let granted = browser
            .client
            .put(format!("{}/auth/grant/{}", self.api, query["client_id"]))
            .json(&json!({"scope": query["scope"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(granted.status(), 200, "the scopes are granted");
        let back = browser
            .get(&format!("{}&g_continue", query["callback_url"]))
            .await;
        let callback = location(&back);
        assert!(callback.starts_with(app), "{callback}");
        callback
    }

    /// What the logout page does after the browser was sent to Glewlwyd's
    /// `end_session_endpoint` at `end_session`: end that session at Glewlwyd, which then
    /// sends back-channel logout tokens to the clients the user logged in to.
    pub async fn end_session(&self, browser: &Browser, end_session: &str) {
        let query = redirect_query(browser, end_session).await;
        let ended = browser
            .client
            .delete(format!("{}/oidc/session/{}", self.api, query["sid"]))
            .send()
            .await
            .unwrap();
        assert_eq!(ended.status(), 200, "the session ends at Glewlwyd");
    }

    /// The OpenID Connect plugin, signing with `jwks` (private keys, the first signs).
    async fn plugin(&self, jwks: &Value) {
        let kid = jwks["keys"][0]["kid"].clone();
        let plugin = json!({
            "module": "oidc",
            "name": "oidc",
            "display_name": "OpenID Connect",
            "enabled": true,
            "parameters": {
                "iss": self.issuer,
                "jwt-type": "ecdsa",
                "jwt-key-size": "256",
                "jwks-private": jwks.to_string(),
                "default-kid": kid,
                // Within the login's refresh margin (a minute): each read of the
                // session's access token refreshes it.
                "access-token-duration": 30,
                "refresh-token-duration": 1_209_600,
                "code-duration": 600,
                "refresh-token-rolling": true,
                // Every refresh rotates the refresh token (RFC 9700 §4.14.2).
                "refresh-token-one-use": "always",
                "allow-non-oidc": false,
                "auth-type-code-enabled": true,
                "auth-type-refresh-enabled": true,
                "auth-type-client-enabled": false,
                "auth-type-token-enabled": false,
                "auth-type-none-enabled": false,
                "auth-type-password-enabled": false,
                "scope": [],
                "name-claim": "mandatory",
                "email-claim": "mandatory",
                "scope-claim": "no",
                "pkce-allowed": true,
                // Clients that sign their assertions (private_key_jwt) keep their public
                // keys in the client property `jwks`; signed JWTs from clients (request
                // objects and client assertions) are taken, living at most 10 minutes.
                "client-jwks-parameter": "jwks",
                "request-parameter-allow": true,
                "request-maximum-exp": 600,
                "back-channel-logout-allowed": true,
                "session-management-allowed": true,
                "session-cookie-name": "GLEWLWYD_OIDC_SESSION",
                "session-cookie-expiration": 2_592_000,
                "oauth-dpop-allowed": true,
                "oauth-dpop-iat-duration": 60,
                "service-documentation": "",
            },
        });
        let exists = self
            .admin
            .get(format!("{}/mod/plugin/oidc", self.api))
            .send()
            .await
            .unwrap()
            .status()
            == 200;
        if exists {
            self.admin_send(reqwest::Method::PUT, "/mod/plugin/oidc", plugin)
                .await;
            // A changed instance is loaded again when disabled and enabled.
            for action in ["disable", "enable"] {
                let path = format!("/mod/plugin/oidc/{action}");
                self.admin_send(reqwest::Method::PUT, &path, Value::Null)
                    .await;
            }
        } else {
            self.admin_send(reqwest::Method::POST, "/mod/plugin/", plugin)
                .await;
        }
    }

    async fn admin_send(&self, method: reqwest::Method, path: &str, body: Value) {
        let mut request = self.admin.request(method, format!("{}{path}", self.api));
        if !body.is_null() {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "glewlwyd {path}: {status} {text}");
    }
}

/// The query of the page Glewlwyd redirects `url` to (its login or logout page, which
/// carries what the page's script needs: client, scopes, `sid`, where to go on).
async fn redirect_query(browser: &Browser, url: &str) -> HashMap<String, String> {
    let response = browser.get(url).await;
    assert_eq!(response.status(), 302, "{url}");
    let page = url::Url::parse(&location(&response)).unwrap();
    page.query_pairs().into_owned().collect()
}

fn capitalized(name: &str) -> String {
    let mut chars = name.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A database from the package's schema (with Python's SQLite: Python is on every
/// machine the tests run on, the `sqlite3` program not always).
fn init_database(path: &Path) {
    let script = "import sqlite3, sys\n\
                  db = sqlite3.connect(sys.argv[1])\n\
                  db.executescript(open(sys.argv[2]).read())\n\
                  db.commit()\n";
    let status = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(SCHEMA)
        .status()
        .expect("python3 runs");
    assert!(status.success(), "the glewlwyd database is created");
}

/// The package's configuration with this test's port, URL, log and database.
fn config(port: u16, dir: &Path) -> String {
    let packaged = std::fs::read_to_string(CONFIG).unwrap();
    let mut out = String::new();
    for line in packaged.lines() {
        let line = match line.split('=').next().unwrap_or("").trim() {
            "port" => format!("port={port}"),
            "external_url" => format!("external_url=\"http://127.0.0.1:{port}\""),
            "bind_address" => String::new(),
            "log_mode" => "log_mode=\"console\"".to_owned(),
            "log_level" => "log_level=\"DEBUG\"".to_owned(),
            _ if line.starts_with("@include") => format!(
                "database = {{ type = \"sqlite3\" path = \"{}\" }};",
                dir.join("db").display()
            ),
            _ => line.to_owned(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out.push_str("bind_address=\"127.0.0.1\"\n");
    out
}

/// A JWKS of one new P-256 private key named `kid`, made by Node.js (which the interop
/// tests need anyway): Glewlwyd takes its signing keys as a private JWKS.
fn new_key(kid: &str) -> Value {
    let script = "const { generateKeyPairSync } = require('node:crypto');\n\
                  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;\n\
                  const jwk = { ...key.export({ format: 'jwk' }), kid: process.argv[1], alg: 'ES256', use: 'sig' };\n\
                  console.log(JSON.stringify({ keys: [jwk] }));\n";
    let out = std::process::Command::new("node")
        .args(["-e", script, kid])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
