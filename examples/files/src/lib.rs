//! File storage and uploads: the spec's `upload_file`, `list_files` and `download_file`
//! walkers (section "Storage"), plus copy, move, delete, metadata and reading an upload
//! without storing it. Every walker uses `store(base_path="./uploads")`.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p files
//! jac-scale start target/wasm32-wasip2/release/files.wasm
//! curl -s -X POST localhost:8000/walker/upload_file -F file=@README.md -F folder=documents
//! curl -s -X POST localhost:8000/walker/list_files -H 'Content-Type: application/json' -d '{}'
//! curl -s -X POST localhost:8000/walker/download_file -H 'Content-Type: application/json' \
//!      -d '{"path": "documents/README.md"}'
//! ```
// The walkers keep the spec's snake_case names, which are their endpoint names.
#![allow(non_camel_case_types)]

use jac_scale_guest::prelude::*;
use jac_scale_guest::storage::{Storage, UploadFile};

/// The spec's `glob storage = store(base_path="./uploads");`.
fn storage() -> Result<Storage> {
    Storage::open(Some("./uploads"))
}

/// Store an uploaded file in `folder` under its own name; report its path and size.
#[walker(public)]
pub struct upload_file {
    file: UploadFile,
    #[jac(default = "documents")]
    folder: String,
}

#[walker]
impl upload_file {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let storage = storage()?;
        let path = format!("{}/{}", self.folder, self.file.filename);
        let path = storage.upload(&self.file, &path)?;
        let metadata = storage.get_metadata(&path)?;
        w.report(json!({"success": true, "storage_path": path, "size": metadata.size}))
    }
}

/// The files in `folder` (at any depth when `recursive`), with their sizes.
#[walker(public)]
pub struct list_files {
    #[jac(default = "documents")]
    folder: String,
    #[jac(default = false)]
    recursive: bool,
}

#[walker]
impl list_files {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let storage = storage()?;
        let mut files = Vec::new();
        for path in storage.list_files(&self.folder, self.recursive)? {
            let metadata = storage.get_metadata(&path)?;
            files.push(json!({"path": path, "size": metadata.size, "name": metadata.name}));
        }
        w.report(json!({"files": files}))
    }
}

/// A stored file's content (as text) and size.
#[walker(public)]
pub struct download_file {
    path: String,
}

#[walker]
impl download_file {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let storage = storage()?;
        if !storage.exists(&self.path)? {
            return w.report(json!({"error": "File not found"}));
        }
        let content = storage.download(&self.path)?;
        w.report(json!({
            "content": String::from_utf8_lossy(&content),
            "size": content.len(),
        }))
    }
}

/// Copy a stored file.
#[walker(public)]
pub struct copy_file {
    source: String,
    destination: String,
}

#[walker]
impl copy_file {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let copied = storage()?.copy(&self.source, &self.destination)?;
        w.report(json!({"copied": copied}))
    }
}

/// Move a stored file.
#[walker(public)]
pub struct move_file {
    source: String,
    destination: String,
}

#[walker]
impl move_file {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let moved = storage()?.move_file(&self.source, &self.destination)?;
        w.report(json!({"moved": moved}))
    }
}

/// Delete a stored file or folder.
#[walker(public)]
pub struct delete_file {
    path: String,
}

#[walker]
impl delete_file {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let deleted = storage()?.delete(&self.path)?;
        w.report(json!({"deleted": deleted}))
    }
}

/// A stored file's metadata (size, modified, created, is_dir, name).
#[walker(public)]
pub struct file_metadata {
    path: String,
}

#[walker]
impl file_metadata {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        w.report(storage()?.get_metadata(&self.path)?)
    }
}

/// Read an upload without storing it: its name, type, size and first bytes.
#[walker(public)]
pub struct inspect_upload {
    file: UploadFile,
}

#[walker]
impl inspect_upload {
    #[entry(Root)]
    fn process(&mut self, w: &mut Walk) -> Result {
        let bytes = self.file.read()?;
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(32)]).into_owned();
        w.report(json!({
            "filename": self.file.filename,
            "content_type": self.file.content_type,
            "size": bytes.len(),
            "head": head,
        }))
    }
}

jac_scale_guest::app!(
    upload_file,
    list_files,
    download_file,
    copy_file,
    move_file,
    delete_file,
    file_metadata,
    inspect_upload,
);
