//! Webhook API keys as the store keeps them: never the key itself, only its hash.

use graph::Id;
use graph::store::StoreError;

/// One API key's stored facts. The key string is shown once, at creation; the store
/// keeps its SHA-256 so a leaked database cannot be replayed against the webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    /// Key id (32 hex digits), also carried inside the signed key.
    pub id: String,
    /// The owning user's id.
    pub user_id: String,
    /// The name its owner gave it.
    pub name: String,
    /// SHA-256 of the key string.
    pub key_hash: [u8; 32],
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` = never expires.
    pub expires_at: Option<i64>,
}

/// A key together with its owner's root, as a webhook call needs it (one lookup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyWithOwner {
    pub key: ApiKeyRecord,
    /// The owner's root node; the webhook walker runs there.
    pub owner_root: Id,
}

/// Where API keys live (the SQLite store keeps them next to the users).
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key; [`StoreError::Conflict`] if the id exists.
    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The key with this id and its owner's root, if both still exist.
    fn api_key(&self, id: &str) -> Result<Option<ApiKeyWithOwner>, StoreError>;
    /// Every key of a user, oldest first.
    fn api_keys_of(&self, user_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Deletes a key (revocation); whether it existed.
    fn delete_api_key(&self, id: &str) -> Result<bool, StoreError>;
}
