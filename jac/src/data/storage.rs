//! The `store()` builtin: file and blob storage (the spec's "Storage" section).
//!
//! `store(base_path="./storage", create_dirs=True)` returns a storage instance with the
//! spec's eight methods. The host picks the backend (local directory or S3 bucket) and
//! confines every path to the app; a sandboxed program has no files of its own, so
//! `upload`'s source is an uploaded file (`UploadFile` or its `.file`), `bytes`, `str`
//! (its UTF-8 text) or any object with a `read()` method, and `download`'s destination
//! is another storage path or an object with a `write()` method.

use std::any::Any;
use std::rc::Rc;

use serde_json::Value as Json;

use super::{Bucket, CHUNK, DataError, DataErrorKind, all_pages, read_bytes, upload::upload_key};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::{Args, Dict, ExcType, Exception, JacResult, NativeFn, NativeObject, Value};

/// The spec's default `base_path`.
const DEFAULT_BASE_PATH: &str = "./storage";

/// `store(base_path="./storage", create_dirs=True)`.
pub fn store(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    args.check("store", 0, 2)?;
    args.allow_keywords("store", &["base_path", "create_dirs"])?;
    let base_path = match args.get(0, "base_path") {
        None | Some(Value::None) => None,
        Some(Value::Str(s)) => Some(s.to_string()),
        Some(other) => return Err(type_error("store", "base_path", &other)),
    };
    let create_dirs = match args.get(1, "create_dirs") {
        None => None,
        Some(v) => Some(vm.truthy(&v)?),
    };
    Ok(Value::Object(Rc::new(Storage {
        base_path,
        create_dirs,
    })))
}

/// A storage instance as the program holds it: how to open it (opened per use).
struct Storage {
    /// `None`: the host's configured default.
    base_path: Option<String>,
    /// `None`: the host's configuration (`[storage] create_dirs`, default true).
    create_dirs: Option<bool>,
}

/// The body of one storage method.
type Method = fn(&mut Interpreter, &Storage, &dyn Bucket, &Args) -> JacResult<Value>;

/// The spec's storage interface.
const METHODS: &[(&str, Method)] = &[
    ("upload", upload),
    ("download", download),
    ("delete", delete),
    ("exists", exists),
    ("list_files", list_files),
    ("get_metadata", get_metadata),
    ("copy", copy),
    ("move", move_file),
];

impl Storage {
    fn base(&self) -> &str {
        self.base_path.as_deref().unwrap_or(DEFAULT_BASE_PATH)
    }

    fn error(&self, e: &DataError) -> Exception {
        e.raise(&format!("storage '{}'", self.base()), true)
    }

    /// Like [`Storage::error`], but a missing `path` is the original's
    /// `FileNotFoundError: File not found: <path>`.
    fn error_at(&self, e: &DataError, path: &str) -> Exception {
        match e.kind {
            DataErrorKind::NotFound => file_not_found(path),
            _ => self.error(e),
        }
    }
}

impl NativeObject for Storage {
    fn type_name(&self) -> &str {
        "Storage"
    }

    fn repr(&self) -> String {
        format!("<Storage base_path='{}'>", self.base())
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        match name {
            "base_path" => return Some(Value::from(self.base())),
            "create_dirs" => return Some(Value::Bool(self.create_dirs.unwrap_or(true))),
            _ => {}
        }
        let &(name, body) = METHODS.iter().find(|(n, _)| *n == name)?;
        let this = this.clone();
        Some(NativeFn::value(name, move |vm, args| {
            let Value::Object(o) = &this else {
                unreachable!("storage methods are bound to a storage instance")
            };
            let storage: &Storage = o.as_any().downcast_ref().expect("a storage instance");
            let bucket = vm
                .env()
                .data
                .open_bucket(storage.base_path.as_deref(), storage.create_dirs)
                .map_err(|e| storage.error(&e))?;
            body(vm, storage, &*bucket, &args)
        }))
    }

