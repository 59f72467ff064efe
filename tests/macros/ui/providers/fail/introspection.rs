// Introspection is done as the resource server's own client: its id and secret go
// together, and a secret is never a literal.
oauth2::providers! {
    api {
        issuer: "https://login.example",
        audience: "api",
        introspection_client_secret: env("INTROSPECTION_SECRET"),
    }
}

mod literal {
    oauth2::providers! {
        api {
            issuer: "https://login.example",
            audience: "api",
            introspection_client_id: "api",
            introspection_client_secret: "s3cret-s3cret",
            introspection_endpoint: "http://login.example/introspect",
        }
    }
}

fn main() {}
