//! The check at build of the ID-token algorithms keyed with the client's secret (the
//! client's credentials are checked by [`crate::client::credentials::check_secret`]).

use crate::Algorithm;

/// A field of the login provider and what is wrong with it.
type Problem = (&'static str, String);

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
