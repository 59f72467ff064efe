//! [`AssertionFile`]: a client assertion that another system issues and keeps fresh in a
//! file (federated credentials).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::ClientConfigError;

/// A `client_assertion` read from a file that another system writes and renews: a
/// Kubernetes projected service-account token, the GitHub Actions OIDC token saved to a
/// file, a SPIFFE JWT-SVID. The provider trusts that issuer for this client (Entra ID
/// "federated credentials", Okta, Keycloak), so no secret or key lives in the app.
///
/// The file is read again when its modification time or length changes (Kubernetes
/// swaps the whole file), otherwise the copy in memory is sent. A file that is missing,
/// empty, not a JWT, or holds an assertion whose `exp` has passed fails the request
/// with a message that names the file, before anything is sent.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use oauth2::client::{AssertionFile, ClientCredentials};
///
/// # let dir = std::env::temp_dir().join(format!("assertion-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("token");
/// # std::fs::write(&path, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9.c2ln")?;
/// // The path Kubernetes projects the token to, e.g.
/// // /var/run/secrets/azure/tokens/azure-identity-token
/// let credentials = ClientCredentials::new("11111111-2222-3333-4444-555555555555")
///     .assertion_file(AssertionFile::new(&path)?);
/// # let _ = credentials; Ok(()) }
/// ```
#[derive(Clone)]
pub struct AssertionFile {
    path: Arc<Path>,
    /// The last contents read, and the file's modification time and length then.
    last: Arc<Mutex<Option<Read>>>,
}

#[derive(Clone)]
struct Read {
    modified: Option<SystemTime>,
    len: u64,
    assertion: String,
}

impl fmt::Debug for AssertionFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The assertion stays out of logs.
        f.debug_struct("AssertionFile")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AssertionFile {
    /// The assertion in the file at `path`, which is read now: a file that cannot be
    /// read, or does not hold a JWT, fails here rather than at the first request.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self, ClientConfigError> {
        let file = Self {
            path: Arc::from(path.into()),
            last: Arc::new(Mutex::new(None)),
        };
        file.read().map_err(ClientConfigError)?;
        Ok(file)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The assertion the file holds now: the kept copy unless the file changed.
    pub(crate) fn read(&self) -> Result<String, String> {
        let shown = self.path.display();
        let meta = std::fs::metadata(&self.path)
            .map_err(|e| format!("the client assertion file {shown} cannot be read: {e}"))?;
        let (modified, len) = (meta.modified().ok(), meta.len());
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let kept = last
            .as_ref()
            .filter(|r| modified.is_some() && r.modified == modified && r.len == len);
        let assertion = match kept {
            Some(read) => read.assertion.clone(),
            None => {
                let text = std::fs::read_to_string(&self.path).map_err(|e| {
                    format!("the client assertion file {shown} cannot be read: {e}")
                })?;
                let assertion = text.trim().to_owned();
                *last = Some(Read {
                    modified,
                    len,
                    assertion: assertion.clone(),
                });
                assertion
            }
        };
        drop(last);
        check(&assertion).map_err(|why| format!("the client assertion file {shown} {why}"))?;
        Ok(assertion)
    }
}

/// A JWT whose `exp`, if it has one, has not passed.
fn check(assertion: &str) -> Result<(), String> {
    if assertion.is_empty() {
        return Err("is empty".into());
    }
    let mut parts = assertion.split('.');
    let payload = match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(_), Some(payload), Some(_), None) => payload,
        _ => return Err("does not hold a JWT (three base64url parts)".into()),
    };
    let claims: serde_json::Value = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or("does not hold a JWT (its payload is not base64url JSON)")?;
    match claims.get("exp").and_then(serde_json::Value::as_u64) {
        Some(exp) if exp <= crate::util::now() => Err(format!(
            "holds an assertion that expired {} s ago (is whatever renews the file running?)",
            crate::util::now() - exp
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "eyJhbGciOiJSUzI1NiJ9.{}.c2ln",
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn the_file_is_read_again_when_it_changes_and_its_problems_are_named() {
        let dir = std::env::temp_dir().join(format!("assertion-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("token");
        let first = jwt(serde_json::json!({"sub": "w", "exp": crate::util::now() + 600}));
        std::fs::write(&path, format!("{first}\n")).unwrap();
        let file = AssertionFile::new(&path).unwrap();
        assert_eq!(file.read().unwrap(), first, "trimmed");
        // Renewed: another length, so read again even within the same second.
        let second = jwt(serde_json::json!({"sub": "w2", "exp": crate::util::now() + 900}));
        std::fs::write(&path, &second).unwrap();
        assert_eq!(file.read().unwrap(), second);
        assert!(!format!("{file:?}").contains(&second));

        let expired = jwt(serde_json::json!({"sub": "w", "exp": crate::util::now() - 5}));
        std::fs::write(&path, expired).unwrap();
        let e = file.read().unwrap_err();
        assert!(e.contains("expired") && e.contains("token"), "{e}");
        std::fs::write(&path, "not a jwt").unwrap();
        assert!(file.read().unwrap_err().contains("JWT"));
        std::fs::remove_file(&path).unwrap();
        assert!(file.read().unwrap_err().contains("cannot be read"));
        assert!(AssertionFile::new(&path).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
