//! Small helpers with one home each: the clock (`now`), random tokens (`random_token`,
//! 256 bits as 43 base64url characters), text fit for messages and headers
//! (`printable`), the choice of one JWT crypto backend, and the URL rules every
//! configured endpoint follows (`url`). Private to the crate.

pub(crate) mod url;

use std::time::{SystemTime, UNIX_EPOCH};

/// Makes sure `jsonwebtoken` has exactly one crypto backend before it is used.
///
/// With only one of the `aws-lc-rs` and `rust-crypto` features, `jsonwebtoken` picks it
/// by itself. With both (a dependency may turn on the one the application did not),
/// it would pick none and panic on every signature, so this installs aws-lc-rs, the
/// faster one, once. A backend the application installed itself is kept.
pub(crate) fn crypto_backend() {
    #[cfg(all(feature = "aws-lc-rs", feature = "rust-crypto"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            let aws_lc = &jsonwebtoken::crypto::aws_lc::DEFAULT_PROVIDER;
            // Err: the application installed one already; it stays.
            let _ = jsonwebtoken::crypto::CryptoProvider::install_default(aws_lc);
        });
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The store key of a secret (a session id, a refresh token): its SHA-256, base64url,
/// so that a leaked store holds nothing usable (and a DPoP proof's `jti` key).
pub(crate) fn store_key(secret: &str) -> String {
    sha256_base64url(secret)
}

/// The SHA-256 of `text`, base64url without padding (a DPoP proof's `ath`, RFC 9449
/// §4.2).
pub(crate) fn sha256_base64url(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// 32 random bytes from the operating system, base64url without padding: session ids,
/// `state`, `nonce`, PKCE verifiers, codes. Fails only if the system has no randomness.
pub(crate) fn random_token() -> Result<String, getrandom::Error> {
    use base64::Engine as _;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

/// At most `max` characters of `text` that are safe in a message, a JSON string and an
/// RFC 6750 quoted header parameter: printable ASCII, with `"` and `\` turned into `'`;
/// everything else (control characters, non-ASCII) is dropped.
pub(crate) fn printable(text: &str, max: usize) -> String {
    text.chars()
        .filter_map(|c| match c {
            '"' | '\\' => Some('\''),
            ' '..='~' => Some(c),
            _ => None,
        })
        .take(max)
        .collect()
}

/// Runs `work` in `span`, then records its outcome in the same span (an event of the
/// login flows: what happened, once it is known).
#[cfg(feature = "login")]
pub(crate) async fn traced<T>(
    span: tracing::Span,
    work: impl std::future::Future<Output = T>,
    outcome: impl FnOnce(&T),
) -> T {
    use tracing::Instrument as _;
    let result = work.instrument(span.clone()).await;
    span.in_scope(|| outcome(&result));
    result
}

/// A boxed, sendable future, as the store traits' methods return.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The `Authorization` value of HTTP Basic client authentication (RFC 6749 §2.3.1):
/// both parts form-urlencoded before Base64, as the RFC says (and many forget).
pub(crate) fn basic_auth(client_id: &str, secret: &str) -> String {
    use base64::Engine as _;
    let enc = |s: &str| ::url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let pair = [enc(client_id), enc(secret)].join(":");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// `request` with `pairs` as its `application/x-www-form-urlencoded` body (reqwest's
/// `form` would pull in `serde_urlencoded` for this).
pub(crate) fn with_form<'a>(
    request: reqwest::RequestBuilder,
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> reqwest::RequestBuilder {
    let body = ::url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    request
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
}

/// Replaces the item of `items` whose `name` is `wanted` by `change(item)`, in its
/// place; whether there was one (the builders' `map_provider`).
pub(crate) fn map_named<T>(
    items: &mut Vec<T>,
    wanted: &str,
    name: impl Fn(&T) -> &str,
    change: impl FnOnce(T) -> T,
) -> bool {
    let Some(i) = items.iter().position(|t| name(t) == wanted) else {
        return false;
    };
    let item = items.remove(i);
    items.insert(i, change(item));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_keeps_ascii_and_quotes_safely() {
        assert_eq!(printable("bad\r\nthing\u{7}é", 200), "badthing");
        assert_eq!(printable("a \"b\" \\ é", 200), "a 'b' ' ");
        assert_eq!(printable(&"x".repeat(500), 200).len(), 200);
    }

    #[test]
    fn basic_auth_encodes_both_parts_first() {
        // RFC 6749 §2.3.1: `:` in the id and `+`, space in the secret are escaped.
        assert_eq!(basic_auth("a:b", "c d+"), "Basic YSUzQWI6YytkJTJC");
    }

    #[test]
    #[cfg(any(feature = "login", feature = "dev-issuer"))]
    fn random_tokens_are_256_bits_and_distinct() {
        let (a, b) = (random_token().unwrap(), random_token().unwrap());
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
