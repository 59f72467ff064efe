//! The broker's sessions: one family per login, holding the provider's tokens
//! server-side, and the opaque refresh tokens that rotate within it.
//!
//! Store layout (the broker's store):
//! - `broker-family:{id}`: the family (user claims, scope, the provider's tokens), until
//!   `refresh_ttl` after the login;
//! - `broker-refresh:{hash}`: which family a refresh token belongs to;
//! - `broker-spent:{hash}`: set once, atomically, when the token is used.
//!
//! - `broker-revoked:{id}`: set when the family ends, so that a refresh racing with the
//!   end cannot bring it back.
//!
//! A refresh token is used once (RFC 9700 §4.14.2): the first use marks it spent with
//! `save_new` (one winner across every instance), and any later use of it, replay or
//! race, revokes its whole family, with no grace period.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::broker::{Broker, BrokerError, IssuedToken};
use crate::session::StoreError;
use crate::util::{now, random_token};

/// One login's broker session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Family {
    /// Its id (random).
    #[serde(skip)]
    pub(crate) id: String,
    /// The login provider it came through.
    pub(crate) provider: String,
    /// The user's claims from the provider (the validated ID token's).
    pub(crate) claims: Map<String, Value>,
    /// The scope granted, if the provider named one.
    pub(crate) scope: Option<String>,
    /// The provider's tokens, kept here and never given to clients.
    pub(crate) upstream: Value,
    /// When the login was, seconds since the epoch.
    pub(crate) created: u64,
}

/// What a grant answers: the broker's access token and a new refresh token.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) access: IssuedToken,
    pub(crate) refresh_token: String,
    pub(crate) scope: Option<String>,
}

/// Why a refresh token was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Redeem {
    /// Not a refresh token of this broker, expired, or its family ended.
    #[error("the refresh token is unknown, expired or revoked")]
    Unknown,
    /// Used before: its family is revoked now.
    #[error("the refresh token was already used: every token of its login is revoked")]
    Reused,
    /// The store failed.
    #[error(transparent)]
    Broker(#[from] BrokerError),
}

impl From<StoreError> for Redeem {
    fn from(e: StoreError) -> Self {
        Self::Broker(e.into())
    }
}

fn family_key(id: &str) -> String {
    format!("broker-family:{id}")
}

fn revoked_key(id: &str) -> String {
    format!("broker-revoked:{id}")
}

fn hash(token: &str) -> String {
    crate::util::store_key(token)
}

impl Broker {
    /// How long `family` has left.
    fn remaining(&self, family: &Family) -> Duration {
        let end = family.created.saturating_add(self.refresh_ttl().as_secs());
        Duration::from_secs(end.saturating_sub(now()).max(1))
    }

    /// Opens a family for a login and answers its first grant; the family is filed
    /// under `tags` (the provider's `sid` and `sub`) for back-channel logout.
    pub(crate) async fn open_family(
        &self,
        mut family: Family,
        tags: &[String],
    ) -> Result<Grant, Redeem> {
        family.id = random()?;
        family.created = now();
        let grant = self.save_and_grant(&family).await?;
        self.store()
            .tag(&family_key(&family.id), tags, self.refresh_ttl())
            .await?;
        Ok(grant)
    }

    /// Saves `family` (new, or with the provider's newer tokens) and answers a grant:
    /// a fresh refresh token of the family and an access token. A family revoked
    /// meanwhile stays revoked.
    pub(crate) async fn save_and_grant(&self, family: &Family) -> Result<Grant, Redeem> {
        let store = self.store();
        let ttl = self.remaining(family);
        let json = serde_json::to_string(family)
            .map_err(|e| Redeem::Broker(BrokerError::other(e.to_string())))?;
        store.save(&family_key(&family.id), &json, ttl).await?;
        let refresh_token = random()?;
        store
            .save(
                &format!("broker-refresh:{}", hash(&refresh_token)),
                &family.id,
                ttl,
            )
            .await?;
        let access = self
            .access_token(&family.claims, family.scope.as_deref())
            .await?;
        Ok(Grant {
            access,
            refresh_token,
            scope: family.scope.clone(),
        })
    }

    /// The family of `refresh_token`, which is spent from now on. A token used before
    /// revokes its family.
    pub(crate) async fn redeem(&self, refresh_token: &str) -> Result<Family, Redeem> {
        let store = self.store();
        let h = hash(refresh_token);
        let Some(id) = store.load(&format!("broker-refresh:{h}")).await? else {
            return Err(Redeem::Unknown);
        };
        let first_use = store
            .save_new(&format!("broker-spent:{h}"), "1", self.refresh_ttl())
            .await?;
        if !first_use {
            self.end_family(&id).await?;
            tracing::warn!("a spent broker refresh token was used again: its login is revoked");
            return Err(Redeem::Reused);
        }
        self.family(&id).await?.ok_or(Redeem::Unknown)
    }

    /// The family `id`, unless it ended.
    pub(crate) async fn family(&self, id: &str) -> Result<Option<Family>, BrokerError> {
        let Some(json) = self.store().load(&family_key(id)).await? else {
            return Ok(None);
        };
        let mut family: Family = serde_json::from_str(&json)
            .map_err(|e| BrokerError::other(format!("stored broker session: {e}")))?;
        family.id = id.to_owned();
        Ok(Some(family))
    }

    /// Ends the family of `refresh_token` (RFC 7009); it, if there was one.
    pub(crate) async fn revoke(&self, refresh_token: &str) -> Result<Option<Family>, BrokerError> {
        let store = self.store();
        let Some(id) = store
            .load(&format!("broker-refresh:{}", hash(refresh_token)))
            .await?
        else {
            return Ok(None);
        };
        let family = self.family(&id).await?;
        self.end_family(&id).await?;
        Ok(family)
    }

    /// Ends the family `id`, for good.
    pub(crate) async fn end_family(&self, id: &str) -> Result<(), BrokerError> {
        let store = self.store();
        store
            .save(&revoked_key(id), "1", self.refresh_ttl())
            .await?;
        Ok(store.delete(&family_key(id)).await?)
    }

    /// Ends the families filed under `tag` (back-channel logout).
    pub(crate) async fn end_tagged(&self, tag: &str) -> Result<u64, BrokerError> {
        Ok(self.store().delete_tagged(tag).await?)
    }
}

fn random() -> Result<String, BrokerError> {
    random_token().map_err(|e| BrokerError::other(format!("no randomness: {e}")))
}
