//! The local-directory backend: `<base_path>/<app>/<bucket>/<path>` on the host's disk,
//! with tokio's async file I/O.
//!
//! Before touching a path it resolves the deepest part that exists (following symbolic
//! links) and refuses the operation with `invalid` unless that real path lies inside the
//! bucket's real folder. A symlink an operator placed inside a bucket may point elsewhere
//! inside it, never out of it; a dangling symlink is refused too.
//!
//! A file is replaced (a write, a saved upload, a copy) by writing a partial
//! (`partial::PartialFile`) in the root's folder of partials, [`PARTIALS`], and renaming
//! it into place: a process killed in the middle leaves the old file or the whole new one,
//! never part of it, and the next start removes the partial. That folder is outside every
//! app's folder, so no guest lists, reads or counts a partial. An append writes in place:
//! a kill can leave part of the appended bytes after the file's earlier content.

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use async_trait::async_trait;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::partial::{self, PartialFile};
use super::{Backend, Key, MAX_LIST_SCAN, Metadata, RelPath, StorageResult, unix_seconds};
use host_error::HostError;

/// The folder of files being written, below the backend root, next to the apps' folders
/// (a name no app of `serve` can take: those are DNS labels).
pub const PARTIALS: &str = ".jac-scale-partial";

/// Files under one directory of the host.
#[derive(Debug)]
pub struct LocalBackend {
    /// The root directory as configured (made absolute).
    root: PathBuf,
    /// Create the root on first use when it is missing.
    create: bool,
    /// The canonical root, resolved (and created) on first use, so that a host whose
    /// apps never store a file never gets a storage directory.
    real_root: tokio::sync::OnceCell<PathBuf>,
}

impl LocalBackend {
    /// The backend rooted at `root` (relative to the working directory; created on first
    /// use when `create` and missing). Removes the partials a killed process left.
    pub fn open(root: &Path, create: bool) -> StorageResult<Self> {
        let root = std::path::absolute(root).map_err(|e| {
            HostError::Unavailable(format!("storage path {} is unusable: {e}", root.display()))
        })?;
        partial::sweep(&root.join(PARTIALS), 0);
        Ok(LocalBackend {
            root,
            create,
            real_root: tokio::sync::OnceCell::new(),
        })
    }

    /// The canonical root directory.
    async fn real_root(&self) -> StorageResult<&PathBuf> {
        self.real_root
            .get_or_try_init(|| async {
                let unavailable = |e: std::io::Error| {
                    tracing::error!(root = %self.root.display(), "storage directory unusable: {e}");
                    HostError::Unavailable("the storage directory cannot be used".into())
                };
                if self.create {
                    tokio::fs::create_dir_all(&self.root)
                        .await
                        .map_err(unavailable)?;
                }
                let real = tokio::fs::canonicalize(&self.root)
                    .await
                    .map_err(unavailable)?;
                if !tokio::fs::metadata(&real)
                    .await
                    .map_err(unavailable)?
                    .is_dir()
                {
                    return Err(unavailable(std::io::Error::other("not a directory")));
                }
                Ok(real)
            })
            .await
    }

    /// Replaces the file at `path` (the guest's `rel`) with what `fill` writes into a
    /// fresh partial, by one rename. Where the rename cannot cross from the folder of
    /// partials (another file system mounted below the root), the partial is copied to
    /// one next to `path` first.
    async fn replace(
        &self,
        path: PathBuf,
        rel: &RelPath,
        fill: impl FnOnce(&mut PartialFile) -> std::io::Result<()> + Send + 'static,
    ) -> StorageResult<()> {
        let partials = self.real_root().await?.join(PARTIALS);
        let name = rel.name().to_owned();
        let replaced = tokio::task::spawn_blocking(move || {
            let mut partial = PartialFile::create_in(&partials, &name)?;
            fill(&mut partial)?;
            match partial.persist(&path) {
                Err(e) if e.kind() == ErrorKind::CrossesDevices => {
                    let beside = path.parent().unwrap_or(Path::new("."));
                    let mut near = PartialFile::create_in(beside, &name)?;
                    std::fs::copy(partial.path(), near.path())?;
                    near.persist(&path)
                }
                persisted => persisted,
            }
        })
        .await
        .map_err(|e| HostError::Unavailable(format!("storage write stopped: {e}")))?;
        replaced.map_err(|e| io_error(e, rel))
    }

    /// The host path of `at`, after checking that it stays inside its bucket.
    async fn resolve(&self, at: Key<'_>) -> StorageResult<PathBuf> {
        let root = self.real_root().await?;
        let bucket = root.join(at.bucket.as_str());
        let path = bucket.join(at.rel.as_str());
        // The boundary is the bucket's real folder; while it does not exist yet, the
        // backend root (nothing below the bucket exists then, so nothing can escape it).
        let boundary = match real_path(&bucket).await {
            Ok(Some(real)) if real.starts_with(root) => real,
            Ok(Some(_)) | Err(()) => return Err(escapes(at.rel)),
            Ok(None) => root.clone(),
        };
        let mut probe = path.as_path();
        loop {
            match real_path(probe).await {
                Ok(Some(real)) if real.starts_with(&boundary) => return Ok(path),
                Ok(Some(_)) | Err(()) => return Err(escapes(at.rel)),
                Ok(None) => {}
            }
            probe = match probe.parent() {
                Some(parent) if parent.starts_with(root) => parent,
                _ => return Err(escapes(at.rel)),
            };
        }
    }
}

