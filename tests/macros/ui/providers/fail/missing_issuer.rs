oauth2::providers! {
    corp {
        audience: "api",
        jwks_url: "https://login.corp.example/keys",
    }
    partner {
        issuer: "https://partner.example",
    }
}

fn main() {}
