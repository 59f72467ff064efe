//! An MCP server (the official `rmcp` crate, Streamable HTTP) protected by this library
//! as an OAuth resource server: any MCP client that speaks the MCP authorization spec
//! finds the authorization server from the protected resource metadata, gets a token for
//! this resource, and calls the tools its scopes allow.
//!
//! | variable | meaning |
//! |---|---|
//! | `OAUTH2_ISSUER` | the authorization server (required; RFC 8414 or OpenID discovery) |
//! | `MCP_RESOURCE` | the MCP endpoint's canonical URL, e.g. `http://127.0.0.1:3001/mcp` (required; its path must be `/mcp`); access tokens must carry it in `aud` |
//! | `OAUTH2_JWKS_URL` | the JWKS URL (optional; from discovery otherwise) |
//! | `OAUTH2_BIND` | listen address (default `127.0.0.1:3000`) |
//!
//! Routes: `POST /mcp` (and `GET`, `DELETE` of the Streamable HTTP transport), every
//! request with a valid token; `GET /.well-known/oauth-protected-resource/mcp`, public.
//! Tools: `whoami` (needs `mcp:tools`) answers with the caller's `sub`; `deploy` (needs
//! `mcp:deploy`) answers `deployed`; `mcp:admin` implies both.
//!
//! ```text
//! OAUTH2_ISSUER=https://login.example.com MCP_RESOURCE=http://127.0.0.1:3000/mcp \
//!     cargo run --example mcp_server
//! ```

use std::error::Error;

use axum::Router;
use oauth2::{Authenticated, providers};
use rmcp::handler::server::tool::Extension;
use rmcp::model::{CallToolResult, ContentBlock, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, ServerHandler, tool, tool_handler, tool_router};

providers! {
    resource: env("MCP_RESOURCE"),
    scope_implies: { "mcp:admin": ["mcp:tools", "mcp:deploy"] },
    mcp {
        tools: { whoami: "mcp:tools", deploy: "mcp:deploy" },
    }
    idp {
        issuer: env("OAUTH2_ISSUER"),
        audience: env("MCP_RESOURCE"),
        jwks_url: env("OAUTH2_JWKS_URL", optional),
    }
}

/// The MCP server's tools. The auth layer has checked the token and the tool's scopes
/// before a call reaches them.
#[derive(Clone, Copy)]
struct Tools;

#[tool_router]
impl Tools {
    #[tool(description = "Who is calling: the subject of the access token")]
    async fn whoami(
        &self,
        Extension(parts): Extension<axum::http::request::Parts>,
    ) -> Result<CallToolResult, ErrorData> {
        let caller = parts
            .extensions
            .get::<Authenticated>()
            .ok_or_else(|| ErrorData::internal_error("no token was checked", None))?;
        let sub = caller.subject().unwrap_or("(no sub)");
        Ok(CallToolResult::success(vec![ContentBlock::text(format!(
            "you are {sub}"
        ))]))
    }

    #[tool(description = "Deploy (needs mcp:deploy)")]
    async fn deploy(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::success(vec![ContentBlock::text(
            "deployed",
        )]))
    }
}

#[tool_handler]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let resource = url::Url::parse(&std::env::var("MCP_RESOURCE")?)?;
    if resource.path() != "/mcp" {
        return Err(format!("MCP_RESOURCE must end in /mcp, the endpoint: {resource}").into());
    }
    let providers = Providers::load()?;
    // Serve once the issuer's keys are loaded (a token before then gets 503 with
    // Retry-After), or after 10 s anyway, saying why.
    if tokio::time::timeout(std::time::Duration::from_secs(10), providers.ready())
        .await
        .is_err()
    {
        tracing::warn!(
            "the keys of OAUTH2_ISSUER are not loaded yet: requests get 503 until they are"
        );
    }
    // rmcp checks the `Host` header against these (DNS rebinding): loopback, and the
    // resource's own host when it is served under another name.
    let mut hosts = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "[::1]".to_owned(),
    ];
    hosts.extend(resource.host_str().map(str::to_owned));
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(hosts);
    let mcp =
        StreamableHttpService::new(|| Ok(Tools), LocalSessionManager::default().into(), config);
    let app = Router::new()
        .route_service("/mcp", mcp)
        .layer(providers.layer())
        .merge(providers.router());
    let bind = std::env::var("OAUTH2_BIND").unwrap_or_else(|_| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    tracing::info!("MCP server on http://{bind}/mcp for {resource}");
    axum::serve(listener, app).await?;
    Ok(())
}
