//! `UploadFile` (from `http` or `fastapi`): a walker field `has file: UploadFile` is a
//! file part of a `multipart/form-data` request.
//!
//! The host keeps the uploaded bytes; the field arrives as
//! `{"filename", "content_type", "size", "upload"}` (`upload` = the host's key for this
//! request's file) and becomes an `UploadFile` with FastAPI's attributes: `filename`,
//! `content_type`, `size`, `file` (a readable stream) and `read()` / `seek()` / `tell()`.
//! `store().upload(f.file, path)` hands the key to the host, so the bytes never pass
//! through the program; `read()` fetches them chunk by chunk.

use std::any::Any;
use std::cell::Cell;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use super::{class_named, read_bytes};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::{Args, Class, ExcType, Exception, JacResult, NativeFn, NativeObject, Value};

/// The `UploadFile` class: an annotation for walker fields, built from the host's JSON
/// description of an uploaded file (its native `__from_json__`).
pub fn upload_file_class() -> Rc<Class> {
    class_named("UploadFile", |class| {
        class.set_attr(
            "__from_json__",
            NativeFn::value("UploadFile.__from_json__", from_json),
        );
    })
}

/// The uploaded file behind an `UploadFile` and its `.file` stream (shared read position).
struct Upload {
    key: String,
    filename: String,
    content_type: String,
    size: u64,
    position: Cell<u64>,
}

/// The `UploadFile` value of a walker field.
struct UploadFile(Rc<Upload>);

/// `UploadFile.file`: the readable stream of the same upload.
struct UploadStream(Rc<Upload>);

fn from_json(_vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let described = args.required(0, "description", "UploadFile")?;
    let Value::Dict(d) = &described else {
        return Err(type_error("UploadFile", "description", &described));
    };
    let d = d.borrow();
    let text = |name: &str| match d.get_str(name) {
        Some(Value::Str(s)) => Ok(s.to_string()),
        _ => Err(Exception::new(
            ExcType::ValueError,
            format!("an uploaded file needs a string '{name}'"),
        )),
    };
    let size = match d.get_str("size") {
        Some(v) => v
            .as_i64()
            .and_then(|n| u64::try_from(n).ok())
            .ok_or_else(|| type_error("UploadFile", "size", &v))?,
        None => 0,
    };
    Ok(Value::Object(Rc::new(UploadFile(Rc::new(Upload {
        key: text("upload")?,
        filename: text("filename")?,
        content_type: text("content_type").unwrap_or_default(),
        size,
        position: Cell::new(0),
    })))))
}

/// The host key of an uploaded file given as an `UploadFile` or its `.file`.
pub(crate) fn upload_key(value: &Value) -> Option<String> {
    let Value::Object(o) = value else {
        return None;
    };
    let any = o.as_any();
    any.downcast_ref::<UploadFile>()
        .map(|f| &f.0)
        .or_else(|| any.downcast_ref::<UploadStream>().map(|s| &s.0))
        .map(|u| u.key.clone())
}

impl Upload {
    /// The stream methods shared by `UploadFile` and `UploadFile.file`.
    fn method(self: &Rc<Self>, name: &str) -> Option<Value> {
        let upload = self.clone();
        Some(match name {
            "read" => NativeFn::value("read", move |vm, args| upload.read(vm, &args)),
            "seek" => NativeFn::value("seek", move |_, args| {
                let to = args.required(0, "offset", "seek")?;
                let to = to
                    .as_i64()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| type_error("seek", "offset", &to))?;
                upload.position.set(to);
                Ok(Value::Int(to as i64))
            }),
            "tell" => NativeFn::value("tell", move |_, _| {
                Ok(Value::Int(upload.position.get() as i64))
            }),
            "close" => NativeFn::value("close", |_, _| Ok(Value::None)),
            _ => return None,
        })
    }

    /// `read(size=-1)`: bytes from the current position (all that remain when `size < 0`).
    fn read(&self, vm: &mut Interpreter, args: &Args) -> JacResult<Value> {
        args.check("read", 0, 1)?;
        let max = match args.get(0, "size") {
            None | Some(Value::None) => None,
            Some(v) => {
                let n = v.as_i64().ok_or_else(|| type_error("read", "size", &v))?;
                u64::try_from(n).ok()
            }
        };
        let data = vm.env().data.clone();
        let bytes = read_bytes(self.position.get(), max, |offset, length| {
            data.read_upload(&self.key, offset, length)
        })
        .map_err(|e| e.raise(&format!("upload '{}'", self.filename), true))?;
        self.position.set(self.position.get() + bytes.len() as u64);
        Ok(Value::Bytes(bytes.into()))
    }

    fn describe(&self) -> Json {
        let mut map = Map::new();
        map.insert("filename".into(), Json::from(self.filename.as_str()));
        map.insert(
            "content_type".into(),
            Json::from(self.content_type.as_str()),
        );
        map.insert("size".into(), Json::from(self.size));
        Json::Object(map)
    }
}

impl NativeObject for UploadFile {
    fn type_name(&self) -> &str {
        "UploadFile"
    }

    fn repr(&self) -> String {
        format!(
            "UploadFile(filename={:?}, size={}, content_type={:?})",
            self.0.filename, self.0.size, self.0.content_type
        )
    }

    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        match name {
            "filename" => Some(Value::from(self.0.filename.as_str())),
            "content_type" => Some(Value::from(self.0.content_type.as_str())),
            "size" => Some(Value::Int(self.0.size as i64)),
            "file" => Some(Value::Object(Rc::new(UploadStream(self.0.clone())))),
            _ => self.0.method(name),
        }
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(upload_file_class())
    }

    /// In a response (a walker's fields, a report): the file's description, not its bytes.
    fn to_json(&self) -> Json {
        self.0.describe()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl NativeObject for UploadStream {
    fn type_name(&self) -> &str {
        "SpooledTemporaryFile"
    }

    fn repr(&self) -> String {
        format!("<uploaded file {:?}>", self.0.filename)
    }

    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        match name {
            "name" => Some(Value::from(self.0.filename.as_str())),
            _ => self.0.method(name),
        }
    }

    fn to_json(&self) -> Json {
        self.0.describe()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
