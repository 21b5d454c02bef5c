//! `import from jac_scale.lib { kvstore }`: direct MongoDB-style and Redis-style access
//! without the graph (the spec's "Direct Database Access", "MongoDB Operations" and
//! "Redis Operations").
//!
//! `kvstore(db_name, db_type, uri)` returns a handle (`MongoDb` or `RedisDb`, as in
//! jac-scale) whose methods take the original's arguments and return its result shapes
//! (`insert_one(...).inserted_id`, `update_one(...).modified_count`,
//! `delete_many(...).deleted_count`). A method of the other kind raises
//! `NotImplementedError`; host errors become Python exceptions ([`DataError::raise`]).

use std::any::Any;
use std::rc::Rc;

use serde_json::{Map, Value as Json};

use super::{DataError, KvStore, StoreKind, all_pages, class_named};
use crate::interp::Interpreter;
use crate::value::json::from_json_plain;
use crate::value::native::type_error;
use crate::value::{
    Args, Class, ExcType, Exception, JacResult, Module, NativeFn, NativeObject, Value,
};

/// Builds the `jac_scale.lib` module (only `kvstore`).
pub fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("jac_scale.lib"));
    module.set("kvstore", NativeFn::value("kvstore", kvstore));
    Ok(module)
}

/// `kvstore(db_name='jac_db', db_type='mongodb', uri=None)`.
fn kvstore(_vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    args.check("kvstore", 0, 3)?;
    args.allow_keywords("kvstore", &["db_name", "db_type", "uri"])?;
    let db_name = opt_str(&args, 0, "db_name", "kvstore")?.unwrap_or_else(|| "jac_db".into());
    let db_type = opt_str(&args, 1, "db_type", "kvstore")?.unwrap_or_else(|| "mongodb".into());
    let kind = match db_type.as_str() {
        "mongodb" => StoreKind::Document,
        "redis" => StoreKind::KeyValue,
        other => {
            return Err(Exception::new(
                ExcType::ValueError,
                format!("Unsupported database type: {other}"),
            ));
        }
    };
    let uri = opt_str(&args, 2, "uri", "kvstore")?;
    Ok(Value::Object(Rc::new(KvHandle { db_name, kind, uri })))
}

/// A kvstore as the program holds it: how to open it (the host handle is opened per use).
struct KvHandle {
    db_name: String,
    kind: StoreKind,
    uri: Option<String>,
}

impl KvHandle {
    fn class_name(&self) -> &'static str {
        match self.kind {
            StoreKind::Document => "MongoDb",
            StoreKind::KeyValue => "RedisDb",
        }
    }

    fn db_type(&self) -> &'static str {
        match self.kind {
            StoreKind::Document => "mongodb",
            StoreKind::KeyValue => "redis",
        }
    }

    /// The host's handle for this store, for the current call.
    fn open(&self, vm: &Interpreter) -> JacResult<Rc<dyn KvStore>> {
        vm.env()
            .data
            .open_kvstore(&self.db_name, self.kind, self.uri.as_deref())
            .map_err(|e| self.error(&e))
    }

    fn error(&self, e: &DataError) -> Exception {
        e.raise(&format!("kvstore '{}'", self.db_name), false)
    }
}

/// Which kinds of store offer a method.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Offered {
    Both,
    DocumentOnly,
    KeyValueOnly,
}

/// The body of one kvstore method: the handle, the opened store and the call's arguments.
type Method = fn(&mut Interpreter, &KvHandle, &dyn KvStore, &Args) -> JacResult<Value>;

