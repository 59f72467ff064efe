//! Entry points for the fuzz targets in `fuzz/` that no public item reaches without a
//! network round trip. Compiled only under `cargo fuzz` (`--cfg fuzzing`); not API.

/// Checks `body` as the discovery document of `https://issuer.fuzz.invalid`, as a
/// fetched one is checked; `true` when it is accepted.
pub fn discovery(body: &[u8]) -> bool {
    const ISSUER: &str = "https://issuer.fuzz.invalid";
    let url = crate::discovery::metadata_url(ISSUER).expect("a valid issuer");
    crate::discovery::parse(&url, ISSUER, body).is_ok()
}

/// Reads `body` as the JSON-RPC body of an MCP request and decides its scopes under a
/// few rules, as the MCP mode does; the number of operations read, when it is readable.
pub fn mcp_body(body: &[u8]) -> Option<usize> {
    let rules = crate::mcp::McpScopes::new()
        .method("tools/list", ["read"])
        .tool("deploy", ["deploy"])
        .resource("file:///a", ["files"])
        .prompt("p", ["prompts"]);
    let operations = crate::mcp::message_operations(body).ok()?;
    for op in &operations {
        let _ = rules.required(op);
    }
    Some(operations.len())
}
