//! Arbitrary bytes as a JWKS document, as a key fetch or a key file hands them over.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2::jwks::KeySet;

fuzz_target!(|data: &[u8]| {
    let _ = KeySet::from_json(data);
});
