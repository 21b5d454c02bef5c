//! The data tier as Jac programs see it (`jac_lang::data`): `kvstore` of both kinds,
//! `store()` and `UploadFile`, run through the interpreter against an in-memory
//! [`DataHost`] fake. The fake stands in for the jac-scale host (whose real backends
//! are tested black-box in `tests/blackbox/jac_data.rs`): it keeps documents, keys and
//! files in maps, understands equality and `$gt` filters and `$set` updates only, and
//! serves pages of at most [`PAGE_BOUND`] items so that paging is exercised.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use jac_lang::data::{
    Bucket, DataError, DataErrorKind, DataHost, DataResult, FileMetadata, KvStore, StoreKind,
};
use jac_lang::graph::MemoryGraph;
use jac_lang::interp::{HostEnv, Interpreter};
use jac_lang::syntax::ast::Program;
use jac_lang::syntax::{DirSources, MemorySources, load_program};
use serde_json::{Map, Value as Json, json};

/// Items per page and bytes per chunk the fake host returns at most.
const PAGE_BOUND: usize = 2;
const CHUNK_BOUND: usize = 3;

#[derive(Default)]
struct State {
    /// `(store, collection)` -> documents in insertion order.
    documents: BTreeMap<(String, String), Vec<Json>>,
    /// `(store, key)` -> (value, ttl seconds).
    keys: BTreeMap<(String, String), (Json, Option<u64>)>,
    files: BTreeMap<String, Vec<u8>>,
    uploads: BTreeMap<String, Vec<u8>>,
    /// Host calls that returned a page or a chunk.
    paged_calls: usize,
    next_id: u64,
}

#[derive(Clone, Default)]
struct FakeHost(Rc<RefCell<State>>);

struct FakeStore {
    host: FakeHost,
    name: String,
}

struct FakeBucket {
    host: FakeHost,
    base: String,
}

fn not_found(what: &str) -> DataError {
    DataError::new(DataErrorKind::NotFound, what)
}

impl DataHost for FakeHost {
    fn open_kvstore(
        &self,
        name: &str,
        _kind: StoreKind,
        _uri: Option<&str>,
    ) -> DataResult<Rc<dyn KvStore>> {
        match name {
            "forbidden" => Err(DataError::new(
                DataErrorKind::AccessDenied,
                "no grant for kvstore 'forbidden'",
            )),
            "down" => Err(DataError::new(
                DataErrorKind::Unavailable,
                "connection refused",
            )),
            _ => Ok(Rc::new(FakeStore {
                host: self.clone(),
                name: name.into(),
            })),
        }
    }

    fn open_bucket(&self, base: Option<&str>, _create: Option<bool>) -> DataResult<Rc<dyn Bucket>> {
        Ok(Rc::new(FakeBucket {
            host: self.clone(),
            base: base.unwrap_or("default").into(),
        }))
    }

    fn read_upload(&self, upload: &str, offset: u64, length: u32) -> DataResult<Vec<u8>> {
        let mut state = self.0.borrow_mut();
        state.paged_calls += 1;
        let bytes = state.uploads.get(upload).ok_or_else(|| not_found(upload))?;
        Ok(chunk(bytes, offset, length))
    }
}

fn chunk(bytes: &[u8], offset: u64, length: u32) -> Vec<u8> {
    let start = (offset as usize).min(bytes.len());
    let end = (start + (length as usize).min(CHUNK_BOUND)).min(bytes.len());
    bytes[start..end].to_vec()
}

fn page<T: Clone>(items: &[T], offset: u32, limit: u32) -> Vec<T> {
    items
        .iter()
        .skip(offset as usize)
        .take((limit as usize).min(PAGE_BOUND))
        .cloned()
        .collect()
}

/// Equality on each field, or `{"$gt": n}`.
fn matches(doc: &Json, filter: &Json) -> bool {
    filter.as_object().is_none_or(|f| {
        f.iter()
            .all(|(k, want)| match (want.get("$gt"), doc.get(k)) {
                (Some(bound), Some(have)) => have.as_f64() > bound.as_f64(),
                (Some(_), None) => false,
                (None, have) => have == Some(want),
            })
    })
}

