//! `jac:scale/storage`: buckets and request uploads, converted to and from `files`.
//!
//! `open` asks the app's grants first (`access-denied` without one), then the app's
//! [`TenantFiles`]; a bucket handle lives in the call's resource table (bounded) and
//! dies with the call. Uploads are the request's own files. With a `storage_mib` quota,
//! each change is counted against it ([`BytesLedger`]).

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::quotas::{BytesLedger, Ledger};
use super::{HasTableView, TableView};

use super::bindings::storage::{self as wit, Metadata, UploadInfo};
use super::bindings::types::Error as WitError;
use config::{Grants, Quota};
use files::{self as st, Bucket, MAX_CHUNK_BYTES, TenantFiles, UploadArea, Uploads};
use host_error::HostError;

type Res<T> = wasmtime::Result<Result<T, WitError>>;

/// The file storage of one app and its grants, opened at load; shared by all its calls.
#[derive(Debug, Clone)]
pub(crate) struct AppFiles {
    grants: Arc<Grants>,
    files: Arc<TenantFiles>,
    /// `None` without a `storage_mib` quota.
    ledger: Option<BytesLedger>,
}

impl AppFiles {
    /// The file storage of the app of `config` (`[storage]`); request uploads wait in
    /// `<data dir>/tmp/uploads`.
    pub(crate) fn open(config: &config::Config, grants: Arc<Grants>) -> Result<Self, String> {
        let backend = st::open_backend(&config.storage).map_err(|e| e.to_string())?;
        tracing::info!("file storage: {}", backend.describe());
        let uploads = config.data_dir.join("tmp").join("uploads");
        let files = TenantFiles::new(backend, &config.tenant, &config.storage, &uploads)
            .map_err(|e| format!("cannot open the upload folder {}: {e}", uploads.display()))?;
        Ok(AppFiles {
            grants,
            files: Arc::new(files),
            ledger: BytesLedger::new(Quota::StorageBytes, config.quotas.storage_bytes),
        })
    }

    /// Where the app's request uploads are kept.
    pub(crate) fn upload_area(&self) -> &UploadArea {
        self.files.uploads()
    }
}

/// The file storage of one call: the app's (`None` while a Jac app is built: nothing
/// granted) and the files the call's request uploaded (deleted with the call).
pub(crate) struct CallFiles {
    app: Option<AppFiles>,
    uploads: Uploads,
    /// Whether the call asked to change a stored file.
    changed: bool,
}

impl CallFiles {
    pub(crate) fn new(app: Option<AppFiles>, uploads: Uploads) -> Self {
        CallFiles {
            app,
            uploads,
            changed: false,
        }
    }

    /// Whether the call asked to change a stored file (the runtime does not run such a
    /// call again).
    pub(crate) fn changed(&self) -> bool {
        self.changed
    }

    /// The request's uploads, handed back for another run of the call.
    pub(crate) fn take_uploads(&mut self) -> Uploads {
        std::mem::take(&mut self.uploads)
    }
}

/// Add `jac:scale/storage` to `linker`; `get` projects a store's data to the call's view.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> TableView<'_, CallFiles>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasTableView<CallFiles>>(linker, get)
}

/// A storage result as the guest sees it (every failure is typed; only the app's
/// `storage_mib` quota stops the call).
fn answer<T>(result: Result<T, HostError>) -> Res<T> {
    Ok(result.map_err(WitError::from))
}

impl TableView<'_, CallFiles> {
    /// A clone of the open bucket behind `handle` (a bad handle is a host fault).
    fn bucket(&self, handle: &Resource<Bucket>) -> wasmtime::Result<Bucket> {
        Ok(self.table.get(handle)?.clone())
    }

    /// With a `storage_mib` quota, the app's stored bytes held for `change` of `bucket`,
    /// knowing what it will make of them; the call stops (a trap) when it would take the
    /// app past the quota. `None` without the quota.
    async fn storage_change(
        &mut self,
        bucket: &Bucket,
        change: Change<'_>,
    ) -> wasmtime::Result<Result<Option<Ledger>, HostError>> {
        let Some((ledger, files)) = self.call.app.as_ref().and_then(|app| {
            let ledger = app.ledger.clone()?;
            Some((ledger, app.files.clone()))
        }) else {
            return Ok(Ok(None));
        };
        let mut ledger = match ledger.hold(0, files.used_bytes()).await {
            Ok(ledger) => ledger,
            Err(e) => return Ok(Err(e)),
        };
        // (added, removed) bytes; `None` for a folder removed (its size is counted again).
        let sizes = match change {
            Change::Write {
                path,
                bytes,
                append,
            } => bucket
                .bytes_at(path)
                .await
                .map(|at| Some((bytes, if append { 0 } else { at.unwrap_or(0) }))),
            Change::Delete(path) => bucket.bytes_at(path).await.map(|at| at.map(|b| (0, b))),
            Change::Copy { from, to } => match bucket.bytes_at(from).await {
                Ok(copied) => bucket
                    .bytes_at(to)
                    .await
                    .map(|at| Some((copied.unwrap_or(0), at.unwrap_or(0)))),
                Err(e) => Err(e),
            },
            Change::Move { to } => bucket
                .bytes_at(to)
                .await
                .map(|at| Some((0, at.unwrap_or(0)))),
        };
        match sizes {
            Ok(Some((added, removed))) => ledger.grow(added, removed)?,
            Ok(None) => ledger.unknown(),
            Err(e) => return Ok(Err(e)),
        }
        Ok(Ok(Some(ledger)))
    }

    /// Run `op`, a `change` of `bucket`, within the app's `storage_mib` quota
    /// ([`Self::storage_change`]); what it made of the stored bytes is kept when
    /// it succeeded. Every change of a stored file goes through here (and marks the
    /// call as changing files).
    async fn within_storage_quota<T>(
        &mut self,
        bucket: &Bucket,
        change: Change<'_>,
        op: impl Future<Output = Result<T, HostError>>,
    ) -> Res<T> {
        self.call.changed = true;
        let ledger = match self.storage_change(bucket, change).await? {
            Ok(ledger) => ledger,
            Err(e) => return answer(Err(e)),
        };
        let done = op.await;
        if let Some(ledger) = ledger {
            ledger.settle(done.is_ok());
        }
        answer(done)
    }
}

