//! Webhook API keys: issued to a logged-in user, presented by external services.
//!
//! A key is a JWT (HS256) signed with the webhook secret, carrying its id (`jti`), its
//! owner (`sub`) and, unless it never expires, its expiry (`exp`). The store keeps only
//! the id, owner, name, dates and the key's SHA-256, so a key survives restarts, a
//! revoked key stops working at once (its row is gone), and the database alone cannot
//! produce a usable key.
//!
//! Verified keys are remembered in memory ([`VerifiedKeys`]), keyed by the key's SHA-256,
//! so a webhook call with a known key costs one hash and one map lookup instead of a
//! signature check and a database read. [`ApiKeys::revoke`] forgets the key before it
//! answers, so revocation stays immediate; the cache is per process, so processes sharing
//! one database file must not revoke each other's keys (each serves its own data dir).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod store;

pub use store::{ApiKeyRecord, ApiKeyStore, ApiKeyWithOwner};

use super::secret::{self, SecretKind};
use super::{AuthError, unix_now};
use graph::Id;
use graph::store::StoreError;

/// Where the generated webhook secret is kept, and what overrides it.
const WEBHOOK_SECRET: SecretKind = SecretKind {
    file: "webhook-secret",
    setting: "WEBHOOK_SECRET",
};
/// Longest key accepted; ours are about 250 bytes.
const MAX_KEY_BYTES: usize = 2_048;
/// Longest key name, in bytes.
pub const MAX_KEY_NAME_BYTES: usize = 200;
/// Longest key lifetime: a hundred years (0 = never expires).
pub const MAX_EXPIRY_DAYS: u64 = 36_500;
const SECONDS_PER_DAY: i64 = 86_400;
/// The `typ` claim of API keys, so no other token of ours passes as one.
const KEY_TYPE: &str = "jac-scale/api-key";
/// Verified keys remembered at most; past it the cache starts over (keys in use refill it).
const MAX_CACHED_KEYS: usize = 10_000;

/// What a key says.
#[derive(Debug, Serialize, Deserialize)]
struct KeyClaims {
    /// Key id.
    jti: String,
    /// Owner's user id.
    sub: String,
    typ: String,
    iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    exp: Option<i64>,
}

/// A freshly created key: the key string (shown once) and what is stored of it.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    pub api_key: String,
    pub record: ApiKeyRecord,
}

/// Who a valid key acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyHolder {
    pub key_id: String,
    pub user_id: String,
    /// The owner's root: webhook walkers run there.
    pub root: Id,
}

/// Why a key was refused or a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    #[error("malformed API key")]
    Malformed,
    #[error("the API key has expired")]
    Expired,
    #[error("the API key has been revoked")]
    Revoked,
    #[error("no API key with id {0:?}")]
    NotFound(String),
    #[error("the API key belongs to another user")]
    NotYours,
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues, lists, revokes and checks API keys.
pub struct ApiKeys {
    store: Arc<dyn ApiKeyStore>,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    default_expiry_days: u64,
    verified: Mutex<VerifiedKeys>,
}

/// Keys that passed every check of [`ApiKeys::verify`], by the SHA-256 of the key string.
#[derive(Default)]
struct VerifiedKeys {
    /// Bumped by every revocation: a lookup that started before one may not fill the
    /// cache (it may have read the row just before it was deleted).
    generation: u64,
    keys: HashMap<[u8; 32], VerifiedKey>,
}

struct VerifiedKey {
    holder: KeyHolder,
    expires_at: Option<i64>,
}