fn apply(doc: &mut Json, update: &Json) {
    match update.get("$set").and_then(Json::as_object) {
        Some(set) => set.iter().for_each(|(k, v)| doc[k] = v.clone()),
        None => {
            let id = doc["_id"].clone();
            *doc = update.clone();
            doc["_id"] = id;
        }
    }
}

impl FakeStore {
    fn with_docs<T>(&self, col: &str, f: impl FnOnce(&mut Vec<Json>) -> T) -> T {
        let mut state = self.host.0.borrow_mut();
        f(state
            .documents
            .entry((self.name.clone(), col.into()))
            .or_default())
    }

    fn key(&self, key: &str) -> (String, String) {
        (self.name.clone(), key.into())
    }

    fn update(&self, col: &str, filter: &Json, update: &Json, many: bool) -> u64 {
        self.with_docs(col, |docs| {
            let mut n = 0;
            for doc in docs.iter_mut().filter(|d| matches(d, filter)) {
                apply(doc, update);
                n += 1;
                if !many {
                    break;
                }
            }
            n
        })
    }

    fn remove(&self, col: &str, filter: &Json, many: bool) -> u64 {
        self.with_docs(col, |docs| {
            let before = docs.len();
            let mut removed = 0;
            docs.retain(|d| {
                let drop = (many || removed == 0) && matches(d, filter);
                removed += u64::from(drop);
                !drop
            });
            (before - docs.len()) as u64
        })
    }
}

