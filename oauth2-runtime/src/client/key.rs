//! [`ClientKey`]: a private key the client signs its assertions with
//! (`private_key_jwt`, RFC 7523 §2.2, OpenID Connect Core §9).

use std::fmt;

use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};

use crate::Algorithm;
use serde_json::Value;

/// Why a client's configuration cannot be used (a [`ClientKey`], an
/// [`AssertionFile`](super::AssertionFile), [`ClientCredentials`](super::ClientCredentials)
/// that do not fit together, a [`TokenClient`](super::TokenClient) without an endpoint):
/// the message says which setting and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ClientConfigError(pub(crate) String);

/// A private key that signs the client's `private_key_jwt` assertions: P-256 or P-384
/// (`ES256`, `ES384`), RSA (`RS256` by default, or `PS256` and the others with
/// [`with_algorithm`](Self::with_algorithm)) or Ed25519 (`EdDSA`), from a PKCS #8 PEM
/// (`-----BEGIN PRIVATE KEY-----`; RSA also as PKCS #1). Its `kid` is the RFC 7638
/// thumbprint of its public key unless [`with_kid`](Self::with_kid) sets one: register
/// [`public_jwk`](Self::public_jwk) at the provider.
///
/// ```
/// # fn main() -> Result<(), oauth2::client::ClientConfigError> {
/// // A key made for this example with
/// // `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`; read yours from a
/// // file or a secret store.
/// let pem = "\
/// -----BEGIN PRIVATE KEY-----\n\
/// MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglXb57tRdXrpxaUqb\n\
/// /tB3f6MrESHvhd5fAQC0QYR+OR6hRANCAARZdWBEB8T5AFci2/OKx00Ty8TA33VE\n\
/// 2XFc8isoKOXnfdEGoxAacAQNC15jR1S3EjTVMBy+pIh23d69Terg+CY+\n\
/// -----END PRIVATE KEY-----";
/// let key = oauth2::client::ClientKey::from_pem(pem)?;
/// assert_eq!(key.algorithm(), oauth2::Algorithm::ES256);
/// let jwk = key.public_jwk();
/// assert_eq!(jwk["kid"], key.kid());
/// assert!(jwk.get("d").is_none(), "the public half only");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ClientKey {
    key: EncodingKey,
    alg: Algorithm,
    kid: String,
    /// The RFC 7638 thumbprint of the public key.
    thumbprint: String,
    /// The public JWK, without `kid` and `alg`.
    public: Jwk,
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("ClientKey")
            .field("alg", &self.alg)
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn error(problem: impl std::fmt::Display) -> ClientConfigError {
    ClientConfigError(format!("client key {problem}"))
}

impl ClientKey {
    /// The key of a PEM private key; its algorithm is the usual one for its type
    /// (`ES256` for P-256, `ES384` for P-384, `RS256` for RSA, `EdDSA` for Ed25519).
    pub fn from_pem(pem: &str) -> Result<Self, ClientConfigError> {
        crate::util::crypto_backend();
        let bytes = pem.as_bytes();
        let candidates = [
            (EncodingKey::from_ec_pem(bytes), Algorithm::ES256),
            (EncodingKey::from_ec_pem(bytes), Algorithm::ES384),
            (EncodingKey::from_ed_pem(bytes), Algorithm::EdDSA),
            (EncodingKey::from_rsa_pem(bytes), Algorithm::RS256),
        ];
        for (key, alg) in candidates {
            if let Ok(key) = key
                && let Ok(found) = Self::new(key, alg)
            {
                return Ok(found);
            }
        }
        Err(error(
            "is not a PEM private key of P-256, P-384, RSA or Ed25519 (PKCS #8 \
             `-----BEGIN PRIVATE KEY-----`, or PKCS #1 for RSA)",
        ))
    }

    /// The key of a private JWK (`kty` `RSA` with all its CRT members, `EC` on P-256 or
    /// P-384, `OKP` Ed25519), as a JSON string or value: its `alg` when it has one,
    /// else the usual one for its type; its `kid` when it has one, else the RFC 7638
    /// thumbprint. Entra ID, Okta and Auth0 hand out keys in this form.
    pub fn from_jwk(jwk: impl AsRef<str>) -> Result<Self, ClientConfigError> {
        let value: Value = serde_json::from_str(jwk.as_ref())
            .map_err(|e| error(format!("is not a JSON JWK: {e}")))?;
        crate::util::crypto_backend();
        let (key, alg) = super::private_jwk::encoding_key(&value).map_err(error)?;
        let alg = alg.unwrap_or(Algorithm::RS256);
        let found = Self::new(key, alg)?;
        Ok(match value.get("kid").and_then(Value::as_str) {
            Some(kid) => found.with_kid(kid),
            None => found,
        })
    }

