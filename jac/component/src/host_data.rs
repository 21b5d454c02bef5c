//! [`jac_lang::data::DataHost`] over the `jac:scale/kvstore` and `jac:scale/storage`
//! imports.
//!
//! The interpreter asks for a store or bucket on every method call; [`HostData`] opens
//! each `(name, kind, uri)` store and each `(base path, create dirs)` bucket once per
//! call and drops the handles when the call ends ([`HostData::end_call`]), since a host
//! handle lives for one call at most. JSON crosses the boundary as text.

use std::cell::RefCell;
use std::rc::Rc;

use jac_lang::data::{
    Bucket, DataError, DataErrorKind, DataHost, DataResult, FileMetadata, KvStore, StoreKind,
};
use serde_json::Value as Json;

use crate::bindings::jac::scale::kvstore::{self as kv, Kind};
use crate::bindings::jac::scale::storage as st;
use crate::bindings::jac::scale::types::Error as WitError;

/// How a store was opened: name, kind, explicit URI.
type StoreKey = (String, StoreKind, Option<String>);

/// How a bucket was opened: base path, create dirs.
type BucketKey = (Option<String>, Option<bool>);

/// The data services of the current call, with the handles it opened.
#[derive(Default)]
pub struct HostData {
    stores: RefCell<Vec<(StoreKey, Rc<HostStore>)>>,
    buckets: RefCell<Vec<(BucketKey, Rc<HostBucket>)>>,
}

impl HostData {
    /// Drops the handles opened during the call that just ended.
    pub fn end_call(&self) {
        self.stores.borrow_mut().clear();
        self.buckets.borrow_mut().clear();
    }
}

fn data_error(e: WitError) -> DataError {
    let (kind, message) = match e {
        WitError::AccessDenied(m) => (DataErrorKind::AccessDenied, m),
        WitError::NotFound(m) => (DataErrorKind::NotFound, m),
        WitError::Invalid(m) => (DataErrorKind::Invalid, m),
        WitError::Conflict(m) => (DataErrorKind::Conflict, m),
        WitError::QuotaExceeded(m) => (DataErrorKind::QuotaExceeded, m),
        WitError::Unavailable(m) => (DataErrorKind::Unavailable, m),
    };
    DataError::new(kind, message)
}

/// JSON text from the host, parsed.
fn parse(text: &str) -> DataResult<Json> {
    serde_json::from_str(text).map_err(|e| {
        DataError::new(
            DataErrorKind::Unavailable,
            format!("the host sent malformed JSON: {e}"),
        )
    })
}

fn parse_opt(text: Option<String>) -> DataResult<Option<Json>> {
    text.as_deref().map(parse).transpose()
}

impl DataHost for HostData {
    fn open_kvstore(
        &self,
        name: &str,
        kind: StoreKind,
        uri: Option<&str>,
    ) -> DataResult<Rc<dyn KvStore>> {
        let key = (name.to_owned(), kind, uri.map(str::to_owned));
        if let Some((_, store)) = self.stores.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(store.clone());
        }
        let wit_kind = match kind {
            StoreKind::Document => Kind::Document,
            StoreKind::KeyValue => Kind::KeyValue,
        };
        let store = Rc::new(HostStore(
            kv::Store::open(name, wit_kind, uri).map_err(data_error)?,
        ));
        self.stores.borrow_mut().push((key, store.clone()));
        Ok(store)
    }

    fn open_bucket(
        &self,
        base_path: Option<&str>,
        create_dirs: Option<bool>,
    ) -> DataResult<Rc<dyn Bucket>> {
        let key = (base_path.map(str::to_owned), create_dirs);
        if let Some((_, bucket)) = self.buckets.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(bucket.clone());
        }
        let bucket = Rc::new(HostBucket(
            st::Bucket::open(base_path, create_dirs).map_err(data_error)?,
        ));
        self.buckets.borrow_mut().push((key, bucket.clone()));
        Ok(bucket)
    }

    fn read_upload(&self, upload: &str, offset: u64, length: u32) -> DataResult<Vec<u8>> {
        st::read_upload(upload, offset, length).map_err(data_error)
    }
}

/// An open `jac:scale/kvstore.store`.
struct HostStore(kv::Store);

