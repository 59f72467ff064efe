//! The broker's signing keys, in the store so that every instance on it signs with the
//! same key: one key per generation of `rotate_every`, decided by the store.
//!
//! Generation `n` is the time divided by `rotate_every`. Tokens are signed with the key
//! of `n`; the JWKS publishes the keys of `n - 1` (tokens it signed are still alive),
//! `n` and `n + 1` (made ahead, so that verifiers already hold it when it starts
//! signing). Whoever first needs a generation's key makes one and offers it with
//! `save_new`; if another instance was first, its key is read back instead, so two
//! instances never sign with two keys of one generation, even when they start at the
//! same moment on an empty store. Private keys are stored sealed with the app's secret.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::seal::Sealer;
use super::signing_key::SigningKey;
use crate::session::{SessionStore, StoreError};
use crate::util::now;

/// A generation's key as the store holds it.
#[derive(Serialize, Deserialize)]
struct Stored {
    kid: String,
    alg: String,
    /// The PKCS#8 private key, sealed under the `kid`.
    key: String,
}

/// The keys of the generations around the current one, as last loaded.
struct Loaded {
    generation: u64,
    /// Generations `n - 1` (when it had one), `n`, `n + 1`.
    keys: Vec<Arc<SigningKey>>,
    current: Arc<SigningKey>,
}

/// Why the keys could not be had.
#[derive(Debug, thiserror::Error)]
pub(crate) enum KeyRingError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store's keys rotate with another period than this configuration's: the
    /// instances on one store would publish different key sets.
    #[error(
        "the broker keys in the store rotate every {stored} s, this configuration's every \
         {ours} s: every instance on one store must set the same `rotate_every` (to change \
         it, change it on every instance and delete the store key `{key}`)"
    )]
    Period {
        /// The period the store's record names, in seconds.
        stored: String,
        /// This configuration's, in seconds.
        ours: u64,
        /// The record's store key.
        key: String,
    },
    /// A stored key does not open with this secret or is not a key.
    #[error("the broker key of generation {generation} in the store is unusable: {reason}")]
    Unusable {
        /// Its generation.
        generation: u64,
        /// What is wrong.
        reason: String,
    },
}

/// The broker's keys over one store.
pub(crate) struct KeyRing {
    store: Arc<dyn SessionStore>,
    sealer: Sealer,
    alg: Algorithm,
    rotate_every: Duration,
    /// Store keys: `{prefix}{generation}`.
    prefix: String,
    loaded: Mutex<Option<Loaded>>,
}

impl KeyRing {
    /// The ring of the broker `issuer` in `store`, sealing with `secret`.
    pub(crate) fn new(
        store: Arc<dyn SessionStore>,
        secret: &[u8],
        issuer: &str,
        alg: Algorithm,
        rotate_every: Duration,
    ) -> Self {
        let id = URL_SAFE_NO_PAD.encode(<sha2::Sha256 as sha2::Digest>::digest(issuer));
        Self {
            store,
            sealer: Sealer::new(secret),
            alg,
            rotate_every,
            prefix: format!("broker-key:{id}:"),
            loaded: Mutex::new(None),
        }
    }

    fn generation_now(&self) -> u64 {
        now() / self.rotate_every.as_secs().max(1)
    }

    /// The key that signs now.
    pub(crate) async fn current(&self) -> Result<Arc<SigningKey>, KeyRingError> {
        self.with_loaded(|l| Arc::clone(&l.current)).await
    }

    /// The published keys: previous, current and next.
    pub(crate) async fn keys(&self) -> Result<Vec<Arc<SigningKey>>, KeyRingError> {
        self.with_loaded(|l| l.keys.clone()).await
    }

    /// The JWKS document of [`keys`](Self::keys): public members only.
    pub(crate) async fn jwks(&self) -> Result<Value, KeyRingError> {
        let keys: Vec<Value> = self.keys().await?.iter().map(|k| k.jwk.clone()).collect();
        Ok(json!({ "keys": keys }))
    }

    async fn with_loaded<T>(&self, f: impl FnOnce(&Loaded) -> T) -> Result<T, KeyRingError> {
        let generation = self.generation_now();
        let mut loaded = self.loaded.lock().await;
        if loaded.as_ref().is_none_or(|l| l.generation != generation) {
            *loaded = Some(self.load(generation).await?);
        }
        Ok(f(loaded.as_ref().expect("loaded above")))
    }

    async fn load(&self, generation: u64) -> Result<Loaded, KeyRingError> {
        self.check_period().await?;
        let mut keys = Vec::with_capacity(3);
        if let Some(n) = generation.checked_sub(1)
            && let Some(previous) = self.read(n).await?
        {
            keys.push(Arc::new(previous));
        }
        let current = Arc::new(self.read_or_make(generation).await?);
        keys.push(Arc::clone(&current));
        keys.push(Arc::new(self.read_or_make(generation + 1).await?));
        Ok(Loaded {
            generation,
            keys,
            current,
        })
    }

    /// How long a generation's key stays in the store: made up to a whole generation
    /// ahead, it signs for one and is published for one more.
    fn keep(&self) -> Duration {
        self.rotate_every * 3 + Duration::from_secs(60)
    }

