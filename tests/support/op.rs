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

/// `tests/interop`: the provider's script, the browser script and their npm packages.
pub fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("interop")
}

/// Installs the npm packages (oidc-provider, playwright-core) from the lock file unless
/// they are there.
pub fn ensure_installed() {
    let dir = interop_dir();
    let installed = ["oidc-provider", "playwright-core"].iter().all(|p| {
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
}

/// Options of [`OpenIdProvider::start`].
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Base URLs of the applications that log in through it (their callbacks are
    /// registered as `{app}/{auth,login}/{oidc,post,public,other}/callback`).
    pub apps: Vec<String>,
    /// Access token lifetime in seconds (default 3600).
    pub access_token_ttl: Option<u64>,
}

impl OpenIdProvider {
    /// Starts one for the application at `app`, with default options.
    pub async fn for_app(app: &str) -> Self {
        Self::start(Options {
            apps: vec![app.to_owned()],
            ..Options::default()
        })
        .await
    }

    /// Starts one on a free port; waits until it listens.
    pub async fn start(options: Options) -> Self {
        ensure_installed();
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
            .current_dir(interop_dir())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        if let Some(ttl) = options.access_token_ttl {
            command.env("ACCESS_TOKEN_TTL", ttl.to_string());
        }
        let mut child = command
            .spawn()
            .expect("node must be installed to run the interop tests");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = async {
            let lines = &mut lines;
            while let Some(line) = lines.next_line().await.unwrap() {
                if line.contains("listening on") {
                    return;
                }
            }
            panic!("oidc-provider exited before listening");
        };
        tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .expect("oidc-provider starts");
        // Keep reading, so that the provider never writes to a closed pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("oidc-provider: {line}");
            }
        });
        OpenIdProvider {
            _child: child,
            issuer: format!("http://127.0.0.1:{port}"),
        }
    }
}