/// The real path of `path` if it exists (`None` if it does not, `Err` for a dangling
/// or unreadable symlink).
async fn real_path(path: &Path) -> Result<Option<PathBuf>, ()> {
    match tokio::fs::symlink_metadata(path).await {
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(_) => Err(()),
        Ok(_) => tokio::fs::canonicalize(path)
            .await
            .map(Some)
            .map_err(|_| ()),
    }
}

fn escapes(rel: &RelPath) -> HostError {
    HostError::Invalid(format!(
        "path {:?} leads outside the storage base (through a symbolic link)",
        rel.as_str()
    ))
}

/// An I/O error as the guest sees it: named by the guest's path, never the host's.
fn io_error(e: std::io::Error, rel: &RelPath) -> HostError {
    match e.kind() {
        ErrorKind::NotFound => HostError::NotFound(format!("no such file: {rel}")),
        ErrorKind::IsADirectory => HostError::Invalid(format!("{rel} is a directory")),
        ErrorKind::NotADirectory => {
            HostError::Invalid(format!("a parent of {rel} is a file, not a directory"))
        }
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => {
            HostError::QuotaExceeded(format!("no space left to write {rel}"))
        }
        _ => {
            tracing::warn!(path = %rel, "local storage I/O error: {e}");
            HostError::Unavailable(format!("storage I/O error on {rel}: {}", e.kind()))
        }
    }
}

fn is_dir_error(rel: &RelPath) -> HostError {
    HostError::Invalid(format!("{rel} is a directory"))
}

/// Create the parent folders of `path`.
async fn create_parents(path: &Path, rel: &RelPath) -> StorageResult<()> {
    match path.parent() {
        Some(parent) => tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| io_error(e, rel)),
        None => Ok(()),
    }
}