impl KvStore for HostStore {
    fn get(&self, key: &str, collection: Option<&str>) -> DataResult<Option<Json>> {
        parse_opt(self.0.get(key, collection).map_err(data_error)?)
    }
    fn set(&self, key: &str, value: &Json, collection: Option<&str>) -> DataResult<()> {
        self.0
            .set(key, &value.to_string(), collection)
            .map_err(data_error)
    }
    fn delete(&self, key: &str, collection: Option<&str>) -> DataResult<bool> {
        self.0.delete(key, collection).map_err(data_error)
    }
    fn exists(&self, key: &str, collection: Option<&str>) -> DataResult<bool> {
        self.0.exists(key, collection).map_err(data_error)
    }
    fn find_one(&self, collection: &str, filter: &Json) -> DataResult<Option<Json>> {
        parse_opt(
            self.0
                .find_one(collection, &filter.to_string())
                .map_err(data_error)?,
        )
    }
    fn find(
        &self,
        collection: &str,
        filter: &Json,
        offset: u32,
        limit: u32,
    ) -> DataResult<Vec<Json>> {
        let page = self
            .0
            .find(collection, &filter.to_string(), offset, limit)
            .map_err(data_error)?;
        page.iter().map(|doc| parse(doc)).collect()
    }
    fn insert_one(&self, collection: &str, document: &Json) -> DataResult<String> {
        self.0
            .insert_one(collection, &document.to_string())
            .map_err(data_error)
    }
    fn insert_many(&self, collection: &str, documents: &[Json]) -> DataResult<Vec<String>> {
        let documents: Vec<String> = documents.iter().map(Json::to_string).collect();
        self.0
            .insert_many(collection, &documents)
            .map_err(data_error)
    }
    fn update_one(&self, collection: &str, filter: &Json, update: &Json) -> DataResult<u64> {
        self.0
            .update_one(collection, &filter.to_string(), &update.to_string())
            .map_err(data_error)
    }
    fn update_many(&self, collection: &str, filter: &Json, update: &Json) -> DataResult<u64> {
        self.0
            .update_many(collection, &filter.to_string(), &update.to_string())
            .map_err(data_error)
    }
    fn delete_one(&self, collection: &str, filter: &Json) -> DataResult<u64> {
        self.0
            .delete_one(collection, &filter.to_string())
            .map_err(data_error)
    }
    fn delete_many(&self, collection: &str, filter: &Json) -> DataResult<u64> {
        self.0
            .delete_many(collection, &filter.to_string())
            .map_err(data_error)
    }
    fn find_by_id(&self, collection: &str, id: &str) -> DataResult<Option<Json>> {
        parse_opt(self.0.find_by_id(collection, id).map_err(data_error)?)
    }
    fn update_by_id(&self, collection: &str, id: &str, update: &Json) -> DataResult<bool> {
        self.0
            .update_by_id(collection, id, &update.to_string())
            .map_err(data_error)
    }
    fn delete_by_id(&self, collection: &str, id: &str) -> DataResult<bool> {
        self.0.delete_by_id(collection, id).map_err(data_error)
    }
    fn set_with_ttl(&self, key: &str, value: &Json, ttl_seconds: u64) -> DataResult<()> {
        self.0
            .set_with_ttl(key, &value.to_string(), ttl_seconds)
            .map_err(data_error)
    }
    fn expire(&self, key: &str, ttl_seconds: u64) -> DataResult<bool> {
        self.0.expire(key, ttl_seconds).map_err(data_error)
    }
    fn incr(&self, key: &str, by: i64) -> DataResult<i64> {
        self.0.incr(key, by).map_err(data_error)
    }
    fn scan_keys(&self, pattern: &str, offset: u32, limit: u32) -> DataResult<Vec<String>> {
        self.0.scan_keys(pattern, offset, limit).map_err(data_error)
    }
}

/// An open `jac:scale/storage.bucket`.
struct HostBucket(st::Bucket);

impl Bucket for HostBucket {
    fn write(&self, path: &str, data: &[u8], append: bool) -> DataResult<()> {
        self.0.write(path, data, append).map_err(data_error)
    }
    fn save_upload(&self, upload: &str, path: &str) -> DataResult<String> {
        self.0.save_upload(upload, path).map_err(data_error)
    }
    fn read(&self, path: &str, offset: u64, length: u32) -> DataResult<Vec<u8>> {
        self.0.read(path, offset, length).map_err(data_error)
    }
    fn delete(&self, path: &str) -> DataResult<bool> {
        self.0.delete(path).map_err(data_error)
    }
    fn exists(&self, path: &str) -> DataResult<bool> {
        self.0.exists(path).map_err(data_error)
    }
    fn list(
        &self,
        prefix: &str,
        recursive: bool,
        offset: u32,
        limit: u32,
    ) -> DataResult<Vec<String>> {
        self.0
            .list(prefix, recursive, offset, limit)
            .map_err(data_error)
    }
    fn metadata(&self, path: &str) -> DataResult<FileMetadata> {
        let m = self.0.metadata(path).map_err(data_error)?;
        Ok(FileMetadata {
            name: m.name,
            size: m.size,
            modified: m.modified,
            created: m.created,
            is_dir: m.is_dir,
        })
    }
    fn copy(&self, source: &str, destination: &str) -> DataResult<bool> {
        self.0.copy(source, destination).map_err(data_error)
    }
    fn move_to(&self, source: &str, destination: &str) -> DataResult<bool> {
        self.0.move_(source, destination).map_err(data_error)
    }
}
