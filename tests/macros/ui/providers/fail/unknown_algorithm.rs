oauth2::providers! {
    corp {
        issuer: "https://login.corp.example",
        audience: "api",
        algorithms: [RS265, none, "ES256"],
    }
}

fn main() {}
