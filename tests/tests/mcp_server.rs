//! `examples/mcp_server` run as the binary users run, held to its contract:
//! `OAUTH2_ISSUER`, `MCP_RESOURCE`, `OAUTH2_JWKS_URL`, `OAUTH2_BIND`; `POST /mcp` with
//! tools `whoami` (`mcp:tools`) and `deploy` (`mcp:deploy`), `mcp:admin` implying both;
//! `GET /.well-known/oauth-protected-resource/mcp`. Every refusal separately.

use oauth2::dev::DevIssuer;
use oauth2_tests::mcp::{McpServer, answer, initialize, post, tool_call, tool_text};
use oauth2_tests::{client, error_of, free_addr, resource_metadata};
use serde_json::{Value, json};

/// The example on a free port for `idp`, with keys from discovery (`jwks`: from
/// `OAUTH2_JWKS_URL`); its base URL and resource.
async fn start(idp: &DevIssuer, jwks: bool) -> (tokio::process::Child, String, String) {
    let jwks_url = idp.jwks_url();
    let server = McpServer::start(
        &free_addr(),
        idp.issuer(),
        jwks.then_some(jwks_url.as_str()),
    )
    .await;
    (server.child, server.base, server.resource)
}

#[tokio::test]
async fn the_metadata_names_the_issuer_scopes_and_methods() {
    let idp = DevIssuer::start().await.expect("dev issuer");
    let (_child, base, resource) = start(&idp, false).await;
    let url = format!("{base}/.well-known/oauth-protected-resource/mcp");
    let res = client()
        .get(&url)
        .header("origin", "https://inspector.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    let meta: Value = res.json().await.unwrap();
    assert_eq!(meta["resource"], resource.as_str());
    assert_eq!(meta["authorization_servers"], json!([idp.issuer()]));
    assert_eq!(meta["bearer_methods_supported"], json!(["header"]));
    let scopes: Vec<&str> = meta["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    for scope in ["mcp:tools", "mcp:deploy", "mcp:admin"] {
        assert!(scopes.contains(&scope), "{scope} in {scopes:?}");
    }
    // A browser's preflight (the MCP clients send `MCP-Protocol-Version`).
    let res = client()
        .request(reqwest::Method::OPTIONS, &url)
        .header("origin", "https://inspector.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "mcp-protocol-version")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    // The root form is not this resource's document.
    let res = client()
        .get(format!("{base}/.well-known/oauth-protected-resource"))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
}

#[tokio::test]
async fn every_refusal_is_a_401_with_the_metadata_url_never_a_400() {
    let idp = DevIssuer::start().await.expect("dev issuer");
    let (_child, base, resource) = start(&idp, true).await;
    let mcp = format!("{base}/mcp");
    let metadata = format!("{base}/.well-known/oauth-protected-resource/mcp");
    let list = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"});
    let token = || idp.token().audience(resource.as_str()).scope("mcp:tools");

    // No token: 401 with a bare challenge naming the metadata.
    let res = post(&mcp, None, None, &list).send().await.unwrap();
    let e = error_of(res).await;
    assert_eq!(e.status, 401);
    let challenge = e.challenge.expect("a challenge");
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(!challenge.contains("error="), "{challenge}");
    assert_eq!(resource_metadata(&challenge), Some(metadata.clone()));

    let other = DevIssuer::start().await.expect("second issuer");
    let refused = [
        ("expired", token().expires_in(-600).sign()),
        (
            "other key",
            other
                .token()
                .claim("iss", idp.issuer())
                .audience(resource.as_str())
                .sign(),
        ),
        (
            "other issuer",
            other.token().audience(resource.as_str()).sign(),
        ),
        (
            "other audience",
            idp.token().audience("https://other.example/mcp").sign(),
        ),
        ("the issuer's default audience", idp.token().sign()),
        ("not a JWT", "not-a-token".to_owned()),
    ];
    for (case, bad) in refused {
        let e = error_of(post(&mcp, Some(&bad), None, &list).send().await.unwrap()).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (401, "invalid_token"),
            "{case}: {}",
            e.description
        );
        let challenge = e.challenge.expect("a challenge");
        assert_eq!(
            resource_metadata(&challenge),
            Some(metadata.clone()),
            "{case}"
        );
    }

    // A token in the query: refused, alone or beside a good header.
    let good = token().sign();
    for with_header in [false, true] {
        let url = format!("{mcp}?access_token={good}");
        let header = with_header.then_some(good.as_str());
        let e = error_of(post(&url, header, None, &list).send().await.unwrap()).await;
        assert_eq!(e.status, 401, "query token, header {with_header}");
        assert!(e.description.contains("query"), "{}", e.description);
        assert!(resource_metadata(&e.challenge.unwrap()).is_some());
    }
    // GET and DELETE of the transport need a token too.
    let res = client()
        .get(&mcp)
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let res = client().delete(&mcp).send().await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn each_tool_needs_its_scope_and_admin_implies_both() {
    let idp = DevIssuer::start().await.expect("dev issuer");
    let (_child, base, resource) = start(&idp, false).await;
    let mcp = format!("{base}/mcp");
    let metadata = format!("{base}/.well-known/oauth-protected-resource/mcp");
    let token = |scope: &str| {
        idp.token()
            .subject("alice")
            .audience(resource.as_str())
            .scope(scope)
            .sign()
    };

    // `initialize` and `tools/list` need a valid token, no scope.
    let plain = token("openid");
    let session = initialize(&mcp, &plain).await;
    let session = session.as_deref();
    let listed = answer(
        post(
            &mcp,
            Some(&plain),
            session,
            &json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"whoami") && names.contains(&"deploy"),
        "{names:?}"
    );

    let call = |token: String, tool: &'static str| {
        post(&mcp, Some(&token), session, &tool_call(tool)).send()
    };
    // Allowed: the text of the tool.
    for (scope, tool, text) in [
        ("mcp:tools", "whoami", "alice"),
        ("mcp:deploy", "deploy", "deployed"),
        ("mcp:admin", "whoami", "alice"),
        ("mcp:admin", "deploy", "deployed"),
        ("mcp:tools mcp:deploy", "deploy", "deployed"),
    ] {
        let res = call(token(scope), tool).await.unwrap();
        assert_eq!(res.status(), 200, "{scope} → {tool}");
        let text_of = tool_text(&answer(res).await);
        assert!(text_of.contains(text), "{scope} → {tool}: {text_of}");
    }
    // Refused: 403 naming every scope the tool needs, and the metadata.
    for (scope, tool, needs) in [
        ("mcp:deploy", "whoami", "mcp:tools"),
        ("mcp:tools", "deploy", "mcp:deploy"),
        ("openid", "deploy", "mcp:deploy"),
    ] {
        let e = error_of(call(token(scope), tool).await.unwrap()).await;
        assert_eq!(
            (e.status, e.error.as_str()),
            (403, "insufficient_scope"),
            "{scope} → {tool}"
        );
        let challenge = e.challenge.unwrap();
        assert!(
            challenge.contains(&format!(r#"scope="{needs}""#)),
            "{challenge}"
        );
        assert_eq!(resource_metadata(&challenge), Some(metadata.clone()));
    }

    // Headers (MCP 2026-07-28) decide before the body; they must agree with it.
    let headed = |token: String, method: &str, name: &str, body: Value| {
        post(&mcp, Some(&token), session, &body)
            .header("mcp-method", method)
            .header("mcp-name", name)
            .send()
    };
    let res = headed(
        token("mcp:tools"),
        "tools/call",
        "whoami",
        tool_call("whoami"),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    let e = error_of(
        headed(
            token("mcp:tools"),
            "tools/call",
            "deploy",
            tool_call("deploy"),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!((e.status, e.error.as_str()), (403, "insufficient_scope"));
    // Headers that say `whoami` over a body that calls `deploy`: refused.
    let e = error_of(
        headed(
            token("mcp:tools"),
            "tools/call",
            "whoami",
            tool_call("deploy"),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(e.status, 400, "{}", e.description);
    assert!(e.description.contains("disagree"), "{}", e.description);
    // A batch needs the scopes of all its calls.
    let batch = json!([tool_call("whoami"), {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "deploy"}}]);
    let e = error_of(
        post(&mcp, Some(&token("mcp:tools")), session, &batch)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e.status, 403);
    assert!(
        e.challenge
            .unwrap()
            .contains(r#"scope="mcp:tools mcp:deploy""#)
    );
}