/// Every kvstore method: name, which kinds offer it, and its body.
const METHODS: &[(&str, Offered, Method)] = &[
    ("get", Offered::Both, get),
    ("set", Offered::Both, set),
    ("delete", Offered::Both, delete),
    ("exists", Offered::Both, exists),
    // As in jac-scale, a Redis store serves these two by key (`id` in `col_name`).
    ("find_by_id", Offered::Both, find_by_id),
    ("delete_by_id", Offered::Both, delete_by_id),
    ("find_one", Offered::DocumentOnly, find_one),
    ("find", Offered::DocumentOnly, find),
    ("insert_one", Offered::DocumentOnly, insert_one),
    ("insert_many", Offered::DocumentOnly, insert_many),
    ("update_one", Offered::DocumentOnly, update_one),
    ("update_many", Offered::DocumentOnly, update_many),
    ("delete_one", Offered::DocumentOnly, delete_one),
    ("delete_many", Offered::DocumentOnly, delete_many),
    ("update_by_id", Offered::DocumentOnly, update_by_id),
    ("set_with_ttl", Offered::KeyValueOnly, set_with_ttl),
    ("expire", Offered::KeyValueOnly, expire),
    ("incr", Offered::KeyValueOnly, incr),
    ("scan_keys", Offered::KeyValueOnly, scan_keys),
];

impl NativeObject for KvHandle {
    fn type_name(&self) -> &str {
        self.class_name()
    }

    fn repr(&self) -> String {
        format!("<{} db_name='{}'>", self.class_name(), self.db_name)
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        match name {
            "db_name" => return Some(Value::from(self.db_name.as_str())),
            "db_type" => return Some(Value::from(self.db_type())),
            _ => {}
        }
        let &(name, offered, body) = METHODS.iter().find(|(n, _, _)| *n == name)?;
        let this = this.clone();
        Some(NativeFn::value(name, move |vm, args| {
            let handle = downcast(&this);
            let wrong_kind = match offered {
                Offered::Both => None,
                Offered::DocumentOnly => (handle.kind != StoreKind::Document).then_some("MongoDB"),
                Offered::KeyValueOnly => (handle.kind != StoreKind::KeyValue).then_some("Redis"),
            };
            if let Some(only) = wrong_kind {
                return Err(Exception::new(
                    ExcType::NotImplementedError,
                    format!(
                        "{name}() is only available on {only} kvstores; '{}' was opened with db_type='{}'",
                        handle.db_name,
                        handle.db_type()
                    ),
                ));
            }
            let store = handle.open(vm)?;
            body(vm, handle, &*store, &args)
        }))
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(class_named(self.class_name(), |_| {}))
    }

