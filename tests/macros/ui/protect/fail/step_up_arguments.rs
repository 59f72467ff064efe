// Step-up arguments a user could get wrong: each is reported at its tokens.
use oauth2::{protect, providers};

providers! {
    corp { issuer: "https://login.corp.example", audience: "api" }
}

// A single value instead of a list.
#[protect(provider = "corp", acr = "urn:example:mfa")]
async fn a() {}

// An empty list: no token could pass.
#[protect(provider = "corp", acr = [])]
async fn b() {}

// Two values in one string.
#[protect(provider = "corp", acr = ["mfa hwk"])]
async fn c() {}

// Seconds without a unit.
#[protect(provider = "corp", max_age = 300)]
async fn d() {}

// OpenID Connect's max_age is in whole seconds.
#[protect(provider = "corp", max_age = 1500ms)]
async fn e() {}

// A zero max_age would refuse every login.
#[protect(provider = "corp", max_age = 0s)]
async fn f() {}

fn main() {}