impl KvStore for FakeStore {
    fn get(&self, key: &str, col: Option<&str>) -> DataResult<Option<Json>> {
        match col {
            Some(col) if col != "default" => self.find_by_id(col, key),
            _ => Ok(self
                .host
                .0
                .borrow()
                .keys
                .get(&self.key(key))
                .map(|v| v.0.clone())),
        }
    }
    fn set(&self, key: &str, value: &Json, col: Option<&str>) -> DataResult<()> {
        match col {
            Some(col) if col != "default" => {
                let mut doc = value.clone();
                doc["_id"] = json!(key);
                self.with_docs(col, |docs| {
                    docs.retain(|d| d["_id"] != json!(key));
                    docs.push(doc);
                });
            }
            _ => {
                let key = self.key(key);
                self.host
                    .0
                    .borrow_mut()
                    .keys
                    .insert(key, (value.clone(), None));
            }
        }
        Ok(())
    }
    fn delete(&self, key: &str, col: Option<&str>) -> DataResult<bool> {
        Ok(match col {
            Some(col) if col != "default" => self.delete_by_id(col, key)?,
            _ => self
                .host
                .0
                .borrow_mut()
                .keys
                .remove(&self.key(key))
                .is_some(),
        })
    }
    fn exists(&self, key: &str, col: Option<&str>) -> DataResult<bool> {
        Ok(self.get(key, col)?.is_some())
    }
    fn find_one(&self, col: &str, filter: &Json) -> DataResult<Option<Json>> {
        Ok(self.with_docs(col, |docs| {
            docs.iter().find(|d| matches(d, filter)).cloned()
        }))
    }
    fn find(&self, col: &str, filter: &Json, offset: u32, limit: u32) -> DataResult<Vec<Json>> {
        self.host.0.borrow_mut().paged_calls += 1;
        let all: Vec<Json> = self.with_docs(col, |docs| {
            docs.iter()
                .filter(|d| matches(d, filter))
                .cloned()
                .collect()
        });
        Ok(page(&all, offset, limit))
    }
    fn insert_one(&self, col: &str, document: &Json) -> DataResult<String> {
        let id = {
            let mut state = self.host.0.borrow_mut();
            state.next_id += 1;
            format!("id{}", state.next_id)
        };
        let mut doc = document.clone();
        doc["_id"] = json!(id);
        self.with_docs(col, |docs| docs.push(doc));
        Ok(id)
    }
    fn insert_many(&self, col: &str, documents: &[Json]) -> DataResult<Vec<String>> {
        documents.iter().map(|d| self.insert_one(col, d)).collect()
    }
    fn update_one(&self, col: &str, filter: &Json, update: &Json) -> DataResult<u64> {
        Ok(self.update(col, filter, update, false))
    }
    fn update_many(&self, col: &str, filter: &Json, update: &Json) -> DataResult<u64> {
        Ok(self.update(col, filter, update, true))
    }
    fn delete_one(&self, col: &str, filter: &Json) -> DataResult<u64> {
        Ok(self.remove(col, filter, false))
    }
    fn delete_many(&self, col: &str, filter: &Json) -> DataResult<u64> {
        Ok(self.remove(col, filter, true))
    }
    fn find_by_id(&self, col: &str, id: &str) -> DataResult<Option<Json>> {
        self.find_one(col, &json!({ "_id": id }))
    }
    fn update_by_id(&self, col: &str, id: &str, update: &Json) -> DataResult<bool> {
        Ok(self.update(col, &json!({ "_id": id }), update, false) == 1)
    }
    fn delete_by_id(&self, col: &str, id: &str) -> DataResult<bool> {
        Ok(self.remove(col, &json!({ "_id": id }), false) == 1)
    }
    fn set_with_ttl(&self, key: &str, value: &Json, ttl: u64) -> DataResult<()> {
        let key = self.key(key);
        self.host
            .0
            .borrow_mut()
            .keys
            .insert(key, (value.clone(), Some(ttl)));
        Ok(())
    }
    fn expire(&self, key: &str, ttl: u64) -> DataResult<bool> {
        let key = self.key(key);
        Ok(match self.host.0.borrow_mut().keys.get_mut(&key) {
            Some(entry) => {
                entry.1 = Some(ttl);
                true
            }
            None => false,
        })
    }
    fn incr(&self, key: &str, by: i64) -> DataResult<i64> {
        let key = self.key(key);
        let mut state = self.host.0.borrow_mut();
        let entry = state.keys.entry(key).or_insert((json!(0), None));
        let n = entry
            .0
            .as_i64()
            .ok_or_else(|| DataError::new(DataErrorKind::Invalid, "value is not an integer"))?
            + by;
        entry.0 = json!(n);
        Ok(n)
    }
    fn scan_keys(&self, pattern: &str, offset: u32, limit: u32) -> DataResult<Vec<String>> {
        let prefix = pattern.trim_end_matches('*');
        let mut state = self.host.0.borrow_mut();
        state.paged_calls += 1;
        let keys: Vec<String> = state
            .keys
            .keys()
            .filter(|(store, k)| *store == self.name && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        Ok(page(&keys, offset, limit))
    }
}

impl FakeBucket {
    fn path(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

impl Bucket for FakeBucket {
    fn write(&self, path: &str, data: &[u8], append: bool) -> DataResult<()> {
        let mut state = self.host.0.borrow_mut();
        let file = state.files.entry(self.path(path)).or_default();
        if !append {
            file.clear();
        }
        file.extend_from_slice(data);
        Ok(())
    }
    fn save_upload(&self, upload: &str, path: &str) -> DataResult<String> {
        let bytes = self.host.0.borrow().uploads.get(upload).cloned();
        let bytes = bytes.ok_or_else(|| not_found(upload))?;
        self.host
            .0
            .borrow_mut()
            .files
            .insert(self.path(path), bytes);
        Ok(path.into())
    }
    fn read(&self, path: &str, offset: u64, length: u32) -> DataResult<Vec<u8>> {
        let mut state = self.host.0.borrow_mut();
        state.paged_calls += 1;
        let bytes = state
            .files
            .get(&self.path(path))
            .ok_or_else(|| not_found(path))?;
        Ok(chunk(bytes, offset, length))
    }
    fn delete(&self, path: &str) -> DataResult<bool> {
        Ok(self
            .host
            .0
            .borrow_mut()
            .files
            .remove(&self.path(path))
            .is_some())
    }
    fn exists(&self, path: &str) -> DataResult<bool> {
        Ok(self.host.0.borrow().files.contains_key(&self.path(path)))
    }
    fn list(
        &self,
        prefix: &str,
        recursive: bool,
        offset: u32,
        limit: u32,
    ) -> DataResult<Vec<String>> {
        let base = self.path("");
        let state = self.host.0.borrow();
        let paths: Vec<String> = state
            .files
            .keys()
            .filter_map(|p| p.strip_prefix(&base))
            .filter(|p| p.starts_with(prefix))
            .filter(|p| recursive || !p[prefix.len()..].trim_start_matches('/').contains('/'))
            .map(String::from)
            .collect();
        Ok(page(&paths, offset, limit))
    }
    fn metadata(&self, path: &str) -> DataResult<FileMetadata> {
        let state = self.host.0.borrow();
        let bytes = state
            .files
            .get(&self.path(path))
            .ok_or_else(|| not_found(path))?;
        Ok(FileMetadata {
            name: path.rsplit('/').next().unwrap_or(path).into(),
            size: bytes.len() as u64,
            modified: 1.5,
            created: 1.0,
            is_dir: false,
        })
    }
    fn copy(&self, source: &str, destination: &str) -> DataResult<bool> {
        let mut state = self.host.0.borrow_mut();
        let Some(bytes) = state.files.get(&self.path(source)).cloned() else {
            return Ok(false);
        };
        state.files.insert(self.path(destination), bytes);
        Ok(true)
    }
    fn move_to(&self, source: &str, destination: &str) -> DataResult<bool> {
        let copied = self.copy(source, destination)?;
        if copied {
            self.delete(source)?;
        }
        Ok(copied)
    }
}

fn interpreter(src: &str, host: &FakeHost) -> Interpreter {
    let mut files = MemorySources::new();
    files.insert("app.jac", src);
    let program = load_program(&files, "app.jac").unwrap_or_else(|d| panic!("{d}\n{src}"));
    interpreter_of(program, host)
}

fn interpreter_of(program: Program, host: &FakeHost) -> Interpreter {
    let env = HostEnv {
        data: Rc::new(host.clone()),
        ..HostEnv::default()
    };
    Interpreter::new(program, Box::new(MemoryGraph::new()), env)
        .unwrap_or_else(|f| panic!("{}", f.traceback()))
}

/// Runs `def:pub f() { <body> }` (after `imports`) against `host`; its JSON result.
fn run(host: &FakeHost, body: &str) -> Json {
    let src = format!("import from jac_scale.lib {{ kvstore }}\ndef:pub f() {{\n{body}\n}}\n");
    let mut vm = interpreter(&src, host);
    match vm.call_function("f", &json!({})) {
        Ok(outcome) => outcome.result,
        Err(failure) => panic!("call failed:\n{}\n{src}", failure.traceback()),
    }
}

/// Every MongoDB method of the spec, with the original's result shapes.
#[test]
fn document_store_methods() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    db = kvstore(db_name='my_app', db_type='mongodb');
    alice = {'name': 'Alice', 'role': 'admin', 'age': 30};
    r = db.insert_one('users', alice);
    many = db.insert_many('users', [{'name': 'Bob', 'role': 'user', 'age': 25},
                                    {'name': 'Cy', 'role': 'admin', 'age': 40}]);
    found = db.find_one('users', {'name': 'Alice'});
    admins = [u['name'] for u in db.find('users', {'role': 'admin'})];
    older = [u['name'] for u in list(db.find('users', {'age': {'$gt': 28}}))];
    projected = db.find_one('users', {'name': 'Cy'}, {'name': 1, '_id': 0});
    up = db.update_one('users', {'name': 'Alice'}, {'$set': {'age': 31}});
    upm = db.update_many('users', {'role': 'admin'}, {'$set': {'team': 'core'}});
    by_id = db.find_by_id('users', r.inserted_id);
    upid = db.update_by_id('users', r.inserted_id, {'$set': {'age': 32}});
    age = db.find_by_id('users', r.inserted_id)['age'];
    del_one = db.delete_one('users', {'name': 'Bob'});
    db.set('user:123', {'status': 'active'}, 'sessions');
    session = db.get('user:123', 'sessions');
    there = db.exists('user:123', 'sessions');
    gone = db.delete('user:123', 'sessions');
    delid = db.delete_by_id('users', many.inserted_ids[1]);
    rest = db.delete_many('users', {});
    return {
        "inserted_id": r.inserted_id, "alice_got_id": alice['_id'] == r.inserted_id,
        "inserted_ids": len(many.inserted_ids), "found": found['age'],
        "admins": admins, "older": older, "projected": projected,
        "matched": up.matched_count, "modified": upm.modified_count,
        "by_id": by_id['name'], "upid": upid.modified_count, "age": age,
        "del_one": del_one.deleted_count, "session": session, "exists": there,
        "gone": gone, "after": db.exists('user:123', 'sessions'), "delid": delid.deleted_count,
        "rest": rest.deleted_count, "result_repr": str(up)
    };
"#,
    );
    assert_eq!(
        result,
        json!({
            "inserted_id": "id1", "alice_got_id": true, "inserted_ids": 2, "found": 30,
            "admins": ["Alice", "Cy"], "older": ["Alice", "Cy"], "projected": {"name": "Cy"},
            "matched": 1, "modified": 2, "by_id": "Alice", "upid": 1, "age": 32,
            "del_one": 1, "session": {"status": "active", "_id": "user:123"}, "exists": true,
            "gone": 1, "after": false, "delid": 1, "rest": 1,
            "result_repr": "UpdateResult(matched_count=1, modified_count=1, upserted_id=None)"
        })
    );
}

/// `find` pages through the host's bounded pages until an empty one: 5 matches with
/// pages of 2 take 3 full calls and 1 empty one.
#[test]
fn find_pages_through_the_host_bound() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    db = kvstore(db_name='paging', db_type='mongodb');
    db.insert_many('n', [{'i': i} for i in range(5)]);
    seen = [];
    for doc in db.find('n', {}) { seen.append(doc['i']); }
    return seen;
"#,
    );
    assert_eq!(result, json!([0, 1, 2, 3, 4]));
    assert_eq!(host.0.borrow().paged_calls, 4);
}

