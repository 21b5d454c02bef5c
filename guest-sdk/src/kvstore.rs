//! Direct database access without the graph: the spec's `kvstore(db_name=..., db_type=...)`.
//!
//! [`KvStore::open`] opens the app's store by name and [`Kind`]: a document store
//! (MongoDB-style collections with queries) or a key-value store (Redis-style keys with
//! TTLs and counters). The host picks the server (`MONGODB_URI` / `REDIS_URL`, jac.toml,
//! else its embedded store), confines the store to this app and checks the app's grant
//! ([`HostError::AccessDenied`](crate::HostError::AccessDenied)). A method of the other kind is [`HostError::Invalid`](crate::HostError::Invalid).
//! Values are any serde type, stored as JSON; writes are applied at once, not with the
//! call's graph changes.
//!
//! ```no_run
//! use jac_scale_guest::prelude::*;
//! use jac_scale_guest::kvstore::{Kind, KvStore};
//!
//! /// Count a page view and remember the session for an hour.
//! #[walker(public)]
//! struct View { session: String }
//!
//! #[walker]
//! impl View {
//!     #[entry(Root)]
//!     fn count(&mut self, w: &mut Walk) -> Result {
//!         let cache = KvStore::open("cache", Kind::KeyValue)?;
//!         cache.set_with_ttl(&format!("session:{}", self.session), &json!({"seen": true}), 3600)?;
//!         w.report(json!({"views": cache.incr("stats:views", 1)?}))
//!     }
//! }
//! ```

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::bindings::jac::scale::kvstore as wit;
use crate::error::Result;

/// Documents or keys the SDK asks for per `find` / `scan_keys` call (the host's bound).
pub const PAGE: u32 = 1000;

/// What a store is (`db_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Collections of JSON documents with queries (`db_type='mongodb'`).
    Document,
    /// Keys with JSON values, TTLs and counters (`db_type='redis'`).
    KeyValue,
}

/// An open store of the app.
pub struct KvStore {
    store: wit::Store,
}

