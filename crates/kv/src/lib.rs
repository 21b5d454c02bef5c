//! Direct database access for apps (`kvstore(db_name=..., db_type=...)`): document
//! stores and key-value stores, each behind one trait, with three backends.
//!
//! - [`embedded`]: SQLite in the app's data dir (`kvstore.db`), used when no URI is
//!   configured, so every spec example runs on a fresh machine.
//! - [`redis`]: key-value stores on Redis (`REDIS_URL`, or an explicit `redis://` URI).
//! - [`mongo`]: document stores on MongoDB (`MONGODB_URI`, or an explicit `mongodb://`).
//!
//! Every store is opened for one app ([`Scope`]): names, collections and keys are
//! prefixed with the app's tenant and the store name, so two apps opening `cache` never
//! see each other's data. Values are bounded ([`MAX_VALUE_BYTES`]), pages too
//! ([`MAX_PAGE`]). Grants are checked by the caller (`capability::kvstore`), not here;
//! so is the app's `kvstore_mib` quota, from what [`usage`] measures.
//!
//! Invariant: no wasmtime or HTTP types; backends see checked, scoped arguments only.

#[cfg(test)]
mod contract;
pub mod embedded;
mod handle;
#[cfg(feature = "mongo")]
pub mod mongo;
pub mod query;
pub mod redis;
mod usage;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use host_error::HostError;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value};

pub use query::{Filter, Update};
pub use usage::Change;

/// Largest value or document, in bytes of JSON.
pub const MAX_VALUE_BYTES: usize = 1 << 20;
/// Most documents or keys one `find` / `scan-keys` returns (page with `offset`).
pub const MAX_PAGE: u32 = 1_000;
/// Most documents one `insert-many` takes.
pub const MAX_BATCH: usize = 1_000;
/// Most keys a `scan-keys` pattern may match before paging (they are sorted).
pub const MAX_SCAN_MATCHES: usize = 100_000;
/// Longest store name, collection name or key, in bytes.
pub const MAX_NAME_BYTES: usize = 512;
/// Longest time to live, in seconds (ten years).
pub const MAX_TTL_SECONDS: u64 = 10 * 365 * 24 * 3600;
/// The collection of a document store's `get`/`set` when none is given.
pub const DEFAULT_COLLECTION: &str = "kvstore";

/// A kvstore result.
pub type KvResult<T> = Result<T, HostError>;

/// What a store is (`db_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Collections of JSON documents with queries (`mongodb`).
    Document,
    /// Keys with JSON values, TTLs and counters (`redis`).
    KeyValue,
}

/// One app's store: the prefix of everything it holds (`<tenant>:<store>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope(String);

/// Tenant characters kept as they are; the rest is percent-encoded, so the scope never
/// holds `:` (the separator) nor a glob character (`*?[]\`, see Redis `SCAN MATCH`).
const TENANT_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.');

impl Scope {
    /// The scope of store `name` of app `tenant`; `invalid` for a bad store name
    /// (1 to 64 of `A-Z a-z 0-9 _ - .`).
    pub fn new(tenant: &str, name: &str) -> KvResult<Scope> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b));
        if !ok {
            return Err(HostError::Invalid(format!(
                "bad store name {name:?}: use 1 to 64 of A-Z a-z 0-9 _ - ."
            )));
        }
        Ok(Scope(format!("{}{name}", Scope::tenant_prefix(tenant))))
    }

    /// `<tenant>:`, what every scope of app `tenant` starts with.
    pub fn tenant_prefix(tenant: &str) -> String {
        format!("{}:", utf8_percent_encode(tenant, TENANT_SET))
    }

    /// `<tenant>:<store>`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks a key or collection name.
pub fn check_name(what: &str, name: &str) -> KvResult<()> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES || name.contains('\0') {
        return Err(HostError::Invalid(format!(
            "a {what} must be 1 to {MAX_NAME_BYTES} bytes without NUL"
        )));
    }
    Ok(())
}