/// Every Redis method of the spec.
#[test]
fn key_value_store_methods() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    cache = kvstore(db_name='cache', db_type='redis');
    k = cache.set('session:user123', {'user_id': '123', 'username': 'alice'});
    cache.set('session:user456', {'user_id': '456'});
    t1 = cache.set_with_ttl('temp:token', {'token': 'xyz'}, ttl=60);
    cache.set_with_ttl('cache:profile', {'name': 'Alice'}, ttl=3600);
    v1 = cache.incr('stats:views');
    v2 = cache.incr('stats:views');
    sessions = cache.scan_keys('session:*');
    exp = cache.expire('session:user123', 1800);
    missing = cache.expire('nope', 10);
    return {
        "key": k, "ttl_set": t1, "views": [v1, v2], "sessions": sessions,
        "expire": [exp, missing], "get": cache.get('session:user123'),
        "none": cache.get('nope'), "exists": cache.exists('temp:token'),
        "by_id": cache.find_by_id('default', 'temp:token'),
        "delete": [cache.delete('temp:token'), cache.delete('temp:token')],
        "delete_by_id": cache.delete_by_id('default', 'cache:profile').deleted_count,
        "type": type(cache).__name__, "db_type": cache.db_type
    };
"#,
    );
    assert_eq!(
        result,
        json!({
            "key": "session:user123", "ttl_set": true, "views": [1, 2],
            "sessions": ["session:user123", "session:user456"], "expire": [true, false],
            "get": {"user_id": "123", "username": "alice"}, "none": null, "exists": true,
            "by_id": {"token": "xyz"}, "delete": [1, 0], "delete_by_id": 1,
            "type": "RedisDb", "db_type": "redis"
        })
    );
    let state = host.0.borrow();
    let ttl = |k: &str| state.keys[&("cache".to_string(), k.to_string())].1;
    assert_eq!(ttl("session:user123"), Some(1800));
    assert_eq!(ttl("session:user456"), None);
}

