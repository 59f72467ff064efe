//! A session kept in the browser: serialized, encrypted and authenticated (AES-256-GCM
//! with a key derived from the session secret by HKDF, from the `cookie` crate), with
//! an expiry inside the sealed data, and split across several cookies when it is larger
//! than one cookie may be.

use std::time::Duration;

use ::cookie::{Cookie, CookieJar, Key, SameSite};
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::util::now;

/// The most bytes of sealed value per cookie: browsers keep 4096 bytes per cookie,
/// name and attributes included.
const CHUNK: usize = 3800;

/// At most this many chunks (about 30 KB): a session larger than that belongs in a
/// server-side store.
const MAX_CHUNKS: usize = 8;

/// Why a session cookie was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The cookies do not decrypt with any configured secret: tampered with, truncated,
    /// spliced, or sealed with a secret no longer configured.
    #[error("session cookie is invalid")]
    Invalid,
    /// The session's lifetime is over.
    #[error("session has expired")]
    Expired,
    /// The session does not fit in the allowed cookies.
    #[error("session is too large for cookies ({0} bytes sealed): use a server-side store")]
    TooLarge(usize),
    /// The session could not be serialized or deserialized.
    #[error("session data: {0}")]
    Data(String),
}

/// Seals sessions into cookies and opens them again. Cheap to clone.
#[derive(Clone)]
pub struct SessionCookie {
    name: String,
    /// The first key seals; every key opens (secret rotation).
    keys: Vec<Key>,
    secure: bool,
    same_site: SameSite,
    path: String,
}

impl std::fmt::Debug for SessionCookie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionCookie")
            .field("name", &self.name)
            .field("keys", &self.keys.len())
            .field("secure", &self.secure)
            .field("same_site", &self.same_site)
            .field("path", &self.path)
            .finish()
    }
}

/// Builds a [`SessionCookie`].
#[must_use = "call `.build()`"]
pub struct SessionCookieBuilder {
    name: String,
    secrets: Vec<Vec<u8>>,
    secure: bool,
    same_site: SameSite,
    path: String,
}

impl SessionCookieBuilder {
    /// The secret that seals new sessions: at least 32 random bytes. Required.
    pub fn secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.insert(0, secret.as_ref().to_vec());
        self
    }

    /// A previous secret: sessions it sealed still open, until they expire.
    pub fn old_secret(mut self, secret: impl AsRef<[u8]>) -> Self {
        self.secrets.push(secret.as_ref().to_vec());
        self
    }

    /// Whether the cookies carry `Secure`; default `true`. Turn it off only for
    /// `http://` on loopback in development.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// `SameSite`; default `Lax`, which lets the provider's redirect back carry it.
    pub fn same_site(mut self, same_site: SameSite) -> Self {
        self.same_site = same_site;
        self
    }

    /// The cookies' `Path`; default `/`.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Checks the secrets.
    pub fn build(self) -> Result<SessionCookie, ConfigError> {
        let field = |problem: &str| ConfigError::Setting {
            field: "session_secret",
            problem: problem.to_owned(),
        };
        if self.secrets.is_empty() {
            return Err(field("is not set"));
        }
        if self.secrets.iter().any(|s| s.len() < 32) {
            return Err(field(
                "is shorter than 32 bytes: use 32 or more random bytes",
            ));
        }
        if self.name.is_empty()
            || self
                .name
                .contains(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
        {
            return Err(ConfigError::Setting {
                field: "session_cookie",
                problem: "must be a name of letters, digits, `_` or `-`".into(),
            });
        }
        Ok(SessionCookie {
            name: self.name,
            keys: self.secrets.iter().map(|s| Key::derive_from(s)).collect(),
            secure: self.secure,
            same_site: self.same_site,
            path: self.path,
        })
    }
}

/// What is sealed: the data and when it stops being valid.
#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    exp: u64,
    data: T,
}

impl SessionCookie {
    /// Starts the configuration of cookies named `name`, `name.1`, `name.2`, ...
    pub fn builder(name: impl Into<String>) -> SessionCookieBuilder {
        SessionCookieBuilder {
            name: name.into(),
            secrets: Vec::new(),
            secure: true,
            same_site: SameSite::Lax,
            path: "/".into(),
        }
    }

