//! Entry points for the fuzz targets in `fuzz/` that no public item reaches without a
//! network round trip. Compiled only under `cargo fuzz` (`--cfg fuzzing`); not API.

/// Checks `body` as the discovery document of `https://issuer.fuzz.invalid`, as a
/// fetched one is checked; `true` when it is accepted.
pub fn discovery(body: &[u8]) -> bool {
    const ISSUER: &str = "https://issuer.fuzz.invalid";
    let url = crate::discovery::metadata_url(ISSUER).expect("a valid issuer");
    crate::discovery::parse(&url, ISSUER, body).is_ok()
}
