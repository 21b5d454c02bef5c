//! What an app's kvstores hold, in bytes, for its `kvstore_mib` quota (enforced by the
//! caller, `capabilities::kv`): a key-value entry counts its key (as the app names it)
//! and its value (JSON text), a document its JSON text, on every backend alike.
//!
//! [`TenantStores::used_bytes`] counts everything an app holds (the embedded database,
//! the configured servers and every server it opened); a [`Change`] is what one write
//! will add and remove, found before it with reads of what it replaces (one key, or the
//! documents its filter matches), so its cost follows the write's own.

use std::collections::HashMap;
use std::io;
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::handle::{collection_name, filter, prepared, update};
use super::query::ID;
use super::{
    DEFAULT_COLLECTION, DocumentStore, Filter, KeyValueStore, KvResult, Scope, Store, TenantStores,
    Update, check_name, parse_value,
};

/// What one write adds to and removes from the bytes the app's kvstores hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Change {
    /// Bytes written.
    pub added: u64,
    /// Bytes replaced or deleted.
    pub removed: u64,
}

/// Bytes of a key-value entry: its key and `value_bytes` of value.
pub(crate) fn entry_bytes(key: &str, value_bytes: u64) -> u64 {
    key.len() as u64 + value_bytes
}

/// Bytes of a document: its JSON text, counted without keeping it.
pub(crate) fn document_bytes(doc: &Map<String, Value>) -> u64 {
    struct Count(u64);
    impl io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a map of JSON values cannot fail.
    let _ = serde_json::to_writer(&mut count, doc);
    count.0
}

/// The bytes of the entry under `key`, if any.
async fn entry_at(kv: &dyn KeyValueStore, key: &str) -> KvResult<u64> {
    Ok(kv
        .get(key)
        .await?
        .map_or(0, |value| entry_bytes(key, value.len() as u64)))
}

/// The bytes of the documents of `collection` matching `filter` (the first, or all).
async fn documents_at(
    docs: &dyn DocumentStore,
    collection: &str,
    filter: &Filter,
    many: bool,
) -> KvResult<Vec<Map<String, Value>>> {
    let limit = if many { u32::MAX } else { 1 };
    docs.find(collection, filter, 0, limit).await
}

impl Store {
    /// The change of `set(key, value, collection)`.
    pub async fn change_of_set(
        &self,
        key: &str,
        value: &str,
        collection: Option<&str>,
    ) -> KvResult<Change> {
        check_name("key", key)?;
        let value_json = parse_value(value)?;
        match self {
            Store::KeyValue(kv) => Ok(Change {
                added: entry_bytes(key, value.len() as u64),
                removed: entry_at(kv.as_ref(), key).await?,
            }),
            Store::Document(docs) => {
                let collection = collection_name(collection.unwrap_or(DEFAULT_COLLECTION))?;
                let mut doc = Map::new();
                doc.insert(ID.into(), Value::String(key.into()));
                doc.insert("value".into(), value_json);
                let by_id = Filter::by_id(key);
                let old = documents_at(docs.as_ref(), collection, &by_id, false).await?;
                Ok(Change {
                    added: document_bytes(&doc),
                    removed: old.iter().map(document_bytes).sum(),
                })
            }
        }
    }

    /// The change of `set-with-ttl(key, value, ttl)` (none on a document store: it fails).
    pub async fn change_of_set_with_ttl(&self, key: &str, value: &str) -> KvResult<Change> {
        match self {
            Store::KeyValue(_) => self.change_of_set(key, value, None).await,
            Store::Document(_) => Ok(Change::default()),
        }
    }

    /// The change of `delete(key, collection)`.
    pub async fn change_of_delete(&self, key: &str, collection: Option<&str>) -> KvResult<Change> {
        check_name("key", key)?;
        match self {
            Store::KeyValue(kv) => Ok(Change {
                added: 0,
                removed: entry_at(kv.as_ref(), key).await?,
            }),
            Store::Document(_) => {
                let collection = collection.unwrap_or(DEFAULT_COLLECTION);
                self.change_of_delete_where(collection, &Filter::by_id(key), false)
                    .await
            }
        }
    }

    /// The change of `incr(key, by)` (none when it will fail: not an integer, overflow).
    pub async fn change_of_incr(&self, key: &str, by: i64) -> KvResult<Change> {
        check_name("key", key)?;
        let Store::KeyValue(kv) = self else {
            return Ok(Change::default());
        };
        let old = kv.get(key).await?;
        let current = match &old {
            None => Some(0),
            Some(text) => text.trim().parse::<i64>().ok(),
        };
        let Some(new) = current.and_then(|n| n.checked_add(by)) else {
            return Ok(Change::default());
        };
        Ok(Change {
            added: entry_bytes(key, new.to_string().len() as u64),
            removed: old.map_or(0, |text| entry_bytes(key, text.len() as u64)),
        })
    }

