//! `examples/mcp_server` with clients written by others: the official MCP TypeScript
//! SDK logs in at the certified oidc-provider (resource indicators, dynamic client
//! registration) by its own `auth()` flow and calls the tools; the official MCP
//! conformance suite runs its server scenarios through a proxy that adds a token.

use oauth2_tests::mcp::McpServer;
use oauth2_tests::op::{OpenIdProvider, Options, interop_dir, node22, run_script};
use oauth2_tests::{free_addr, nanos};
use tokio::io::AsyncBufReadExt;

#[tokio::test]
async fn the_mcp_sdk_client_logs_in_and_calls_the_tools() {
    let bind = free_addr();
    let resource = format!("http://{bind}/mcp");
    let op = OpenIdProvider::start(Options {
        mcp_resource: Some(resource.clone()),
        ..Options::default()
    })
    .await;
    let server = McpServer::start(&bind, &op.issuer, None).await;
    let steps = run_script(
        "node",
        "mcp-client.mjs",
        &[("MCP_URL", &server.resource), ("MCP_USER", "alice")],
    )
    .await;
    assert!(steps.succeeded(), "{}", steps.output());

    // From the first 401: the resource metadata, the provider's metadata, registration,
    // then the browser sent to log in with PKCE and the resource.
    let asked = steps.step("authorization-requested");
    let seen: Vec<&str> = asked["seen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert!(seen[0].starts_with("POST /mcp 401"), "{seen:?}");
    assert!(
        seen.contains(&"GET /.well-known/oauth-protected-resource/mcp 200"),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|s| s.starts_with("GET /.well-known/")
            && s.ends_with(" 200")
            && !s.contains("protected-resource")),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|s| s.starts_with("POST /reg ") && s.ends_with(" 201")),
        "{seen:?}"
    );
    assert!(asked["client_id"].is_string(), "registered: {asked}");
    assert_eq!(asked["resource"], resource.as_str());
    assert_eq!(asked["code_challenge_method"], "S256");
    let scope = asked["scope"].as_str().unwrap_or_default();
    for s in ["mcp:tools", "mcp:deploy"] {
        assert!(scope.split(' ').any(|x| x == s), "asked for {scope}");
    }

    // The token is for this resource, and the tools answer with what it says.
    let token = steps.step("token");
    assert_eq!(token["aud"], resource.as_str());
    assert_eq!(token["sub"], "alice");
    assert!(steps.step("initialized")["server"].is_string());
    let tools = &steps.step("tools")["names"];
    assert!(
        tools.as_array().unwrap().iter().any(|t| t == "whoami"),
        "{tools}"
    );
    let whoami = steps.step("called-whoami");
    assert_eq!(whoami["isError"], false);
    assert!(
        whoami["text"].as_str().unwrap().contains("alice"),
        "{whoami}"
    );
    assert_eq!(steps.step("called-deploy")["text"], "deployed");
}

/// The server scenarios of `@modelcontextprotocol/conformance` that apply to the example
/// (the others call tools, resources, prompts, logging or completions it does not have:
/// they fail with "method not found" or "tool not found", which shows the requests
/// passed the auth layer).
const SCENARIOS: [&str; 5] = [
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
];

#[tokio::test]
async fn the_conformance_suite_passes_through_the_auth_layer() {
    let idp = oauth2::dev::DevIssuer::start().await.unwrap();
    let server = McpServer::start(&free_addr(), idp.issuer(), None).await;
    let token = idp
        .token()
        .audience(server.resource.as_str())
        .scope("mcp:admin")
        .sign();
    // The suite sends no token: a proxy adds one, as a client that holds it would.
    let proxy = free_addr();
    let port = proxy.rsplit(':').next().unwrap();
    let mut child = tokio::process::Command::new("node")
        .arg("token-proxy.mjs")
        .envs([("PORT", port), ("TARGET", &server.base), ("TOKEN", &token)])
        .current_dir(interop_dir())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the token proxy");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(
        lines.next_line().await.unwrap().as_deref(),
        Some("listening")
    );

    let out_dir = std::env::temp_dir().join(format!("mcp-conformance-{}", nanos()));
    for scenario in SCENARIOS {
        let output = tokio::process::Command::new(node22())
            .arg("node_modules/@modelcontextprotocol/conformance/dist/index.js")
            .args([
                "server",
                "--url",
                &format!("http://{proxy}/mcp"),
                "--scenario",
                scenario,
            ])
            .arg("-o")
            .arg(&out_dir)
            .current_dir(interop_dir())
            .output()
            .await
            .expect("run the conformance suite");
        let printed = format!(
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let checks: Vec<serde_json::Value> = std::fs::read_dir(&out_dir)
            .unwrap()
            .filter_map(Result::ok)
            .filter(|d| {
                d.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("server-{scenario}-"))
            })
            .map(|d| {
                let text = std::fs::read_to_string(d.path().join("checks.json")).unwrap();
                serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap()
            })
            .next()
            .unwrap_or_else(|| panic!("no results of {scenario}:\n{printed}"));
        let failed: Vec<&serde_json::Value> =
            checks.iter().filter(|c| c["status"] == "FAILURE").collect();
        assert!(failed.is_empty(), "{scenario}: {failed:#?}\n{printed}");
        assert!(
            checks.iter().any(|c| c["status"] == "SUCCESS"),
            "{scenario}: {checks:#?}"
        );
    }
    let _ = std::fs::remove_dir_all(&out_dir);
}
