//! The methods of an open [`Store`], as the WIT `store` resource offers them: argument
//! checks, page clamping, ids, the document-store `get`/`set` mapping and the
//! wrong-kind error, shared by every backend.
//!
//! On a document store, `set(key, value, collection)` keeps `{"_id": key, "value": value}`
//! in `collection` (default `kvstore`) and `get` returns that `value`.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::query::ID;
use super::{
    DEFAULT_COLLECTION, DocumentStore, Filter, KeyValueStore, Kind, KvResult, MAX_BATCH, MAX_PAGE,
    Store, Update, check_name, check_size, parse_value, ttl,
};
use host_error::HostError;

/// `invalid` for a method of the other kind (the Jac runtime raises `NotImplementedError`).
fn wrong_kind(method: &str, store_is: Kind) -> HostError {
    let (is, method_of) = match store_is {
        Kind::KeyValue => ("a key-value (redis)", "document (mongodb)"),
        Kind::Document => ("a document (mongodb)", "key-value (redis)"),
    };
    HostError::Invalid(format!(
        "{method} is a {method_of} store method; this kvstore is {is} store"
    ))
}

pub(crate) fn object(json: &str, what: &str) -> KvResult<Map<String, Value>> {
    match parse_value(json)? {
        Value::Object(map) => Ok(map),
        _ => Err(HostError::Invalid(format!("{what} must be a JSON object"))),
    }
}

pub(crate) fn filter(json: &str) -> KvResult<Filter> {
    Filter::parse(&parse_value(json)?)
}

pub(crate) fn update(json: &str) -> KvResult<Update> {
    Update::parse(&parse_value(json)?)
}

/// The document's `_id`, given one (a string), or a new one.
fn with_id(mut doc: Map<String, Value>) -> KvResult<(String, Map<String, Value>)> {
    let id = match doc.get(ID) {
        None => {
            let id = uuid::Uuid::new_v4().simple().to_string();
            doc.insert(ID.into(), Value::String(id.clone()));
            id
        }
        Some(Value::String(id)) => {
            check_name("document _id", id)?;
            id.clone()
        }
        Some(_) => {
            return Err(HostError::Invalid(
                "a document's _id must be a string".into(),
            ));
        }
    };
    Ok((id, doc))
}

/// The ids of an `insert-many`'s documents and the documents, in order.
pub(crate) type Prepared = (Vec<String>, Vec<Map<String, Value>>);

/// The documents of an `insert-many`, checked and with their ids (new ones where missing).
pub(crate) fn prepared(documents: &[String]) -> KvResult<Prepared> {
    if documents.len() > MAX_BATCH {
        return Err(HostError::QuotaExceeded(format!(
            "insert_many takes at most {MAX_BATCH} documents"
        )));
    }
    documents
        .iter()
        .map(|json| with_id(object(json, "a document")?))
        .collect::<KvResult<Vec<_>>>()
        .map(|docs| docs.into_iter().unzip())
}

pub(crate) fn collection_name(collection: &str) -> KvResult<&str> {
    check_name("collection name", collection)?;
    Ok(collection)
}

impl Store {
    fn documents(&self, method: &str) -> KvResult<&Arc<dyn DocumentStore>> {
        match self {
            Store::Document(d) => Ok(d),
            Store::KeyValue(_) => Err(wrong_kind(method, Kind::KeyValue)),
        }
    }

    fn key_value(&self, method: &str) -> KvResult<&Arc<dyn KeyValueStore>> {
        match self {
            Store::KeyValue(k) => Ok(k),
            Store::Document(_) => Err(wrong_kind(method, Kind::Document)),
        }
    }

    /// `get`: the JSON value under `key`.
    pub async fn get(&self, key: &str, collection: Option<&str>) -> KvResult<Option<String>> {
        check_name("key", key)?;
        match self {
            Store::KeyValue(kv) => kv.get(key).await,
            Store::Document(docs) => {
                let collection = collection_name(collection.unwrap_or(DEFAULT_COLLECTION))?;
                let found = docs.find(collection, &Filter::by_id(key), 0, 1).await?;
                Ok(found
                    .into_iter()
                    .next()
                    .map(|mut doc| doc.remove("value").unwrap_or(Value::Null).to_string()))
            }
        }
    }

    /// `set`: store `value` (JSON) under `key`.
    pub async fn set(&self, key: &str, value: &str, collection: Option<&str>) -> KvResult<()> {
        check_name("key", key)?;
        match self {
            Store::KeyValue(kv) => {
                parse_value(value)?;
                kv.set(key, value, None).await
            }
            Store::Document(docs) => {
                let collection = collection_name(collection.unwrap_or(DEFAULT_COLLECTION))?;
                let mut doc = Map::new();
                doc.insert(ID.into(), Value::String(key.into()));
                doc.insert("value".into(), parse_value(value)?);
                docs.upsert(collection, doc).await
            }
        }
    }

    /// `delete`: remove `key`; whether it existed.
    pub async fn delete(&self, key: &str, collection: Option<&str>) -> KvResult<bool> {
        check_name("key", key)?;
        match self {
            Store::KeyValue(kv) => kv.delete(key).await,
            Store::Document(docs) => {
                let collection = collection_name(collection.unwrap_or(DEFAULT_COLLECTION))?;
                Ok(docs.delete(collection, &Filter::by_id(key), false).await? > 0)
            }
        }
    }