/// A method of the other kind raises `NotImplementedError`, without a host call.
#[test]
fn wrong_kind_methods_raise_not_implemented() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    errors = [];
    mongo = kvstore(db_name='m', db_type='mongodb');
    redis = kvstore(db_name='r', db_type='redis');
    for call in [lambda: mongo.incr('k'), lambda: mongo.scan_keys('*'),
                 lambda: mongo.set_with_ttl('k', {}, ttl=5), lambda: mongo.expire('k', 5),
                 lambda: redis.find_one('c', {}), lambda: redis.find('c', {}),
                 lambda: redis.insert_one('c', {}), lambda: redis.update_by_id('c', 'x', {})] {
        try { call(); errors.append("no error"); }
        except NotImplementedError as e { errors.append(str(e)); }
    }
    try { kvstore(db_name='x', db_type='sqlite'); } except ValueError as e { errors.append(str(e)); }
    return errors;
"#,
    );
    let errors: Vec<&str> = result
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(errors.len(), 9);
    assert_eq!(
        errors[0],
        "incr() is only available on Redis kvstores; 'm' was opened with db_type='mongodb'"
    );
    assert_eq!(
        errors[4],
        "find_one() is only available on MongoDB kvstores; 'r' was opened with db_type='redis'"
    );
    assert!(
        errors[..8]
            .iter()
            .all(|e| e.contains("is only available on"))
    );
    assert_eq!(errors[8], "Unsupported database type: sqlite");
    assert!(host.0.borrow().keys.is_empty());
}

