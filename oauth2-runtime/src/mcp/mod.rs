//! MCP servers (Model Context Protocol, authorization 2025-06-18 and later): the
//! authenticator as an MCP resource server, with scopes per JSON-RPC method and per
//! tool, resource or prompt.
//!
//! Every MCP call is a `POST` to one endpoint, so a route's scopes cannot say "the tool
//! `deploy` needs `mcp:deploy`". [`McpScopes`] can; given to
//! [`AuthenticatorBuilder::mcp`](crate::AuthenticatorBuilder::mcp) (the `mcp { ... }`
//! block of `providers!`), it turns on the MCP mode:
//!
//! - the endpoint is the path of the [`resource`](crate::resource), and its requests
//!   need a valid token whichever layer the app uses
//!   ([`layer`](crate::Authenticator::layer) or
//!   [`extension`](crate::Authenticator::extension));
//! - a request without a token gets 401 with `WWW-Authenticate: Bearer realm="...",
//!   resource_metadata="..."` (RFC 9728 §5.1), never 400;
//! - tokens come from the `Authorization` header only: a token in the URL query is
//!   refused (401), a cookie or the WebSocket query cannot be configured;
//! - every provider must accept the resource as an audience (RFC 8707): `build()` fails
//!   otherwise;
//! - each `POST` to the endpoint is checked against the rules, from the `Mcp-Method` and
//!   `Mcp-Name` headers (MCP 2026-07-28) before the body is read, then from the JSON-RPC
//!   body (buffered up to [`max_body`](McpScopes::max_body)). Headers that disagree with
//!   the body are refused (400); a token without the scopes gets 403
//!   `insufficient_scope` with `scope` listing every scope the operation needs, and
//!   `resource_metadata`. A tool cannot do this itself: its error is an HTTP 200.
//!
//! Scopes that imply others (`mcp:admin` implies `mcp:tools` and `mcp:deploy`) are set
//! app-wide with [`scope_implies`](crate::AuthenticatorBuilder::scope_implies).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use oauth2::mcp::McpScopes;
//! use oauth2::{Authenticator, Provider};
//!
//! let resource = "https://mcp.example.com/mcp";
//! let auth = Authenticator::builder()
//!     .provider(Provider::builder("corp").issuer("https://login.corp.example").audience(resource))
//!     .resource(resource)
//!     .mcp(
//!         McpScopes::new()
//!             .tool("whoami", ["mcp:tools"])
//!             .tool("deploy", ["mcp:deploy"]),
//!     )
//!     .scope_implies("mcp:admin", ["mcp:tools", "mcp:deploy"])
//!     .build()?;
//! let meta = auth.resource_metadata().unwrap();
//! assert_eq!(meta.scopes_supported, ["mcp:admin", "mcp:deploy", "mcp:tools"]);
//! // The MCP service goes at `/mcp`, e.g. rmcp's `StreamableHttpService`.
//! let app: axum::Router = axum::Router::new()
//!     .route("/mcp", axum::routing::post(|| async { "an MCP server" }))
//!     .layer(auth.layer())
//!     .merge(auth.router());
//! # Ok(()) }
//! ```

mod check;
mod message;

pub(crate) use self::check::{Checked, check};
pub(crate) use self::message::Operation;
#[cfg(fuzzing)]
pub(crate) use self::message::from_body as message_operations;
pub use self::message::{METHOD_HEADER, NAME_HEADER};

/// The default limit on a buffered MCP request body: 4 MiB.
pub const DEFAULT_MAX_BODY: usize = 4 << 20;

/// The scopes each MCP operation needs, beyond a valid token: per JSON-RPC method,
/// and per tool (`tools/call`), resource URI (`resources/read`) and prompt
/// (`prompts/get`). An operation needs the scopes of its method and of its name; one
/// without rules needs a valid token only.
#[derive(Clone, Debug)]
pub struct McpScopes {
    methods: Vec<(String, Vec<String>)>,
    names: Vec<(Named, String, Vec<String>)>,
    max_body: usize,
}

/// What a name rule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Named {
    Tool,
    Resource,
    Prompt,
}

impl Named {
    fn method(self) -> &'static str {
        match self {
            Self::Tool => "tools/call",
            Self::Resource => "resources/read",
            Self::Prompt => "prompts/get",
        }
    }
}

