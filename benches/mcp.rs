//! An MCP `tools/call` through the layer in the MCP mode, next to the same POST through
//! the plain bearer layer: what the per-operation check costs per request on top of a
//! verified-token cache hit. `mcp-headers` decides from `Mcp-Method`/`Mcp-Name` and then
//! checks the body agrees; `mcp-body` reads the operation from the body alone (buffered
//! and parsed). Requests go through `tower::ServiceExt::oneshot`, no sockets. Report the
//! ratios `mcp-headers / bearer` and `mcp-body / bearer`.
//!
//! `cargo bench -p oauth2-benches --bench mcp`

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use oauth2::Authenticator;
use oauth2::dev::DevIssuer;
use oauth2::mcp::McpScopes;
use serde_json::json;
use tower::ServiceExt;

const RESOURCE: &str = "https://mcp.example/mcp";

fn mcp(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let idp = rt.block_on(DevIssuer::start()).unwrap();
    let app = |mode: Option<McpScopes>| {
        rt.block_on(async {
            let mut builder =
                Authenticator::builder().provider(idp.provider("dev").audience(RESOURCE));
            if let Some(rules) = mode {
                builder = builder.resource(RESOURCE).mcp(rules);
            }
            let auth = builder.build().unwrap();
            auth.ready().await;
            Router::new()
                .route(
                    "/mcp",
                    post(|body: axum::body::Bytes| async move { body.len().to_string() }),
                )
                .layer(auth.layer())
        })
    };
    let plain = app(None);
    let rules = McpScopes::new()
        .method("tools/list", ["mcp:read"])
        .tool("whoami", ["mcp:tools"])
        .tool("deploy", ["mcp:deploy"]);
    let guarded = app(Some(rules));
    let token = idp
        .token()
        .audience(RESOURCE)
        .scope("mcp:tools mcp:deploy mcp:read")
        .sign();
    let body = json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call",
        "params": {"name": "deploy", "arguments": {"service": "api", "version": "1.2.3", "regions": ["eu", "us"]}}
    })
    .to_string();
    let call = |app: &Router, headers: bool| {
        let mut request = Request::post("https://mcp.example/mcp")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json");
        if headers {
            request = request
                .header("mcp-method", "tools/call")
                .header("mcp-name", "deploy");
        }
        let request = request.body(Body::from(body.clone())).unwrap();
        let response = rt.block_on(app.clone().oneshot(request)).unwrap();
        assert_eq!(response.status(), 200);
    };
    // Sanity, and the token cache warmed for both apps.
    call(&plain, false);
    call(&guarded, true);
    call(&guarded, false);

    let mut group = c.benchmark_group("tools-call");
    group.bench_function("bearer", |b| b.iter(|| call(&plain, false)));
    group.bench_function("mcp-headers", |b| b.iter(|| call(&guarded, true)));
    group.bench_function("mcp-body", |b| b.iter(|| call(&guarded, false)));
    group.finish();
}

criterion_group!(benches, mcp);
criterion_main!(benches);
