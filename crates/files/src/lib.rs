//! File storage for apps (`store()` in Jac): one [`Backend`] trait, a local directory
//! ([`local`]) and an S3-compatible bucket ([`s3`]) behind it, and request uploads.
//!
//! Layout: the backend's root (`[storage] base_path`, a directory or a key prefix) holds
//! one folder per app, `<root>/<app>/`; a guest's `store(base_path="./uploads")` is the
//! bucket `<root>/<app>/uploads/`. Every guest path is checked by [`RelPath`] (no `..`,
//! no absolute paths) and the local backend also refuses symbolic links that lead out of
//! the bucket, so an app never reaches another app's files or anything else on the host.
//!
//! Bounds: a read or write moves at most [`MAX_CHUNK_BYTES`], a listing returns at most
//! [`MAX_LIST_PAGE`] paths, a file grows to at most `[storage] max_file_bytes`.
//!
//! Invariant: no wasmtime and no HTTP types here; grants are decided by
//! `config::Grants` before a bucket is opened.

pub mod local;
pub mod partial;
pub mod path;
#[cfg(feature = "s3")]
pub mod s3;
#[cfg(test)]
mod tests;
pub mod uploads;

pub use local::bytes_under;

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use async_trait::async_trait;

use config::{StorageBackendSettings, StorageSettings};
use host_error::HostError;
pub use path::RelPath;
pub use uploads::{UploadArea, UploadedFile, Uploads};

/// Most bytes one `read` or `write` moves (larger reads are clamped, larger writes refused).
pub const MAX_CHUNK_BYTES: usize = 1 << 20;
/// Most paths one `list` call returns (larger limits are clamped).
pub const MAX_LIST_PAGE: u32 = 1000;
/// Most entries a listing looks at before it gives up with `quota-exceeded`.
pub const MAX_LIST_SCAN: usize = 100_000;

/// The result of a storage operation.
pub type StorageResult<T> = Result<T, HostError>;

/// What `metadata` tells about a path.
#[derive(Debug, Clone, PartialEq)]
pub struct Metadata {
    /// The last path segment.
    pub name: String,
    /// Bytes (0 for a directory).
    pub size: u64,
    /// Unix seconds.
    pub modified: f64,
    /// Unix seconds (the modification time where the backend keeps no creation time).
    pub created: f64,
    /// Whether the path is a directory (a key prefix on S3).
    pub is_dir: bool,
}

/// A path inside one bucket: `bucket` is the bucket's prefix below the backend root
/// (`<app>/<base path>`), `rel` the guest's path inside it. Backends keep every
/// operation inside `bucket`.
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    /// The bucket's folder below the backend root.
    pub bucket: &'a RelPath,
    /// The path inside the bucket (the root = the bucket folder itself).
    pub rel: &'a RelPath,
}