/// Whether `path` is a file (`Some(false)` for a folder, `None` when missing).
async fn is_file(path: &Path, rel: &RelPath) -> StorageResult<Option<bool>> {
    match tokio::fs::metadata(path).await {
        Ok(meta) => Ok(Some(!meta.is_dir())),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_error(e, rel)),
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn describe(&self) -> String {
        format!("local {}", self.root.display())
    }

    async fn ensure_dir(&self, at: Key<'_>, create: bool) -> StorageResult<()> {
        let path = self.resolve(at).await?;
        if create {
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|e| io_error(e, at.rel))
        } else {
            match is_file(&path, at.rel).await? {
                Some(false) => Ok(()),
                Some(true) => Err(HostError::Invalid(format!("{} is a file", at.rel))),
                None => Err(HostError::NotFound(format!("no such folder: {}", at.rel))),
            }
        }
    }

    async fn write(&self, at: Key<'_>, data: &[u8], append: bool) -> StorageResult<()> {
        let path = self.resolve(at).await?;
        create_parents(&path, at.rel).await?;
        if !append {
            let data = data.to_vec();
            return self
                .replace(path, at.rel, move |partial| partial.file().write_all(&data))
                .await;
        }
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .await
            .map_err(|e| io_error(e, at.rel))?;
        file.write_all(data)
            .await
            .map_err(|e| io_error(e, at.rel))?;
        file.flush().await.map_err(|e| io_error(e, at.rel))
    }

    async fn write_from_file(&self, at: Key<'_>, source: &Path) -> StorageResult<()> {
        let path = self.resolve(at).await?;
        if is_file(&path, at.rel).await? == Some(false) {
            return Err(is_dir_error(at.rel));
        }
        create_parents(&path, at.rel).await?;
        let source = source.to_owned();
        self.replace(path, at.rel, move |partial| {
            std::fs::copy(source, partial.path()).map(drop)
        })
        .await
    }

    async fn read(&self, at: Key<'_>, offset: u64, length: usize) -> StorageResult<Vec<u8>> {
        let path = self.resolve(at).await?;
        match is_file(&path, at.rel).await? {
            None => return Err(HostError::NotFound(format!("no such file: {}", at.rel))),
            Some(false) => return Err(is_dir_error(at.rel)),
            Some(true) => {}
        }
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| io_error(e, at.rel))?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(|e| io_error(e, at.rel))?;
        let mut out = Vec::with_capacity(length.min(64 << 10));
        file.take(length as u64)
            .read_to_end(&mut out)
            .await
            .map_err(|e| io_error(e, at.rel))?;
        Ok(out)
    }

    async fn delete(&self, at: Key<'_>) -> StorageResult<bool> {
        let path = self.resolve(at).await?;
        let kind = match tokio::fs::symlink_metadata(&path).await {
            Ok(meta) => meta.file_type(),
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(io_error(e, at.rel)),
        };
        let removed = if kind.is_dir() {
            tokio::fs::remove_dir_all(&path).await
        } else {
            tokio::fs::remove_file(&path).await
        };
        removed.map(|()| true).map_err(|e| io_error(e, at.rel))
    }

    async fn exists(&self, at: Key<'_>) -> StorageResult<bool> {
        let path = self.resolve(at).await?;
        Ok(is_file(&path, at.rel).await?.is_some())
    }

    async fn list(
        &self,
        at: Key<'_>,
        recursive: bool,
        offset: usize,
        limit: usize,
    ) -> StorageResult<Vec<String>> {
        let start = self.resolve(at).await?;
        if is_file(&start, at.rel).await? != Some(false) {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut pending = vec![(start, at.rel.clone())];
        let mut scanned = 0usize;
        while let Some((dir, rel)) = pending.pop() {
            let mut entries = tokio::fs::read_dir(&dir)
                .await
                .map_err(|e| io_error(e, &rel))?;
            while let Some(entry) = entries.next_entry().await.map_err(|e| io_error(e, &rel))? {
                scanned += 1;
                if scanned > MAX_LIST_SCAN {
                    return Err(HostError::QuotaExceeded(format!(
                        "listing {} looks at more than {MAX_LIST_SCAN} entries",
                        at.rel
                    )));
                }
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue; // not UTF-8: no guest could have written it
                };
                let Ok(child) = RelPath::parse(&name).map(|n| rel.join(&n)) else {
                    continue;
                };
                let kind = entry.file_type().await.map_err(|e| io_error(e, &child))?;
                if kind.is_dir() {
                    if recursive {
                        pending.push((entry.path(), child));
                    }
                } else if kind.is_file()
                    || (kind.is_symlink()
                        && self
                            .resolve(Key {
                                bucket: at.bucket,
                                rel: &child,
                            })
                            .await
                            .is_ok()
                        && is_file(&entry.path(), &child).await? == Some(true))
                {
                    found.push(child.to_string());
                }
            }
        }
        found.sort_unstable();
        Ok(found.into_iter().skip(offset).take(limit).collect())
    }

    async fn bytes_under(&self, at: Key<'_>) -> StorageResult<u64> {
        let start = match self.resolve(at).await {
            Ok(path) => path,
            Err(HostError::NotFound(_)) => return Ok(0),
            Err(e) => return Err(e),
        };
        tokio::task::spawn_blocking(move || bytes_under(&start))
            .await
            .map_err(|e| HostError::Unavailable(e.to_string()))
    }

    async fn metadata(&self, at: Key<'_>) -> StorageResult<Metadata> {
        let path = self.resolve(at).await?;
        let meta = tokio::fs::metadata(&path)
            .await
            .map_err(|e| io_error(e, at.rel))?;
        let modified = unix_seconds(meta.modified());
        let created = match meta.created() {
            Ok(t) => unix_seconds(Ok(t)),
            Err(_) => modified,
        };
        Ok(Metadata {
            name: at.rel.name().to_owned(),
            size: if meta.is_dir() { 0 } else { meta.len() },
            modified,
            created,
            is_dir: meta.is_dir(),
        })
    }

    async fn copy(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool> {
        let Some((source, target)) = self.file_pair(from, to).await? else {
            return Ok(false);
        };
        self.replace(target, to.rel, move |partial| {
            std::fs::copy(source, partial.path()).map(drop)
        })
        .await
        .map(|()| true)
    }

    async fn rename(&self, from: Key<'_>, to: Key<'_>) -> StorageResult<bool> {
        let Some((source, target)) = self.file_pair(from, to).await? else {
            return Ok(false);
        };
        tokio::fs::rename(&source, &target)
            .await
            .map(|()| true)
            .map_err(|e| io_error(e, to.rel))
    }
}

impl LocalBackend {
    /// The real paths of a copy or move: `None` when `from` does not exist; an error when
    /// either end is a directory. Creates the target's parent folders.
    async fn file_pair(
        &self,
        from: Key<'_>,
        to: Key<'_>,
    ) -> StorageResult<Option<(PathBuf, PathBuf)>> {
        let source = self.resolve(from).await?;
        match is_file(&source, from.rel).await? {
            None => return Ok(None),
            Some(false) => return Err(is_dir_error(from.rel)),
            Some(true) => {}
        }
        let target = self.resolve(to).await?;
        if is_file(&target, to.rel).await? == Some(false) {
            return Err(is_dir_error(to.rel));
        }
        create_parents(&target, to.rel).await?;
        Ok(Some((source, target)))
    }
}

/// Bytes of the files under `dir` (links not followed; unreadable entries count 0).
pub fn bytes_under(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => bytes_under(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}
