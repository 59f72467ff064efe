// The MCP mode needs a resource; its block takes MCP keys only; scopes are scope
// tokens; a map goes only where a key takes one.
oauth2::providers! {
    scope_implies: { "mcp:admin": ["mcp:tools", "two words"] },
    realm: { api: "x" },
    mcp {
        tools: { whoami: "mcp:tools", whoami: "mcp:other" },
        tool: { deploy: "mcp:deploy" },
        prompts: { p: 5 },
        audience: "api",
    }
    idp {
        issuer: "https://login.example.com",
        audience: "https://mcp.example.com/mcp",
    }
}

// Resource URLs follow the URL rules.
mod bad_resource {
    oauth2::providers! {
        resource: "http://mcp.example.com/mcp?x=1",
        idp {
            issuer: "https://login.example.com",
            audience: "api",
        }
    }
}

fn main() {}