/// Checks a JSON value's size and parses it.
pub fn parse_value(json: &str) -> KvResult<Value> {
    check_size(json)?;
    serde_json::from_str(json).map_err(|e| HostError::Invalid(format!("value is not JSON: {e}")))
}

/// `quota-exceeded` for a value over [`MAX_VALUE_BYTES`].
pub fn check_size(json: &str) -> KvResult<()> {
    if json.len() > MAX_VALUE_BYTES {
        return Err(HostError::QuotaExceeded(format!(
            "a value is at most {MAX_VALUE_BYTES} bytes of JSON (got {})",
            json.len()
        )));
    }
    Ok(())
}

/// Checks a time to live.
pub fn ttl(seconds: u64) -> KvResult<Duration> {
    if !(1..=MAX_TTL_SECONDS).contains(&seconds) {
        return Err(HostError::Invalid(format!(
            "a ttl is 1 to {MAX_TTL_SECONDS} seconds (got {seconds})"
        )));
    }
    Ok(Duration::from_secs(seconds))
}

/// A key-value store of one scope. Values are JSON text, already checked.
#[async_trait]
pub trait KeyValueStore: Send + Sync {
    /// The value under `key`, if any and not expired.
    async fn get(&self, key: &str) -> KvResult<Option<String>>;
    /// Store `value` under `key` (with a time to live, or none: it clears an old one).
    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> KvResult<()>;
    /// Remove `key`; whether it existed.
    async fn delete(&self, key: &str) -> KvResult<bool>;
    /// Whether `key` holds a value.
    async fn exists(&self, key: &str) -> KvResult<bool>;
    /// Set the time to live of an existing key; whether it exists.
    async fn expire(&self, key: &str, ttl: Duration) -> KvResult<bool>;
    /// Add `by` to the integer under `key` (missing = 0); the new value.
    async fn incr(&self, key: &str, by: i64) -> KvResult<i64>;
    /// Every key matching the glob `pattern`, sorted (at most [`MAX_SCAN_MATCHES`]).
    async fn keys(&self, pattern: &str) -> KvResult<Vec<String>>;
}

/// A document store of one scope. Documents are JSON objects with a string `_id`.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Documents of `collection` matching `filter`, in insertion order.
    async fn find(
        &self,
        collection: &str,
        filter: &Filter,
        offset: u32,
        limit: u32,
    ) -> KvResult<Vec<Map<String, Value>>>;
    /// Insert documents (each has an `_id`), all or none; an `_id` already in the
    /// collection is a `conflict`.
    async fn insert(&self, collection: &str, docs: Vec<Map<String, Value>>) -> KvResult<()>;
    /// Insert or replace the document with `doc`'s `_id`.
    async fn upsert(&self, collection: &str, doc: Map<String, Value>) -> KvResult<()>;
    /// Update the first (or every) document matching `filter`; how many changed.
    async fn update(
        &self,
        collection: &str,
        filter: &Filter,
        update: &Update,
        many: bool,
    ) -> KvResult<u64>;
    /// Delete the first (or every) document matching `filter`; how many.
    async fn delete(&self, collection: &str, filter: &Filter, many: bool) -> KvResult<u64>;
}

/// An open store, by kind.
#[derive(Clone)]
pub enum Store {
    KeyValue(Arc<dyn KeyValueStore>),
    Document(Arc<dyn DocumentStore>),
}

/// Where stores live when the guest gives no URI: `REDIS_URL` / `MONGODB_URI`, then
/// `[plugins.scale.database]` in jac.toml (`config::DatabaseSettings`, shared with the
/// graph's memory hierarchy).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvSettings {
    /// Key-value stores go here when set.
    pub redis_url: Option<String>,
    /// Document stores go here when set.
    pub mongodb_uri: Option<String>,
}

/// One app's stores: its tenant, the embedded database and connections to servers.
pub struct TenantStores {
    tenant: String,
    settings: KvSettings,
    embedded: embedded::Embedded,
    /// One client per server URI, shared by every store of the app.
    redis: Mutex<HashMap<String, redis::RedisServer>>,
    #[cfg(feature = "mongo")]
    mongo: Mutex<HashMap<String, mongo::MongoServer>>,
}

