oauth2::providers! {
    corp {
        issuer: "https://login.corp.example",
        audience: "api",
        leeway: 30,
        refresh_interval: 2d,
        fetch_timeout: 1.5s,
    }
}

fn main() {}
