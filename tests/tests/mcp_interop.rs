//! `examples/mcp_server` with clients written by others: the official MCP TypeScript
//! SDK logs in at the certified oidc-provider (resource indicators, dynamic client
//! registration) by its own `auth()` flow and calls the tools; the official MCP
//! conformance suite runs its server scenarios through a proxy that adds a token.

use oauth2_tests::free_addr;
use oauth2_tests::mcp::McpServer;
use oauth2_tests::op::{OpenIdProvider, Options, node22, run_script};

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