    /// Generation `n` means a time only with its period: the store records the period
    /// its keys rotate with (renewed with every generation loaded), and a configuration
    /// with another one is refused instead of making a key set of its own.
    async fn check_period(&self) -> Result<(), KeyRingError> {
        let key = format!("{}rotate_every", self.prefix);
        let ours = self.rotate_every.as_secs();
        if self
            .store
            .save_new(&key, &ours.to_string(), self.keep())
            .await?
        {
            return Ok(());
        }
        match self.store.load(&key).await? {
            Some(stored) if stored != ours.to_string() => {
                Err(KeyRingError::Period { stored, ours, key })
            }
            _ => Ok(self
                .store
                .save(&key, &ours.to_string(), self.keep())
                .await?),
        }
    }

    async fn read(&self, generation: u64) -> Result<Option<SigningKey>, KeyRingError> {
        let Some(json) = self
            .store
            .load(&format!("{}{generation}", self.prefix))
            .await?
        else {
            return Ok(None);
        };
        self.open(generation, &json).map(Some)
    }

    async fn read_or_make(&self, generation: u64) -> Result<SigningKey, KeyRingError> {
        if let Some(key) = self.read(generation).await? {
            return Ok(key);
        }
        let unusable = |reason: String| KeyRingError::Unusable { generation, reason };
        let key = SigningKey::generate(self.alg, None).map_err(|e| unusable(e.to_string()))?;
        let pkcs8 = key.to_pkcs8().map_err(|e| unusable(e.to_string()))?;
        let stored = Stored {
            kid: key.kid.clone(),
            alg: format!("{:?}", self.alg),
            key: self.sealer.seal(&key.kid, &pkcs8),
        };
        let json = serde_json::to_string(&stored).map_err(|e| unusable(e.to_string()))?;
        let name = format!("{}{generation}", self.prefix);
        if self.store.save_new(&name, &json, self.keep()).await? {
            return Ok(key);
        }
        // Another instance was first: its key is the generation's.
        self.read(generation)
            .await?
            .ok_or_else(|| unusable("it vanished right after it was made".into()))
    }

    fn open(&self, generation: u64, json: &str) -> Result<SigningKey, KeyRingError> {
        let unusable = |reason: String| KeyRingError::Unusable { generation, reason };
        let stored: Stored = serde_json::from_str(json).map_err(|e| unusable(e.to_string()))?;
        let alg: Algorithm = stored
            .alg
            .parse()
            .map_err(|_| unusable(format!("unknown algorithm `{}`", stored.alg)))?;
        let pkcs8 = self
            .sealer
            .open(&stored.kid, &stored.key)
            .ok_or_else(|| unusable("it does not open with this secret".into()))?;
        let key = SigningKey::from_pkcs8(alg, &pkcs8).map_err(|e| unusable(e.to_string()))?;
        if key.kid != stored.kid {
            return Err(unusable("its kid is not its thumbprint".into()));
        }
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::MemoryStore;

    const SECRET: &[u8] = b"the key ring test's secret, 32 bytes+";

    fn ring(store: &Arc<dyn SessionStore>, rotate: u64) -> KeyRing {
        KeyRing::new(
            Arc::clone(store),
            SECRET,
            "https://app.example/auth",
            Algorithm::ES256,
            Duration::from_secs(rotate),
        )
    }

    #[tokio::test]
    async fn instances_on_one_store_sign_with_one_key_and_publish_the_same_jwks() {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let (a, b) = (ring(&store, 3600), ring(&store, 3600));
        let (ka, kb) = tokio::join!(a.current(), b.current());
        assert_eq!(ka.unwrap().kid, kb.unwrap().kid);
        assert_eq!(a.jwks().await.unwrap(), b.jwks().await.unwrap());
        // A restart (a new ring on the same store) keeps the keys.
        let restarted = ring(&store, 3600);
        assert_eq!(restarted.jwks().await.unwrap(), a.jwks().await.unwrap());
        let jwks = a.jwks().await.unwrap();
        let keys = jwks["keys"].as_array().unwrap();
        assert!(keys.len() >= 2, "current and next: {jwks}");
        for key in keys {
            assert_eq!(key["alg"], "ES256");
            assert_eq!(key["use"], "sig");
            assert!(key.get("d").is_none(), "no private member");
        }
    }

    #[tokio::test]
    async fn a_configuration_with_another_period_is_refused_on_a_shared_store() {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        let hourly = ring(&store, 3600);
        let jwks = hourly.jwks().await.unwrap();
        let e = ring(&store, 7200).current().await.unwrap_err();
        assert!(matches!(e, KeyRingError::Period { ours: 7200, .. }), "{e}");
        assert!(
            e.to_string()
                .contains("rotate every 3600 s, this configuration's every 7200 s"),
            "{e}"
        );
        // The agreeing instances are not disturbed.
        assert_eq!(ring(&store, 3600).jwks().await.unwrap(), jwks);
        assert_eq!(hourly.jwks().await.unwrap(), jwks);
    }

    #[tokio::test]
    async fn a_store_of_another_secret_is_refused_not_overwritten() {
        let store: Arc<dyn SessionStore> = Arc::new(MemoryStore::new());
        ring(&store, 3600).current().await.unwrap();
        let other = KeyRing::new(
            Arc::clone(&store),
            b"another secret, also 32 bytes or more",
            "https://app.example/auth",
            Algorithm::ES256,
            Duration::from_secs(3600),
        );
        let e = other.current().await.unwrap_err();
        assert!(e.to_string().contains("does not open"), "{e}");
    }
}
