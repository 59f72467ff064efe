//! How a request authenticates the client: the methods ([`ClientAuth`]), the choice
//! among them, and the fields or header one request carries.

use serde_json::json;

use super::{AssertionFile, ClientKey};

/// The `client_assertion_type` of a JWT assertion (RFC 7523 §2.2).
pub const ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// How long an assertion is good for.
const ASSERTION_LIFETIME: u64 = 60;

/// How the client authenticates at the provider's endpoints (the names of RFC 8414's
/// `token_endpoint_auth_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1): `client_secret_basic`.
    SecretBasic,
    /// `client_id` and `client_secret` in the form body: `client_secret_post`.
    SecretPost,
    /// An HS256 assertion keyed with the client secret: `client_secret_jwt`.
    SecretJwt,
    /// An assertion signed with the client's private key: `private_key_jwt`.
    PrivateKeyJwt,
    /// A public client: `client_id` only, PKCE protects the code (`none`).
    None,
}

impl ClientAuth {
    /// Its name in provider metadata (`client_secret_basic`, `private_key_jwt`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::SecretBasic => "client_secret_basic",
            Self::SecretPost => "client_secret_post",
            Self::SecretJwt => "client_secret_jwt",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::None => "none",
        }
    }

    /// The method named `name` in provider metadata.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::SecretBasic,
            Self::SecretPost,
            Self::SecretJwt,
            Self::PrivateKeyJwt,
            Self::None,
        ]
        .into_iter()
        .find(|m| m.name() == name)
    }
}

/// The method a client's credentials allow that the provider lists (`supported`; absent
/// means `client_secret_basic`, OpenID Connect Discovery §3): a key or an assertion file
/// gives `private_key_jwt` (used even when the list is absent: providers often leave it
/// out); a secret `client_secret_basic`, then `client_secret_post`, then
/// `client_secret_jwt`; neither, `none`.
pub(crate) fn choose(
    has_key: bool,
    has_secret: bool,
    supported: Option<&[String]>,
) -> Result<ClientAuth, String> {
    let wanted: &[ClientAuth] = match (has_key, has_secret) {
        (true, _) => &[ClientAuth::PrivateKeyJwt],
        (false, true) => &[
            ClientAuth::SecretBasic,
            ClientAuth::SecretPost,
            ClientAuth::SecretJwt,
        ],
        (false, false) => return Ok(ClientAuth::None),
    };
    let Some(methods) = supported else {
        return Ok(wanted[0]);
    };
    wanted
        .iter()
        .copied()
        .find(|m| methods.iter().any(|s| s == m.name()))
        .ok_or_else(|| {
            let names: Vec<&str> = wanted.iter().map(|m| m.name()).collect();
            format!(
                "the token endpoint supports none of {} that this client's credentials allow \
                 (only {}); set `client_auth`, or give the credential it needs",
                names.join(", "),
                methods.join(", ")
            )
        })
}

/// The `aud` of the client's assertions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AssertionAudience {
    /// The provider's issuer identifier (rfc7523bis, FAPI 2.0); the default.
    #[default]
    Issuer,
    /// The URL of the endpoint the assertion is sent to (Microsoft Entra ID).
    Endpoint,
}

/// What a client is authenticated with.
#[derive(Clone, Copy)]
pub(crate) struct Credentials<'a> {
    pub(crate) client_id: &'a str,
    pub(crate) secret: Option<&'a str>,
    pub(crate) key: Option<&'a ClientKey>,
    /// An assertion another system issues, read from a file (federated credentials).
    pub(crate) assertion: Option<&'a AssertionFile>,
    pub(crate) issuer: &'a str,
    pub(crate) audience: AssertionAudience,
}