    /// The change of `insert-many(collection, documents)` (and `insert-one`; none on a
    /// key-value store: it fails).
    pub async fn change_of_insert(&self, documents: &[String]) -> KvResult<Change> {
        if let Store::KeyValue(_) = self {
            return Ok(Change::default());
        }
        let (_, docs) = prepared(documents)?;
        Ok(Change {
            added: docs.iter().map(document_bytes).sum(),
            removed: 0,
        })
    }

    /// The change of `update-one` / `update-many` (`many`) of `collection`.
    pub async fn change_of_update(
        &self,
        collection: &str,
        filter_json: &str,
        update_json: &str,
        many: bool,
    ) -> KvResult<Change> {
        self.change_of_update_where(
            collection,
            &filter(filter_json)?,
            &update(update_json)?,
            many,
        )
        .await
    }

    /// The change of `update-by-id`.
    pub async fn change_of_update_by_id(
        &self,
        collection: &str,
        id: &str,
        update_json: &str,
    ) -> KvResult<Change> {
        check_name("document _id", id)?;
        self.change_of_update_where(collection, &Filter::by_id(id), &update(update_json)?, false)
            .await
    }

    /// The change of `delete-one` / `delete-many` (`many`) of `collection`.
    pub async fn change_of_delete_matching(
        &self,
        collection: &str,
        filter_json: &str,
        many: bool,
    ) -> KvResult<Change> {
        self.change_of_delete_where(collection, &filter(filter_json)?, many)
            .await
    }

    /// The change of `delete-by-id`.
    pub async fn change_of_delete_by_id(&self, collection: &str, id: &str) -> KvResult<Change> {
        check_name("document _id", id)?;
        self.change_of_delete_where(collection, &Filter::by_id(id), false)
            .await
    }

    /// Each matching document, as it is and as `update` makes it (a document the update
    /// will not apply to stays as it is).
    async fn change_of_update_where(
        &self,
        collection: &str,
        filter: &Filter,
        update: &Update,
        many: bool,
    ) -> KvResult<Change> {
        let Store::Document(docs) = self else {
            return Ok(Change::default());
        };
        let found = documents_at(docs.as_ref(), collection_name(collection)?, filter, many).await?;
        let mut change = Change::default();
        for mut doc in found {
            change.removed += document_bytes(&doc);
            let _ = update.apply(&mut doc);
            change.added += document_bytes(&doc);
        }
        Ok(change)
    }

    /// The matching documents, removed.
    async fn change_of_delete_where(
        &self,
        collection: &str,
        filter: &Filter,
        many: bool,
    ) -> KvResult<Change> {
        let Store::Document(docs) = self else {
            return Ok(Change::default());
        };
        let found = documents_at(docs.as_ref(), collection_name(collection)?, filter, many).await?;
        Ok(Change {
            added: 0,
            removed: found.iter().map(document_bytes).sum(),
        })
    }
}

impl TenantStores {
    /// Bytes of everything the app holds: in the embedded database and on every server
    /// it uses ([`Self::servers`] of them).
    pub async fn used_bytes(&self) -> KvResult<u64> {
        let prefix = Scope::tenant_prefix(&self.tenant);
        let mut bytes = self.embedded.bytes_of(&prefix)?;
        for uri in self.redis_uris() {
            let server = self.server(&self.redis, &uri, super::redis::RedisServer::new)?;
            bytes += server.bytes_of(&prefix).await?;
        }
        #[cfg(feature = "mongo")]
        for uri in self.mongo_uris() {
            let server = self.server(&self.mongo, &uri, super::mongo::MongoServer::new)?;
            bytes += server.bytes_of(&prefix).await?;
        }
        Ok(bytes)
    }

    /// How many servers the app uses: the configured ones and those it opened since
    /// start. A count of [`Self::used_bytes`] made with fewer did not cover them all.
    pub fn servers(&self) -> u64 {
        #[cfg(feature = "mongo")]
        let mongo = self.mongo_uris().len();
        #[cfg(not(feature = "mongo"))]
        let mongo = 0;
        (self.redis_uris().len() + mongo) as u64
    }

    fn redis_uris(&self) -> Vec<String> {
        let configured = self.settings.redis_url.as_ref();
        uris(
            &self.redis,
            configured.filter(|uri| uri.starts_with("redis")),
        )
    }

    #[cfg(feature = "mongo")]
    fn mongo_uris(&self) -> Vec<String> {
        let configured = self.settings.mongodb_uri.as_ref();
        uris(
            &self.mongo,
            configured.filter(|uri| uri.starts_with("mongodb")),
        )
    }
}

/// The URIs of the opened `servers` and `configured`, once each.
fn uris<S>(servers: &Mutex<HashMap<String, S>>, configured: Option<&String>) -> Vec<String> {
    let mut uris: Vec<String> = servers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .keys()
        .cloned()
        .collect();
    if let Some(uri) = configured.filter(|uri| !uris.contains(uri)) {
        uris.push(uri.clone());
    }
    uris
}
