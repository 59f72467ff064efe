//! `fapi2()`: a login provider that meets the FAPI 2.0 Security Profile's client
//! requirements. The rules between keys (`private_key_jwt`, a DPoP key, the issuer as
//! assertion audience, pushed authorization, an issuer) are in the table shared with
//! `providers!` (`oauth2_syntax::PROVIDER_RULES`); this file turns on what the profile
//! asks and checks what that table cannot see (algorithms).

use super::{LoginProviderBuilder, Problem, PushedAuthorization};
use crate::Algorithm;

/// The JWS algorithms FAPI 2.0 allows (its "Cryptography and secrets": PS256, ES256,
/// EdDSA with Ed25519).
pub(super) const ALGORITHMS: [Algorithm; 3] =
    [Algorithm::PS256, Algorithm::ES256, Algorithm::EdDSA];

impl LoginProviderBuilder {
    /// Turns on what FAPI 2.0 asks of a client and refuses what it forbids: pushed
    /// authorization requests (required), `private_key_jwt` with an RSA key signing
    /// PS256 (never RS256) or an EC or Ed25519 key, assertions whose audience is the
    /// issuer, DPoP-bound tokens (a `dpop_key`; the provider must take ES256 proofs),
    /// ID tokens signed PS256, ES256 or EdDSA only, and the RFC 9207 `iss` in every
    /// authorization response. PKCE (S256), `state` and `nonce` are on for every login
    /// anyway. A configuration that cannot meet the profile fails at build (and in
    /// `providers!` at compile time), naming the setting.
    pub fn fapi2(mut self) -> Self {
        self.fapi2 = true;
        self
    }

    /// Applies `fapi2()` before the other checks: what it turns on, and the algorithm
    /// checks.
    pub(super) fn apply_fapi2(&mut self) -> Result<(), Problem> {
        if !self.fapi2 {
            return Ok(());
        }
        if self.par == PushedAuthorization::Auto {
            self.par = PushedAuthorization::Required;
        }
        if let Some(pem) = self.client_key_pem.take() {
            let key = crate::client::ClientKey::from_pem(&pem)
                .map_err(|e| ("client_key", e.to_string()))?;
            self.client_key = Some(key);
        }
        if let Some(key) = self.client_key.take() {
            // An RSA key signs PS256 (RS256, its default, is not allowed).
            let key = if key.algorithm() == Algorithm::RS256 {
                key.with_algorithm(Algorithm::PS256)
                    .map_err(|e| ("client_key", e.to_string()))?
            } else {
                key
            };
            if !ALGORITHMS.contains(&key.algorithm()) {
                return Err((
                    "client_key",
                    format!(
                        "signs {}, which FAPI 2.0 does not allow (only PS256, ES256, EdDSA)",
                        key.algorithm()
                    ),
                ));
            }
            self.client_key = Some(key);
        }
        match &self.id_token_algorithms {
            None => self.id_token_algorithms = Some(ALGORITHMS.to_vec()),
            Some(algorithms) => {
                if let Some(bad) = algorithms.iter().find(|a| !ALGORITHMS.contains(a)) {
                    return Err((
                        "id_token_algorithms",
                        format!(
                            "contains {bad}, which FAPI 2.0 does not allow (only PS256, ES256, EdDSA)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::client::{AssertionAudience, ClientAuth};
    use crate::login::LoginProvider;

    // A P-256 key and an RSA key (`openssl genpkey`), as in `client::key`'s tests.
    pub(in crate::login::provider) const P256: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglXb57tRdXrpxaUqb\n/tB3f6MrESHvhd5fAQC0QYR+OR6hRANCAARZdWBEB8T5AFci2/OKx00Ty8TA33VE\n2XFc8isoKOXnfdEGoxAacAQNC15jR1S3EjTVMBy+pIh23d69Terg+CY+\n-----END PRIVATE KEY-----";

    /// A provider that meets the profile.
    pub(in crate::login::provider) fn fapi() -> LoginProviderBuilder {
        LoginProvider::builder("bank")
            .issuer("https://as.bank.example")
            .client_id("tpp")
            .client_key_pem(P256)
            .dpop_key(P256)
            .fapi2()
    }

    /// The field the build blames, and its message.
    fn refused(b: LoginProviderBuilder) -> (&'static str, String) {
        let e = b.build().unwrap_err();
        (e.field().unwrap(), e.to_string())
    }

    #[test]
    fn fapi2_turns_on_par_and_the_allowed_algorithms() {
        let p = fapi().build().unwrap();
        assert!(p.inner.fapi2);
        assert_eq!(p.inner.par, PushedAuthorization::Required);
        assert_eq!(
            p.inner.id_token_algorithms.as_deref(),
            Some(&ALGORITHMS[..])
        );
    }

    #[test]
    fn fapi2_refuses_each_thing_the_profile_forbids() {
        let secret_only = LoginProvider::builder("bank")
            .issuer("https://as.bank.example")
            .client_id("tpp")
            .client_secret("a client secret that is long enough to key HS256")
            .dpop_key(P256)
            .fapi2();
        let cases = [
            (secret_only, "fapi2", "client_key"),
            (
                fapi().client_auth(ClientAuth::SecretBasic),
                "client_auth",
                "private_key_jwt",
            ),
            (
                LoginProvider::builder("bank")
                    .issuer("https://as.bank.example")
                    .client_id("tpp")
                    .client_key_pem(P256)
                    .fapi2(),
                "fapi2",
                "dpop_key",
            ),
            (
                fapi().assertion_audience(AssertionAudience::Endpoint),
                "assertion_audience",
                "issuer",
            ),
            (
                fapi().id_token_algorithms([Algorithm::RS256]),
                "id_token_algorithms",
                "RS256",
            ),
            (
                fapi().pushed_authorization(PushedAuthorization::Never),
                "pushed_authorization",
                "pushes",
            ),
        ];
        for (builder, field, says) in cases {
            let (blamed, message) = refused(builder);
            assert_eq!(blamed, field, "{message}");
            assert!(message.contains(says), "{message}");
            assert!(message.contains("FAPI 2.0"), "{message}");
        }
    }
}
