//! The data tier as Jac programs see it: `import from jac_scale.lib { kvstore }`
//! ([`kvstore`]), the `store()` builtin ([`storage`]) and uploaded files
//! (`http.UploadFile`, [`upload`]).
//!
//! The interpreter never talks to a database or a disk itself: the embedding grants a
//! [`DataHost`] ([`crate::interp::HostEnv::data`]) that opens key-value / document
//! stores and storage buckets by name. `jac/component` implements it over the
//! `jac:scale/kvstore` and `jac:scale/storage` WIT imports; tests use an in-memory fake.
//! The default, [`NoDataHost`], refuses every open as unavailable.
//!
//! The Jac objects (a kvstore handle, a storage instance) only remember how they were
//! opened; each method call asks the host for the handle again, so a `glob` created
//! while the program loads stays valid in every later call. Caching open handles within
//! one call is the host's business.

pub mod kvstore;
pub mod storage;
pub mod upload;

use std::rc::Rc;

use serde_json::Value as Json;

use crate::value::class::ArchKind;
use crate::value::{Class, ExcType, Exception};

/// What went wrong in a host data call (the WIT `error` variant).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataErrorKind {
    /// The app has no grant for this store or path.
    AccessDenied,
    /// No such key, document, file or upload.
    NotFound,
    /// Malformed arguments (a bad filter, a path escaping the base, a wrong-kind call).
    Invalid,
    /// The operation conflicts with the current state.
    Conflict,
    /// A size, count or rate bound was hit.
    QuotaExceeded,
    /// The backend cannot be reached.
    Unavailable,
}

/// A failed host data call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    /// The kind of failure.
    pub kind: DataErrorKind,
    /// The host's explanation.
    pub message: String,
}

impl DataError {
    /// An error of `kind`.
    pub fn new(kind: DataErrorKind, message: impl Into<String>) -> Self {
        DataError {
            kind,
            message: message.into(),
        }
    }

    /// The Jac exception for this error, its message prefixed with `what` (e.g.
    /// `kvstore 'cache'`). A missing file is `FileNotFoundError` when `missing_is_file`,
    /// else `KeyError`.
    pub(crate) fn raise(&self, what: &str, missing_is_file: bool) -> Exception {
        let ty = match self.kind {
            DataErrorKind::AccessDenied => ExcType::PermissionError,
            DataErrorKind::NotFound if missing_is_file => ExcType::FileNotFoundError,
            DataErrorKind::NotFound => ExcType::KeyError,
            DataErrorKind::Invalid | DataErrorKind::Conflict => ExcType::ValueError,
            DataErrorKind::QuotaExceeded => ExcType::OSError,
            DataErrorKind::Unavailable => ExcType::ConnectionError,
        };
        let label = match self.kind {
            DataErrorKind::AccessDenied => "access denied",
            DataErrorKind::NotFound => "not found",
            DataErrorKind::Invalid => "invalid",
            DataErrorKind::Conflict => "conflict",
            DataErrorKind::QuotaExceeded => "quota exceeded",
            DataErrorKind::Unavailable => "unavailable",
        };
        Exception::new(ty, format!("{what}: {label}: {}", self.message))
    }
}

/// Result of a host data call.
pub type DataResult<T> = Result<T, DataError>;

/// Which kind of store `kvstore(db_type=...)` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    /// `db_type='mongodb'`: collections of JSON documents with queries.
    Document,
    /// `db_type='redis'`: keys with JSON values, TTLs and counters.
    KeyValue,
}

/// An open kvstore (the WIT `kvstore.store` resource). Values and documents are JSON;
/// documents carry their id as the string field `_id`. `collection` is the document
/// store's collection; a key-value store ignores it.
#[allow(missing_docs)] // each method is the WIT function of the same name
pub trait KvStore {
    fn get(&self, key: &str, collection: Option<&str>) -> DataResult<Option<Json>>;
    fn set(&self, key: &str, value: &Json, collection: Option<&str>) -> DataResult<()>;
    fn delete(&self, key: &str, collection: Option<&str>) -> DataResult<bool>;
    fn exists(&self, key: &str, collection: Option<&str>) -> DataResult<bool>;
    fn find_one(&self, collection: &str, filter: &Json) -> DataResult<Option<Json>>;
    /// One page: at most `limit` matches after skipping `offset` (the host may return fewer).
    fn find(
        &self,
        collection: &str,
        filter: &Json,
        offset: u32,
        limit: u32,
    ) -> DataResult<Vec<Json>>;
    fn insert_one(&self, collection: &str, document: &Json) -> DataResult<String>;
    fn insert_many(&self, collection: &str, documents: &[Json]) -> DataResult<Vec<String>>;
    fn update_one(&self, collection: &str, filter: &Json, update: &Json) -> DataResult<u64>;
    fn update_many(&self, collection: &str, filter: &Json, update: &Json) -> DataResult<u64>;
    fn delete_one(&self, collection: &str, filter: &Json) -> DataResult<u64>;
    fn delete_many(&self, collection: &str, filter: &Json) -> DataResult<u64>;
    fn find_by_id(&self, collection: &str, id: &str) -> DataResult<Option<Json>>;
    fn update_by_id(&self, collection: &str, id: &str, update: &Json) -> DataResult<bool>;
    fn delete_by_id(&self, collection: &str, id: &str) -> DataResult<bool>;
    fn set_with_ttl(&self, key: &str, value: &Json, ttl_seconds: u64) -> DataResult<()>;
    fn expire(&self, key: &str, ttl_seconds: u64) -> DataResult<bool>;
    fn incr(&self, key: &str, by: i64) -> DataResult<i64>;
    /// One page of keys matching the glob `pattern`, in byte order.
    fn scan_keys(&self, pattern: &str, offset: u32, limit: u32) -> DataResult<Vec<String>>;
}

