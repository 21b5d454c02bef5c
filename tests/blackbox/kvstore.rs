//! kvstore through HTTP with `examples/kv`: every method on the embedded backends and on
//! real Redis and MongoDB servers (started by the tests), wrong-kind calls, capability
//! grants, two apps with the same store name, TTL expiry and an oversized value.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::support::{App, Server};

/// A store name no earlier run used (Redis keeps keys between runs).
fn fresh_store(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}{nanos}")
}

/// Runs `op` on the key-value (`KeyValue`) or document (`Documents`) walker; the result.
fn call(server: &Server, walker: &str, store: &str, op: &str, args: Value) -> Value {
    let reply = server.post(
        &format!("/walker/{walker}"),
        json!({"store": store, "op": op, "args": args}),
    );
    reply.only_report()["result"].clone()
}

/// The kv component copied into its own folder as `<name>.wasm`, with `jac_toml` next to it.
fn app_copy(dir: &Path, name: &str, jac_toml: Option<&str>) -> PathBuf {
    let wasm = dir.join(format!("{name}.wasm"));
    std::fs::copy(App::Kv.wasm(), &wasm).unwrap();
    if let Some(text) = jac_toml {
        std::fs::write(dir.join("jac.toml"), text).unwrap();
    }
    wasm
}

fn every_key_value_method(server: &Server) {
    let s = &fresh_store("cache");
    let kv = |op, args| call(server, "KeyValue", s, op, args);
    assert_eq!(kv("get", json!({"key": "session:user123"})), Value::Null);
    kv(
        "set",
        json!({"key": "session:user123", "value": {"user_id": "123", "username": "alice"}}),
    );
    assert_eq!(
        kv("get", json!({"key": "session:user123"})),
        json!({"user_id": "123", "username": "alice"})
    );
    assert_eq!(kv("exists", json!({"key": "session:user123"})), true);
    assert_eq!(kv("incr", json!({"key": "stats:views"})), 1);
    assert_eq!(kv("incr", json!({"key": "stats:views", "by": 4})), 5);
    kv(
        "set_with_ttl",
        json!({"key": "cache:profile", "value": {"name": "Alice"}, "ttl": 3600}),
    );
    kv("set", json!({"key": "session:user456", "value": 1}));
    assert_eq!(
        kv("scan_keys", json!({"pattern": "session:*"})),
        json!(["session:user123", "session:user456"])
    );
    assert_eq!(
        kv("expire", json!({"key": "session:user123", "ttl": 1800})),
        true
    );
    assert_eq!(kv("expire", json!({"key": "missing", "ttl": 5})), false);

    kv(
        "set_with_ttl",
        json!({"key": "temp:token", "value": {"token": "xyz"}, "ttl": 1}),
    );
    assert_eq!(
        kv("get", json!({"key": "temp:token"})),
        json!({"token": "xyz"})
    );
    std::thread::sleep(Duration::from_millis(2_100));
    assert_eq!(
        kv("get", json!({"key": "temp:token"})),
        Value::Null,
        "TTL expired"
    );

    assert_eq!(kv("delete", json!({"key": "session:user123"})), true);
    assert_eq!(kv("exists", json!({"key": "session:user123"})), false);
}

#[test]
fn every_key_value_method_on_the_embedded_store() {
    every_key_value_method(&Server::start(App::Kv));
}

#[test]
fn every_key_value_method_on_redis() {
    every_key_value_method(
        &Server::builder(App::Kv)
            .env("REDIS_URL", test_services::redis_url())
            .start(),
    );
}

#[test]
fn an_explicit_uri_picks_redis() {
    let server = Server::start(App::Kv);
    let s = fresh_store("explicit");
    let redis = test_services::redis_url();
    let body = |op: &str, args| json!({"store": s, "op": op, "args": args, "uri": redis});
    server
        .post(
            "/walker/KeyValue",
            body("set", json!({"key": "k", "value": "on redis"})),
        )
        .ok();
    let read = server.post("/walker/KeyValue", body("get", json!({"key": "k"})));
    assert_eq!(read.only_report()["result"], "on redis");
    // The embedded store (no uri) does not have it.
    assert_eq!(
        call(&server, "KeyValue", &s, "get", json!({"key": "k"})),
        Value::Null
    );
}

