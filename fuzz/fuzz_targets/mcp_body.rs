//! Arbitrary bytes as the JSON-RPC body of an MCP request: read as the MCP mode reads it
//! (one message or a batch; the method and the tool, resource or prompt it names) and
//! matched against operation rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = oauth2::__fuzz::mcp_body(data);
});