    /// The key with its public half and thumbprint; fails when it cannot sign for `alg`.
    fn new(key: EncodingKey, alg: Algorithm) -> Result<Self, ClientConfigError> {
        let public = Jwk::from_encoding_key(&key, alg.jwt())
            .map_err(|e| error(format!("has no public key for {alg}: {e}")))?;
        let kid = public
            .thumbprint(ThumbprintHash::SHA256)
            .map_err(|e| error(format!("has no RFC 7638 thumbprint: {e}")))?;
        let mut public = public;
        public.common.key_algorithm = None;
        let found = Self {
            key,
            alg,
            thumbprint: kid.clone(),
            kid,
            public,
        };
        found.check()?;
        Ok(found)
    }

    /// Signs a probe and verifies it with the public half: a key of another curve, or
    /// one that cannot sign for its algorithm, fails here rather than at the provider.
    fn check(&self) -> Result<(), ClientConfigError> {
        let alg = self.alg;
        let probe = jsonwebtoken::encode(
            &Header::new(alg.jwt()),
            &serde_json::json!({"probe": true}),
            &self.key,
        )
        .map_err(|e| error(format!("cannot sign {alg}: {e}")))?;
        let decoding = DecodingKey::from_jwk(&self.public)
            .map_err(|e| error(format!("has an unusable public key: {e}")))?;
        let mut validation = Validation::new(alg.jwt());
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        jsonwebtoken::decode::<Value>(&probe, &decoding, &validation)
            .map(|_| ())
            .map_err(|_| error(format!("does not sign {alg} its public key verifies")))
    }

    /// The same key signing with `alg` (`PS256` for an RSA key, as FAPI 2.0 asks);
    /// fails when the key's type cannot (an RSA key cannot sign `ES256`).
    pub fn with_algorithm(self, alg: Algorithm) -> Result<Self, ClientConfigError> {
        let kid = self.kid.clone();
        let mut key = Self::new(self.key, alg)?;
        key.kid = kid;
        Ok(key)
    }