    /// A kvstore kept in a `glob` serialises to a stable description, so saving and
    /// restoring unchanged globals keeps the handle.
    fn to_json(&self) -> Json {
        Json::String(self.repr())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

fn downcast(this: &Value) -> &KvHandle {
    match this {
        Value::Object(o) => o.as_any().downcast_ref().expect("bound to a kvstore"),
        _ => unreachable!("kvstore methods are bound to a kvstore"),
    }
}

// ------------------------------------------------------------------------- methods

fn get(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("get", 1, 2)?;
    let key = req_str(a, 0, "key", "get")?;
    let col = opt_str(a, 1, "col_name", "get")?;
    let found = s.get(&key, col.as_deref()).map_err(|e| h.error(&e))?;
    Ok(found.as_ref().map_or(Value::None, from_json_plain))
}

fn set(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("set", 2, 3)?;
    let key = req_str(a, 0, "key", "set")?;
    let value = vm.to_json(&a.required(1, "value", "set")?);
    let col = opt_str(a, 2, "col_name", "set")?;
    s.set(&key, &value, col.as_deref())
        .map_err(|e| h.error(&e))?;
    Ok(Value::from(key))
}

fn delete(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("delete", 1, 2)?;
    let key = req_str(a, 0, "key", "delete")?;
    let col = opt_str(a, 1, "col_name", "delete")?;
    let gone = s.delete(&key, col.as_deref()).map_err(|e| h.error(&e))?;
    Ok(Value::Int(i64::from(gone)))
}

fn exists(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("exists", 1, 2)?;
    let key = req_str(a, 0, "key", "exists")?;
    let col = opt_str(a, 1, "col_name", "exists")?;
    let there = s.exists(&key, col.as_deref()).map_err(|e| h.error(&e))?;
    Ok(Value::Bool(there))
}

fn find_one(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("find_one", 1, 3)?;
    let col = req_str(a, 0, "col_name", "find_one")?;
    let filter = json_arg(vm, a, 1, "filter")?.unwrap_or_else(empty_object);
    let projection = json_arg(vm, a, 2, "projection")?;
    let found = s.find_one(&col, &filter).map_err(|e| h.error(&e))?;
    Ok(found.map_or(Value::None, |doc| {
        from_json_plain(&project(doc, projection.as_ref()))
    }))
}

fn find(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("find", 1, 3)?;
    let col = req_str(a, 0, "col_name", "find")?;
    let filter = json_arg(vm, a, 1, "filter")?.unwrap_or_else(empty_object);
    let projection = json_arg(vm, a, 2, "projection")?;
    let docs =
        all_pages(|offset, limit| s.find(&col, &filter, offset, limit)).map_err(|e| h.error(&e))?;
    Ok(Value::list(
        docs.into_iter()
            .map(|doc| from_json_plain(&project(doc, projection.as_ref())))
            .collect(),
    ))
}

fn insert_one(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("insert_one", 2, 2)?;
    let col = req_str(a, 0, "col_name", "insert_one")?;
    let document = a.required(1, "document", "insert_one")?;
    let id = s
        .insert_one(&col, &document_json(vm, &document, "insert_one")?)
        .map_err(|e| h.error(&e))?;
    give_id(&document, &id);
    Ok(result(
        "InsertResult",
        vec![("inserted_id", Value::from(id))],
    ))
}

fn insert_many(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("insert_many", 2, 2)?;
    let col = req_str(a, 0, "col_name", "insert_many")?;
    let documents = vm.iterate(&a.required(1, "documents", "insert_many")?)?;
    let json = documents
        .iter()
        .map(|d| document_json(vm, d, "insert_many"))
        .collect::<JacResult<Vec<_>>>()?;
    let ids = s.insert_many(&col, &json).map_err(|e| h.error(&e))?;
    for (document, id) in documents.iter().zip(&ids) {
        give_id(document, id);
    }
    let ids = ids.into_iter().map(Value::from).collect();
    Ok(result(
        "InsertManyResult",
        vec![("inserted_ids", Value::list(ids))],
    ))
}

/// `update_one` / `update_many` (`col_name, filter, update_data, upsert_mode=False`).
fn update(
    vm: &mut Interpreter,
    a: &Args,
    fname: &str,
    run: impl FnOnce(&str, &Json, &Json) -> Result<u64, DataError>,
    h: &KvHandle,
) -> JacResult<Value> {
    a.check(fname, 3, 4)?;
    refuse_upsert(vm, a, 3, fname)?;
    let col = req_str(a, 0, "col_name", fname)?;
    let filter = json_arg(vm, a, 1, "filter")?.unwrap_or_else(empty_object);
    let update = required_json(vm, a, 2, "update_data", fname)?;
    let changed = run(&col, &filter, &update).map_err(|e| h.error(&e))?;
    Ok(update_result(changed))
}

fn update_one(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    update(vm, a, "update_one", |c, f, u| s.update_one(c, f, u), h)
}

fn update_many(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    update(vm, a, "update_many", |c, f, u| s.update_many(c, f, u), h)
}

/// `delete_one` / `delete_many` (`col_name, filter`).
fn remove(
    vm: &mut Interpreter,
    a: &Args,
    fname: &str,
    run: impl FnOnce(&str, &Json) -> Result<u64, DataError>,
    h: &KvHandle,
) -> JacResult<Value> {
    a.check(fname, 1, 2)?;
    let col = req_str(a, 0, "col_name", fname)?;
    let filter = json_arg(vm, a, 1, "filter")?.unwrap_or_else(empty_object);
    let n = run(&col, &filter).map_err(|e| h.error(&e))?;
    Ok(delete_result(n))
}

fn delete_one(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    remove(vm, a, "delete_one", |c, f| s.delete_one(c, f), h)
}

fn delete_many(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    remove(vm, a, "delete_many", |c, f| s.delete_many(c, f), h)
}

fn find_by_id(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("find_by_id", 2, 2)?;
    let col = req_str(a, 0, "col_name", "find_by_id")?;
    let id = req_str(a, 1, "id", "find_by_id")?;
    let found = match h.kind {
        StoreKind::Document => s.find_by_id(&col, &id),
        StoreKind::KeyValue => s.get(&id, Some(&col)),
    }
    .map_err(|e| h.error(&e))?;
    Ok(found.as_ref().map_or(Value::None, from_json_plain))
}

fn update_by_id(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("update_by_id", 3, 4)?;
    refuse_upsert(vm, a, 3, "update_by_id")?;
    let col = req_str(a, 0, "col_name", "update_by_id")?;
    let id = req_str(a, 1, "id", "update_by_id")?;
    let update = required_json(vm, a, 2, "update_data", "update_by_id")?;
    let found = s
        .update_by_id(&col, &id, &update)
        .map_err(|e| h.error(&e))?;
    Ok(update_result(u64::from(found)))
}

fn delete_by_id(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("delete_by_id", 2, 2)?;
    let col = req_str(a, 0, "col_name", "delete_by_id")?;
    let id = req_str(a, 1, "id", "delete_by_id")?;
    let gone = match h.kind {
        StoreKind::Document => s.delete_by_id(&col, &id),
        StoreKind::KeyValue => s.delete(&id, Some(&col)),
    }
    .map_err(|e| h.error(&e))?;
    Ok(delete_result(u64::from(gone)))
}

fn set_with_ttl(vm: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("set_with_ttl", 2, 4)?;
    let key = req_str(a, 0, "key", "set_with_ttl")?;
    let value = required_json(vm, a, 1, "value", "set_with_ttl")?;
    let ttl = seconds(a, 2, "ttl", "set_with_ttl")?;
    s.set_with_ttl(&key, &value, ttl).map_err(|e| h.error(&e))?;
    Ok(Value::Bool(true))
}

fn expire(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("expire", 2, 3)?;
    let key = req_str(a, 0, "key", "expire")?;
    let ttl = seconds(a, 1, "seconds", "expire")?;
    Ok(Value::Bool(s.expire(&key, ttl).map_err(|e| h.error(&e))?))
}

fn incr(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("incr", 1, 2)?;
    a.allow_keywords("incr", &["key", "col_name", "amount"])?;
    let key = req_str(a, 0, "key", "incr")?;
    let by = match a.kw("amount") {
        None => 1,
        Some(v) => v.as_i64().ok_or_else(|| type_error("incr", "amount", &v))?,
    };
    Ok(Value::Int(s.incr(&key, by).map_err(|e| h.error(&e))?))
}

fn scan_keys(_: &mut Interpreter, h: &KvHandle, s: &dyn KvStore, a: &Args) -> JacResult<Value> {
    a.check("scan_keys", 0, 2)?;
    let pattern = opt_str(a, 0, "pattern", "scan_keys")?.unwrap_or_else(|| "*".into());
    let keys =
        all_pages(|offset, limit| s.scan_keys(&pattern, offset, limit)).map_err(|e| h.error(&e))?;
    Ok(Value::list(keys.into_iter().map(Value::from).collect()))
}

// ------------------------------------------------------------------------- helpers

fn req_str(a: &Args, i: usize, name: &str, fname: &str) -> JacResult<String> {
    match a.required(i, name, fname)? {
        Value::Str(s) => Ok(s.to_string()),
        other => Err(type_error(fname, name, &other)),
    }
}

fn opt_str(a: &Args, i: usize, name: &str, fname: &str) -> JacResult<Option<String>> {
    match a.get(i, name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(type_error(fname, name, &other)),
    }
}

/// Argument `i` / `name` as JSON (`None` when absent or `None`).
fn json_arg(vm: &mut Interpreter, a: &Args, i: usize, name: &str) -> JacResult<Option<Json>> {
    Ok(match a.get(i, name) {
        None | Some(Value::None) => None,
        Some(v) => Some(vm.to_json(&v)),
    })
}

fn required_json(
    vm: &mut Interpreter,
    a: &Args,
    i: usize,
    name: &str,
    fname: &str,
) -> JacResult<Json> {
    let v = a.required(i, name, fname)?;
    Ok(vm.to_json(&v))
}

/// A document to insert: it must be a dict.
fn document_json(vm: &mut Interpreter, document: &Value, fname: &str) -> JacResult<Json> {
    if !matches!(document, Value::Dict(_)) {
        return Err(type_error(fname, "document", document));
    }
    Ok(vm.to_json(document))
}

/// Like pymongo, an inserted dict gains the `_id` it was stored under.
fn give_id(document: &Value, id: &str) {
    if let Value::Dict(d) = document {
        let mut d = d.borrow_mut();
        if d.get_str("_id").is_none() {
            d.insert_str("_id", Value::from(id));
        }
    }
}

/// TTL argument in whole seconds, at least 1.
fn seconds(a: &Args, i: usize, name: &str, fname: &str) -> JacResult<u64> {
    let v = a.required(i, name, fname)?;
    let n = v.as_i64().ok_or_else(|| type_error(fname, name, &v))?;
    u64::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
        Exception::new(
            ExcType::ValueError,
            format!("{fname}(): {name} must be at least 1 second, got {n}"),
        )
    })
}

