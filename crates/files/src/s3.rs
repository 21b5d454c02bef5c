//! The S3-compatible backend (`storage_type = "s3"`), through the `object_store` crate:
//! objects `<base_path>/<app>/<bucket>/<path>` in one S3 bucket (AWS, MinIO, moto, ...).
//!
//! S3 has no folders: a "folder" is every object whose key starts with `<folder>/`, so
//! `ensure_dir` does nothing, `exists`/`metadata` of a folder look for one such object,
//! and deleting a folder deletes every object under it. Appending rewrites the object
//! (it is bounded by the file size limit). Keys are built from checked path segments only.
//!
//! Unreachable S3: a connection attempt waits at most [`CONNECT_TIMEOUT`] and a failed
//! request is retried for at most [`RETRY_TIMEOUT`] (`object_store` retries for three
//! minutes by default), so a call that needs the storage answers `unavailable` within a
//! few seconds instead of hanging to its deadline.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::buffered::BufWriter;
use object_store::path::Path as ObjectPath;
use object_store::{ClientOptions, ObjectMeta, ObjectStore, PutPayload, RetryConfig};
use tokio::io::AsyncWriteExt;

use super::{Backend, Key, MAX_LIST_SCAN, Metadata, RelPath, StorageResult};
use config::S3Settings;
use host_error::HostError;

/// Longest wait for a connection to the S3 endpoint.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest time a failed request is retried (with backoff) before its error is returned.
pub const RETRY_TIMEOUT: Duration = Duration::from_secs(3);
/// Most retries of one failed request.
const MAX_RETRIES: usize = 3;

/// Objects in one S3 bucket, below a key prefix.
pub struct S3Backend {
    store: Arc<dyn ObjectStore>,
    prefix: RelPath,
    name: String,
}

impl S3Backend {
    /// The backend for `settings`, with keys below `prefix` (`[storage] base_path`).
    pub fn open(settings: &S3Settings, prefix: &str) -> StorageResult<Self> {
        let prefix = RelPath::parse(prefix).map_err(|e| {
            HostError::Invalid(format!(
                "[storage] base_path is not a usable key prefix: {e}"
            ))
        })?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_client_options(ClientOptions::new().with_connect_timeout(CONNECT_TIMEOUT))
            .with_retry(RetryConfig {
                max_retries: MAX_RETRIES,
                retry_timeout: RETRY_TIMEOUT,
                ..RetryConfig::default()
            });
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(key) = &settings.access_key_id {
            builder = builder.with_access_key_id(key);
        }
        if let Some(secret) = &settings.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        let store = builder
            .build()
            .map_err(|e| HostError::Unavailable(format!("S3 storage cannot be configured: {e}")))?;
        Ok(S3Backend {
            store: Arc::new(store),
            name: format!(
                "s3 {}/{} ({})",
                settings.bucket,
                prefix,
                settings.endpoint.as_deref().unwrap_or("AWS")
            ),
            prefix,
        })
    }

    /// The object key of `rel` inside `bucket`.
    fn object(&self, bucket: &RelPath, rel: &RelPath) -> ObjectPath {
        ObjectPath::from_iter(
            self.prefix
                .segments()
                .chain(bucket.segments())
                .chain(rel.segments()),
        )
    }

    async fn head(&self, at: Key<'_>) -> StorageResult<Option<ObjectMeta>> {
        match self.store.head(&self.object(at.bucket, at.rel)).await {
            Ok(meta) => Ok(Some(meta)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend_error(e, at.rel)),
        }
    }

    /// Whether some object lies under the folder `at`.
    async fn is_folder(&self, at: Key<'_>) -> StorageResult<bool> {
        let folder = self.object(at.bucket, at.rel);
        match self.store.list(Some(&folder)).next().await {
            Some(Ok(_)) => Ok(true),
            Some(Err(e)) => Err(backend_error(e, at.rel)),
            None => Ok(false),
        }
    }

