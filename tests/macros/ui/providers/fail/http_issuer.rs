oauth2::providers! {
    corp {
        issuer: "http://login.corp.example",
        audience: "api",
        jwks_url: "login.corp.example/keys",
    }
    // http is fine on loopback.
    dev { issuer: "http://127.0.0.1:3001", audience: "api" }
}

fn main() {}
