// The broker block takes broker keys only, needs an audience, signs with an asymmetric
// algorithm, and issues tokens to users of a login provider.
oauth2::providers! {
    api {
        issuer: "https://login.example",
        audience: "api",
    }
    broker {
        issuer: "https://broker.example",
        algorithm: HS256,
        token_tll: 5m,
    }
}

fn main() {}