/// Host errors become the matching Python exceptions, naming the store.
#[test]
fn host_errors_map_to_exceptions() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    out = [];
    try { kvstore(db_name='forbidden', db_type='redis').get('k'); }
    except PermissionError as e { out.append(str(e)); }
    try { kvstore(db_name='down', db_type='mongodb').find_one('c', {}); }
    except ConnectionError as e { out.append(str(e)); }
    c = kvstore(db_name='c', db_type='redis');
    c.set('word', 'hello');
    try { c.incr('word'); } except ValueError as e { out.append(str(e)); }
    try { c.set_with_ttl('k', {}, ttl=0); } except ValueError as e { out.append(str(e)); }
    return out;
"#,
    );
    assert_eq!(
        result,
        json!([
            "kvstore 'forbidden': access denied: no grant for kvstore 'forbidden'",
            "kvstore 'down': unavailable: connection refused",
            "kvstore 'c': invalid: value is not an integer",
            "set_with_ttl(): ttl must be at least 1 second, got 0"
        ])
    );
}

/// The spec's eight storage methods, reading and listing across chunk and page bounds.
#[test]
fn storage_methods() {
    let host = FakeHost::default();
    let result = run(
        &host,
        r#"
    s = store(base_path="./uploads");
    p1 = s.upload(b"hello world", "docs/a.txt");
    s.upload("text body", "docs/b.txt");
    s.upload(b"deep", "docs/sub/c.txt");
    meta = s.get_metadata("docs/a.txt");
    out = {
        "path": p1, "download": s.download("docs/a.txt").decode(),
        "exists": [s.exists("docs/a.txt"), s.exists("docs/none.txt")],
        "flat": list(s.list_files("docs")), "deep": s.list_files("docs", recursive=True),
        "meta": [meta["size"], meta["name"], meta["is_dir"], meta["modified"], meta["created"]],
        "copy": [s.copy("docs/a.txt", "docs/copy.txt"), s.copy("docs/none", "x")],
        "move": s.move("docs/b.txt", "moved/b.txt"),
        "moved": s.download("moved/b.txt"),
        "delete": [s.delete("docs/a.txt"), s.delete("docs/a.txt")]
    };
    try { s.download("docs/a.txt"); } except FileNotFoundError as e { out["missing"] = str(e); }
    try { s.get_metadata("nope"); } except FileNotFoundError as e { out["no_meta"] = str(e); }
    return out;
"#,
    );
    assert_eq!(
        result,
        json!({
            "path": "docs/a.txt", "download": "hello world", "exists": [true, false],
            "flat": ["docs/a.txt", "docs/b.txt"],
            "deep": ["docs/a.txt", "docs/b.txt", "docs/sub/c.txt"],
            "meta": [11, "a.txt", false, 1.5, 1.0], "copy": [true, false], "move": true,
            "moved": "text body", "delete": [true, false],
            "missing": "File not found: docs/a.txt", "no_meta": "File not found: nope"
        })
    );
    let state = host.0.borrow();
    assert_eq!(state.files["./uploads/docs/copy.txt"], b"hello world");
}

