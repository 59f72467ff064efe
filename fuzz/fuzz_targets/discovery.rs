//! Arbitrary bytes as an OpenID Connect discovery document, checked as a fetched one
//! is (required members, the issuer, every endpoint an allowed URL).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = oauth2::__fuzz::discovery(data);
});
