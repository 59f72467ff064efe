//! The checks at build of a login client's credentials (its authentication method is
//! [`crate::client::ClientAuth`]) and of the ID-token algorithms keyed with its secret.

use crate::Algorithm;
use crate::client::ClientAuth;

/// A field of the login provider and what is wrong with it.
type Problem = (&'static str, String);

/// A secret, if given, is not empty; a method that sends one has one (32 bytes or more
/// for `client_secret_jwt`'s HS256, RFC 7518 §3.2); `private_key_jwt` has a key.
pub(super) fn check_client_secret(
    secret: Option<&str>,
    auth: Option<ClientAuth>,
    has_key: bool,
) -> Result<(), Problem> {
    if secret == Some("") {
        return Err((
            "client_secret",
            "is empty (leave it out for a public client)".into(),
        ));
    }
    match auth {
        Some(ClientAuth::SecretBasic | ClientAuth::SecretPost | ClientAuth::SecretJwt)
            if secret.is_none() =>
        {
            Err(("client_auth", "needs a client_secret".into()))
        }
        Some(ClientAuth::SecretJwt) if secret.is_some_and(|s| s.len() < 32) => Err((
            "client_secret",
            "is shorter than 32 bytes, too short to key client_secret_jwt's HS256 \
             assertions (RFC 7518 §3.2)"
                .into(),
        )),
        Some(ClientAuth::PrivateKeyJwt) if !has_key => {
            Err(("client_auth", "private_key_jwt needs a client_key".into()))
        }
        _ => Ok(()),
    }
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