#[test]
fn every_document_method_on_the_embedded_store() {
    every_document_method(&Server::start(App::Kv));
}

#[test]
fn every_document_method_on_mongodb() {
    // The graph goes to this database; the documents to `jac_scale_kvstore`.
    let uri = test_services::mongodb_uri("kvstore_documents");
    every_document_method(&Server::builder(App::Kv).env("MONGODB_URI", uri).start());
}

fn every_document_method(server: &Server) {
    let s = &fresh_store("my_app");
    let db = |op, args| call(server, "Documents", s, op, args);
    let alice = db(
        "insert_one",
        json!({"collection": "users", "document": {"name": "Alice", "role": "admin", "age": 30}}),
    );
    assert!(alice.as_str().is_some_and(|id| id.len() == 32), "{alice}");
    let ids = db(
        "insert_many",
        json!({"collection": "users", "documents": [
            {"_id": "bob", "name": "Bob", "role": "user", "age": 25},
            {"name": "Carol", "role": "admin", "age": 41}
        ]}),
    );
    assert_eq!(ids[0], "bob");
    let found = db(
        "find_one",
        json!({"collection": "users", "filter": {"name": "Alice"}}),
    );
    assert_eq!(
        (found["_id"].clone(), found["age"].clone()),
        (alice.clone(), json!(30))
    );
    let names = |docs: Value| -> Vec<String> {
        docs.as_array()
            .unwrap()
            .iter()
            .map(|d| d["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        names(db(
            "find",
            json!({"collection": "users", "filter": {"role": "admin"}})
        )),
        ["Alice", "Carol"]
    );
    assert_eq!(
        names(db(
            "find",
            json!({"collection": "users", "filter": {"$and": [{"age": {"$gte": 25}}, {"age": {"$lte": 30}}], "role": {"$ne": "user"}}})
        )),
        ["Alice"]
    );
    assert_eq!(
        db(
            "update_one",
            json!({"collection": "users", "filter": {"name": "Alice"}, "update": {"$set": {"age": 31}}})
        ),
        1
    );
    assert_eq!(
        db(
            "update_many",
            json!({"collection": "users", "filter": {"role": {"$in": ["admin"]}}, "update": {"$inc": {"logins": 1}, "$push": {"tags": "x"}}})
        ),
        2
    );
    let alice_now = db(
        "find_by_id",
        json!({"collection": "users", "id": alice.clone()}),
    );
    assert_eq!(
        (
            alice_now["age"].clone(),
            alice_now["logins"].clone(),
            alice_now["tags"].clone()
        ),
        (json!(31), json!(1), json!(["x"]))
    );
    assert_eq!(
        db(
            "update_by_id",
            json!({"collection": "users", "id": "bob", "update": {"$unset": {"age": ""}}})
        ),
        true
    );
    assert_eq!(
        db("find_by_id", json!({"collection": "users", "id": "bob"}))["age"],
        Value::Null
    );
    assert_eq!(
        db(
            "delete_one",
            json!({"collection": "users", "filter": {"name": "Bob"}})
        ),
        1
    );
    assert_eq!(
        db("delete_by_id", json!({"collection": "users", "id": "bob"})),
        false
    );
    assert_eq!(
        db("delete_by_id", json!({"collection": "users", "id": alice})),
        true
    );
    assert_eq!(
        db("delete_many", json!({"collection": "users", "filter": {}})),
        1
    );

    db(
        "set",
        json!({"key": "user:123", "value": {"status": "active"}, "collection": "sessions"}),
    );
    assert_eq!(
        db("get", json!({"key": "user:123", "collection": "sessions"})),
        json!({"status": "active"})
    );
    assert_eq!(
        db(
            "exists",
            json!({"key": "user:123", "collection": "sessions"})
        ),
        true
    );
    assert_eq!(
        db(
            "delete",
            json!({"key": "user:123", "collection": "sessions"})
        ),
        true
    );
}

