//! What an MCP request asks for: its JSON-RPC method and, for `tools/call`,
//! `resources/read` and `prompts/get`, the name of the tool, resource or prompt; read
//! from the `Mcp-Method` and `Mcp-Name` headers (MCP 2026-07-28) or from the body.

use axum::http::HeaderMap;
use serde::Deserialize;
use serde_json::Value;

/// The header that names the JSON-RPC method of a request.
pub const METHOD_HEADER: &str = "mcp-method";
/// The header that names the tool, resource URI or prompt of a request.
pub const NAME_HEADER: &str = "mcp-name";

/// One operation: a JSON-RPC method and the name it acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Operation {
    pub(crate) method: String,
    pub(crate) name: Option<String>,
}

/// Why a request's operation cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unreadable {
    /// The headers are not visible ASCII, or name without a method.
    Headers(&'static str),
    /// The body is not JSON-RPC.
    Body(String),
}

/// The operation the headers announce, if they announce one.
pub(crate) fn from_headers(headers: &HeaderMap) -> Result<Option<Operation>, Unreadable> {
    let text = |name| {
        headers
            .get(name)
            .map(|v| {
                v.to_str().map(str::trim).map_err(|_| {
                    Unreadable::Headers("the Mcp-Method or Mcp-Name header is not visible ASCII")
                })
            })
            .transpose()
    };
    match (text(METHOD_HEADER)?, text(NAME_HEADER)?) {
        (Some(method), name) => Ok(Some(Operation {
            method: method.to_owned(),
            name: name.filter(|n| !n.is_empty()).map(str::to_owned),
        })),
        (None, Some(_)) => Err(Unreadable::Headers("an Mcp-Name header without Mcp-Method")),
        (None, None) => Ok(None),
    }
}

#[derive(Deserialize)]
struct Message {
    #[serde(default)]
    method: Option<String>,
    #[serde(default)]
    params: Option<Params>,
}

/// The members of `params` that name what an operation acts on; the rest (a tool's
/// arguments) is skipped, not built.
#[derive(Deserialize)]
struct Params {
    #[serde(default)]
    name: Option<Value>,
    #[serde(default)]
    uri: Option<Value>,
}

/// The operations of a JSON-RPC body: one message, or each of a batch. A message
/// without a method (a response to the server) is no operation.
pub(crate) fn from_body(body: &[u8]) -> Result<Vec<Operation>, Unreadable> {
    let invalid = |e: serde_json::Error| Unreadable::Body(format!("the body is not JSON-RPC: {e}"));
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    let messages: Vec<Message> = if first == Some(&b'[') {
        serde_json::from_slice(body).map_err(invalid)?
    } else {
        vec![serde_json::from_slice(body).map_err(invalid)?]
    };
    messages
        .into_iter()
        .filter_map(|m| Some((m.method?, m.params)))
        .map(|(method, params)| {
            let name = match (method.as_str(), params) {
                ("tools/call" | "prompts/get", Some(p)) => param(p.name, "name")?,
                ("resources/read", Some(p)) => param(p.uri, "uri")?,
                _ => None,
            };
            Ok(Operation { method, name })
        })
        .collect()
}

/// `params.{member}`, which must be a string when present.
fn param(value: Option<Value>, member: &str) -> Result<Option<String>, Unreadable> {
    match value {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Unreadable::Body(format!(
            "`params.{member}` of the JSON-RPC request is not a string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(method: &str, name: Option<&str>) -> Operation {
        Operation {
            method: method.into(),
            name: name.map(Into::into),
        }
    }

    #[test]
    fn the_body_names_the_method_and_what_it_acts_on() {
        let call = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"deploy","arguments":{"x":[1]}}}"#;
        assert_eq!(from_body(call).unwrap(), [op("tools/call", Some("deploy"))]);
        let read =
            br#"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"file:///a"}}"#;
        assert_eq!(
            from_body(read).unwrap(),
            [op("resources/read", Some("file:///a"))]
        );
        let list = br#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#;
        assert_eq!(from_body(list).unwrap(), [op("tools/list", None)]);
        let batch = br#" [{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","id":2,"method":"prompts/get","params":{"name":"p"}}]"#;
        assert_eq!(
            from_body(batch).unwrap(),
            [op("tools/list", None), op("prompts/get", Some("p"))]
        );
        let response = br#"{"jsonrpc":"2.0","id":1,"result":{}}"#;
        assert_eq!(from_body(response).unwrap(), []);
    }

    #[test]
    fn a_body_that_is_not_json_rpc_or_says_two_things_is_unreadable() {
        for bad in [
            &b"not json"[..],
            br#"{"method":"tools/list","method":"tools/call"}"#,
            br#"{"method":"tools/call","params":{"name":5}}"#,
            br#"{"method":7}"#,
        ] {
            assert!(
                matches!(from_body(bad), Err(Unreadable::Body(_))),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn headers_announce_an_operation() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), Ok(None));
        headers.insert("mcp-name", "deploy".parse().unwrap());
        assert!(from_headers(&headers).is_err());
        headers.insert("mcp-method", "tools/call".parse().unwrap());
        assert_eq!(
            from_headers(&headers),
            Ok(Some(op("tools/call", Some("deploy"))))
        );
    }
}
