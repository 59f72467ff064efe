//! An arbitrary back-channel logout request body (`logout_token=...`, OpenID Connect
//! Back-Channel Logout §2.5): form parsing and the logout token's checks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request};

fuzz_target!(|data: &[u8]| {
    let body = data[..data.len().min(MAX_INPUT)].to_vec();
    let headers: [(&str, &[u8]); 1] = [("content-type", b"application/x-www-form-urlencoded")];
    if let Some(req) = request("POST", "/auth/dev/backchannel-logout", &headers, body) {
        let response = app().send(req);
        // The dev issuer's keys are made at start: no fuzzed token carries a valid signature.
        assert_ne!(response.status(), 200, "a forged logout token was accepted");
    }
});
