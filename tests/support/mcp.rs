//! An MCP client over Streamable HTTP, by hand: JSON-RPC requests with a bearer token,
//! answers read from JSON or from the `data:` lines of an event stream.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{client, example_process};

/// `examples/mcp_server` running on `bind` for `issuer`; killed when dropped.
pub struct McpServer {
    /// The process.
    pub child: tokio::process::Child,
    /// `http://{bind}`.
    pub base: String,
    /// `http://{bind}/mcp`, its `MCP_RESOURCE`.
    pub resource: String,
}

impl McpServer {
    /// Starts the example (keys from `jwks_url`, or discovery); waits until its
    /// metadata answers.
    pub async fn start(bind: &str, issuer: &str, jwks_url: Option<&str>) -> Self {
        let base = format!("http://{bind}");
        let resource = format!("{base}/mcp");
        let mut env = vec![
            ("OAUTH2_ISSUER", issuer),
            ("MCP_RESOURCE", resource.as_str()),
            ("OAUTH2_BIND", bind),
        ];
        env.extend(jwks_url.map(|url| ("OAUTH2_JWKS_URL", url)));
        let cleared = [
            "OAUTH2_ISSUER",
            "MCP_RESOURCE",
            "OAUTH2_JWKS_URL",
            "OAUTH2_BIND",
        ];
        let mut child = example_process("mcp_server", &cleared, &env)
            .spawn()
            .expect("spawn mcp_server");
        // It serves once the issuer's keys are loaded (at most 10 s).
        let metadata = format!("{base}/.well-known/oauth-protected-resource/mcp");
        crate::wait_until_answers(&mut child, &metadata, Duration::from_secs(30)).await;
        Self {
            child,
            base,
            resource,
        }
    }
}

/// The protocol version the requests announce.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// A JSON-RPC request to the MCP endpoint `url` with `token` (none: no
/// `Authorization`), and the session id if one was handed out.
pub fn post(
    url: &str,
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
) -> reqwest::RequestBuilder {
    let mut request = client()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", PROTOCOL_VERSION)
        .json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    request
}

/// `initialize` then `notifications/initialized` with `token`: the session id.
pub async fn initialize(url: &str, token: &str) -> Option<String> {
    let body = json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "oauth2-tests", "version": "1"}
        }
    });
    // As a client does: a 503 (keys still loading) is tried again after a moment.
    let mut response = post(url, Some(token), None, &body)
        .send()
        .await
        .expect("initialize");
    for _ in 0..100 {
        if response.status() != 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        response = post(url, Some(token), None, &body)
            .send()
            .await
            .expect("initialize");
    }
    assert_eq!(response.status(), 200, "initialize");
    let session = response
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().expect("ascii").to_owned());
    let answer = answer(response).await;
    assert!(answer["result"]["serverInfo"].is_object(), "{answer}");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let response = post(url, Some(token), session.as_deref(), &initialized)
        .send()
        .await
        .expect("initialized");
    assert!(response.status().is_success(), "{}", response.status());
    session
}

/// The JSON-RPC `tools/call` of `tool`.
pub fn tool_call(tool: &str) -> Value {
    json!({
        "jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": tool, "arguments": {}}
    })
}

/// The JSON-RPC answer in a response: its JSON body, or the first message of its event
/// stream.
pub async fn answer(response: reqwest::Response) -> Value {
    let event_stream = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let text = response.text().await.expect("body");
    if !event_stream {
        return serde_json::from_str(&text).expect("a JSON body");
    }
    text.lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| !data.is_empty())
        .map(|data| serde_json::from_str(data).expect("JSON data"))
        .expect("a message in the event stream")
}

/// The text of a `tools/call` answer.
pub fn tool_text(answer: &Value) -> String {
    answer["result"]["content"][0]["text"]
        .as_str()
        .unwrap_or_else(|| panic!("no text in {answer}"))
        .to_owned()
}
