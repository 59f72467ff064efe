//! A correctly signed HS256 token over arbitrary header and payload bytes (split at
//! the first NUL) to a route behind the auth layer: what the claim checks (`iss`,
//! `aud`, `exp`, `nbf`, `iat`, `typ`, `crit`, the algorithm) and the claims handed to
//! handlers make of whatever a provider's keys might sign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request, sign_hs256, split};

fuzz_target!(|data: &[u8]| {
    let (header, payload) = split(&data[..data.len().min(MAX_INPUT)], 0);
    let token = format!("Bearer {}", sign_hs256(header, payload));
    if let Some(req) = request(
        "GET",
        "/api",
        &[("authorization", token.as_bytes())],
        Vec::new(),
    ) {
        app().send(req);
    }
});
