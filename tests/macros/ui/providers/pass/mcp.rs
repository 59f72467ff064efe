// An MCP server: the resource, scopes that imply others, and the scopes of MCP
// operations in every form (names as identifiers or strings, one scope or a list).
#![deny(warnings)]

oauth2::providers! {
    resource: env("MCP_RESOURCE"),
    scopes_supported: ["mcp:read"],
    scope_implies: { "mcp:admin": ["mcp:tools", "mcp:deploy"], "mcp:tools": "mcp:read" },
    mcp {
        tools: { whoami: "mcp:tools", deploy: ["mcp:deploy", "mcp:tools"] },
        methods: { "resources/list": "mcp:read" },
        resources: { "file:///secret.txt": "mcp:admin" },
        prompts: { summarize: [] },
        max_body: 65536,
    }
    idp {
        issuer: env("OAUTH2_ISSUER"),
        audience: env("MCP_RESOURCE"),
    }
}

// The MCP mode without operation rules: a valid token for the resource is enough.
mod plain {
    oauth2::providers! {
        resource: "https://mcp.example.com/mcp",
        mcp {}
        idp {
            issuer: "https://login.example.com",
            audience: "https://mcp.example.com/mcp",
        }
    }

    pub(crate) fn _use(p: &Providers) -> axum::Router {
        axum::Router::new().layer(p.layer()).merge(p.router())
    }
}

fn main() {
    let _ = Providers::builder;
    let _ = plain::_use;
}

// A route's scopes are among the resource's (here `scopes_supported` and the rules').
#[oauth2::protect(provider = "idp", scopes = ["mcp:read", "mcp:deploy"])]
async fn _read() -> &'static str {
    "read"
}
