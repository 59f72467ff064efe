oauth2::providers! {
    corp {
        isuer: "https://login.corp.example",
        issuer: "https://login.corp.example",
        audience: "api",
        public_paths: ["/health"],
        colour: "blue",
    }
}

fn main() {}
