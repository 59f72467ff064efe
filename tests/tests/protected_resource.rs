//! The protected resource (RFC 9728) and the MCP mode through the builders: what an API
//! with a `resource` answers, what `build()` refuses, and the MCP operation checks at
//! their edges (limits, unreadable bodies, layers).

use axum::Router;
use axum::routing::{get, post};
use oauth2::config::Dpop;
use oauth2::dev::DevIssuer;
use oauth2::mcp::McpScopes;
use oauth2::{Authenticator, AuthenticatorBuilder, RequireScopes};
use oauth2_tests::mcp::{post as mcp_post, tool_call};
use oauth2_tests::{client, error_of, get_with_token, resource_metadata, serve};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource";

/// An API on a free port whose resource is its own URL (`/mcp` in the MCP mode).
async fn api(
    idp: &DevIssuer,
    mcp: Option<McpScopes>,
    configure: impl FnOnce(AuthenticatorBuilder) -> AuthenticatorBuilder,
    require_everywhere: bool,
) -> (String, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let resource = match mcp {
        Some(_) => format!("{base}/mcp"),
        None => base.clone(),
    };
    let mut builder = Authenticator::builder()
        .provider(idp.provider("dev").audience(resource.as_str()))
        .resource(&resource);
    if let Some(rules) = mcp {
        builder = builder.mcp(rules);
    }
    let auth = configure(builder).build().expect("authenticator");
    auth.ready().await;
    let layer = if require_everywhere {
        auth.layer()
    } else {
        auth.extension()
    };
    let app = Router::new()
        .route("/me", get(|| async { "me" }))
        .route(
            "/admin",
            get(|| async { "admin" }).route_layer(RequireScopes::new(["admin"])),
        )
        .route(
            "/mcp",
            post(|body: String| async move { body }).get(|| async { "stream" }),
        )
        .layer(layer)
        .merge(auth.router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, resource)
}

