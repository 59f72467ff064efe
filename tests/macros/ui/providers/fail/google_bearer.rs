// Google's access tokens are opaque: what an API validates is a Google ID token, which
// is refused as a bearer token unless `accept_id_tokens: true` says it is meant.
oauth2::providers! {
    google {
        preset: google,
        audience: "1234-abc.apps.googleusercontent.com",
    }
}

fn main() {}
