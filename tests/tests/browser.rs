//! One end-to-end login in a real headless browser: Debian's Chromium, driven by npm
//! `playwright-core` (`tests/interop/browser.mjs`), against the `login` example and the
//! real oidc-provider, all on 127.0.0.1. Click "Log in", sign in and allow access on the
//! provider's pages, land on the protected page, log out at the app and the provider.
//!
//! The test never installs system packages: without Debian's Chromium at
//! `/usr/bin/chromium` it says that it is skipped (`.ci/run` installs Chromium and sets
//! `OAUTH2_REQUIRE_SERVICES=1`, which makes it required).

use oauth2_tests::op::{OpenIdProvider, WEB_CLIENT, ensure_installed, run_browser_script};
use oauth2_tests::{example, free_addr, services, wait_until_up};
use serde_json::json;
use tokio::process::Command;

#[tokio::test]
async fn a_real_browser_logs_in_and_out() {
    let Some(chromium) = services::chromium("a_real_browser_logs_in_and_out") else {
        return;
    };
    ensure_installed();
    let bind = free_addr();
    let app = format!("http://{bind}");
    let op = OpenIdProvider::for_app(&app).await;
    let mut server = Command::new(example("login"))
        .env("OIDC_ISSUER", &op.issuer)
        .env("OIDC_CLIENT_ID", WEB_CLIENT.0)
        .env("OIDC_CLIENT_SECRET", WEB_CLIENT.1)
        .env("APP_BASE_URL", &app)
        .env(
            "SESSION_SECRET",
            "the browser test's session secret, 32+ bytes",
        )
        .env("SESSION_STORE", "cookie")
        .env("OAUTH2_BIND", &bind)
        .env("RUST_LOG", "warn")
        .env_remove("OIDC_SCOPES")
        .kill_on_drop(true)
        .spawn()
        .expect("start the login example");
    wait_until_up(&mut server, &app).await;

    let steps = run_browser_script("browser.mjs", &app, chromium).await;
    let step = |name: &str| steps.step(name);
    assert!(step("home")["text"].as_str().unwrap().contains("Log in"));
    let login_page = step("provider_login_page");
    assert!(login_page["url"].as_str().unwrap().starts_with(&op.issuer));
    assert_eq!(login_page["title"], "Sign in");
    assert!(
        step("consent_page")["text"]
            .as_str()
            .unwrap()
            .contains("openid profile email")
    );
    let protected = step("protected_page");
    assert_eq!(protected["url"], format!("{app}/me"));
    assert_eq!(
        protected["body"],
        json!({"sub": "alice", "name": "Alice Example", "email": "alice@example.com"})
    );
    let session = step("cookies")["cookies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "session")
        .cloned()
        .expect("a session cookie");
    assert_eq!(
        session,
        json!({"name": "session", "httpOnly": true, "sameSite": "Lax", "secure": false})
    );
    assert!(
        step("home_logged_in")["text"]
            .as_str()
            .unwrap()
            .contains("Hello, Alice Example")
    );
    assert!(
        step("provider_logout_page")["url"]
            .as_str()
            .unwrap()
            .starts_with(&op.issuer)
    );
    let out = step("logged_out");
    assert_eq!(out["url"], format!("{app}/"));
    assert!(out["text"].as_str().unwrap().contains("Log in"));
    // A browser asking for the protected page is sent to the login again.
    let again = step("protected_after_logout")["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(again.starts_with(&op.issuer), "{again}");
    assert!(steps.succeeded(), "{}", steps.output());
}