/// How one request carries the client's authentication.
pub(crate) enum Authentication {
    /// An `Authorization` header value.
    Header(String),
    /// Form fields.
    Form(Vec<(&'static str, String)>),
}

impl Credentials<'_> {
    /// The authentication of one request to `endpoint` by `method`: the header or the
    /// form fields, a fresh assertion for the JWT methods.
    pub(crate) fn authenticate(
        &self,
        method: ClientAuth,
        endpoint: &str,
    ) -> Result<Authentication, String> {
        let id = || ("client_id", self.client_id.to_owned());
        let assertion = |token: String| {
            Authentication::Form(vec![
                id(),
                ("client_assertion_type", ASSERTION_TYPE.to_owned()),
                ("client_assertion", token),
            ])
        };
        if let (ClientAuth::PrivateKeyJwt, None, Some(file)) = (method, self.key, self.assertion) {
            return file.read().map(assertion);
        }
        match (method, self.secret, self.key) {
            (ClientAuth::SecretBasic, Some(secret), _) => Ok(Authentication::Header(
                crate::util::basic_auth(self.client_id, secret),
            )),
            (ClientAuth::SecretPost, Some(secret), _) => Ok(Authentication::Form(vec![
                id(),
                ("client_secret", secret.to_owned()),
            ])),
            (ClientAuth::SecretJwt, Some(secret), _) => {
                let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
                let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
                jsonwebtoken::encode(&header, &self.claims(endpoint)?, &key)
                    .map(assertion)
                    .map_err(|e| format!("could not sign the client assertion: {e}"))
            }
            (ClientAuth::PrivateKeyJwt, _, Some(key)) => key
                .sign(&self.claims(endpoint)?)
                .map(assertion)
                .map_err(|e| e.to_string()),
            (ClientAuth::None, _, _) => Ok(Authentication::Form(vec![id()])),
            (method, _, _) => Err(format!(
                "{} needs a {}, and this client has none",
                method.name(),
                if method == ClientAuth::PrivateKeyJwt {
                    "client_key (or client_assertion_file)"
                } else {
                    "client_secret"
                }
            )),
        }
    }

    /// The claims of an assertion for `endpoint` (RFC 7523 §3).
    fn claims(&self, endpoint: &str) -> Result<serde_json::Value, String> {
        let now = crate::util::now();
        let jti = crate::util::random_token().map_err(|e| format!("no randomness: {e}"))?;
        let aud = match self.audience {
            AssertionAudience::Issuer => self.issuer,
            AssertionAudience::Endpoint => endpoint,
        };
        Ok(json!({
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": aud,
            "jti": jti,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(a: Authentication) -> Vec<(&'static str, String)> {
        match a {
            Authentication::Form(f) => f,
            Authentication::Header(h) => panic!("a header: {h}"),
        }
    }

    fn claims_of(fields: &[(&'static str, String)]) -> serde_json::Value {
        let token = &fields
            .iter()
            .find(|(k, _)| *k == "client_assertion")
            .unwrap()
            .1;
        let payload = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn secret_jwt_assertions_name_the_client_and_the_issuer_and_live_a_minute() {
        let secret = "a client secret of thirty-two bytes or more";
        let creds = Credentials {
            client_id: "web",
            secret: Some(secret),
            key: None,
            assertion: None,
            issuer: "https://login.example",
            audience: AssertionAudience::Issuer,
        };
        let fields = form(
            creds
                .authenticate(ClientAuth::SecretJwt, "https://login.example/token")
                .unwrap(),
        );
        assert!(fields.contains(&("client_assertion_type", ASSERTION_TYPE.to_owned())));
        assert!(fields.contains(&("client_id", "web".to_owned())));
        let claims = claims_of(&fields);
        assert_eq!(
            (claims["iss"].as_str(), claims["sub"].as_str()),
            (Some("web"), Some("web"))
        );
        assert_eq!(claims["aud"], "https://login.example");
        assert_eq!(
            claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
            60
        );
        // Each request its own jti; the endpoint as audience when asked.
        let again = claims_of(&form(
            creds.authenticate(ClientAuth::SecretJwt, "x").unwrap(),
        ));
        assert_ne!(claims["jti"], again["jti"]);
        let endpoint = Credentials {
            audience: AssertionAudience::Endpoint,
            ..creds
        };
        let claims = claims_of(&form(
            endpoint
                .authenticate(ClientAuth::SecretJwt, "https://login.example/token")
                .unwrap(),
        ));
        assert_eq!(claims["aud"], "https://login.example/token");
        // Verified with the secret, HS256.
        let token = &fields
            .iter()
            .find(|(k, _)| *k == "client_assertion")
            .unwrap()
            .1;
        let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        v.set_audience(&["https://login.example"]);
        jsonwebtoken::decode::<serde_json::Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(secret.as_bytes()),
            &v,
        )
        .unwrap();
    }

    #[test]
    fn the_method_is_the_first_the_credentials_allow_that_the_provider_lists() {
        let list = |names: &[&str]| names.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(choose(false, true, None), Ok(ClientAuth::SecretBasic));
        assert_eq!(choose(true, true, None), Ok(ClientAuth::PrivateKeyJwt));
        assert_eq!(
            choose(false, false, Some(&list(&["private_key_jwt"]))),
            Ok(ClientAuth::None)
        );
        let only_jwt = list(&["client_secret_jwt", "private_key_jwt"]);
        assert_eq!(
            choose(false, true, Some(&only_jwt)),
            Ok(ClientAuth::SecretJwt)
        );
        assert_eq!(
            choose(true, false, Some(&only_jwt)),
            Ok(ClientAuth::PrivateKeyJwt)
        );
        let e = choose(true, true, Some(&list(&["client_secret_basic"]))).unwrap_err();
        assert!(
            e.contains("private_key_jwt") && e.contains("client_secret_basic"),
            "{e}"
        );
    }

    #[test]
    fn a_method_without_its_credential_says_what_is_missing() {
        let creds = Credentials {
            client_id: "web",
            secret: None,
            key: None,
            assertion: None,
            issuer: "https://login.example",
            audience: AssertionAudience::Issuer,
        };
        let e = creds
            .authenticate(ClientAuth::PrivateKeyJwt, "x")
            .err()
            .unwrap();
        assert!(e.contains("client_key"), "{e}");
        let e = creds
            .authenticate(ClientAuth::SecretBasic, "x")
            .err()
            .unwrap();
        assert!(e.contains("client_secret"), "{e}");
        assert_eq!(
            form(creds.authenticate(ClientAuth::None, "x").unwrap()),
            [("client_id", "web".to_owned())]
        );
        for m in [
            ClientAuth::SecretBasic,
            ClientAuth::SecretPost,
            ClientAuth::SecretJwt,
            ClientAuth::PrivateKeyJwt,
            ClientAuth::None,
        ] {
            assert_eq!(ClientAuth::from_name(m.name()), Some(m));
        }
    }
}
