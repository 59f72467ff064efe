// GitHub's tokens are opaque: a bearer provider with the `github` preset can never pass.
const SECRET: &str = "a session secret of at least 32 bytes!!";

oauth2::providers! {
    base_url: "https://app.example",
    session_secret: SECRET,
    github {
        preset: github,
        audience: "my-api",
        client_id: "Iv1.0123456789abcdef",
    }
}

fn main() {}