impl ApiKeys {
    /// Keys signed with `configured` (or the secret generated in `data_dir`); a request
    /// naming no lifetime gets `default_expiry_days` (0 = never expires).
    pub fn new(
        store: Arc<dyn ApiKeyStore>,
        configured: Option<&str>,
        data_dir: &Path,
        default_expiry_days: u64,
    ) -> Result<Self, AuthError> {
        let secret = secret::resolve_kind(WEBHOOK_SECRET, configured, data_dir)?;
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by hand: a key without `exp` never expires, and an expired
        // key gets its own answer.
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["sub", "jti"]);
        Ok(ApiKeys {
            store,
            encoding: EncodingKey::from_secret(&secret),
            decoding: DecodingKey::from_secret(&secret),
            validation,
            default_expiry_days: default_expiry_days.min(MAX_EXPIRY_DAYS),
            verified: Mutex::default(),
        })
    }

    /// Issues a key for `user_id`; `expiry_days` `None` = the configured default, 0 = never.
    pub fn create(
        &self,
        user_id: &str,
        name: &str,
        expiry_days: Option<u64>,
    ) -> Result<NewApiKey, ApiKeyError> {
        let days = expiry_days
            .unwrap_or(self.default_expiry_days)
            .min(MAX_EXPIRY_DAYS);
        let now = unix_now();
        let expires_at = (days > 0).then(|| now + days as i64 * SECONDS_PER_DAY);
        let claims = KeyClaims {
            jti: Id::generate().to_string(),
            sub: user_id.to_owned(),
            typ: KEY_TYPE.into(),
            iat: now,
            exp: expires_at,
        };
        let api_key = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| AuthError::Internal(format!("api key signing: {e}")))?;
        let record = ApiKeyRecord {
            id: claims.jti,
            user_id: user_id.to_owned(),
            name: name.to_owned(),
            key_hash: digest(&api_key),
            created_at: now,
            expires_at,
        };
        self.store.insert_api_key(&record)?;
        Ok(NewApiKey { api_key, record })
    }

    /// Every key of `user_id`, oldest first (expired ones included).
    pub fn list(&self, user_id: &str) -> Result<Vec<ApiKeyRecord>, ApiKeyError> {
        Ok(self.store.api_keys_of(user_id)?)
    }

    /// Revokes one of `user_id`'s keys.
    pub fn revoke(&self, user_id: &str, key_id: &str) -> Result<(), ApiKeyError> {
        let Some(found) = self.store.api_key(key_id)? else {
            return Err(ApiKeyError::NotFound(key_id.to_owned()));
        };
        if found.key.user_id != user_id {
            return Err(ApiKeyError::NotYours);
        }
        let deleted = self.store.delete_api_key(key_id)?;
        // Forget it even if another revocation raced us to the row.
        let mut verified = self.verified();
        verified.generation += 1;
        verified.keys.retain(|_, key| key.holder.key_id != key_id);
        drop(verified);
        if !deleted {
            return Err(ApiKeyError::NotFound(key_id.to_owned()));
        }
        Ok(())
    }

    /// The holder of a presented key: signed by us, unexpired, still stored (not
    /// revoked), the very key that was issued (hash), and its owner still exists.
    /// A key verified before is answered from memory (expiry still checked).
    pub fn verify(&self, api_key: &str) -> Result<KeyHolder, ApiKeyError> {
        let api_key = api_key.trim();
        if api_key.len() > MAX_KEY_BYTES {
            return Err(ApiKeyError::Malformed);
        }
        let hash = digest(api_key);
        let now = unix_now();
        let generation = {
            let verified = self.verified();
            if let Some(known) = verified.keys.get(&hash) {
                if known.expires_at.is_some_and(|exp| exp <= now) {
                    return Err(ApiKeyError::Expired);
                }
                return Ok(known.holder.clone());
            }
            verified.generation
        };
        let (holder, expires_at) = self.verify_uncached(api_key, &hash, now)?;
        let mut verified = self.verified();
        if verified.generation == generation {
            if verified.keys.len() >= MAX_CACHED_KEYS {
                verified.keys.clear();
            }
            verified.keys.insert(
                hash,
                VerifiedKey {
                    holder: holder.clone(),
                    expires_at,
                },
            );
        }
        Ok(holder)
    }

    /// Every check of [`Self::verify`] against the token and the store; the holder and
    /// the key's expiry.
    fn verify_uncached(
        &self,
        api_key: &str,
        hash: &[u8; 32],
        now: i64,
    ) -> Result<(KeyHolder, Option<i64>), ApiKeyError> {
        let claims = jsonwebtoken::decode::<KeyClaims>(api_key, &self.decoding, &self.validation)
            .map_err(|_| ApiKeyError::Malformed)?
            .claims;
        if claims.typ != KEY_TYPE {
            return Err(ApiKeyError::Malformed);
        }
        if claims.exp.is_some_and(|exp| exp <= now) {
            return Err(ApiKeyError::Expired);
        }
        let Some(found) = self.store.api_key(&claims.jti)? else {
            // Signed by us, so it was issued: its row is gone because it was revoked
            // (or its owner was deleted).
            return Err(ApiKeyError::Revoked);
        };
        let same_key: bool =
            subtle_eq(&found.key.key_hash, hash) && found.key.user_id == claims.sub;
        if !same_key {
            return Err(ApiKeyError::Malformed);
        }
        let holder = KeyHolder {
            key_id: found.key.id,
            user_id: found.key.user_id,
            root: found.owner_root,
        };
        Ok((holder, claims.exp))
    }

    fn verified(&self) -> MutexGuard<'_, VerifiedKeys> {
        self.verified.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn digest(api_key: &str) -> [u8; 32] {
    Sha256::digest(api_key.as_bytes()).into()
}

/// Constant-time equality of two digests.
fn subtle_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Unix seconds as RFC 3339 UTC (`2024-01-15T10:30:00Z`).
pub fn rfc3339(unix: i64) -> String {
    let days = unix.div_euclid(SECONDS_PER_DAY);
    let secs = unix.rem_euclid(SECONDS_PER_DAY);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}
