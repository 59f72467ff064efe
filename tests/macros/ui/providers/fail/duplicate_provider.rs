oauth2::providers! {
    google { issuer: "https://accounts.google.com", audience: "a" }
    corp { issuer: "https://login.corp.example", audience: "b" }
    google { issuer: "https://accounts.google.com", audience: "c" }
}

fn main() {}
