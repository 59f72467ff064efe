oauth2::providers! {
    corp {
        issuer: "https://login.corp.example",
        audience: "api",
        hmac_secret: "hunter2",
    }
}

fn main() {}