    /// The cookies to set for `data`, valid for `ttl`: `HttpOnly`, `Secure` (unless
    /// turned off), `SameSite`, `Path`, `Max-Age`. Send every one as a `Set-Cookie`, and
    /// [`clear`](Self::clear)'s cookies for chunks the request had beyond them.
    pub fn seal<T: Serialize>(
        &self,
        data: &T,
        ttl: Duration,
    ) -> Result<Vec<Cookie<'static>>, SessionError> {
        let envelope = Envelope {
            exp: now().saturating_add(ttl.as_secs()),
            data,
        };
        let json =
            serde_json::to_string(&envelope).map_err(|e| SessionError::Data(e.to_string()))?;
        // One seal over the whole session, with the base name as associated data, so
        // chunks cannot be mixed between sessions or renamed.
        let mut jar = CookieJar::new();
        jar.private_mut(&self.keys[0])
            .add(Cookie::new(self.name.clone(), json));
        let sealed = jar
            .get(&self.name)
            .map(|c| c.value().to_owned())
            .unwrap_or_default();
        let chunks: Vec<&str> = sealed
            .as_bytes()
            .chunks(CHUNK)
            .map(|c| std::str::from_utf8(c).expect("base64 is ASCII"))
            .collect();
        if chunks.len() > MAX_CHUNKS {
            return Err(SessionError::TooLarge(sealed.len()));
        }
        let count = chunks.len();
        Ok(chunks
            .into_iter()
            .enumerate()
            .map(|(i, chunk)| {
                let value = if i == 0 {
                    format!("{count}.{chunk}")
                } else {
                    chunk.to_owned()
                };
                self.attributes(Cookie::new(self.chunk_name(i), value), ttl)
            })
            .collect())
    }

    /// The session in the request's cookies: `Ok(None)` when there is none, an error
    /// when it is invalid or expired.
    pub fn open<T: DeserializeOwned>(
        &self,
        headers: &HeaderMap,
    ) -> Result<Option<T>, SessionError> {
        match self.sealed(headers)? {
            Some(sealed) => self.open_sealed(&sealed).map(|(data, _)| Some(data)),
            None => Ok(None),
        }
    }

    /// The sealed value the request's cookies carry, its chunks joined: `Ok(None)` when
    /// there is none, an error when the chunks don't fit together.
    pub(crate) fn sealed(&self, headers: &HeaderMap) -> Result<Option<String>, SessionError> {
        let get = |name: &str| {
            crate::http::cookies(headers)
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v)
        };
        let Some(first) = get(&self.name) else {
            return Ok(None);
        };
        let (count, head) = first.split_once('.').ok_or(SessionError::Invalid)?;
        let count: usize = count.parse().map_err(|_| SessionError::Invalid)?;
        if count == 0 || count > MAX_CHUNKS {
            return Err(SessionError::Invalid);
        }
        let mut sealed = head.to_owned();
        for i in 1..count {
            sealed.push_str(get(&self.chunk_name(i)).ok_or(SessionError::Invalid)?);
        }
        Ok(Some(sealed))
    }

    /// Opens a sealed value; the data and when it expires (seconds since the epoch).
    pub(crate) fn open_sealed<T: DeserializeOwned>(
        &self,
        sealed: &str,
    ) -> Result<(T, u64), SessionError> {
        let json = self
            .keys
            .iter()
            .find_map(|key| {
                let mut jar = CookieJar::new();
                jar.add_original(Cookie::new(self.name.clone(), sealed.to_owned()));
                jar.private(key).get(&self.name)
            })
            .ok_or(SessionError::Invalid)?;
        let envelope: Envelope<T> =
            serde_json::from_str(json.value()).map_err(|e| SessionError::Data(e.to_string()))?;
        if envelope.exp <= now() {
            return Err(SessionError::Expired);
        }
        Ok((envelope.data, envelope.exp))
    }

    /// Removal cookies for every chunk of this session the request carries.
    pub fn clear(&self, headers: &HeaderMap) -> Vec<Cookie<'static>> {
        let prefix = format!("{}.", self.name);
        crate::http::cookies(headers)
            .filter(|(n, _)| {
                *n == self.name
                    || n.strip_prefix(&prefix)
                        .is_some_and(|i| i.parse::<usize>().is_ok())
            })
            .map(|(name, _)| {
                let mut c = self.attributes(Cookie::new(name.to_owned(), ""), Duration::ZERO);
                c.make_removal();
                c
            })
            .collect()
    }

    /// The same keys and attributes for cookies named `name` on `path` (the login
    /// flow's per-state transaction cookies).
    #[cfg(feature = "login")]
    pub(crate) fn renamed(&self, name: String, path: &str) -> SessionCookie {
        SessionCookie {
            name,
            keys: self.keys.clone(),
            secure: self.secure,
            same_site: self.same_site,
            path: path.to_owned(),
        }
    }

    /// A cookie named `name` with these cookies' attributes (to remove it).
    #[cfg(feature = "login")]
    pub(crate) fn clear_named(&self, name: String) -> Cookie<'static> {
        self.attributes(Cookie::new(name, ""), Duration::ZERO)
    }

    /// Whether the cookies are `Secure`.
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The cookies' base name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn chunk_name(&self, i: usize) -> String {
        if i == 0 {
            self.name.clone()
        } else {
            format!("{}.{i}", self.name)
        }
    }

    fn attributes(&self, mut cookie: Cookie<'static>, ttl: Duration) -> Cookie<'static> {
        cookie.set_http_only(true);
        cookie.set_secure(self.secure);
        cookie.set_same_site(self.same_site);
        cookie.set_path(self.path.clone());
        cookie.set_max_age(::cookie::time::Duration::seconds(
            i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX),
        ));
        cookie
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use axum::http::{HeaderValue, header};

    const SECRET: &[u8] = b"an example secret of at least 32 bytes, current";
    const OLD: &[u8] = b"an example secret of at least 32 bytes, previous";

    fn codec(name: &str, secret: &[u8]) -> SessionCookie {
        SessionCookie::builder(name).secret(secret).build().unwrap()
    }

    /// The request a browser sends back after `set`.
    pub(crate) fn request(set: &[Cookie<'static>]) -> HeaderMap {
        let pairs: Vec<String> = set
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&pairs.join("; ")).unwrap(),
        );
        headers
    }

    fn hour() -> Duration {
        Duration::from_secs(3600)
    }

    #[test]
    fn round_trip_with_safe_attributes() {
        let c = codec("session", SECRET);
        let set = c.seal(&"alice", hour()).unwrap();
        assert_eq!(set.len(), 1);
        let text = set[0].to_string();
        for attribute in [
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=3600",
        ] {
            assert!(text.contains(attribute), "{text}");
        }
        assert!(!text.contains("alice"), "the value is encrypted: {text}");
        assert_eq!(
            c.open::<String>(&request(&set)).unwrap().as_deref(),
            Some("alice")
        );
        assert_eq!(c.open::<String>(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn old_secrets_open_new_secret_seals_unknown_secret_fails() {
        let before = codec("session", OLD).seal(&1u32, hour()).unwrap();
        let rotated = SessionCookie::builder("session")
            .secret(SECRET)
            .old_secret(OLD)
            .build()
            .unwrap();
        assert_eq!(rotated.open::<u32>(&request(&before)).unwrap(), Some(1));
        let after = rotated.seal(&2u32, hour()).unwrap();
        assert_eq!(
            codec("session", SECRET)
                .open::<u32>(&request(&after))
                .unwrap(),
            Some(2)
        );
        assert_eq!(
            codec("session", OLD).open::<u32>(&request(&after)),
            Err(SessionError::Invalid)
        );
    }

    #[test]
    fn tampered_renamed_or_expired_cookies_are_refused() {
        let c = codec("session", SECRET);
        let set = c.seal(&"alice", hour()).unwrap();
        let mut value = set[0].value().to_owned();
        let last = value.pop().unwrap();
        value.push(if last == 'A' { 'B' } else { 'A' });
        let tampered = [Cookie::new("session", value)];
        assert_eq!(
            c.open::<String>(&request(&tampered)),
            Err(SessionError::Invalid)
        );
        for garbage in ["x", "1.", "0.abc", "99.abc", "abc"] {
            let bad = [Cookie::new("session", garbage)];
            assert_eq!(
                c.open::<String>(&request(&bad)),
                Err(SessionError::Invalid),
                "{garbage}"
            );
        }
        // Sealed for another cookie name: the name is authenticated.
        let other = codec("other", SECRET).seal(&"alice", hour()).unwrap();
        let renamed = [Cookie::new("session", other[0].value().to_owned())];
        assert_eq!(
            c.open::<String>(&request(&renamed)),
            Err(SessionError::Invalid)
        );
        let expired = c.seal(&"alice", Duration::ZERO).unwrap();
        assert_eq!(
            c.open::<String>(&request(&expired)),
            Err(SessionError::Expired)
        );
    }

    #[test]
    fn large_sessions_are_chunked_and_chunks_cannot_be_mixed() {
        let c = codec("session", SECRET);
        let big: Vec<String> = (0..600).map(|i| format!("group-{i:04}")).collect();
        let set = c.seal(&big, hour()).unwrap();
        assert!(set.len() >= 2, "{} cookies", set.len());
        assert_eq!(set[1].name(), "session.1");
        assert!(set.iter().all(|k| k.to_string().len() < 4096));
        assert_eq!(
            c.open::<Vec<String>>(&request(&set)).unwrap(),
            Some(big.clone())
        );

        // A missing chunk, or one from another session of the same size, is refused.
        assert_eq!(
            c.open::<Vec<String>>(&request(&set[..1])),
            Err(SessionError::Invalid)
        );
        let mut other = big.clone();
        other[0] = "group-xxxx".into();
        let other = c.seal(&other, hour()).unwrap();
        let mixed = [set[0].clone(), other[1].clone()];
        assert_eq!(
            c.open::<Vec<String>>(&request(&mixed)),
            Err(SessionError::Invalid)
        );

        // Stale chunks from a bigger earlier session are ignored.
        let mut with_stale = c.seal(&"small", hour()).unwrap();
        with_stale.extend(set[1..].iter().cloned());
        assert_eq!(
            c.open::<String>(&request(&with_stale)).unwrap().as_deref(),
            Some("small")
        );

        let huge: String = "x".repeat(40_000);
        assert!(matches!(
            c.seal(&huge, hour()),
            Err(SessionError::TooLarge(_))
        ));
    }

    #[test]
    fn clear_removes_every_chunk_and_nothing_else() {
        let c = codec("session", SECRET);
        let big: Vec<String> = (0..600).map(|i| format!("group-{i:04}")).collect();
        let mut set = c.seal(&big, hour()).unwrap();
        set.push(Cookie::new("unrelated", "1"));
        set.push(Cookie::new("session.x", "1"));
        let removal = c.clear(&request(&set));
        let names: Vec<&str> = removal.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), set.len() - 2);
        assert!(!names.contains(&"unrelated") && !names.contains(&"session.x"));
        assert!(removal.iter().all(|c| c.to_string().contains("Max-Age=0")));
    }

    #[test]
    fn secrets_must_be_long_enough() {
        let short = SessionCookie::builder("s")
            .secret(b"short")
            .build()
            .unwrap_err();
        assert_eq!(short.field(), Some("session_secret"));
        assert_eq!(
            short.to_string(),
            "session_secret is shorter than 32 bytes: use 32 or more random bytes"
        );
        assert!(SessionCookie::builder("s").build().is_err());
        assert!(
            SessionCookie::builder("bad name")
                .secret(SECRET)
                .build()
                .is_err()
        );
        let dev = SessionCookie::builder("s")
            .secret(SECRET)
            .secure(false)
            .build()
            .unwrap();
        assert!(
            !dev.seal(&1, hour()).unwrap()[0]
                .to_string()
                .contains("Secure")
        );
    }
}
