//! The login callback with an arbitrary query (`code`, `state`, `error`, `iss`, ...)
//! and an arbitrary `Cookie` header (the transaction cookie named by `state`), split
//! at the first newline: the query's parsing, the `state` check against the sealed
//! transaction, the RFC 9207 `iss` check, and the provider's error answers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oauth2_fuzz::{MAX_INPUT, app, request, split};

fuzz_target!(|data: &[u8]| {
    let (query, cookie) = split(&data[..data.len().min(MAX_INPUT)], b'\n');
    let Ok(query) = std::str::from_utf8(query) else {
        return;
    };
    let uri = format!("/auth/dev/callback?{query}");
    if let Some(req) = request("GET", &uri, &[("cookie", cookie)], Vec::new()) {
        let response = app().send(req);
        // No input the fuzzer can make starts a session: the code it would need is
        // one this run's dev issuer issued, and the fuzzer never logs in.
        let started = response.headers().get_all("set-cookie").iter().any(|c| {
            let c = c.to_str().unwrap_or("");
            c.starts_with("session=") && !c.contains("Max-Age=0")
        });
        assert!(!started, "a forged callback started a session");
    }
});