/// A place files are kept. Every method works inside `key.bucket` only.
#[async_trait]
pub trait Backend: Send + Sync {
    /// One line for the start-up log (`local /srv/storage`, `s3 bucket/prefix`).
    fn describe(&self) -> String;
    /// Make sure the folder exists: create it (`create`) or report `not-found`. A no-op
    /// where folders do not exist (S3).
    async fn ensure_dir(&self, at: Key<'_>, create: bool) -> StorageResult<()>;
    /// Append `data` to the file, or replace the file with it; parents are created.
    async fn write(&self, at: Key<'_>, data: &[u8], append: bool) -> StorageResult<()>;
    /// Replace the file with the contents of the host file `source`.
    async fn write_from_file(&self, at: Key<'_>, source: &Path) -> StorageResult<()>;
    /// Up to `length` bytes from `offset` (fewer at the end, none past it).
    async fn read(&self, at: Key<'_>, offset: u64, length: usize) -> StorageResult<Vec<u8>>;
    /// Delete a file or a folder with its contents; whether anything existed.
    async fn delete(&self, at: Key<'_>) -> StorageResult<bool>;
    /// Whether a file or folder exists.
    async fn exists(&self, at: Key<'_>) -> StorageResult<bool>;
    /// Files under the folder `at` (directly, or at any depth), as paths relative to the
    /// bucket, in byte order, skipping `offset`, at most `limit`.
    async fn list(
        &self,
        at: Key<'_>,
        recursive: bool,
        offset: usize,
        limit: usize,
    ) -> StorageResult<Vec<String>>;
    /// What the path is.
    async fn metadata(&self, at: Key<'_>) -> StorageResult<Metadata>;
    /// Copy a file; `false` when `from` does not exist, `invalid` for a folder.
    async fn copy(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool>;
    /// Move a file; `false` when `from` does not exist, `invalid` for a folder.
    async fn rename(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool>;
    /// Bytes of every file under the folder `at`, at any depth (0 when it is missing).
    async fn bytes_under(&self, at: Key<'_>) -> StorageResult<u64>;
    /// Whether the backend's server answers (`/healthz/ready`); local storage always does.
    async fn reachable(&self) -> StorageResult<()> {
        Ok(())
    }
}

/// The backend `settings` choose, ready to use.
pub fn open_backend(settings: &StorageSettings) -> StorageResult<Arc<dyn Backend>> {
    Ok(match &settings.backend {
        StorageBackendSettings::Local => Arc::new(local::LocalBackend::open(
            Path::new(&settings.base_path),
            settings.create_dirs,
        )?),
        #[cfg(feature = "s3")]
        StorageBackendSettings::S3(s3) => Arc::new(s3::S3Backend::open(s3, &settings.base_path)?),
        #[cfg(not(feature = "s3"))]
        StorageBackendSettings::S3(_) => {
            return Err(HostError::Unavailable(
                "storage_type is s3, but this jac-scale was built without S3 support (cargo feature `s3`)".into(),
            ));
        }
    })
}

/// One app's storage: its folder on the backend, its bounds and its upload area.
pub struct TenantFiles {
    backend: Arc<dyn Backend>,
    app_root: RelPath,
    create_dirs: bool,
    max_file_bytes: u64,
    uploads: UploadArea,
}

impl std::fmt::Debug for TenantFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantFiles")
            .field("backend", &self.backend.describe())
            .field("app_root", &self.app_root)
            .finish_non_exhaustive()
    }
}

impl TenantFiles {
    /// The storage of app `app` on `backend`, configured by `settings`; uploads are kept
    /// in `upload_dir` while their request runs (see [`UploadArea::open`]).
    pub fn new(
        backend: Arc<dyn Backend>,
        app: &str,
        settings: &StorageSettings,
        upload_dir: &Path,
    ) -> std::io::Result<Self> {
        Ok(TenantFiles {
            backend,
            app_root: app_folder(app),
            create_dirs: settings.create_dirs,
            max_file_bytes: settings.max_file_bytes,
            uploads: UploadArea::open(upload_dir, settings.max_upload_bytes)?,
        })
    }

    /// Where this app's request uploads are kept.
    pub fn uploads(&self) -> &UploadArea {
        &self.uploads
    }

    /// Bytes of every file the app keeps (its whole folder: a walk of it).
    pub async fn used_bytes(&self) -> StorageResult<u64> {
        self.backend
            .bytes_under(Key {
                bucket: &self.app_root,
                rel: &RelPath::root(),
            })
            .await
    }

    /// Open the bucket at `base_path` (`None` = the app's folder itself), creating its
    /// folder when `create_dirs` (`None` = `[storage] create_dirs`).
    pub async fn open(
        &self,
        base_path: Option<&str>,
        create_dirs: Option<bool>,
    ) -> StorageResult<Bucket> {
        let base = RelPath::parse(base_path.unwrap_or_default())?;
        let bucket = Bucket {
            backend: self.backend.clone(),
            root: self.app_root.join(&base),
            max_file_bytes: self.max_file_bytes,
        };
        let create = create_dirs.unwrap_or(self.create_dirs);
        bucket
            .backend
            .ensure_dir(bucket.key(&RelPath::root()), create)
            .await
            .map_err(|e| match e {
                HostError::NotFound(_) => HostError::NotFound(format!(
                    "the storage base {:?} does not exist (create_dirs is false)",
                    base_path.unwrap_or(".")
                )),
                other => other,
            })?;
        Ok(bucket)
    }
}

/// The folder of app `name`: its name with anything but `[A-Za-z0-9._-]` replaced by `_`
/// (so it is always one safe path segment).
fn app_folder(name: &str) -> RelPath {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = match safe.as_str() {
        "" | "." | ".." => format!("app{safe}"),
        _ => safe,
    };
    RelPath::parse(&safe).expect("an app folder name is one safe segment")
}

/// An open bucket: a folder of one app on the backend. Cheap to clone.
#[derive(Clone)]
pub struct Bucket {
    backend: Arc<dyn Backend>,
    root: RelPath,
    max_file_bytes: u64,
}

impl Bucket {
    fn key<'a>(&'a self, rel: &'a RelPath) -> Key<'a> {
        Key {
            bucket: &self.root,
            rel,
        }
    }

    fn too_big(&self, path: &RelPath) -> HostError {
        HostError::QuotaExceeded(format!(
            "{path} would be larger than the file size limit of {} bytes",
            self.max_file_bytes
        ))
    }

    /// Append `data` to `path` or replace the file with it.
    pub async fn write(&self, path: &str, data: &[u8], append: bool) -> StorageResult<()> {
        let rel = RelPath::parse_entry(path)?;
        if data.len() > MAX_CHUNK_BYTES {
            return Err(HostError::QuotaExceeded(format!(
                "one write takes at most {MAX_CHUNK_BYTES} bytes; write larger files in appended chunks"
            )));
        }
        let existing = if append {
            match self.backend.metadata(self.key(&rel)).await {
                Ok(meta) if meta.is_dir => {
                    return Err(HostError::Invalid(format!("{rel} is a directory")));
                }
                Ok(meta) => meta.size,
                Err(HostError::NotFound(_)) => 0,
                Err(e) => return Err(e),
            }
        } else {
            0
        };
        if existing.saturating_add(data.len() as u64) > self.max_file_bytes {
            return Err(self.too_big(&rel));
        }
        self.backend.write(self.key(&rel), data, append).await
    }

    /// Store the host file `file` at `path`; returns the normalised path.
    pub async fn save_file(&self, file: &UploadedFile, path: &str) -> StorageResult<String> {
        let rel = RelPath::parse_entry(path)?;
        if file.size > self.max_file_bytes {
            return Err(self.too_big(&rel));
        }
        self.backend
            .write_from_file(self.key(&rel), file.path())
            .await?;
        Ok(rel.to_string())
    }

    /// Up to `length` bytes of `path` from `offset`, clamped to [`MAX_CHUNK_BYTES`].
    pub async fn read(&self, path: &str, offset: u64, length: u32) -> StorageResult<Vec<u8>> {
        let rel = RelPath::parse_entry(path)?;
        let length = usize::try_from(length)
            .unwrap_or(MAX_CHUNK_BYTES)
            .min(MAX_CHUNK_BYTES);
        self.backend.read(self.key(&rel), offset, length).await
    }

    /// Delete a file or a folder; whether it existed.
    pub async fn delete(&self, path: &str) -> StorageResult<bool> {
        let rel = RelPath::parse_entry(path)?;
        self.backend.delete(self.key(&rel)).await
    }

    /// Whether `path` exists.
    pub async fn exists(&self, path: &str) -> StorageResult<bool> {
        let rel = RelPath::parse(path)?;
        self.backend.exists(self.key(&rel)).await
    }

    /// File paths under `prefix`, a page of at most [`MAX_LIST_PAGE`].
    pub async fn list(
        &self,
        prefix: &str,
        recursive: bool,
        offset: u32,
        limit: u32,
    ) -> StorageResult<Vec<String>> {
        let rel = RelPath::parse(prefix)?;
        let limit = limit.min(MAX_LIST_PAGE) as usize;
        self.backend
            .list(self.key(&rel), recursive, offset as usize, limit)
            .await
    }

    /// What `path` is.
    pub async fn metadata(&self, path: &str) -> StorageResult<Metadata> {
        let rel = RelPath::parse(path)?;
        self.backend.metadata(self.key(&rel)).await
    }

    /// Bytes `path` holds: a file's size, 0 when nothing is there, `None` for a folder.
    pub async fn bytes_at(&self, path: &str) -> StorageResult<Option<u64>> {
        match self.metadata(path).await {
            Ok(meta) if meta.is_dir => Ok(None),
            Ok(meta) => Ok(Some(meta.size)),
            Err(HostError::NotFound(_)) => Ok(Some(0)),
            Err(e) => Err(e),
        }
    }

    /// Copy a file; `false` when `source` does not exist.
    pub async fn copy(&self, source: &str, destination: &str) -> StorageResult<bool> {
        let (from, to) = (
            RelPath::parse_entry(source)?,
            RelPath::parse_entry(destination)?,
        );
        self.backend.copy(self.key(&from), self.key(&to)).await
    }

    /// Move a file; `false` when `source` does not exist.
    pub async fn rename(&self, source: &str, destination: &str) -> StorageResult<bool> {
        let (from, to) = (
            RelPath::parse_entry(source)?,
            RelPath::parse_entry(destination)?,
        );
        self.backend.rename(self.key(&from), self.key(&to)).await
    }
}

/// Unix seconds of a file time (0 when the platform has none).
fn unix_seconds(time: std::io::Result<SystemTime>) -> f64 {
    time.ok()
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or(0.0, |d| d.as_secs_f64())
}

#[cfg(test)]
mod app_folder_tests {
    use super::app_folder;

    #[test]
    fn app_names_become_one_safe_segment() {
        assert_eq!(app_folder("files").as_str(), "files");
        assert_eq!(app_folder("my app/..").as_str(), "my_app_..");
        assert_eq!(app_folder("..").as_str(), "app..");
        assert_eq!(app_folder("").as_str(), "app");
    }
}