/// A change of the app's stored files, as the storage quota counts it.
enum Change<'a> {
    /// `bytes` written at `path`, appended or replacing the file.
    Write {
        path: &'a str,
        bytes: u64,
        append: bool,
    },
    /// `path` deleted (a file or a folder).
    Delete(&'a str),
    /// The file `from` copied over `to`.
    Copy { from: &'a str, to: &'a str },
    /// A file moved over `to`.
    Move { to: &'a str },
}

impl wit::Host for TableView<'_, CallFiles> {
    async fn upload(&mut self, upload: String) -> Res<UploadInfo> {
        answer(self.call.uploads.get(&upload).map(|file| UploadInfo {
            filename: file.filename.clone(),
            content_type: file.content_type.clone(),
            size: file.size,
        }))
    }

    async fn read_upload(&mut self, upload: String, offset: u64, length: u32) -> Res<Vec<u8>> {
        let length = (length as usize).min(MAX_CHUNK_BYTES);
        answer(self.call.uploads.read(&upload, offset, length).await)
    }
}

impl wit::HostBucket for TableView<'_, CallFiles> {
    async fn open(
        &mut self,
        base_path: Option<String>,
        create_dirs: Option<bool>,
    ) -> Res<Resource<Bucket>> {
        let shown = base_path.as_deref().unwrap_or(".");
        let Some(app) = self
            .call
            .app
            .as_ref()
            .filter(|app| app.grants.allows_storage(shown))
        else {
            return answer(Err(HostError::AccessDenied(format!(
                "this app has no storage grant for {shown:?} (jac.toml [plugins.scale.capabilities] storage)"
            ))));
        };
        match app.files.open(base_path.as_deref(), create_dirs).await {
            Ok(bucket) => answer(self.push_handle(bucket)?),
            Err(e) => answer(Err(e)),
        }
    }

    async fn write(
        &mut self,
        handle: Resource<Bucket>,
        path: String,
        data: Vec<u8>,
        append: bool,
    ) -> Res<()> {
        let bucket = self.bucket(&handle)?;
        let change = Change::Write {
            path: &path,
            bytes: data.len() as u64,
            append,
        };
        self.within_storage_quota(&bucket, change, bucket.write(&path, &data, append))
            .await
    }

    async fn save_upload(
        &mut self,
        handle: Resource<Bucket>,
        upload: String,
        path: String,
    ) -> Res<String> {
        let bucket = self.bucket(&handle)?;
        let file = match self.call.uploads.get(&upload) {
            Ok(file) => file.clone(),
            Err(e) => return answer(Err(e)),
        };
        let change = Change::Write {
            path: &path,
            bytes: file.size,
            append: false,
        };
        self.within_storage_quota(&bucket, change, bucket.save_file(&file, &path))
            .await
    }

    async fn read(
        &mut self,
        handle: Resource<Bucket>,
        path: String,
        offset: u64,
        length: u32,
    ) -> Res<Vec<u8>> {
        answer(self.bucket(&handle)?.read(&path, offset, length).await)
    }

    async fn delete(&mut self, handle: Resource<Bucket>, path: String) -> Res<bool> {
        let bucket = self.bucket(&handle)?;
        self.within_storage_quota(&bucket, Change::Delete(&path), bucket.delete(&path))
            .await
    }

    async fn exists(&mut self, handle: Resource<Bucket>, path: String) -> Res<bool> {
        answer(self.bucket(&handle)?.exists(&path).await)
    }

    async fn list(
        &mut self,
        handle: Resource<Bucket>,
        prefix: String,
        recursive: bool,
        offset: u32,
        limit: u32,
    ) -> Res<Vec<String>> {
        answer(
            self.bucket(&handle)?
                .list(&prefix, recursive, offset, limit)
                .await,
        )
    }

    async fn metadata(&mut self, handle: Resource<Bucket>, path: String) -> Res<Metadata> {
        let found = self.bucket(&handle)?.metadata(&path).await;
        answer(found.map(|m: st::Metadata| Metadata {
            name: m.name,
            size: m.size,
            modified: m.modified,
            created: m.created,
            is_dir: m.is_dir,
        }))
    }

    async fn copy(
        &mut self,
        handle: Resource<Bucket>,
        source: String,
        destination: String,
    ) -> Res<bool> {
        let bucket = self.bucket(&handle)?;
        let change = Change::Copy {
            from: &source,
            to: &destination,
        };
        self.within_storage_quota(&bucket, change, bucket.copy(&source, &destination))
            .await
    }

    async fn move_(
        &mut self,
        handle: Resource<Bucket>,
        source: String,
        destination: String,
    ) -> Res<bool> {
        let bucket = self.bucket(&handle)?;
        self.within_storage_quota(
            &bucket,
            Change::Move { to: &destination },
            bucket.rename(&source, &destination),
        )
        .await
    }

    async fn drop(&mut self, handle: Resource<Bucket>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}
