//! [`ApiKeyStore`] on SQLite: the `api_keys` table, next to `users`.

use rusqlite::{OptionalExtension, Row, params};

use super::SqliteStore;
use auth::api_keys::{ApiKeyRecord, ApiKeyStore, ApiKeyWithOwner};
use graph::Id;
use graph::store::StoreError;

const COLUMNS: &str = "k.id, k.user_id, k.name, k.key_hash, k.created_at, k.expires_at";

impl ApiKeyStore for SqliteStore {
    fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        self.write(|tx| {
            let inserted = tx
                .prepare_cached(
                    "INSERT INTO api_keys (id, user_id, name, key_hash, created_at, expires_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    key.id,
                    key.user_id,
                    key.name,
                    key.key_hash.as_slice(),
                    key.created_at,
                    key.expires_at,
                ])?;
            if inserted == 0 {
                return Err(StoreError::Conflict(format!("api key {} exists", key.id)));
            }
            Ok(())
        })
    }

    fn api_key(&self, id: &str) -> Result<Option<ApiKeyWithOwner>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {COLUMNS}, u.root FROM api_keys k JOIN users u ON u.id = k.user_id \
                 WHERE k.id = ?1"
            );
            let found = conn
                .prepare_cached(&sql)?
                .query_row([id], |row| Ok((record(row)?, row.get::<_, [u8; 16]>(6)?)))
                .optional()?;
            Ok(found.map(|(key, root)| ApiKeyWithOwner {
                key,
                owner_root: Id::from_bytes(root),
            }))
        })
    }

    fn api_keys_of(&self, user_id: &str) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.read(|conn| {
            let sql = format!(
                "SELECT {COLUMNS} FROM api_keys k WHERE k.user_id = ?1 ORDER BY k.created_at, k.id"
            );
            let mut statement = conn.prepare_cached(&sql)?;
            let rows = statement.query_map([user_id], record)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
    }

    fn delete_api_key(&self, id: &str) -> Result<bool, StoreError> {
        self.write(|tx| {
            Ok(tx
                .prepare_cached("DELETE FROM api_keys WHERE id = ?1")?
                .execute([id])?
                > 0)
        })
    }
}

fn record(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: row.get(0)?,
        user_id: row.get(1)?,
        name: row.get(2)?,
        key_hash: row.get(3)?,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
    })
}
