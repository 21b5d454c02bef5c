//! Files uploaded with a request (`UploadFile` fields of a `multipart/form-data` body).
//!
//! Each request that uploads gets its own folder in the app's [`UploadArea`]
//! (`<data dir>/tmp/uploads/.uploads.partial-<process>/<random>/`); the bytes are streamed
//! there within the configured bound, and the folder is deleted when the request's
//! [`Uploads`] is dropped: when the call ends, or when the request fails before it
//! (nothing is kept). The area of a process is a [`PartialDir`]: what a killed process
//! left is removed when the next one opens the area.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::StorageResult;
use crate::partial::{self, PartialDir};
use host_error::HostError;

/// Where one app keeps the uploads of running requests, and how much one request may upload.
#[derive(Debug, Clone)]
pub struct UploadArea {
    /// This process's folder of request folders, deleted when the last clone drops.
    dir: Arc<PartialDir>,
    max_request_bytes: u64,
}

/// Why an upload could not be received.
#[derive(Debug, thiserror::Error)]
pub enum ReceiveError<E> {
    /// The request's uploads together exceed the bound.
    #[error("the uploaded files exceed {0} bytes")]
    TooLarge(u64),
    /// The client's stream failed.
    #[error("the upload could not be read: {0}")]
    Stream(E),
    /// The host could not keep the file.
    #[error("the upload could not be stored: {0}")]
    Io(#[from] std::io::Error),
}

impl UploadArea {
    /// This process's area in `dir`, after removing the areas of processes that stopped
    /// without deleting theirs (killed mid-upload); one request may upload at most
    /// `max_request_bytes`.
    pub fn open(dir: &Path, max_request_bytes: u64) -> std::io::Result<Self> {
        partial::sweep(dir, 0);
        Ok(UploadArea {
            dir: Arc::new(PartialDir::create_in(dir, "uploads")?),
            max_request_bytes,
        })
    }

    /// The most bytes one request may upload, all files together.
    pub fn max_request_bytes(&self) -> u64 {
        self.max_request_bytes
    }

    /// A fresh, empty set of uploads for one request (its folder is made on first use).
    pub fn begin(&self) -> Uploads {
        Uploads {
            dir: Some(
                self.dir
                    .path()
                    .join(hex::encode(rand::random::<[u8; 16]>())),
            ),
            files: Vec::new(),
            received: 0,
            max_bytes: self.max_request_bytes,
        }
    }
}

/// One uploaded file, kept on the host while its request runs.
#[derive(Debug, Clone)]
pub struct UploadedFile {
    /// The file name the client sent (may be empty).
    pub filename: String,
    /// The content type the client sent (`application/octet-stream` when none).
    pub content_type: String,
    /// Bytes received.
    pub size: u64,
    path: PathBuf,
}

impl UploadedFile {
    /// Where the host keeps the bytes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The files one request uploaded; their folder is deleted on drop.
#[derive(Debug, Default)]
pub struct Uploads {
    dir: Option<PathBuf>,
    files: Vec<(String, UploadedFile)>,
    received: u64,
    max_bytes: u64,
}

impl Uploads {
    /// Stream one file into the request's folder; returns its upload key. Fails with
    /// `TooLarge` once the request's files together exceed the bound (the partial file
    /// goes with the folder when `self` is dropped).
    pub async fn receive<S, E>(
        &mut self,
        filename: String,
        content_type: String,
        mut stream: S,
    ) -> Result<String, ReceiveError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let dir = self
            .dir
            .as_ref()
            .ok_or_else(|| std::io::Error::other("no upload area for this request"))?;
        tokio::fs::create_dir_all(dir).await?;
        let key = format!("upload-{}", self.files.len());
        let path = dir.join(&key);
        let mut file = tokio::fs::File::create(&path).await?;
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(ReceiveError::Stream)?;
            size += chunk.len() as u64;
            if self.received + size > self.max_bytes {
                return Err(ReceiveError::TooLarge(self.max_bytes));
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        self.received += size;
        self.files.push((
            key.clone(),
            UploadedFile {
                filename,
                content_type,
                size,
                path,
            },
        ));
        Ok(key)
    }

    /// The file uploaded under `key` in this request.
    pub fn get(&self, key: &str) -> StorageResult<&UploadedFile> {
        self.files
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, file)| file)
            .ok_or_else(|| HostError::NotFound(format!("this request uploaded no file {key:?}")))
    }

    /// Up to `length` bytes of the upload `key` from `offset`.
    pub async fn read(&self, key: &str, offset: u64, length: usize) -> StorageResult<Vec<u8>> {
        let upload = self.get(key)?;
        let gone = |e: std::io::Error| {
            HostError::Unavailable(format!("the upload {key:?} cannot be read: {e}"))
        };
        let mut file = tokio::fs::File::open(&upload.path).await.map_err(gone)?;
        file.seek(std::io::SeekFrom::Start(offset))
            .await
            .map_err(gone)?;
        let mut out = Vec::with_capacity(length.min(64 << 10));
        file.take(length as u64)
            .read_to_end(&mut out)
            .await
            .map_err(gone)?;
        Ok(out)
    }
}

impl Drop for Uploads {
    fn drop(&mut self) {
        if let Some(dir) = self.dir.take()
            && let Err(e) = std::fs::remove_dir_all(&dir)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %dir.display(), "could not delete a request's uploads: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(Bytes::from_static(p))))
    }

    #[tokio::test]
    async fn uploads_are_kept_until_dropped() {
        let area_dir = tempfile::tempdir().unwrap();
        let area = UploadArea::open(area_dir.path(), 100).unwrap();
        let mut uploads = area.begin();
        let key = uploads
            .receive(
                "a.txt".into(),
                "text/plain".into(),
                chunks(&[b"hello ", b"world"]),
            )
            .await
            .unwrap();
        let file = uploads.get(&key).unwrap().clone();
        assert_eq!((file.filename.as_str(), file.size), ("a.txt", 11));
        assert_eq!(uploads.read(&key, 6, 100).await.unwrap(), b"world");
        assert!(matches!(
            uploads.get("upload-9"),
            Err(HostError::NotFound(_))
        ));
        assert!(file.path().exists());
        drop(uploads);
        assert!(!file.path().exists());
        assert_eq!(std::fs::read_dir(area.dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn the_bound_covers_all_files_of_a_request_and_nothing_stays() {
        let area_dir = tempfile::tempdir().unwrap();
        let area = UploadArea::open(area_dir.path(), 10).unwrap();
        let mut uploads = area.begin();
        uploads
            .receive(String::new(), String::new(), chunks(&[b"123456"]))
            .await
            .unwrap();
        let second = uploads
            .receive(String::new(), String::new(), chunks(&[b"1234", b"56"]))
            .await;
        assert!(matches!(second, Err(ReceiveError::TooLarge(10))));
        drop(uploads);
        assert_eq!(std::fs::read_dir(area.dir.path()).unwrap().count(), 0);
    }
}
