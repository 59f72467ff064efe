// An issuer template says which tenants it accepts; tenants need a template.
oauth2::providers! {
    entra {
        issuer: "https://login.microsoftonline.com/{tenantid}/v2.0",
        audience: "api",
    }
    corp {
        issuer: "https://login.corp.example",
        audience: "api",
        tenants: ["contoso"],
    }
    plain {
        issuer: "https://login.plain.example",
        audience: "api",
        max_tenants: 10,
    }
    // A tenant in the host is fine (one organisation per subdomain).
    okta {
        issuer: "https://{tenantid}.okta.example/oauth2/default",
        audience: "api",
        any_tenant: true,
    }
}

fn main() {}