#[tokio::test]
async fn every_401_and_403_of_an_api_names_its_metadata() {
    let idp = DevIssuer::start().await.unwrap();
    let (base, resource) = api(&idp, None, |b| b.scope_implies("root", ["admin"]), true).await;
    let metadata = format!("{base}{RESOURCE_PATH}");
    let meta: serde_json::Value = client()
        .get(&metadata)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["resource"], resource.as_str());
    assert_eq!(meta["scopes_supported"], json!(["admin", "root"]));

    // Outside the MCP mode a missing token keeps its 400, with the metadata named.
    let e = error_of(client().get(format!("{base}/me")).send().await.unwrap()).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    assert_eq!(
        resource_metadata(&e.challenge.unwrap()),
        Some(metadata.clone())
    );
    let e = error_of(get_with_token(&base, "/me", &idp.token().sign()).await).await;
    assert_eq!(
        (e.status, e.error.as_str()),
        (401, "invalid_token"),
        "the default audience is not the resource"
    );
    assert_eq!(
        resource_metadata(&e.challenge.unwrap()),
        Some(metadata.clone())
    );
    let token = |scope: &str| idp.token().audience(resource.as_str()).scope(scope).sign();
    let e = error_of(get_with_token(&base, "/admin", &token("read")).await).await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    let challenge = e.challenge.unwrap();
    assert!(challenge.contains(r#"scope="admin""#), "{challenge}");
    assert_eq!(resource_metadata(&challenge), Some(metadata.clone()));
    // The hierarchy holds for RequireScopes too.
    let res = get_with_token(&base, "/admin", &token("root")).await;
    assert_eq!(res.status(), 200);
    // The metadata is public under `require_everywhere`, and its root form is it here.
    assert_eq!(client().get(&metadata).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn the_mcp_endpoint_needs_a_token_under_either_layer_and_refuses_what_it_cannot_read() {
    let idp = DevIssuer::start().await.unwrap();
    let rules = McpScopes::new()
        .tool("deploy", ["mcp:deploy"])
        .method("tools/list", ["mcp:read"])
        .max_body(1024);
    // `extension()`: routes decide for themselves, but not the MCP endpoint.
    let (base, resource) = api(&idp, Some(rules), |b| b, false).await;
    let mcp = format!("{base}/mcp");
    assert_eq!(
        client()
            .get(format!("{base}/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let e = error_of(
        mcp_post(&mcp, None, None, &tool_call("deploy"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e.status, 401);
    assert_eq!(client().get(&mcp).send().await.unwrap().status(), 401);
    let token = |scope: &str| idp.token().audience(resource.as_str()).scope(scope).sign();
    let good = token("mcp:deploy mcp:read");

    // The body passes through unchanged when allowed.
    let res = mcp_post(&mcp, Some(&good), None, &tool_call("deploy"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let echoed: serde_json::Value = res.json().await.unwrap();
    assert_eq!(echoed, tool_call("deploy"));
    // A method rule.
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let e = error_of(
        mcp_post(&mcp, Some(&token("mcp:deploy")), None, &list)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    assert!(e.challenge.unwrap().contains(r#"scope="mcp:read""#));

    // Over `max_body`: 413, announced or not.
    let big = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy", "arguments": {"x": "a".repeat(2000)}}});
    let res = mcp_post(&mcp, Some(&good), None, &big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // The same without Content-Length, chunked, over a raw connection.
    let body = big.to_string();
    let host = base.trim_start_matches("http://");
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {good}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let mut conn = tokio::net::TcpStream::connect(host).await.unwrap();
    conn.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).await.unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "a chunked body is bounded too: {answer}"
    );
    // Not JSON-RPC, or headers that say half of it: 400.
    let res = client()
        .post(&mcp)
        .bearer_auth(&good)
        .body("not json")
        .send()
        .await
        .unwrap();
    let e = error_of(res).await;
    assert_eq!((e.status, e.error.as_str()), (400, "invalid_request"));
    assert!(e.description.contains("JSON-RPC"), "{}", e.description);
    let e = error_of(
        mcp_post(&mcp, Some(&good), None, &tool_call("deploy"))
            .header("mcp-name", "deploy")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e.status, 400);
    assert!(e.description.contains("Mcp-Method"), "{}", e.description);
}

#[tokio::test]
async fn build_refuses_a_resource_or_mcp_mode_that_cannot_work() {
    let idp = DevIssuer::start().await.unwrap();
    let resource = "http://127.0.0.1:1/mcp";
    let build = |b: AuthenticatorBuilder| b.build().unwrap_err().to_string();
    let base = || Authenticator::builder().provider(idp.provider("dev").audience(resource));

    let e = build(
        Authenticator::builder()
            .provider(idp.provider("dev"))
            .resource(resource),
    );
    assert!(e.contains("no provider accepts"), "{e}");
    let e = build(base().resource("https://api.example.com/mcp?x=1"));
    assert!(e.contains("query"), "{e}");
    let e = build(base().mcp(McpScopes::new()));
    assert!(e.contains("needs a resource"), "{e}");
    let e = build(base().resource(resource).mcp(McpScopes::new()).cookie("at"));
    assert!(e.contains("cookie"), "{e}");
    let e = build(
        base()
            .resource(resource)
            .mcp(McpScopes::new())
            .allow_websocket_query_token(),
    );
    assert!(e.contains("allow_websocket_query_token"), "{e}");
    // Every provider must accept the resource in the MCP mode, not only one.
    let e = build(
        base()
            .provider(idp.provider("other"))
            .resource(resource)
            .mcp(McpScopes::new()),
    );
    assert!(e.contains("\"other\"") && e.contains("audience"), "{e}");
    let e = build(base().scopes_supported(["a"]));
    assert!(e.contains("scopes_supported"), "{e}");
    // The metadata says how tokens may come: DPoP when accepted, required when every
    // provider requires it; the query only for WebSocket upgrades that allow it.
    let meta = |b: AuthenticatorBuilder| b.build().unwrap().resource_metadata().unwrap().clone();
    let plain = meta(base().resource(resource));
    assert_eq!(plain.bearer_methods_supported, ["header"]);
    assert!(plain.dpop_signing_alg_values_supported.is_empty());
    assert!(!plain.dpop_bound_access_tokens_required);
    let dpop =
        |mode| Authenticator::builder().provider(idp.provider("dev").audience(resource).dpop(mode));
    let allowed = meta(dpop(Dpop::Allowed).resource(resource));
    assert!(
        allowed
            .dpop_signing_alg_values_supported
            .iter()
            .any(|a| a == "ES256"),
        "{allowed:?}"
    );
    assert!(!allowed.dpop_bound_access_tokens_required);
    assert!(meta(dpop(Dpop::Required).resource(resource)).dpop_bound_access_tokens_required);
    let query = meta(base().resource(resource).allow_websocket_query_token());
    assert_eq!(query.bearer_methods_supported, ["header", "query"]);
    // The same settings with the resource everywhere build.
    base()
        .resource(resource)
        .mcp(McpScopes::new())
        .build()
        .expect("a working MCP configuration");
    let _ = serve;
}
