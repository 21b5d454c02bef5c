//! The embedded backend: both kinds of store in one SQLite file of the app's data dir
//! (`kvstore.db`, WAL), so kvstore works with no server.
//!
//! Key-value rows carry an optional expiry (Unix milliseconds); an expired row reads as
//! missing and is deleted when next touched. Document rows keep their insertion order
//! (`seq`); filters and updates are evaluated in Rust ([`super::query`]), with an index
//! lookup for `{"_id": ...}`. Statements are short and run inline under one mutex, like
//! the graph store's (see ARCHITECTURE.md, "Host imports are synchronous").

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};

use super::{DocumentStore, Filter, KeyValueStore, KvResult, MAX_SCAN_MATCHES, Scope, Update};
use host_error::HostError;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS kv (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    collection TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    UNIQUE (scope, collection, id)
);
CREATE INDEX IF NOT EXISTS documents_by_collection ON documents (scope, collection, seq);
";

/// The embedded database of one app.
#[derive(Clone)]
pub struct Embedded {
    db: Arc<Mutex<Connection>>,
}

fn failed(e: impl std::fmt::Display) -> HostError {
    super::unavailable("embedded", e)
}

impl Embedded {
    /// Open (or create) the database at `path`.
    pub fn open(path: &Path) -> KvResult<Embedded> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let db = Connection::open(path).map_err(failed)?;
        db.busy_timeout(Duration::from_secs(5)).map_err(failed)?;
        db.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
            .map_err(failed)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(failed)?;
        db.execute_batch(SCHEMA).map_err(failed)?;
        Ok(Embedded {
            db: Arc::new(Mutex::new(db)),
        })
    }

    /// The key-value store of `scope`.
    pub fn key_value(&self, scope: Scope) -> EmbeddedKeyValue {
        EmbeddedKeyValue {
            db: self.clone(),
            scope,
        }
    }

    /// The document store of `scope`.
    pub fn documents(&self, scope: Scope) -> EmbeddedDocuments {
        EmbeddedDocuments {
            db: self.clone(),
            scope,
        }
    }

    /// Bytes of the live entries (key and value) and documents (JSON) of every store
    /// whose scope starts with `tenant_prefix` (`<tenant>:`): one range scan of each table.
    pub fn bytes_of(&self, tenant_prefix: &str) -> KvResult<u64> {
        // Scopes of the tenant sort from `<tenant>:` up to `<tenant>;` (`;` follows `:`).
        let end = format!("{};", tenant_prefix.trim_end_matches(':'));
        let db = self.lock();
        let entries: i64 = db
            .prepare_cached(&format!(
                "SELECT COALESCE(SUM(length(CAST(key AS BLOB)) + length(CAST(value AS BLOB))), 0)
                 FROM kv WHERE scope >= ?1 AND scope < ?2 AND {LIVE}"
            ))
            .and_then(|mut s| s.query_row(params![tenant_prefix, end, now_ms()], |r| r.get(0)))
            .map_err(failed)?;
        let documents: i64 = db
            .prepare_cached(
                "SELECT COALESCE(SUM(length(CAST(body AS BLOB))), 0)
                 FROM documents WHERE scope >= ?1 AND scope < ?2",
            )
            .and_then(|mut s| s.query_row(params![tenant_prefix, end], |r| r.get(0)))
            .map_err(failed)?;
        Ok(entries.max(0) as u64 + documents.max(0) as u64)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn expiry(ttl: Duration) -> i64 {
    now_ms().saturating_add(ttl.as_millis() as i64)
}

/// A key-value store in the embedded database.
pub struct EmbeddedKeyValue {
    db: Embedded,
    scope: Scope,
}

/// Rows whose expiry has passed are invisible: every read filters with this.
const LIVE: &str = "(expires_at IS NULL OR expires_at > ?3)";

impl EmbeddedKeyValue {
    /// The live value under `key` (an expired row is deleted).
    fn live(&self, db: &Connection, key: &str) -> KvResult<Option<String>> {
        let now = now_ms();
        let row: Option<(String, Option<i64>)> = db
            .prepare_cached("SELECT value, expires_at FROM kv WHERE scope = ?1 AND key = ?2")
            .and_then(|mut s| {
                s.query_row(params![self.scope.as_str(), key], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(failed)?;
        match row {
            Some((_, Some(at))) if at <= now => {
                self.remove(db, key)?;
                Ok(None)
            }
            Some((value, _)) => Ok(Some(value)),
            None => Ok(None),
        }
    }

    fn remove(&self, db: &Connection, key: &str) -> KvResult<bool> {
        db.prepare_cached("DELETE FROM kv WHERE scope = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![self.scope.as_str(), key]))
            .map(|n| n > 0)
            .map_err(failed)
    }

    fn put(&self, db: &Connection, key: &str, value: &str, expires: Option<i64>) -> KvResult<()> {
        db.prepare_cached(
            "INSERT INTO kv (scope, key, value, expires_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
        )
        .and_then(|mut s| s.execute(params![self.scope.as_str(), key, value, expires]))
        .map(|_| ())
        .map_err(failed)
    }
}

#[async_trait]
impl KeyValueStore for EmbeddedKeyValue {
    async fn get(&self, key: &str) -> KvResult<Option<String>> {
        self.live(&self.db.lock(), key)
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> KvResult<()> {
        self.put(&self.db.lock(), key, value, ttl.map(expiry))
    }

    async fn delete(&self, key: &str) -> KvResult<bool> {
        let db = self.db.lock();
        Ok(self.live(&db, key)?.is_some() && self.remove(&db, key)?)
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        Ok(self.live(&self.db.lock(), key)?.is_some())
    }

    async fn expire(&self, key: &str, ttl: Duration) -> KvResult<bool> {
        let db = self.db.lock();
        if self.live(&db, key)?.is_none() {
            return Ok(false);
        }
        db.prepare_cached("UPDATE kv SET expires_at = ?3 WHERE scope = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![self.scope.as_str(), key, expiry(ttl)]))
            .map(|n| n > 0)
            .map_err(failed)
    }

    async fn incr(&self, key: &str, by: i64) -> KvResult<i64> {
        let db = self.db.lock();
        let current = match self.live(&db, key)? {
            None => 0,
            Some(text) => text.trim().parse::<i64>().map_err(|_| {
                HostError::Invalid(format!("the value of {key:?} is not an integer"))
            })?,
        };
        let new = current
            .checked_add(by)
            .ok_or_else(|| HostError::Invalid(format!("incr of {key:?} overflows")))?;
        // An increment keeps the key's time to live, as in Redis.
        db.prepare_cached(
            "INSERT INTO kv (scope, key, value, expires_at) VALUES (?1, ?2, ?3, NULL)
             ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value",
        )
        .and_then(|mut s| s.execute(params![self.scope.as_str(), key, new.to_string()]))
        .map_err(failed)?;
        Ok(new)
    }

    async fn keys(&self, pattern: &str) -> KvResult<Vec<String>> {
        let db = self.db.lock();
        let mut statement = db
            .prepare_cached(&format!(
                "SELECT key FROM kv WHERE scope = ?1 AND key GLOB ?2 AND {LIVE} ORDER BY key LIMIT ?4"
            ))
            .map_err(failed)?;
        let keys = statement
            .query_map(
                params![
                    self.scope.as_str(),
                    pattern,
                    now_ms(),
                    MAX_SCAN_MATCHES as i64 + 1
                ],
                |r| r.get::<_, String>(0),
            )
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(failed)?;
        super::check_scan(keys)
    }
}

/// A document store in the embedded database.
pub struct EmbeddedDocuments {
    db: Embedded,
    scope: Scope,
}

type Row = (i64, Map<String, Value>);

impl EmbeddedDocuments {
    /// Matching rows in insertion order, skipping `offset`, at most `limit`.
    fn matching(
        &self,
        db: &Connection,
        collection: &str,
        filter: &Filter,
        offset: usize,
        limit: usize,
    ) -> KvResult<Vec<Row>> {
        let scope = self.scope.as_str();
        let parse = |seq: i64, body: String| -> KvResult<Row> {
            match serde_json::from_str(&body) {
                Ok(Value::Object(doc)) => Ok((seq, doc)),
                _ => Err(failed(format!("document {seq} is corrupt"))),
            }
        };
        let mut out = Vec::new();
        if let Some(id) = filter.pinned_id() {
            let row: Option<(i64, String)> = db
                .prepare_cached(
                    "SELECT seq, body FROM documents WHERE scope = ?1 AND collection = ?2 AND id = ?3",
                )
                .and_then(|mut s| {
                    s.query_row(params![scope, collection, id], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(failed)?;
            if let Some((seq, body)) = row
                && offset == 0
                && limit > 0
            {
                out.push(parse(seq, body)?);
            }
            return Ok(out);
        }
        let mut statement = db
            .prepare_cached(
                "SELECT seq, body FROM documents WHERE scope = ?1 AND collection = ?2 ORDER BY seq",
            )
            .map_err(failed)?;
        let mut rows = statement
            .query(params![scope, collection])
            .map_err(failed)?;
        let mut skipped = 0;
        while out.len() < limit {
            let Some(row) = rows.next().map_err(failed)? else {
                break;
            };
            let (seq, doc) = parse(row.get(0).map_err(failed)?, row.get(1).map_err(failed)?)?;
            if filter.matches(&doc) {
                if skipped < offset {
                    skipped += 1;
                } else {
                    out.push((seq, doc));
                }
            }
        }
        Ok(out)
    }

    fn insert_one(
        &self,
        db: &Connection,
        collection: &str,
        doc: &Map<String, Value>,
    ) -> KvResult<()> {
        let id = doc
            .get(super::query::ID)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let body = Value::Object(doc.clone()).to_string();
        let inserted = db
            .prepare_cached(
                "INSERT INTO documents (scope, collection, id, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (scope, collection, id) DO NOTHING",
            )
            .and_then(|mut s| s.execute(params![self.scope.as_str(), collection, id, body]))
            .map_err(failed)?;
        if inserted == 0 {
            return Err(HostError::Conflict(format!(
                "a document with _id {id:?} already exists in {collection:?}"
            )));
        }
        Ok(())
    }
}

#[async_trait]
impl DocumentStore for EmbeddedDocuments {
    async fn find(
        &self,
        collection: &str,
        filter: &Filter,
        offset: u32,
        limit: u32,
    ) -> KvResult<Vec<Map<String, Value>>> {
        let db = self.db.lock();
        let rows = self.matching(&db, collection, filter, offset as usize, limit as usize)?;
        Ok(rows.into_iter().map(|(_, doc)| doc).collect())
    }

    async fn insert(&self, collection: &str, docs: Vec<Map<String, Value>>) -> KvResult<()> {
        let mut db = self.db.lock();
        let tx = db.transaction().map_err(failed)?;
        for doc in &docs {
            self.insert_one(&tx, collection, doc)?;
        }
        tx.commit().map_err(failed)
    }

    async fn upsert(&self, collection: &str, doc: Map<String, Value>) -> KvResult<()> {
        let id = doc
            .get(super::query::ID)
            .and_then(Value::as_str)
            .unwrap_or_default();
        let body = Value::Object(doc.clone()).to_string();
        self.db
            .lock()
            .prepare_cached(
                "INSERT INTO documents (scope, collection, id, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (scope, collection, id) DO UPDATE SET body = excluded.body",
            )
            .and_then(|mut s| s.execute(params![self.scope.as_str(), collection, id, body]))
            .map(|_| ())
            .map_err(failed)
    }

    async fn update(
        &self,
        collection: &str,
        filter: &Filter,
        update: &Update,
        many: bool,
    ) -> KvResult<u64> {
        let mut db = self.db.lock();
        let tx = db.transaction().map_err(failed)?;
        let limit = if many { usize::MAX } else { 1 };
        let rows = self.matching(&tx, collection, filter, 0, limit)?;
        for (seq, mut doc) in rows.iter().cloned() {
            update.apply(&mut doc)?;
            let body = Value::Object(doc).to_string();
            super::check_size(&body)?;
            tx.prepare_cached("UPDATE documents SET body = ?2 WHERE seq = ?1")
                .and_then(|mut s| s.execute(params![seq, body]))
                .map_err(failed)?;
        }
        tx.commit().map_err(failed)?;
        Ok(rows.len() as u64)
    }

    async fn delete(&self, collection: &str, filter: &Filter, many: bool) -> KvResult<u64> {
        let mut db = self.db.lock();
        let tx = db.transaction().map_err(failed)?;
        let limit = if many { usize::MAX } else { 1 };
        let rows = self.matching(&tx, collection, filter, 0, limit)?;
        for (seq, _) in &rows {
            tx.prepare_cached("DELETE FROM documents WHERE seq = ?1")
                .and_then(|mut s| s.execute(params![seq]))
                .map_err(failed)?;
        }
        tx.commit().map_err(failed)?;
        Ok(rows.len() as u64)
    }
}
