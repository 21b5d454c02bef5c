//! [`UserStore`] on SQLite: the `users` table, next to the graph.

use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use auth::{UserRecord, UserStore};
use graph::Id;
use graph::store::StoreError;

impl UserStore for SqliteStore {
    fn insert_user(&self, user: &UserRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO users (id, identity, password_hash, root, created_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    user.id,
                    user.identity,
                    user.password_hash,
                    user.root.to_bytes(),
                    user.created_at,
                ])?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!(
                    "identity {:?} is taken",
                    user.identity
                )));
            }
            Ok(())
        })
    }

    fn user_by_identity(&self, identity: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read(|conn| select_user(conn, "identity", identity))
    }

    fn user_by_id(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        self.read(|conn| select_user(conn, "id", id))
    }

    fn delete_user(&self, id: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            Ok(tx
                .prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([id])?
                > 0)
        })
    }
}

/// The user whose `column` (`id` or `identity`, both unique) equals `value`.
fn select_user(
    conn: &Connection,
    column: &'static str,
    value: &str,
) -> Result<Option<UserRecord>, StoreError> {
    let sql = format!(
        "SELECT id, identity, password_hash, root, created_at FROM users WHERE {column} = ?1"
    );
    let user = conn
        .prepare_cached(&sql)?
        .query_row([value], |row| {
            Ok(UserRecord {
                id: row.get(0)?,
                identity: row.get(1)?,
                password_hash: row.get(2)?,
                root: Id::from_bytes(row.get(3)?),
                created_at: row.get(4)?,
            })
        })
        .optional()?;
    Ok(user)
}
