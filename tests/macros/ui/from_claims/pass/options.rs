// Field options, generics and raw identifiers.
use oauth2::{Audience, Authenticated, FromClaims, Scopes};

#[derive(FromClaims)]
struct Claims<T> {
    sub: String,
    r#type: Option<String>,
    #[claim(rename = "https://example.com/roles")]
    roles: Vec<String>,
    #[claim(path = "org.id")]
    org: u64,
    #[claim(default)]
    groups: Vec<String>,
    #[claim(scopes)]
    scopes: Scopes,
    aud: Audience,
    extra: T,
}

fn main() {
    let auth = Authenticated::new("p", serde_json::json!({
        "sub": "a", "https://example.com/roles": ["x"], "org": {"id": 7}, "aud": "api", "extra": true,
    }));
    let c = Claims::<bool>::from_claims(&auth).unwrap();
    assert_eq!((c.org, c.extra, c.r#type, c.groups.len(), c.scopes.len()), (7, true, None, 0, 0));
    assert!(c.aud.contains("api") && c.roles == ["x"] && c.sub == "a");
}