impl std::fmt::Debug for TenantStores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantStores")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl TenantStores {
    /// The stores of app `tenant`, embedded ones in `<data_dir>/kvstore.db`.
    pub fn open(
        tenant: &str,
        data_dir: &std::path::Path,
        settings: KvSettings,
    ) -> KvResult<TenantStores> {
        Ok(TenantStores {
            tenant: tenant.to_string(),
            settings,
            embedded: embedded::Embedded::open(&data_dir.join("kvstore.db"))?,
            redis: Mutex::default(),
            #[cfg(feature = "mongo")]
            mongo: Mutex::default(),
        })
    }

    /// Open store `name` of `kind`: at `uri` if given, else the configured server of
    /// that kind, else embedded.
    pub async fn store(&self, name: &str, kind: Kind, uri: Option<&str>) -> KvResult<Store> {
        let scope = Scope::new(&self.tenant, name)?;
        let configured = match kind {
            Kind::KeyValue => self.settings.redis_url.as_deref(),
            Kind::Document => self.settings.mongodb_uri.as_deref(),
        };
        let Some(uri) = uri.or(configured) else {
            return Ok(match kind {
                Kind::KeyValue => Store::KeyValue(Arc::new(self.embedded.key_value(scope))),
                Kind::Document => Store::Document(Arc::new(self.embedded.documents(scope))),
            });
        };
        let scheme = uri.split_once("://").map_or("", |(s, _)| s);
        match (kind, scheme) {
            (Kind::KeyValue, "redis" | "rediss") => {
                let server = self.server(&self.redis, uri, redis::RedisServer::new)?;
                Ok(Store::KeyValue(Arc::new(server.store(scope).await?)))
            }
            #[cfg(feature = "mongo")]
            (Kind::Document, "mongodb" | "mongodb+srv") => {
                let server = self.server(&self.mongo, uri, mongo::MongoServer::new)?;
                Ok(Store::Document(Arc::new(server.store(scope).await?)))
            }
            #[cfg(not(feature = "mongo"))]
            (Kind::Document, "mongodb" | "mongodb+srv") => Err(HostError::Unavailable(
                "this jac-scale was built without MongoDB support (cargo feature `mongo`)".into(),
            )),
            _ => Err(HostError::Invalid(format!(
                "a {} store needs a {} URI (got scheme {scheme:?})",
                match kind {
                    Kind::KeyValue => "key-value (redis)",
                    Kind::Document => "document (mongodb)",
                },
                match kind {
                    Kind::KeyValue => "redis://",
                    Kind::Document => "mongodb://",
                }
            ))),
        }
    }

    /// The client for `uri`, made once.
    fn server<S: Clone>(
        &self,
        servers: &Mutex<HashMap<String, S>>,
        uri: &str,
        make: impl FnOnce(&str) -> KvResult<S>,
    ) -> KvResult<S> {
        let mut servers = servers.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = servers.get(uri) {
            return Ok(s.clone());
        }
        let server = make(uri)?;
        servers.insert(uri.to_string(), server.clone());
        Ok(server)
    }
}

/// `quota-exceeded` when a pattern matched more than [`MAX_SCAN_MATCHES`] keys.
pub(crate) fn check_scan(keys: Vec<String>) -> KvResult<Vec<String>> {
    if keys.len() > MAX_SCAN_MATCHES {
        return Err(HostError::QuotaExceeded(format!(
            "the pattern matches more than {MAX_SCAN_MATCHES} keys: narrow it"
        )));
    }
    Ok(keys)
}

/// A server error as the guest sees it: the server is unavailable (details in the log).
pub(crate) fn unavailable(backend: &str, e: impl std::fmt::Display) -> HostError {
    tracing::warn!(backend, "kvstore backend error: {e}");
    HostError::Unavailable(format!("the {backend} kvstore backend failed: {e}"))
}