/// What the host tells about a stored path (`get_metadata`).
#[derive(Debug, Clone, PartialEq)]
pub struct FileMetadata {
    /// The last path segment.
    pub name: String,
    /// Bytes (0 for a directory).
    pub size: u64,
    /// Unix seconds.
    pub modified: f64,
    /// Unix seconds.
    pub created: f64,
    /// Whether the path is a directory.
    pub is_dir: bool,
}

/// An open storage root (the WIT `storage.bucket` resource). Paths are relative and
/// `/`-separated; the host refuses paths that leave the base.
#[allow(missing_docs)] // each method is the WIT function of the same name
pub trait Bucket {
    /// Appends `data` to `path` (`append`) or replaces the file with it.
    fn write(&self, path: &str, data: &[u8], append: bool) -> DataResult<()>;
    /// Stores the request's uploaded file `upload` at `path`; returns `path`.
    fn save_upload(&self, upload: &str, path: &str) -> DataResult<String>;
    /// Up to `length` bytes from `offset` (fewer at the end, none past it).
    fn read(&self, path: &str, offset: u64, length: u32) -> DataResult<Vec<u8>>;
    fn delete(&self, path: &str) -> DataResult<bool>;
    fn exists(&self, path: &str) -> DataResult<bool>;
    /// One page of file paths under `prefix`.
    fn list(
        &self,
        prefix: &str,
        recursive: bool,
        offset: u32,
        limit: u32,
    ) -> DataResult<Vec<String>>;
    fn metadata(&self, path: &str) -> DataResult<FileMetadata>;
    fn copy(&self, source: &str, destination: &str) -> DataResult<bool>;
    fn move_to(&self, source: &str, destination: &str) -> DataResult<bool>;
}

/// The data services an embedding grants a program.
pub trait DataHost {
    /// Opens the app's store `name` of `kind`; `uri` picks the server explicitly.
    fn open_kvstore(
        &self,
        name: &str,
        kind: StoreKind,
        uri: Option<&str>,
    ) -> DataResult<Rc<dyn KvStore>>;
    /// Opens the app's storage rooted at `base_path` (a folder inside the app's storage;
    /// `None` = the app's storage itself); `create_dirs: None` = the host's configuration.
    fn open_bucket(
        &self,
        base_path: Option<&str>,
        create_dirs: Option<bool>,
    ) -> DataResult<Rc<dyn Bucket>>;
    /// Up to `length` bytes of the uploaded file from `offset`.
    fn read_upload(&self, upload: &str, offset: u64, length: u32) -> DataResult<Vec<u8>>;
}

/// The default [`DataHost`]: an embedding without a data tier.
pub struct NoDataHost;

impl NoDataHost {
    fn refuse<T>() -> DataResult<T> {
        Err(DataError::new(
            DataErrorKind::Unavailable,
            "this runtime has no data tier (kvstore and storage need the jac-scale host)",
        ))
    }
}

impl DataHost for NoDataHost {
    fn open_kvstore(&self, _: &str, _: StoreKind, _: Option<&str>) -> DataResult<Rc<dyn KvStore>> {
        Self::refuse()
    }
    fn open_bucket(&self, _: Option<&str>, _: Option<bool>) -> DataResult<Rc<dyn Bucket>> {
        Self::refuse()
    }
    fn read_upload(&self, _: &str, _: u64, _: u32) -> DataResult<Vec<u8>> {
        Self::refuse()
    }
}

/// Items asked for per page of `find`, `scan_keys` and `list_files`; the host clamps
/// it to its own bound, so paging continues until a page comes back empty.
pub(crate) const PAGE: u32 = 1000;

/// Bytes asked for per chunk when reading a file or an upload (the host clamps it).
pub(crate) const CHUNK: u32 = 1 << 20;

/// Collects every page of a paged host listing: `fetch(offset, PAGE)` until a page is empty.
pub(crate) fn all_pages<T>(
    mut fetch: impl FnMut(u32, u32) -> DataResult<Vec<T>>,
) -> DataResult<Vec<T>> {
    let mut out = Vec::new();
    loop {
        let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
        let page = fetch(offset, PAGE)?;
        if page.is_empty() {
            return Ok(out);
        }
        out.extend(page);
    }
}

/// Reads a byte stream chunk by chunk from `start`: `read(offset, length)` until `max`
/// bytes (`None` = all) were read or a chunk comes back empty.
pub(crate) fn read_bytes(
    start: u64,
    max: Option<u64>,
    mut read: impl FnMut(u64, u32) -> DataResult<Vec<u8>>,
) -> DataResult<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let wanted = max.map_or(u64::from(CHUNK), |m| {
            (m - out.len() as u64).min(u64::from(CHUNK))
        });
        if wanted == 0 {
            return Ok(out);
        }
        let chunk = read(start + out.len() as u64, wanted as u32)?;
        if chunk.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&chunk);
    }
}

thread_local! {
    static CLASSES: std::cell::RefCell<Vec<Rc<Class>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The class object of the data tier's type `name` (one per thread, so `isinstance` and
/// `type(x).__name__` work); `init` sets its attributes when it is first built.
pub(crate) fn class_named(name: &str, init: fn(&Class)) -> Rc<Class> {
    CLASSES.with(|classes| {
        let mut classes = classes.borrow_mut();
        if let Some(class) = classes.iter().find(|c| &*c.name == name) {
            return class.clone();
        }
        let class = Class::new(name, ArchKind::Class, Vec::new(), Vec::new(), Vec::new());
        init(&class);
        let class = Rc::new(class);
        classes.push(class.clone());
        class
    })
}