/// The host has no upsert: `upsert_mode=True` is refused rather than silently ignored.
fn refuse_upsert(vm: &mut Interpreter, a: &Args, i: usize, fname: &str) -> JacResult<()> {
    match a.get(i, "upsert_mode") {
        Some(v) if vm.truthy(&v)? => Err(Exception::new(
            ExcType::NotImplementedError,
            format!("{fname}(): upsert_mode is not supported by jac-scale's kvstore"),
        )),
        _ => Ok(()),
    }
}

fn empty_object() -> Json {
    Json::Object(Map::new())
}

/// Applies a MongoDB projection: `{field: 1, ...}` keeps those fields (and `_id` unless
/// `_id: 0`), `{field: 0, ...}` drops them.
fn project(doc: Json, projection: Option<&Json>) -> Json {
    let (Some(Json::Object(spec)), Json::Object(mut fields)) = (projection, doc.clone()) else {
        return doc;
    };
    let on = |v: &Json| !matches!(v, Json::Bool(false) | Json::Null) && v.as_f64() != Some(0.0);
    let including = spec.iter().any(|(k, v)| k != "_id" && on(v));
    if including {
        let keep_id = spec.get("_id").is_none_or(on);
        fields.retain(|k, _| (k == "_id" && keep_id) || spec.get(k).is_some_and(on));
    } else {
        fields.retain(|k, _| spec.get(k).is_none_or(on));
    }
    Json::Object(fields)
}

