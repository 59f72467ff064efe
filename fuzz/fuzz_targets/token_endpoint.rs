//! An arbitrary form body to the token endpoint (`grant_type`, `refresh_token`,
//! `device_code`, `code`, ...), with the content type split off at the first newline:
//! form parsing, repeated and missing parameters, and the grants' refusals.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request, split};

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = split(&data[..data.len().min(MAX_INPUT)], b'\n');
    let headers = [("content-type", content_type)];
    if let Some(req) = request("POST", "/auth/dev/token", &headers, body.to_vec()) {
        app().send(req);
    }
});
