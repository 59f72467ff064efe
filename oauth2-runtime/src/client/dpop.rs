//! [`DpopKey`]: the client's own DPoP key (RFC 9449), for proofs of its token requests
//! and userinfo calls, and of the app's API calls with a DPoP-bound access token.

use std::fmt;
use std::sync::Mutex;

use jsonwebtoken::Header;
use serde_json::{Value, json};

use super::ClientKey;
use crate::Algorithm;

/// A P-256 key that signs DPoP proofs (ES256), and the last nonce its provider handed
/// out.
pub(crate) struct DpopKey {
    key: ClientKey,
    /// The public JWK, as it goes in each proof's header.
    jwk: Value,
    /// The provider's last `DPoP-Nonce` (RFC 9449 §8): the next proof to its token
    /// endpoint or userinfo carries it, so that it need not be asked for each time.
    provider_nonce: Mutex<Option<String>>,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The private key stays out of logs.
        f.debug_struct("DpopKey")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

impl DpopKey {
    /// The key of a PEM `PRIVATE KEY` (PKCS #8, P-256, as `openssl genpkey -algorithm EC
    /// -pkeyopt ec_paramgen_curve:P-256` writes).
    pub(crate) fn from_pem(pem: &str) -> Result<Self, String> {
        let key = ClientKey::from_pem(pem).map_err(|e| e.to_string())?;
        if key.algorithm() != Algorithm::ES256 {
            return Err(format!(
                "is a key for {}, but DPoP proofs here are ES256: give a P-256 key",
                key.algorithm()
            ));
        }
        Ok(Self::new(key))
    }

    /// Proofs of `key`, whose `kid` is its RFC 7638 thumbprint.
    fn new(key: ClientKey) -> Self {
        let mut jwk = key.public_jwk();
        if let Value::Object(members) = &mut jwk {
            members.retain(|name, _| !matches!(name.as_str(), "kid" | "alg" | "use"));
        }
        Self {
            key,
            jwk,
            provider_nonce: Mutex::new(None),
        }
    }

    /// The nonce the provider handed out last, if any.
    pub(crate) fn provider_nonce(&self) -> Option<String> {
        self.provider_nonce
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Keeps `nonce`, which the provider just handed out, for the next proof.
    pub(crate) fn remember_provider_nonce(&self, nonce: &str) {
        *self
            .provider_nonce
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(nonce.to_owned());
    }

    /// The key's RFC 7638 thumbprint: the authorization request's `dpop_jkt` (RFC 9449
    /// §10), which binds the code to this key.
    #[cfg(feature = "login")]
    pub(crate) fn jkt(&self) -> &str {
        self.key.thumbprint()
    }

    /// A proof for `method` `url` (without its query): a fresh `jti`, `iat` now, `ath`
    /// of `access_token` and the server's `nonce` when given.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &str,
        access_token: Option<&str>,
        nonce: Option<&str>,
    ) -> Result<String, String> {
        let htu = url.split(['?', '#']).next().unwrap_or(url);
        let jti = crate::util::random_token().map_err(|e| e.to_string())?;
        let mut claims = json!({"jti": jti, "htm": method, "htu": htu, "iat": crate::util::now()});
        if let Some(token) = access_token {
            claims["ath"] = json!(crate::util::sha256_base64url(token));
        }
        if let Some(nonce) = nonce {
            claims["nonce"] = json!(nonce);
        }
        let mut header = Header::new(self.key.algorithm().jwt());
        header.typ = Some("dpop+jwt".into());
        header.jwk = Some(serde_json::from_value(self.jwk.clone()).map_err(|e| e.to_string())?);
        self.key
            .sign_with(header, &claims)
            .map_err(|e| e.to_string())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The P-256 test key of the validation tests, as PEM.
    pub(crate) const PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjLPMqFco2v9DkYwO
B09NQLYvdgTSbmXGCpuUo+pZrY6hRANCAATKBXyFjOuR0rJWBDcLGIm5LqoEAgXp
tqc4RFYYL4inEr6uV8cJS6ZlUxGAZaLwT4UzNZmW2pYeCiejP6zAQwER
-----END PRIVATE KEY-----";

    #[test]
    fn a_pem_key_gives_its_public_jwk_and_signs_proofs() {
        let key = DpopKey::from_pem(PEM).unwrap();
        assert_eq!(key.jwk["x"], "ygV8hYzrkdKyVgQ3CxiJuS6qBAIF6banOERWGC-IpxI");
        assert_eq!(key.jwk["y"], "vq5XxwlLpmVTEYBlovBPhTM1mZbalh4KJ6M_rMBDARE");
        // RFC 7638: SHA-256 of {"crv","kty","x","y"} in that order, no whitespace.
        let members = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            key.jwk["x"].as_str().unwrap(),
            key.jwk["y"].as_str().unwrap()
        );
        let digest = <sha2::Sha256 as sha2::Digest>::digest(members.as_bytes());
        assert_eq!(key.key.thumbprint(), URL_SAFE_NO_PAD.encode(digest));
        assert!(!format!("{key:?}").contains("MIGH"));
        let proof = key
            .proof("GET", "https://api.example/x?y=1", Some("at"), Some("n"))
            .unwrap();
        let (_, payload, _) = {
            let mut parts = proof.split('.');
            (parts.next(), parts.next().unwrap(), parts.next())
        };
        let claims: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
        assert_eq!(claims["htu"], "https://api.example/x");
        assert_eq!(claims["nonce"], "n");
        assert_eq!(claims["ath"], crate::util::sha256_base64url("at"));
        for bad in [
            "not a key",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----",
        ] {
            assert!(DpopKey::from_pem(bad).is_err(), "{bad}");
        }
    }