fn update_result(changed: u64) -> Value {
    let n = Value::Int(i64::try_from(changed).unwrap_or(i64::MAX));
    result(
        "UpdateResult",
        vec![
            ("matched_count", n.clone()),
            ("modified_count", n),
            ("upserted_id", Value::None),
        ],
    )
}

fn delete_result(deleted: u64) -> Value {
    let n = Value::Int(i64::try_from(deleted).unwrap_or(i64::MAX));
    result("DeleteResult", vec![("deleted_count", n)])
}

fn result(type_name: &'static str, fields: Vec<(&'static str, Value)>) -> Value {
    Value::Object(Rc::new(OpResult { type_name, fields }))
}

/// The outcome of a write (`InsertResult`, `UpdateResult`, ...): read-only attributes.
struct OpResult {
    type_name: &'static str,
    fields: Vec<(&'static str, Value)>,
}

impl NativeObject for OpResult {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn repr(&self) -> String {
        let fields: Vec<String> = self
            .fields
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::value::repr::repr(v)))
            .collect();
        format!("{}({})", self.type_name, fields.join(", "))
    }

    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        self.fields
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
    }

    fn to_json(&self) -> Json {
        let mut map = Map::new();
        for (k, v) in &self.fields {
            map.insert(
                (*k).to_owned(),
                crate::value::json::to_json(v, &mut |_| "".into()),
            );
        }
        Json::Object(map)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