    /// A storage kept in a `glob` serialises to a stable description, so saving and
    /// restoring unchanged globals keeps the instance.
    fn to_json(&self) -> Json {
        Json::String(self.repr())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn path_arg(a: &Args, i: usize, name: &str, fname: &str) -> JacResult<String> {
    match a.required(i, name, fname)? {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(type_error(fname, name, &other)),
    }
}

/// Writes `bytes` to `path` in chunks the host accepts (the first replaces the file).
fn write_all(bucket: &dyn Bucket, path: &str, bytes: &[u8]) -> Result<(), DataError> {
    let mut chunks = bytes.chunks(CHUNK as usize);
    bucket.write(path, chunks.next().unwrap_or_default(), false)?;
    chunks.try_for_each(|chunk| bucket.write(path, chunk, true))
}

/// `upload(source, destination, metadata=None) -> str`.
fn upload(vm: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("upload", 2, 3)?;
    let source = a.required(0, "source", "upload")?;
    let destination = path_arg(a, 1, "destination", "upload")?;
    if let Some(key) = upload_key(&source) {
        let stored = b.save_upload(&key, &destination).map_err(|e| s.error(&e))?;
        return Ok(Value::from(stored));
    }
    let content = match &source {
        Value::Bytes(_) | Value::Str(_) => source.clone(),
        other if vm.get_attr(other, "read").is_ok() => {
            vm.call_method(other, "read", Args::default())?
        }
        other => return Err(type_error("upload", "source", other)),
    };
    let bytes: &[u8] = match &content {
        Value::Bytes(b) => b,
        Value::Str(s) => s.as_bytes(),
        other => return Err(type_error("upload", "source.read()", other)),
    };
    write_all(b, &destination, bytes).map_err(|e| s.error(&e))?;
    Ok(Value::from(destination))
}

/// `download(source, destination=None) -> bytes | None`.
fn download(vm: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("download", 1, 2)?;
    let source = path_arg(a, 0, "source", "download")?;
    let destination = a.get(1, "destination").unwrap_or(Value::None);
    if let Value::Str(to) = &destination {
        return if b.copy(&source, to).map_err(|e| s.error(&e))? {
            Ok(Value::None)
        } else {
            Err(file_not_found(&source))
        };
    }
    let bytes = read_bytes(0, None, |offset, length| b.read(&source, offset, length))
        .map_err(|e| s.error_at(&e, &source))?;
    let bytes = Value::Bytes(bytes.into());
    match destination {
        Value::None => Ok(bytes),
        sink => {
            vm.call_method(&sink, "write", Args::new(vec![bytes]))?;
            Ok(Value::None)
        }
    }
}

fn file_not_found(path: &str) -> Exception {
    Exception::new(
        ExcType::FileNotFoundError,
        format!("File not found: {path}"),
    )
}

fn delete(_: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("delete", 1, 1)?;
    let path = path_arg(a, 0, "path", "delete")?;
    Ok(Value::Bool(b.delete(&path).map_err(|e| s.error(&e))?))
}

fn exists(_: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("exists", 1, 1)?;
    let path = path_arg(a, 0, "path", "exists")?;
    Ok(Value::Bool(b.exists(&path).map_err(|e| s.error(&e))?))
}

/// `list_files(prefix="", recursive=False)`: the paths, as a list.
fn list_files(vm: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("list_files", 0, 2)?;
    let prefix = match a.get(0, "prefix") {
        None | Some(Value::None) => String::new(),
        Some(Value::Str(p)) => p.to_string(),
        Some(other) => return Err(type_error("list_files", "prefix", &other)),
    };
    let recursive = match a.get(1, "recursive") {
        None => false,
        Some(v) => vm.truthy(&v)?,
    };
    let paths = all_pages(|offset, limit| b.list(&prefix, recursive, offset, limit))
        .map_err(|e| s.error(&e))?;
    Ok(Value::list(paths.into_iter().map(Value::from).collect()))
}

/// `get_metadata(path) -> {"size", "modified", "created", "is_dir", "name"}`.
fn get_metadata(_: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("get_metadata", 1, 1)?;
    let path = path_arg(a, 0, "path", "get_metadata")?;
    let meta = b.metadata(&path).map_err(|e| s.error_at(&e, &path))?;
    let mut d = Dict::new();
    d.insert_str(
        "size",
        Value::Int(i64::try_from(meta.size).unwrap_or(i64::MAX)),
    );
    d.insert_str("modified", Value::Float(meta.modified));
    d.insert_str("created", Value::Float(meta.created));
    d.insert_str("is_dir", Value::Bool(meta.is_dir));
    d.insert_str("name", Value::from(meta.name));
    Ok(Value::dict(d))
}

fn copy(_: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("copy", 2, 2)?;
    let from = path_arg(a, 0, "source", "copy")?;
    let to = path_arg(a, 1, "destination", "copy")?;
    Ok(Value::Bool(b.copy(&from, &to).map_err(|e| s.error(&e))?))
}

fn move_file(_: &mut Interpreter, s: &Storage, b: &dyn Bucket, a: &Args) -> JacResult<Value> {
    a.check("move", 2, 2)?;
    let from = path_arg(a, 0, "source", "move")?;
    let to = path_arg(a, 1, "destination", "move")?;
    Ok(Value::Bool(b.move_to(&from, &to).map_err(|e| s.error(&e))?))
}