    /// A token endpoint that wants the nonce `n{round}` in each proof, counting its
    /// requests; the test turns `round` to change the nonce.
    async fn nonce_endpoint() -> (url::Url, Arc<AtomicUsize>, Arc<AtomicUsize>) {
        use axum::http::HeaderMap;
        let (requests, round) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(1)));
        let (counted, current) = (Arc::clone(&requests), Arc::clone(&round));
        let app = axum::Router::new().route(
            "/token",
            axum::routing::post(move |headers: HeaderMap| async move {
                counted.fetch_add(1, Ordering::SeqCst);
                let wanted = format!("n{}", current.load(Ordering::SeqCst));
                let proof = headers["dpop"].to_str().unwrap();
                let payload = proof.split('.').nth(1).unwrap();
                let claims: Value =
                    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
                let (status, body) = if claims["nonce"] == wanted.as_str() {
                    (200, r#"{"ok":true}"#)
                } else {
                    (400, r#"{"error":"use_dpop_nonce"}"#)
                };
                let status = axum::http::StatusCode::from_u16(status).unwrap();
                (status, [("dpop-nonce", wanted)], body)
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/token", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (url::Url::parse(&url).unwrap(), requests, round)
    }

    /// The provider's nonce is kept for the next proof: it is asked for once, and
    /// again only when the provider changes it.
    #[tokio::test]
    async fn the_providers_nonce_is_kept_for_the_next_proof() {
        use crate::client::request::{Answer, Post, post_form};
        use crate::client::{ClientAuth, ClientCredentials};
        let (url, requests, round) = nonce_endpoint().await;
        let key = DpopKey::from_pem(PEM).unwrap();
        let http = reqwest::Client::new();
        let client = ClientCredentials::new("app");
        let post = || {
            let post = Post {
                http: &http,
                credentials: client.view("https://login.example"),
                method: ClientAuth::None,
                url: &url,
                timeout: std::time::Duration::from_secs(5),
            };
            post_form(post, &[], Some(&key))
        };
        let count = || requests.load(Ordering::SeqCst);
        assert!(matches!(post().await.unwrap(), Answer::Ok(_)));
        assert_eq!(count(), 2, "asked for the nonce once");
        assert!(matches!(post().await.unwrap(), Answer::Ok(_)));
        assert_eq!(count(), 3, "the kept nonce passes at once");
        round.store(2, Ordering::SeqCst);
        assert!(matches!(post().await.unwrap(), Answer::Ok(_)));
        assert_eq!(count(), 5, "a changed nonce is asked for once");
        assert_eq!(key.provider_nonce().as_deref(), Some("n2"));
    }
}