impl Default for McpScopes {
    fn default() -> Self {
        Self::new()
    }
}

fn strings<I, S>(scopes: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    scopes.into_iter().map(Into::into).collect()
}

impl McpScopes {
    /// No rules yet: every operation needs a valid token only.
    pub fn new() -> Self {
        Self {
            methods: Vec::new(),
            names: Vec::new(),
            max_body: DEFAULT_MAX_BODY,
        }
    }

    /// The JSON-RPC `method` (`tools/list`, `resources/subscribe`, ...) needs `scopes`.
    #[must_use]
    pub fn method<I, S>(mut self, method: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.methods.push((method.into(), strings(scopes)));
        self
    }

    /// Calling the tool `name` (`tools/call`) needs `scopes`.
    #[must_use]
    pub fn tool<I, S>(mut self, name: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names.push((Named::Tool, name.into(), strings(scopes)));
        self
    }

    /// Reading the resource `uri` (`resources/read`) needs `scopes`.
    #[must_use]
    pub fn resource<I, S>(mut self, uri: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names
            .push((Named::Resource, uri.into(), strings(scopes)));
        self
    }

    /// Getting the prompt `name` (`prompts/get`) needs `scopes`.
    #[must_use]
    pub fn prompt<I, S>(mut self, name: impl Into<String>, scopes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.names
            .push((Named::Prompt, name.into(), strings(scopes)));
        self
    }

    /// The longest request body buffered to read its operation; default
    /// [`DEFAULT_MAX_BODY`]. A longer one is refused with 413.
    #[must_use]
    pub fn max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    pub(crate) fn max_body_len(&self) -> usize {
        self.max_body
    }

    /// Whether some rule names a scope: without one, no body needs reading.
    pub(crate) fn has_rules(&self) -> bool {
        self.methods.iter().any(|(_, s)| !s.is_empty())
            || self.names.iter().any(|(_, _, s)| !s.is_empty())
    }

    /// Every scope the rules name.
    pub(crate) fn scopes(&self) -> impl Iterator<Item = &str> {
        let methods = self.methods.iter().flat_map(|(_, s)| s);
        let names = self.names.iter().flat_map(|(_, _, s)| s);
        methods.chain(names).map(String::as_str)
    }

    /// The scopes `operation` needs, each once, in the order the rules give them.
    pub(crate) fn required(&self, operation: &Operation) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let by_method = self
            .methods
            .iter()
            .filter(|(m, _)| *m == operation.method)
            .flat_map(|(_, s)| s);
        let by_name = self
            .names
            .iter()
            .filter(|(kind, name, _)| {
                kind.method() == operation.method && operation.name.as_deref() == Some(name)
            })
            .flat_map(|(_, _, s)| s);
        for scope in by_method.chain(by_name) {
            if !out.contains(&scope.as_str()) {
                out.push(scope);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_needs_the_scopes_of_its_method_and_of_its_name() {
        let rules = McpScopes::new()
            .method("tools/call", ["mcp:tools"])
            .tool("deploy", ["mcp:deploy", "mcp:tools"])
            .resource("file:///secret", ["files"])
            .prompt("p", ["prompts"]);
        let op = |method: &str, name: Option<&str>| Operation {
            method: method.into(),
            name: name.map(Into::into),
        };
        assert_eq!(
            rules.required(&op("tools/call", Some("deploy"))),
            ["mcp:tools", "mcp:deploy"]
        );
        assert_eq!(
            rules.required(&op("tools/call", Some("whoami"))),
            ["mcp:tools"]
        );
        assert_eq!(rules.required(&op("tools/list", None)), Vec::<&str>::new());
        assert_eq!(
            rules.required(&op("resources/read", Some("file:///secret"))),
            ["files"]
        );
        // A name rule is for its method only.
        assert!(
            rules
                .required(&op("prompts/get", Some("deploy")))
                .is_empty()
        );
        assert_eq!(rules.required(&op("prompts/get", Some("p"))), ["prompts"]);
        assert!(rules.has_rules());
        assert!(!McpScopes::new().tool("x", Vec::<String>::new()).has_rules());
    }
}
