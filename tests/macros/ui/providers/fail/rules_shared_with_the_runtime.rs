// Values the runtime would refuse at `load()` are compile errors, by the same rules:
// a look-alike loopback host, a query or fragment where none is allowed, a duration
// over a year, an unknown userinfo mode.
oauth2::providers! {
    base_url: "https://app.example/?x=1",
    session_secret: String::from("a secret of 32 bytes, or so, for the test"),
    lookalike {
        issuer: "http://127.0.0.1.example.com",
        audience: "api",
    }
    queried {
        issuer: "https://login.example/?tenant=1",
        audience: "api",
        jwks_url: "https://login.example/keys#current",
        refresh_interval: 9000h,
    }
    web {
        issuer: "https://login.example",
        client_id: "app",
        userinfo: sometimes,
    }
}

fn main() {}