    /// `exists`: whether `key` holds a value.
    pub async fn exists(&self, key: &str, collection: Option<&str>) -> KvResult<bool> {
        Ok(self.get(key, collection).await?.is_some())
    }

    /// `find`: matching documents (JSON), one page.
    pub async fn find(
        &self,
        collection: &str,
        filter_json: &str,
        offset: u32,
        limit: u32,
    ) -> KvResult<Vec<String>> {
        let docs = self.documents("find")?;
        let filter = filter(filter_json)?;
        let found = docs
            .find(
                collection_name(collection)?,
                &filter,
                offset,
                limit.min(MAX_PAGE),
            )
            .await?;
        Ok(found
            .into_iter()
            .map(|d| Value::Object(d).to_string())
            .collect())
    }

    /// `find-one`: the first matching document.
    pub async fn find_one(&self, collection: &str, filter_json: &str) -> KvResult<Option<String>> {
        self.documents("find_one")?;
        Ok(self
            .find(collection, filter_json, 0, 1)
            .await?
            .into_iter()
            .next())
    }

    /// `find-by-id`.
    pub async fn find_by_id(&self, collection: &str, id: &str) -> KvResult<Option<String>> {
        let docs = self.documents("find_by_id")?;
        check_name("document _id", id)?;
        let found = docs
            .find(collection_name(collection)?, &Filter::by_id(id), 0, 1)
            .await?;
        Ok(found
            .into_iter()
            .next()
            .map(|d| Value::Object(d).to_string()))
    }

    /// `insert-many`: all or none; the ids in order.
    pub async fn insert_many(
        &self,
        collection: &str,
        documents: &[String],
    ) -> KvResult<Vec<String>> {
        let docs = self.documents("insert_many")?;
        let (ids, checked) = prepared(documents)?;
        docs.insert(collection_name(collection)?, checked).await?;
        Ok(ids)
    }

    /// `insert-one`: the new document's id.
    pub async fn insert_one(&self, collection: &str, document: &str) -> KvResult<String> {
        self.documents("insert_one")?;
        let mut ids = self
            .insert_many(collection, std::slice::from_ref(&document.to_string()))
            .await?;
        Ok(ids.remove(0))
    }

    /// `update-one` / `update-many`: how many documents changed.
    pub async fn update(
        &self,
        collection: &str,
        filter_json: &str,
        update_json: &str,
        many: bool,
    ) -> KvResult<u64> {
        let docs = self.documents(if many { "update_many" } else { "update_one" })?;
        docs.update(
            collection_name(collection)?,
            &filter(filter_json)?,
            &update(update_json)?,
            many,
        )
        .await
    }

    /// `update-by-id`: whether the document existed.
    pub async fn update_by_id(
        &self,
        collection: &str,
        id: &str,
        update_json: &str,
    ) -> KvResult<bool> {
        let docs = self.documents("update_by_id")?;
        check_name("document _id", id)?;
        let changed = docs
            .update(
                collection_name(collection)?,
                &Filter::by_id(id),
                &update(update_json)?,
                false,
            )
            .await?;
        Ok(changed > 0)
    }

    /// `delete-one` / `delete-many`: how many documents were deleted.
    pub async fn delete_matching(
        &self,
        collection: &str,
        filter_json: &str,
        many: bool,
    ) -> KvResult<u64> {
        let docs = self.documents(if many { "delete_many" } else { "delete_one" })?;
        docs.delete(collection_name(collection)?, &filter(filter_json)?, many)
            .await
    }

    /// `delete-by-id`: whether the document existed.
    pub async fn delete_by_id(&self, collection: &str, id: &str) -> KvResult<bool> {
        let docs = self.documents("delete_by_id")?;
        check_name("document _id", id)?;
        Ok(docs
            .delete(collection_name(collection)?, &Filter::by_id(id), false)
            .await?
            > 0)
    }

    /// `set-with-ttl`.
    pub async fn set_with_ttl(&self, key: &str, value: &str, ttl_seconds: u64) -> KvResult<()> {
        let kv = self.key_value("set_with_ttl")?;
        check_name("key", key)?;
        let ttl = ttl(ttl_seconds)?;
        parse_value(value)?;
        kv.set(key, value, Some(ttl)).await
    }

    /// `expire`: whether the key exists.
    pub async fn expire(&self, key: &str, ttl_seconds: u64) -> KvResult<bool> {
        let kv = self.key_value("expire")?;
        check_name("key", key)?;
        kv.expire(key, ttl(ttl_seconds)?).await
    }

    /// `incr`: the new value.
    pub async fn incr(&self, key: &str, by: i64) -> KvResult<i64> {
        let kv = self.key_value("incr")?;
        check_name("key", key)?;
        kv.incr(key, by).await
    }

    /// `scan-keys`: one page of the sorted keys matching `pattern`.
    pub async fn scan_keys(&self, pattern: &str, offset: u32, limit: u32) -> KvResult<Vec<String>> {
        let kv = self.key_value("scan_keys")?;
        check_name("pattern", pattern)?;
        check_size(pattern)?;
        Ok(kv
            .keys(pattern)
            .await?
            .into_iter()
            .skip(offset as usize)
            .take(limit.min(MAX_PAGE) as usize)
            .collect())
    }
}