/// The spec's upload example: an `UploadFile` field built from the host's description,
/// stored without its bytes passing through the program, then read back; the field
/// serialises as its description. `store()` kept in a `glob` survives a globals round trip.
#[test]
fn upload_file_fields_store_and_read() {
    let host = FakeHost::default();
    host.0
        .borrow_mut()
        .uploads
        .insert("u-1".into(), b"uploaded bytes".to_vec());
    let src = r#"
import from http { UploadFile }
glob storage = store(base_path="./uploads");
glob calls = 0;
walker :pub upload_file {
    has file: UploadFile;
    has folder: str = "documents";
    can process with Root entry {
        global calls;
        calls += 1;
        path = f"{self.folder}/{self.file.filename}";
        stored = storage.upload(self.file.file, path);
        head = self.file.read(4);
        rest = self.file.file.read();
        report {
            "stored": stored, "size": storage.get_metadata(path)["size"],
            "filename": self.file.filename, "content_type": self.file.content_type,
            "declared_size": self.file.size, "head": head.decode(), "rest": rest.decode(),
            "type": type(self.file).__name__
        };
    }
}
"#;
    let mut vm = interpreter(src, &host);
    let args = json!({"file": {"filename": "a.txt", "content_type": "text/plain",
                                "size": 14, "upload": "u-1"}});
    let outcome = vm
        .run_walker("upload_file", &args, None)
        .unwrap_or_else(|f| panic!("{}", f.traceback()));
    assert_eq!(
        outcome.report_values(),
        vec![json!({
            "stored": "documents/a.txt", "size": 14, "filename": "a.txt",
            "content_type": "text/plain", "declared_size": 14, "head": "uplo",
            "rest": "aded bytes", "type": "UploadFile"
        })]
    );
    assert_eq!(
        outcome.result["file"],
        json!({"filename": "a.txt", "content_type": "text/plain", "size": 14})
    );
    assert_eq!(
        host.0.borrow().files["./uploads/documents/a.txt"],
        b"uploaded bytes"
    );

    let saved: Map<String, Json> = vm.globals_json();
    assert_eq!(saved["app.calls"], json!(1));
    vm.restore_globals(&saved)
        .unwrap_or_else(|f| panic!("{}", f.traceback()));
    vm.run_walker("upload_file", &args, None)
        .unwrap_or_else(|f| panic!("after restoring globals: {}", f.traceback()));
}

/// The spec's MongoDB and Redis examples (`tests/fixtures/spec_18.jac`, `spec_19.jac`),
/// verbatim: their `with entry` blocks run against the host.
#[test]
fn spec_kvstore_examples_run() {
    let host = FakeHost::default();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for example in ["spec_18.jac", "spec_19.jac"] {
        let program =
            load_program(&DirSources::new(&dir), example).unwrap_or_else(|d| panic!("{d}"));
        interpreter_of(program, &host);
    }
    let state = host.0.borrow();
    let users = &state.documents[&("my_app".to_string(), "users".to_string())];
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["age"], json!(31));
    let sessions = &state.documents[&("my_app".to_string(), "sessions".to_string())];
    assert_eq!(sessions[0], json!({"status": "active", "_id": "user:123"}));
    let key = |k: &str| state.keys[&("cache".to_string(), k.to_string())].clone();
    assert_eq!(key("stats:views"), (json!(1), None));
    assert_eq!(key("session:user123").1, Some(1800));
    assert_eq!(key("temp:token"), (json!({"token": "xyz"}), Some(60)));
}
