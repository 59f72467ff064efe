//! An arbitrary `Cookie` header to a session route behind the login layer: cookie
//! parsing, chunk reassembly (`name`, `name.1`, ...), opening the sealed value
//! (AES-GCM), its expiry, the parsed-session cache, and the record inside.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    if let Some(req) = request("GET", "/me", &[("cookie", data)], Vec::new()) {
        app().send(req);
    }
});
