//! Users as a store keeps them, and the trait every user store implements.

use graph::Id;
use graph::store::StoreError;

/// A registered user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    /// Stable user id (32 hex digits).
    pub id: String,
    /// Normalised (trimmed, case-folded) email or username; unique.
    pub identity: String,
    /// PHC string of the password hash.
    pub password_hash: String,
    /// The user's root node.
    pub root: Id,
    /// Unix seconds.
    pub created_at: i64,
}

/// Where users live (in the same database as their graph for the SQLite store).
pub trait UserStore: Send + Sync {
    /// Inserts a user; [`StoreError::Conflict`] when the identity is taken.
    fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError>;
    /// The user with this normalised identity.
    fn user_by_identity(&self, identity: &str) -> Result<Option<UserRecord>, StoreError>;
    /// The user with this id.
    fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError>;
    /// Deletes a user (not their graph); whether it existed.
    fn delete_user(&self, id: &str) -> Result<bool, StoreError>;
}
