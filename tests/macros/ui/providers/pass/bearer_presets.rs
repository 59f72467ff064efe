// Bearer presets: `google` knows its issuer; `auth0` and `cognito` take the tenant's.
oauth2::providers! {
    google {
        preset: google,
        audience: "1234-abc.apps.googleusercontent.com",
        accept_id_tokens: true,
    }
    auth0 { preset: auth0, issuer: "https://tenant.eu.auth0.com", audience: "https://api.example" }
    cognito {
        preset: cognito,
        issuer: "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
        audience: "app-client-id",
    }
}

fn main() {
    // Each provider's configuration, built without loading keys.
    let google = Google::builder().unwrap().build().unwrap();
    let auth0 = Auth0::builder().unwrap().build().unwrap();
    let cognito = Cognito::builder().unwrap().build().unwrap();
    assert_eq!(google.issuer(), "https://accounts.google.com");
    assert_eq!(auth0.issuer(), "https://tenant.eu.auth0.com/");
    assert_eq!(
        cognito.issuer(),
        "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example"
    );
    assert_eq!(google.audience_claim(), "aud");
    assert_eq!(cognito.audience_claim(), "client_id");
}