    /// The same key with the `kid` the provider registered it under.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = kid.into();
        self
    }

    /// The algorithm its assertions are signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The `kid` its assertions carry.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The public JWK to register at the provider (`jwks: {"keys": [...]}`), with its
    /// `kid`, `alg` and `use: sig`.
    pub fn public_jwk(&self) -> Value {
        let mut jwk = serde_json::to_value(&self.public).unwrap_or(Value::Null);
        if let Value::Object(map) = &mut jwk {
            map.insert("kid".into(), Value::String(self.kid.clone()));
            map.insert("alg".into(), Value::String(self.alg.name().into()));
            map.insert("use".into(), Value::String("sig".into()));
        }
        jwk
    }

    /// The RFC 7638 thumbprint (SHA-256) of its public key: its `kid` unless
    /// [`with_kid`](Self::with_kid) gave another, and the `jkt` of tokens bound to it
    /// when it signs DPoP proofs.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }

    /// `claims` signed with this key, its `kid` in the header.
    pub(crate) fn sign(&self, claims: &Value) -> Result<String, ClientConfigError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = Some(self.kid.clone());
        self.sign_with(header, claims)
    }

    /// `claims` signed with this key under `header` (whose `alg` is the key's).
    pub(crate) fn sign_with(
        &self,
        header: Header,
        claims: &Value,
    ) -> Result<String, ClientConfigError> {
        crate::util::crypto_backend();
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| error(format!("could not sign: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Keys made for these tests with `openssl genpkey`.
    const P256: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglXb57tRdXrpxaUqb\n/tB3f6MrESHvhd5fAQC0QYR+OR6hRANCAARZdWBEB8T5AFci2/OKx00Ty8TA33VE\n2XFc8isoKOXnfdEGoxAacAQNC15jR1S3EjTVMBy+pIh23d69Terg+CY+\n-----END PRIVATE KEY-----";
    const P384: &str = "-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCIorwqACpYD7vGjqO/\nGmpbY68E6FpR9aBBkeXkLPk8w63yO9c8hCt6d19KGGAH2kWhZANiAAT/F6DQUGv6\nQYUYvnaRFm0Dlp0FyHOu77Kt6Bdh/94PbXlLPmjmEyU+mNjeus4Rq17av+QV/hcN\nYwte6WXTgTh5zJ0eg1RwnmidWSLMCntnCePBa+PY/n0L+LAhCtN4+w8=\n-----END PRIVATE KEY-----";
    const RSA: &str = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCsmlM+xGBOYzUz\nAsF4YXERBqeO5GCFdkQX4jtYtpDXaPf6T1m5LQub1fdEVnpIMCtSTMnfOr1+8jlw\nh+CMj5SFo2JpHjflab2uqrjgEPmXcF5dx/tArugpLoTQxy9kp1wn1KScAg4Xo2Se\nK2FFiYuKiRxwk/LS9RIHUEkSCifxKcMnKy5SapeCWqMRdSy5Y415fEBF1tz8/9d5\nb3S3Qdztn1lpFbC7r9cdSM9q3euDxmjKxGXd/8KDQob0cPMak5+MKHzF8feu6zot\n/9N9Ad9R6iVHSz/q3BTXGGr6GvtdQpcgkOcWO1etzigR5J9vUxdHBKKgHXuFPoVb\nUwvWMvVjAgMBAAECggEARQxZt/bkVgd/DUCReCB3FGoWluXKrSlyNSHGPweN6vat\nmT+sM5WPGtDeYcK8mWtXsU1RxtEfZIzvKJLa5DA+KLYDVO0HTGngPWNDoTN5Pblw\nrtClNSujaXIYJNNCJOCEz9RT46s4ywEM6++Lsr9DCPEv5ONy1SzAARf/m01fzCwR\njuLvy5gTPbYZzJba7ggBIyqoN5voLJVFy3kOUfO1s/A1tbiGFSkM6kkUjTJmy/9F\n59BB9tZ82ox3/ibNDu83eVrjR9fl4MgXpEiy74DHM9Kh9fNOx4yvGMoCAOG6tSAb\nr7exr7P0lGmyCh/ew/Lx69xCaHmQP0YgRRR83iExaQKBgQDj8ldncU3eQZ24AoFX\n3f8GlRhOB4p39trWWEDEEk+KE8O8aqwInDsovq0zNdGWalNpVR/N7MsXYlB5H4Am\nLepLnHCSIhSRVTuM8WhSb4BjhgVC5jurLAO9exvMwoeBm9+7LiNzjsF7bUATiX0K\nE3kitaq0XH0SuPNbJC/l30732QKBgQDB2FQXClvMgXBa2ZfPmFX4qUS/+mejvcVU\nFM6wEXG223XIdMU9V3pnAe2tYVXb458z3VcL2HVJsY3ewtCdX8Mn4h9satut2VKi\n/rYGlHVdJlHPH2+lgzG9CXnascVxxP21+sM/bA+WA0K/bq5WffTlk4qpnh59rRFt\nWpbuVwftmwKBgGTD3YV53e1RXlJYsSrRlQoo4Jyl0r1jX6v/SWojmgu03wMsuK35\numExoUkREnyGtibLHYsfkUveByr0FOdLxtXz6wN+k08HuZJ9qRs/9SaJuUuwkVIC\n3AhoIorqt5JBAK8zHzLXOYrBaeD5F1Bb+WGxoyul8xhSsClrHs1kYPlJAoGBALWd\nUxvLLrrqQzQ7TcrINTQmky0zFMsKz8i5PfUkQuBJuY64KNwSC7Ja0i5xVZoRJ2XW\naOnGQg1rdzpQWFg6EoRZjYtsiqnVRWFFN5Huog9GCbv+/gGaa41rRWmqyQyQvgw0\nB55yRiAMqgrlTh3nIP2/QFkute6VqhBEochobhslAoGASieq12RGkrgq09uaXCMv\nkGZM6yXqlDoWhoMoqtNOezvN+Ut1bYwVZI6yNo5lq+Oz1Wn/BSOvtQGcPNtzR8bG\nIKCbfj95vmAdI4CSzHWYsl7Gr2zsfogNUy+QYYqnB9ii/A3CihFaP0ONfFIYPyJa\nHuMqqJwbSF5bgXXXzy+/ET8=\n-----END PRIVATE KEY-----";
    const ED: &str = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINP+6aFwDirZ6kgG2AtRv6exc1qAWFuxOYmfqeda9i1n\n-----END PRIVATE KEY-----";

    #[test]
    fn each_key_type_signs_with_its_usual_algorithm_and_a_thumbprint_kid() {
        for (pem, alg) in [
            (P256, Algorithm::ES256),
            (P384, Algorithm::ES384),
            (RSA, Algorithm::RS256),
            (ED, Algorithm::EdDSA),
        ] {
            let key = ClientKey::from_pem(pem).unwrap();
            assert_eq!(key.algorithm(), alg);
            // RFC 7638: the thumbprint of the public JWK is the kid.
            let jwk: Jwk = serde_json::from_value(key.public_jwk()).unwrap();
            assert_eq!(jwk.thumbprint(ThumbprintHash::SHA256).unwrap(), key.kid());
            let token = key.sign(&serde_json::json!({"iss": "c"})).unwrap();
            let header = jsonwebtoken::decode_header(&token).unwrap();
            assert_eq!(header.kid.as_deref(), Some(key.kid()));
            assert_eq!(header.alg, alg.jwt());
        }
    }

    #[test]
    fn an_rsa_key_signs_ps256_on_request_but_no_key_signs_for_another_type() {
        let key = ClientKey::from_pem(RSA).unwrap();
        let kid = key.kid().to_owned();
        let ps = key.clone().with_algorithm(Algorithm::PS256).unwrap();
        assert_eq!((ps.algorithm(), ps.kid()), (Algorithm::PS256, kid.as_str()));
        let e = key.with_algorithm(Algorithm::ES256).unwrap_err();
        assert!(e.to_string().contains("ES256"), "{e}");
        let e = ClientKey::from_pem(P256)
            .unwrap()
            .with_algorithm(Algorithm::RS256)
            .unwrap_err();
        assert!(e.to_string().contains("RS256"), "{e}");
        let e = ClientKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
            .unwrap_err();
        assert!(e.to_string().contains("PEM"), "{e}");
        assert!(!format!("{:?}", ClientKey::from_pem(P256).unwrap()).contains("key:"));
    }

    // The same keys as private JWKs (as Node's `crypto` exports them).
    const P256_JWK: &str = r#"{"kty":"EC","x":"WXVgRAfE-QBXItvzisdNE8vEwN91RNlxXPIrKCjl530","y":"0QajEBpwBA0LXmNHVLcSNNUwHL6kiHbd3r1N6uD4Jj4","crv":"P-256","d":"lXb57tRdXrpxaUqb_tB3f6MrESHvhd5fAQC0QYR-OR4"}"#;
    const P384_JWK: &str = r#"{"kty":"EC","x":"_xeg0FBr-kGFGL52kRZtA5adBchzru-yregXYf_eD215Sz5o5hMlPpjY3rrOEate","y":"2r_kFf4XDWMLXull04E4ecydHoNUcJ5onVkizAp7ZwnjwWvj2P59C_iwIQrTePsP","crv":"P-384","d":"iKK8KgAqWA-7xo6jvxpqW2OvBOhaUfWgQZHl5Cz5PMOt8jvXPIQrendfShhgB9pF"}"#;
    const RSA_JWK: &str = r#"{"kty":"RSA","n":"rJpTPsRgTmM1MwLBeGFxEQanjuRghXZEF-I7WLaQ12j3-k9ZuS0Lm9X3RFZ6SDArUkzJ3zq9fvI5cIfgjI-UhaNiaR435Wm9rqq44BD5l3BeXcf7QK7oKS6E0McvZKdcJ9SknAIOF6NknithRYmLiokccJPy0vUSB1BJEgon8SnDJysuUmqXglqjEXUsuWONeXxARdbc_P_XeW90t0Hc7Z9ZaRWwu6_XHUjPat3rg8ZoysRl3f_Cg0KG9HDzGpOfjCh8xfH3rus6Lf_TfQHfUeolR0s_6twU1xhq-hr7XUKXIJDnFjtXrc4oEeSfb1MXRwSioB17hT6FW1ML1jL1Yw","e":"AQAB","d":"RQxZt_bkVgd_DUCReCB3FGoWluXKrSlyNSHGPweN6vatmT-sM5WPGtDeYcK8mWtXsU1RxtEfZIzvKJLa5DA-KLYDVO0HTGngPWNDoTN5PblwrtClNSujaXIYJNNCJOCEz9RT46s4ywEM6--Lsr9DCPEv5ONy1SzAARf_m01fzCwRjuLvy5gTPbYZzJba7ggBIyqoN5voLJVFy3kOUfO1s_A1tbiGFSkM6kkUjTJmy_9F59BB9tZ82ox3_ibNDu83eVrjR9fl4MgXpEiy74DHM9Kh9fNOx4yvGMoCAOG6tSAbr7exr7P0lGmyCh_ew_Lx69xCaHmQP0YgRRR83iExaQ","p":"4_JXZ3FN3kGduAKBV93_BpUYTgeKd_ba1lhAxBJPihPDvGqsCJw7KL6tMzXRlmpTaVUfzezLF2JQeR-AJi3qS5xwkiIUkVU7jPFoUm-AY4YFQuY7qywDvXsbzMKHgZvfuy4jc47Be21AE4l9ChN5IrWqtFx9ErjzWyQv5d9O99k","q":"wdhUFwpbzIFwWtmXz5hV-KlEv_pno73FVBTOsBFxttt1yHTFPVd6ZwHtrWFV2-OfM91XC9h1SbGN3sLQnV_DJ-IfbGrbrdlSov62BpR1XSZRzx9vpYMxvQl52rHFccT9tfrDP2wPlgNCv26uVn305ZOKqZ4efa0RbVqW7lcH7Zs","dp":"ZMPdhXnd7VFeUlixKtGVCijgnKXSvWNfq_9JaiOaC7TfAyy4rfm6YTGhSRESfIa2Jssdix-RS94HKvQU50vG1fPrA36TTwe5kn2pGz_1Jom5S7CRUgLcCGgiiuq3kkEArzMfMtc5isFp4PkXUFv5YbGjK6XzGFKwKWsezWRg-Uk","dq":"tZ1TG8suuupDNDtNysg1NCaTLTMUywrPyLk99SRC4Em5jrgo3BILslrSLnFVmhEnZdZo6cZCDWt3OlBYWDoShFmNi2yKqdVFYUU3ke6iD0YJu_7-AZprjWtFaarJDJC-DDQHnnJGIAyqCuVOHecg_b9AWS617pWqEEShyGhuGyU","qi":"Sieq12RGkrgq09uaXCMvkGZM6yXqlDoWhoMoqtNOezvN-Ut1bYwVZI6yNo5lq-Oz1Wn_BSOvtQGcPNtzR8bGIKCbfj95vmAdI4CSzHWYsl7Gr2zsfogNUy-QYYqnB9ii_A3CihFaP0ONfFIYPyJaHuMqqJwbSF5bgXXXzy-_ET8"}"#;
    const ED_JWK: &str = r#"{"crv":"Ed25519","d":"0_7poXAOKtnqSAbYC1G_p7FzWoBYW7E5iZ-p51r2LWc","x":"5ezWLOM7fh4aqWmY6XRvOI2CS_zwzOaEA-Sqg0toqr4","kty":"OKP"}"#;

    #[test]
    fn a_private_jwk_is_the_same_key_as_its_pem() {
        for (jwk, pem) in [
            (P256_JWK, P256),
            (P384_JWK, P384),
            (RSA_JWK, RSA),
            (ED_JWK, ED),
        ] {
            let from_jwk = ClientKey::from_jwk(jwk).unwrap();
            let from_pem = ClientKey::from_pem(pem).unwrap();
            assert_eq!(from_jwk.algorithm(), from_pem.algorithm());
            assert_eq!(from_jwk.kid(), from_pem.kid(), "the same thumbprint");
            assert_eq!(from_jwk.public_jwk(), from_pem.public_jwk());
        }
        // `alg` and `kid` of the JWK are kept.
        let mut rsa: Value = serde_json::from_str(RSA_JWK).unwrap();
        rsa["alg"] = "PS256".into();
        rsa["kid"] = "2026-12".into();
        let key = ClientKey::from_jwk(rsa.to_string()).unwrap();
        assert_eq!((key.algorithm(), key.kid()), (Algorithm::PS256, "2026-12"));
        // A public key, another type, a missing member: each says what is wrong.
        let mut public: Value = serde_json::from_str(P256_JWK).unwrap();
        public.as_object_mut().unwrap().remove("d");
        let e = ClientKey::from_jwk(public.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("public key"), "{e}");
        let e = ClientKey::from_jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`oct`"), "{e}");
        let mut partial: Value = serde_json::from_str(RSA_JWK).unwrap();
        partial.as_object_mut().unwrap().remove("qi");
        let e = ClientKey::from_jwk(partial.to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("`qi`"), "{e}");
        // A `d` that is not this key's private half fails the probe.
        let mut mixed: Value = serde_json::from_str(P256_JWK).unwrap();
        let other: Value =
            serde_json::from_str(r#"{"d":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"}"#).unwrap();
        mixed["d"] = other["d"].clone();
        assert!(ClientKey::from_jwk(mixed.to_string()).is_err());
    }
}
