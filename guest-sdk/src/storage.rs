//! File storage and uploads: the spec's `store()` and `UploadFile`.
//!
//! [`Storage::open`] opens the app's storage at a base path (`store(base_path="./uploads")`);
//! its methods are the spec's storage interface. The host keeps the files (a local
//! directory or an S3 bucket, as configured), confines every path to the app's own
//! storage (`..` and absolute paths are [`HostError::Invalid`](crate::HostError::Invalid)) and checks the app's
//! grant when a storage is opened ([`HostError::AccessDenied`](crate::HostError::AccessDenied)).
//!
//! An [`UploadFile`] field makes a walker accept `multipart/form-data` bodies: the host
//! keeps the uploaded bytes while the call runs, [`Storage::upload`] stores them without
//! copying them through the app, [`UploadFile::read`] reads them.
//!
//! ```no_run
//! use jac_scale_guest::prelude::*;
//! use jac_scale_guest::storage::{Storage, UploadFile};
//!
//! /// Store an uploaded file under `documents/`.
//! #[walker(public)]
//! struct SaveDocument { file: UploadFile }
//!
//! #[walker]
//! impl SaveDocument {
//!     #[entry(Root)]
//!     fn save(&mut self, w: &mut Walk) -> Result {
//!         let storage = Storage::open(Some("./uploads"))?;
//!         let path = storage.upload(&self.file, &format!("documents/{}", self.file.filename))?;
//!         w.report(json!({"path": path, "size": storage.get_metadata(&path)?.size}))
//!     }
//! }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bindings::jac::scale::storage as wit;
use crate::endpoint::JsonSchema;
use crate::error::Result;

/// Bytes the SDK moves per host call; the host's chunk bound is the same 1 MiB.
pub const CHUNK_BYTES: u32 = 1 << 20;
/// Paths the SDK asks for per listing call (the host's page bound).
pub const LIST_PAGE: u32 = 1000;

/// A file uploaded with the current request: the value of an upload field.
///
/// Its schema is OpenAPI's file type, `{"type": "string", "format": "binary"}`, which
/// tells the host to accept `multipart/form-data` for the endpoint. The bytes stay on
/// the host and are deleted when the call ends: store them with [`Storage::upload`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadFile {
    /// The file name the client sent.
    pub filename: String,
    /// The content type the client sent (`application/octet-stream` when none).
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The host's key of this upload, valid during this call.
    pub upload: String,
}

impl JsonSchema for UploadFile {
    fn json_schema() -> Value {
        json!({"type": "string", "format": "binary"})
    }
}

impl UploadFile {
    /// All the file's bytes (read from the host in chunks).
    pub fn read(&self) -> Result<Vec<u8>> {
        read_all(|offset| wit::read_upload(&self.upload, offset, CHUNK_BYTES))
    }
}

/// What [`Storage::get_metadata`] tells about a path.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
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

/// An open storage: a folder of the app's files (`store(base_path=...)`).
pub struct Storage {
    bucket: wit::Bucket,
}

impl Storage {
    /// Opens the storage at `base_path` (`None`: the app's storage root), creating its
    /// folder as configured (`[storage] create_dirs`, default yes).
    pub fn open(base_path: Option<&str>) -> Result<Storage> {
        Self::open_with(base_path, None)
    }

    /// Opens the storage at `base_path`; `create_dirs` overrides `[storage] create_dirs`
    /// (with `Some(false)`, a missing folder is [`HostError::NotFound`](crate::HostError::NotFound)).
    pub fn open_with(base_path: Option<&str>, create_dirs: Option<bool>) -> Result<Storage> {
        let bucket = wit::Bucket::open(base_path, create_dirs)?;
        Ok(Storage { bucket })
    }

    /// Stores an uploaded file at `destination` (`upload(source, destination)`); returns
    /// the normalised path. The bytes go from the host's upload area straight to storage.
    pub fn upload(&self, file: &UploadFile, destination: &str) -> Result<String> {
        Ok(self.bucket.save_upload(&file.upload, destination)?)
    }

