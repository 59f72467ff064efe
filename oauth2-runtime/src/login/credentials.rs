//! A login client's credentials: how it authenticates at the token endpoint, and the
//! checks at build of its secret and of the ID-token algorithms keyed with that secret.

use crate::Algorithm;

/// A field of the login provider and what is wrong with it.
type Problem = (&'static str, String);

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    SecretBasic,
    /// `client_id` and `client_secret` in the form body.
    SecretPost,
    /// A public client: `client_id` only, PKCE protects the code.
    None,
}

/// A secret, if given, is not empty; a method that sends one has one.
pub(super) fn check_client_secret(
    secret: Option<&str>,
    auth: Option<ClientAuth>,
) -> Result<(), Problem> {
    if secret == Some("") {
        return Err((
            "client_secret",
            "is empty (leave it out for a public client)".into(),
        ));
    }
    if secret.is_none() && matches!(auth, Some(ClientAuth::SecretBasic | ClientAuth::SecretPost)) {
        return Err(("client_auth", "needs a client_secret".into()));
    }
    Ok(())
}

/// The ID-token algorithms: not empty; a symmetric one needs a client secret as long as
/// its hash (RFC 7518 §3.2: a key of at least the hash's size).
pub(super) fn check_id_token_algorithms(
    algorithms: Option<&[Algorithm]>,
    secret: Option<&str>,
) -> Result<(), Problem> {
    let Some(algorithms) = algorithms else {
        return Ok(());
    };
    if algorithms.is_empty() {
        return Err(("id_token_algorithms", "is empty".into()));
    }
    for alg in algorithms.iter().filter(|a| a.is_hmac()) {
        let needed = match alg {
            Algorithm::HS384 => 48,
            Algorithm::HS512 => 64,
            _ => 32,
        };
        match secret {
            None => {
                return Err((
                    "id_token_algorithms",
                    format!(
                        "contains {alg}, which is keyed with the client secret, but this is \
                         a public client (no client_secret)"
                    ),
                ));
            }
            Some(s) if s.len() < needed => {
                return Err((
                    "client_secret",
                    format!(
                        "is {} bytes, but {alg} ID tokens need a secret of at least {needed} \
                         bytes (RFC 7518 §3.2)",
                        s.len()
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}