    /// `Ok(true)` for a file, `Ok(false)` when missing, `invalid` for a folder.
    async fn file_or_missing(&self, at: Key<'_>) -> StorageResult<bool> {
        if self.head(at).await?.is_some() {
            return Ok(true);
        }
        if self.is_folder(at).await? {
            return Err(HostError::Invalid(format!("{} is a directory", at.rel)));
        }
        Ok(false)
    }

    /// The path of `location` relative to `bucket` (`None` when it lies elsewhere).
    fn relative(&self, bucket: &RelPath, location: &ObjectPath) -> Option<String> {
        let root = self.object(bucket, &RelPath::root());
        let parts: Vec<String> = location
            .prefix_match(&root)?
            .map(|part| decode(part.as_ref()))
            .collect();
        (!parts.is_empty()).then(|| parts.join("/"))
    }
}

/// A key segment as the guest wrote it (`object_store` percent-encodes some characters).
fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

fn backend_error(e: object_store::Error, rel: &RelPath) -> HostError {
    match e {
        object_store::Error::NotFound { .. } => HostError::NotFound(format!("no such file: {rel}")),
        other => {
            tracing::warn!(path = %rel, "S3 storage error: {other}");
            HostError::Unavailable(format!("the S3 storage failed on {rel}"))
        }
    }
}

fn metadata_of(rel: &RelPath, meta: &ObjectMeta) -> Metadata {
    let modified = meta.last_modified.timestamp_millis() as f64 / 1000.0;
    Metadata {
        name: rel.name().to_owned(),
        size: meta.size,
        modified,
        created: modified,
        is_dir: false,
    }
}

#[async_trait]
impl Backend for S3Backend {
    fn describe(&self) -> String {
        self.name.clone()
    }

    /// Lists a key prefix no object has: the bucket answers with nothing, or the server
    /// (or the bucket) is missing.
    async fn reachable(&self) -> StorageResult<()> {
        let probe = ObjectPath::from_iter(self.prefix.segments().chain([".jac-scale-ready"]));
        self.store
            .list_with_delimiter(Some(&probe))
            .await
            .map(|_| ())
            .map_err(|e| HostError::Unavailable(e.to_string()))
    }

    async fn ensure_dir(&self, _at: Key<'_>, _create: bool) -> StorageResult<()> {
        Ok(())
    }

    async fn write(&self, at: Key<'_>, data: &[u8], append: bool) -> StorageResult<()> {
        let location = self.object(at.bucket, at.rel);
        let payload = if append {
            let mut existing = match self.store.get(&location).await {
                Ok(found) => found
                    .bytes()
                    .await
                    .map_err(|e| backend_error(e, at.rel))?
                    .to_vec(),
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(backend_error(e, at.rel)),
            };
            existing.extend_from_slice(data);
            PutPayload::from(existing)
        } else {
            PutPayload::from(data.to_vec())
        };
        self.store
            .put(&location, payload)
            .await
            .map(drop)
            .map_err(|e| backend_error(e, at.rel))
    }

    async fn write_from_file(&self, at: Key<'_>, source: &Path) -> StorageResult<()> {
        let location = self.object(at.bucket, at.rel);
        let mut file = tokio::fs::File::open(source).await.map_err(|e| {
            HostError::Unavailable(format!("the upload for {} is gone: {e}", at.rel))
        })?;
        let mut writer = BufWriter::new(self.store.clone(), location);
        let copied = tokio::io::copy(&mut file, &mut writer).await;
        let finished = match copied {
            Ok(_) => writer.shutdown().await,
            Err(e) => {
                let _ = writer.abort().await;
                Err(e)
            }
        };
        finished.map_err(|e| {
            tracing::warn!(path = %at.rel, "S3 upload failed: {e}");
            HostError::Unavailable(format!("the S3 storage failed on {}", at.rel))
        })
    }

