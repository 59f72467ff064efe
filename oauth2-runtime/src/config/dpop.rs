//! [`Dpop`]: whether a provider's access tokens may, or must, be DPoP-bound.

/// Whether a provider's access tokens may, or must, be bound to a key of the client by
/// DPoP (RFC 9449), set with [`ProviderBuilder::dpop`](crate::ProviderBuilder::dpop) or
/// `dpop:` in `providers!`.
///
/// Whatever the mode, a DPoP-bound token (one with `cnf.jkt`) sent as a plain `Bearer`
/// token is refused: whoever holds a stolen copy lacks the key.
///
/// ```
/// use oauth2::{Provider, config::Dpop};
///
/// let provider = Provider::builder("corp")
///     .issuer("https://login.corp.example")
///     .audience("api")
///     .dpop(Dpop::Required)
///     .build()
///     .unwrap();
/// assert_eq!(provider.dpop(), Dpop::Required);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Dpop {
    /// Bearer tokens only: `Authorization: DPoP` is refused.
    #[default]
    Disabled,
    /// Bearer tokens, and DPoP-bound tokens with `Authorization: DPoP` and a proof.
    Allowed,
    /// DPoP-bound tokens with their proofs only; a token without `cnf.jkt` is refused.
    Required,
}
