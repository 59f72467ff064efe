//! Arbitrary bytes as a bearer token (`Authorization: Bearer <bytes>`) to a route
//! behind the auth layer, with the `hs` and `dev` providers' keys loaded: header
//! parsing, the size limit, JWT splitting and decoding, provider routing by `iss`,
//! key selection by `kid` (and the unknown-kid refetch), the signature check, and the
//! RFC 6750 error built from what was wrong.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request};

fuzz_target!(|data: &[u8]| {
    let data = &data[..data.len().min(MAX_INPUT)];
    let mut value = b"Bearer ".to_vec();
    value.extend_from_slice(data);
    for header in [data, &value[..]] {
        if let Some(req) = request("GET", "/api", &[("authorization", header)], Vec::new()) {
            app().send(req);
        }
    }
});