fn to_json(value: &impl Serialize) -> Result<String> {
    Ok(serde_json::to_string(value)?)
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T> {
    Ok(serde_json::from_str(text)?)
}

fn all_json<T: DeserializeOwned>(texts: Vec<String>) -> Result<Vec<T>> {
    texts.iter().map(|t| from_json(t)).collect()
}

impl KvStore {
    /// Opens the app's store `name` of `kind` on the configured server (or embedded).
    pub fn open(name: &str, kind: Kind) -> Result<KvStore> {
        Self::open_at(name, kind, None)
    }

    /// Opens the store at an explicit server `uri` (`redis://...`, `mongodb://...`),
    /// which wins over the host's configuration.
    pub fn open_at(name: &str, kind: Kind, uri: Option<&str>) -> Result<KvStore> {
        let kind = match kind {
            Kind::Document => wit::Kind::Document,
            Kind::KeyValue => wit::Kind::KeyValue,
        };
        let store = wit::Store::open(name, kind, uri)?;
        Ok(KvStore { store })
    }

    // Both kinds (`collection` is the document store's; `None` = `kvstore`).

    /// The value under `key`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        self.get_in(key, None)
    }

    /// The value under `key` in a document store's `collection`.
    pub fn get_in<T: DeserializeOwned>(
        &self,
        key: &str,
        collection: Option<&str>,
    ) -> Result<Option<T>> {
        let text = self.store.get(key, collection)?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// Stores `value` under `key`.
    pub fn set(&self, key: &str, value: &impl Serialize) -> Result {
        self.set_in(key, value, None)
    }

    /// Stores `value` under `key` in a document store's `collection`.
    pub fn set_in(&self, key: &str, value: &impl Serialize, collection: Option<&str>) -> Result {
        Ok(self.store.set(key, &to_json(value)?, collection)?)
    }

    /// Removes `key`; whether it existed.
    pub fn delete(&self, key: &str, collection: Option<&str>) -> Result<bool> {
        Ok(self.store.delete(key, collection)?)
    }

    /// Whether `key` holds a value.
    pub fn exists(&self, key: &str, collection: Option<&str>) -> Result<bool> {
        Ok(self.store.exists(key, collection)?)
    }

    // Document stores: filters and updates are JSON (`json!({"age": {"$gt": 28}})`).

    /// The first document matching `filter`.
    pub fn find_one<T: DeserializeOwned>(
        &self,
        collection: &str,
        filter: &Value,
    ) -> Result<Option<T>> {
        let text = self.store.find_one(collection, &filter.to_string())?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// Every document matching `filter`, in insertion order (fetched page by page).
    pub fn find<T: DeserializeOwned>(&self, collection: &str, filter: &Value) -> Result<Vec<T>> {
        let filter = filter.to_string();
        let mut out = Vec::new();
        loop {
            let page = self
                .store
                .find(collection, &filter, out.len() as u32, PAGE)?;
            let done = (page.len() as u32) < PAGE;
            out.extend(all_json::<T>(page)?);
            if done {
                return Ok(out);
            }
        }
    }

    /// One page of the documents matching `filter`: at most `limit` after `offset`.
    pub fn find_page<T: DeserializeOwned>(
        &self,
        collection: &str,
        filter: &Value,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<T>> {
        let page = self
            .store
            .find(collection, &filter.to_string(), offset, limit)?;
        all_json(page)
    }

    /// Inserts a document; its `_id` (its own, or a new one).
    pub fn insert_one(&self, collection: &str, document: &impl Serialize) -> Result<String> {
        Ok(self.store.insert_one(collection, &to_json(document)?)?)
    }

    /// Inserts documents, all or none; their ids in order.
    pub fn insert_many<D: Serialize>(
        &self,
        collection: &str,
        documents: &[D],
    ) -> Result<Vec<String>> {
        let texts = documents.iter().map(to_json).collect::<Result<Vec<_>>>()?;
        Ok(self.store.insert_many(collection, &texts)?)
    }

    /// Updates the first document matching `filter`; how many changed (0 or 1).
    pub fn update_one(&self, collection: &str, filter: &Value, update: &Value) -> Result<u64> {
        Ok(self
            .store
            .update_one(collection, &filter.to_string(), &update.to_string())?)
    }

    /// Updates every document matching `filter`; how many changed.
    pub fn update_many(&self, collection: &str, filter: &Value, update: &Value) -> Result<u64> {
        Ok(self
            .store
            .update_many(collection, &filter.to_string(), &update.to_string())?)
    }

    /// Deletes the first document matching `filter`; how many (0 or 1).
    pub fn delete_one(&self, collection: &str, filter: &Value) -> Result<u64> {
        Ok(self.store.delete_one(collection, &filter.to_string())?)
    }

    /// Deletes every document matching `filter`; how many.
    pub fn delete_many(&self, collection: &str, filter: &Value) -> Result<u64> {
        Ok(self.store.delete_many(collection, &filter.to_string())?)
    }

    /// The document whose `_id` is `id`.
    pub fn find_by_id<T: DeserializeOwned>(&self, collection: &str, id: &str) -> Result<Option<T>> {
        let text = self.store.find_by_id(collection, id)?;
        text.map(|t| from_json(&t)).transpose()
    }

    /// Updates the document whose `_id` is `id`; whether it existed.
    pub fn update_by_id(&self, collection: &str, id: &str, update: &Value) -> Result<bool> {
        Ok(self
            .store
            .update_by_id(collection, id, &update.to_string())?)
    }

    /// Deletes the document whose `_id` is `id`; whether it existed.
    pub fn delete_by_id(&self, collection: &str, id: &str) -> Result<bool> {
        Ok(self.store.delete_by_id(collection, id)?)
    }

    // Key-value stores.

    /// Stores `value` under `key` for `ttl_seconds` (at least 1).
    pub fn set_with_ttl(&self, key: &str, value: &impl Serialize, ttl_seconds: u64) -> Result {
        Ok(self
            .store
            .set_with_ttl(key, &to_json(value)?, ttl_seconds)?)
    }

    /// Sets the time to live of an existing key; whether it exists.
    pub fn expire(&self, key: &str, ttl_seconds: u64) -> Result<bool> {
        Ok(self.store.expire(key, ttl_seconds)?)
    }

    /// Adds `by` to the integer under `key` (missing = 0); the new value.
    pub fn incr(&self, key: &str, by: i64) -> Result<i64> {
        Ok(self.store.incr(key, by)?)
    }

    /// Every key matching the glob `pattern` (`*`, `?`, `[...]`), sorted, fetched page by page.
    pub fn scan_keys(&self, pattern: &str) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        loop {
            let page = self.store.scan_keys(pattern, out.len() as u32, PAGE)?;
            let done = (page.len() as u32) < PAGE;
            out.extend(page);
            if done {
                return Ok(out);
            }
        }
    }
}