    /// Writes `data` to `path`, replacing the file (in chunks of [`CHUNK_BYTES`]).
    pub fn write(&self, path: &str, data: &[u8]) -> Result {
        let mut chunks = data.chunks(CHUNK_BYTES as usize);
        let first = chunks.next().unwrap_or_default();
        self.bucket.write(path, first, false)?;
        for chunk in chunks {
            self.bucket.write(path, chunk, true)?;
        }
        Ok(())
    }

    /// Appends `data` to `path` (creating it).
    pub fn append(&self, path: &str, data: &[u8]) -> Result {
        for chunk in data.chunks(CHUNK_BYTES as usize) {
            self.bucket.write(path, chunk, true)?;
        }
        Ok(())
    }

    /// The whole file (`download(source)`); [`HostError::NotFound`](crate::HostError::NotFound) when it is missing.
    pub fn download(&self, path: &str) -> Result<Vec<u8>> {
        read_all(|offset| self.bucket.read(path, offset, CHUNK_BYTES))
    }

    /// Up to `length` bytes of `path` from `offset` (at most [`CHUNK_BYTES`] per call).
    pub fn read_range(&self, path: &str, offset: u64, length: u32) -> Result<Vec<u8>> {
        Ok(self.bucket.read(path, offset, length)?)
    }

    /// Deletes a file or a directory with its contents; whether it existed.
    pub fn delete(&self, path: &str) -> Result<bool> {
        Ok(self.bucket.delete(path)?)
    }

    /// Whether `path` exists.
    pub fn exists(&self, path: &str) -> Result<bool> {
        Ok(self.bucket.exists(path)?)
    }

    /// File paths under `prefix` (directly in it, or at any depth when `recursive`), in
    /// byte order (`list_files(prefix, recursive)`).
    pub fn list_files(&self, prefix: &str, recursive: bool) -> Result<Vec<String>> {
        let mut all = Vec::new();
        loop {
            let offset = u32::try_from(all.len()).unwrap_or(u32::MAX);
            let page = self.bucket.list(prefix, recursive, offset, LIST_PAGE)?;
            let done = page.is_empty();
            all.extend(page);
            if done {
                return Ok(all);
            }
        }
    }

    /// Size, times, name and kind of `path` (`get_metadata(path)`).
    pub fn get_metadata(&self, path: &str) -> Result<Metadata> {
        let m = self.bucket.metadata(path)?;
        Ok(Metadata {
            name: m.name,
            size: m.size,
            modified: m.modified,
            created: m.created,
            is_dir: m.is_dir,
        })
    }

    /// Copies a file; `false` when `source` does not exist.
    pub fn copy(&self, source: &str, destination: &str) -> Result<bool> {
        Ok(self.bucket.copy(source, destination)?)
    }

    /// Moves a file (`move(source, destination)`); `false` when `source` does not exist.
    pub fn move_file(&self, source: &str, destination: &str) -> Result<bool> {
        Ok(self.bucket.move_(source, destination)?)
    }
}

/// Reads chunks from offset 0 until the host returns none.
fn read_all(
    mut chunk: impl FnMut(
        u64,
    )
        -> core::result::Result<Vec<u8>, crate::bindings::jac::scale::types::Error>,
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let next = chunk(out.len() as u64)?;
        if next.is_empty() {
            return Ok(out);
        }
        out.extend_from_slice(&next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_upload_field_is_openapis_file_type_and_reads_the_hosts_value() {
        assert_eq!(
            UploadFile::json_schema(),
            json!({"type": "string", "format": "binary"})
        );
        assert_eq!(
            Option::<UploadFile>::json_schema(),
            json!({"type": ["string", "null"], "format": "binary"})
        );
        let file: UploadFile = serde_json::from_value(json!({
            "filename": "a.pdf", "content_type": "application/pdf", "size": 3, "upload": "upload-0"
        }))
        .unwrap();
        assert_eq!(file.upload, "upload-0");
        assert_eq!(file.size, 3);
    }
}
