// The rules between keys are one table that `build()` checks too: these were runtime
// errors before the table, and are compile errors now.
oauth2::providers! {
    base_url: "https://app.example",
    session_secret: env("SESSION_SECRET"),
    plain {
        client_id: "app",
        authorize_url: "https://idp.example/authorize",
        token_url: "https://idp.example/token",
        userinfo_url: "https://idp.example/user",
        userinfo: never,
        pushed_authorization: required,
    }
    entra {
        issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
        audience: "api",
        tenants: ["contoso"],
        any_tenant: true,
    }
}

fn main() {}