#[test]
fn a_wrong_kind_method_fails_with_a_clear_error() {
    let server = Server::start(App::Kv);
    let find_on_key_value = server.post(
        "/walker/KeyValue",
        json!({"store": "cache", "op": "find", "args": {"collection": "c", "filter": {}}}),
    );
    let error = find_on_key_value.err(500, "EXECUTION_ERROR");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("find is a document (mongodb) store method"),
        "{error}"
    );
    let incr_on_documents = server.post(
        "/walker/Documents",
        json!({"store": "my_app", "op": "incr", "args": {"key": "n"}}),
    );
    let error = incr_on_documents.err(500, "EXECUTION_ERROR");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("incr is a key-value (redis) store method"),
        "{error}"
    );
}

#[test]
fn a_store_without_a_grant_is_access_denied() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = app_copy(
        dir.path(),
        "kv",
        Some("[plugins.scale.capabilities]\nkvstore = [\"cache\"]\n"),
    );
    let server = Server::builder(App::Kv).wasm_path(wasm).start();
    let granted = server.post(
        "/walker/KeyValue",
        json!({"store": "cache", "op": "set", "args": {"key": "k", "value": 1}}),
    );
    granted.ok();
    let denied = server.post(
        "/walker/KeyValue",
        json!({"store": "secrets", "op": "get", "args": {"key": "k"}}),
    );
    let error = denied.err(403, "FORBIDDEN");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no kvstore grant for \"secrets\""),
        "{error}"
    );
}

#[test]
fn the_operator_can_deny_apps_that_declare_nothing() {
    let server = Server::builder(App::Kv)
        .arg("--capabilities")
        .arg("deny")
        .start();
    let denied = server.post(
        "/walker/KeyValue",
        json!({"store": "cache", "op": "get", "args": {"key": "k"}}),
    );
    denied.err(403, "FORBIDDEN");
}

/// Two apps (`kv` and `kv_other`) on the same Redis and the same embedded database
/// file both use store `cache`, key `shared`: neither sees the other's value.
#[test]
fn two_apps_with_the_same_store_name_are_isolated() {
    let dir = tempfile::tempdir().unwrap();
    assert_isolated(
        app_copy(dir.path(), "kv", None),
        app_copy(dir.path(), "kv_other", None),
    );
}

/// Every Jac app is `app.jac`/`app.wasm`: apps with that generic name are told apart by
/// their folders.
#[test]
fn two_apps_both_named_app_in_different_folders_are_isolated() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert_isolated(
        app_copy(a.path(), "app", None),
        app_copy(b.path(), "app", None),
    );
}

/// Serves both components on one data dir and the real Redis and checks that a value one
/// writes is invisible to the other, in both kinds of store.
fn assert_isolated(one: PathBuf, other: PathBuf) {
    let data = tempfile::tempdir().unwrap();
    let store = fresh_store("cache");
    let start = |wasm: PathBuf| {
        Server::builder(App::Kv)
            .env("REDIS_URL", test_services::redis_url())
            .wasm_path(wasm)
            .env("JAC_DATA_PATH", data.path().display())
            .start()
    };
    let (one, other) = (start(one), start(other));
    for walker in ["KeyValue", "Documents"] {
        call(
            &one,
            walker,
            &store,
            "set",
            json!({"key": "shared", "value": "one's"}),
        );
        assert_eq!(
            call(&other, walker, &store, "get", json!({"key": "shared"})),
            Value::Null,
            "{walker}: the other app sees the first app's value"
        );
        assert_eq!(
            call(&one, walker, &store, "get", json!({"key": "shared"})),
            "one's"
        );
    }
}

#[test]
fn an_oversized_value_is_refused_and_the_server_keeps_serving() {
    let server = Server::builder(App::Kv)
        .env("JAC_SCALE_BODY_LIMIT_BYTES", 4 << 20)
        .start();
    let big = "x".repeat(1 << 20);
    let refused = server.post(
        "/walker/KeyValue",
        json!({"store": "cache", "op": "set", "args": {"key": "big", "value": big}}),
    );
    let error = refused.err(500, "EXECUTION_ERROR");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("at most 1048576 bytes"),
        "{error}"
    );
    assert_eq!(
        call(
            &server,
            "KeyValue",
            "cache",
            "exists",
            json!({"key": "big"})
        ),
        false
    );
    call(
        &server,
        "KeyValue",
        "cache",
        "set",
        json!({"key": "small", "value": 1}),
    );
    assert_eq!(
        call(&server, "KeyValue", "cache", "get", json!({"key": "small"})),
        1
    );
}