    async fn read(&self, at: Key<'_>, offset: u64, length: usize) -> StorageResult<Vec<u8>> {
        let Some(meta) = self.head(at).await? else {
            if self.is_folder(at).await? {
                return Err(HostError::Invalid(format!("{} is a directory", at.rel)));
            }
            return Err(HostError::NotFound(format!("no such file: {}", at.rel)));
        };
        let end = offset.saturating_add(length as u64).min(meta.size);
        if offset >= end {
            return Ok(Vec::new());
        }
        self.store
            .get_range(&meta.location, offset..end)
            .await
            .map(|bytes| bytes.to_vec())
            .map_err(|e| backend_error(e, at.rel))
    }

    async fn delete(&self, at: Key<'_>) -> StorageResult<bool> {
        if let Some(meta) = self.head(at).await? {
            self.store
                .delete(&meta.location)
                .await
                .map_err(|e| backend_error(e, at.rel))?;
            return Ok(true);
        }
        let folder = self.object(at.bucket, at.rel);
        let locations = self
            .store
            .list(Some(&folder))
            .map_ok(|meta| meta.location)
            .boxed();
        let deleted: Vec<ObjectPath> = self
            .store
            .delete_stream(locations)
            .try_collect()
            .await
            .map_err(|e| backend_error(e, at.rel))?;
        Ok(!deleted.is_empty())
    }

    async fn exists(&self, at: Key<'_>) -> StorageResult<bool> {
        Ok(self.head(at).await?.is_some() || self.is_folder(at).await?)
    }

    async fn list(
        &self,
        at: Key<'_>,
        recursive: bool,
        offset: usize,
        limit: usize,
    ) -> StorageResult<Vec<String>> {
        let folder = self.object(at.bucket, at.rel);
        let objects: Vec<ObjectMeta> = if recursive {
            self.store
                .list(Some(&folder))
                .take(MAX_LIST_SCAN + 1)
                .try_collect()
                .await
                .map_err(|e| backend_error(e, at.rel))?
        } else {
            self.store
                .list_with_delimiter(Some(&folder))
                .await
                .map_err(|e| backend_error(e, at.rel))?
                .objects
        };
        if objects.len() > MAX_LIST_SCAN {
            return Err(HostError::QuotaExceeded(format!(
                "listing {} looks at more than {MAX_LIST_SCAN} entries",
                at.rel
            )));
        }
        let mut found: Vec<String> = objects
            .iter()
            .filter_map(|meta| self.relative(at.bucket, &meta.location))
            .collect();
        found.sort_unstable();
        Ok(found.into_iter().skip(offset).take(limit).collect())
    }

    async fn bytes_under(&self, at: Key<'_>) -> StorageResult<u64> {
        let folder = self.object(at.bucket, at.rel);
        self.store
            .list(Some(&folder))
            .try_fold(0u64, |sum, meta| async move { Ok(sum + meta.size) })
            .await
            .map_err(|e| backend_error(e, at.rel))
    }

    async fn metadata(&self, at: Key<'_>) -> StorageResult<Metadata> {
        if let Some(meta) = self.head(at).await? {
            return Ok(metadata_of(at.rel, &meta));
        }
        if at.rel.is_root() || self.is_folder(at).await? {
            return Ok(Metadata {
                name: at.rel.name().to_owned(),
                size: 0,
                modified: 0.0,
                created: 0.0,
                is_dir: true,
            });
        }
        Err(HostError::NotFound(format!("no such file: {}", at.rel)))
    }

    async fn copy(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool> {
        if !self.file_or_missing(from).await? {
            return Ok(false);
        }
        self.store
            .copy(
                &self.object(from.bucket, from.rel),
                &self.object(to.bucket, to.rel),
            )
            .await
            .map(|()| true)
            .map_err(|e| backend_error(e, to.rel))
    }

    async fn rename(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool> {
        if !self.file_or_missing(from).await? {
            return Ok(false);
        }
        self.store
            .rename(
                &self.object(from.bucket, from.rel),
                &self.object(to.bucket, to.rel),
            )
            .await
            .map(|()| true)
            .map_err(|e| backend_error(e, to.rel))
    }
}
