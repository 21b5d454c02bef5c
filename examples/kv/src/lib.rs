//! Direct database access (`kvstore`): one walker per store kind that runs any method by
//! name, and a walker timing get+set pairs.
//!
//! ```sh
//! cargo build --release --target wasm32-wasip2 -p kv
//! jac-scale start target/wasm32-wasip2/release/kv.wasm
//! curl -X POST localhost:8000/walker/KeyValue -H 'Content-Type: application/json' \
//!   -d '{"store": "cache", "op": "set_with_ttl", "args": {"key": "temp:token", "value": {"token": "xyz"}, "ttl": 60}}'
//! curl -X POST localhost:8000/walker/Documents -H 'Content-Type: application/json' \
//!   -d '{"store": "my_app", "op": "find", "args": {"collection": "users", "filter": {"age": {"$gt": 28}}}}'
//! ```
//!
//! Each call reports `{"result": ...}`; a failed host call fails the request with the
//! host's error (403 without a grant, 500 with the message for a wrong-kind method).

use std::time::Instant;

use jac_scale_guest::kvstore::{Kind, KvStore};
use jac_scale_guest::prelude::*;

/// Runs `op` with `args` on the key-value store `store` (at `uri`, if given). A document
/// method here answers the host's wrong-kind error.
#[walker(public)]
pub struct KeyValue {
    store: String,
    op: String,
    #[jac(default = {})]
    args: Value,
    #[jac(default = null)]
    uri: Option<String>,
}

#[walker]
impl KeyValue {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        let db = KvStore::open_at(&self.store, Kind::KeyValue, self.uri.as_deref())?;
        w.report(json!({"result": run_op(&db, &self.op, &self.args)?}))
    }
}

/// Runs `op` with `args` on the document store `store` (at `uri`, if given).
#[walker(public)]
pub struct Documents {
    store: String,
    op: String,
    #[jac(default = {})]
    args: Value,
    #[jac(default = null)]
    uri: Option<String>,
}

#[walker]
impl Documents {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        let db = KvStore::open_at(&self.store, Kind::Document, self.uri.as_deref())?;
        w.report(json!({"result": run_op(&db, &self.op, &self.args)?}))
    }
}

/// `n` get+set pairs on the key-value store `store`; reports the time per pair measured
/// inside the guest (the benchmark of bench/kvstore.sh).
#[walker(public)]
pub struct GetSetPairs {
    #[jac(default = "bench")]
    store: String,
    n: u32,
}

#[walker]
impl GetSetPairs {
    #[entry(Root)]
    fn run(&mut self, w: &mut Walk) -> Result {
        let db = KvStore::open(&self.store, Kind::KeyValue)?;
        let started = Instant::now();
        for i in 0..self.n {
            let previous: Option<u64> = db.get("counter")?;
            db.set("counter", &(previous.unwrap_or(0) + u64::from(i)))?;
        }
        let elapsed = started.elapsed();
        let per_pair_us = elapsed.as_secs_f64() * 1e6 / f64::from(self.n.max(1));
        w.report(json!({"pairs": self.n, "per_pair_us": per_pair_us}))
    }
}

fn text<'a>(args: &'a Value, name: &str) -> Result<&'a str> {
    args[name]
        .as_str()
        .ok_or_else(|| Exception::value_error(format!("args.{name} must be a string")).into())
}

fn number(args: &Value, name: &str) -> Result<u64> {
    args[name]
        .as_u64()
        .ok_or_else(|| Exception::value_error(format!("args.{name} must be a number")).into())
}

/// Calls the kvstore method `op`; its result as JSON.
fn run_op(db: &KvStore, op: &str, args: &Value) -> Result<Value> {
    let key = || text(args, "key");
    let collection = || text(args, "collection");
    let in_collection = args["collection"].as_str();
    let filter = || &args["filter"];
    let update = || &args["update"];
    let id = || text(args, "id");
    Ok(match op {
        "get" => json!(db.get_in::<Value>(key()?, in_collection)?),
        "set" => json!(db.set_in(key()?, &args["value"], in_collection)?),
        "delete" => json!(db.delete(key()?, in_collection)?),
        "exists" => json!(db.exists(key()?, in_collection)?),
        "find_one" => json!(db.find_one::<Value>(collection()?, filter())?),
        "find" => json!(db.find::<Value>(collection()?, filter())?),
        "insert_one" => json!(db.insert_one(collection()?, &args["document"])?),
        "insert_many" => {
            let docs = args["documents"].as_array().cloned().unwrap_or_default();
            json!(db.insert_many(collection()?, &docs)?)
        }
        "update_one" => json!(db.update_one(collection()?, filter(), update())?),
        "update_many" => json!(db.update_many(collection()?, filter(), update())?),
        "delete_one" => json!(db.delete_one(collection()?, filter())?),
        "delete_many" => json!(db.delete_many(collection()?, filter())?),
        "find_by_id" => json!(db.find_by_id::<Value>(collection()?, id()?)?),
        "update_by_id" => json!(db.update_by_id(collection()?, id()?, update())?),
        "delete_by_id" => json!(db.delete_by_id(collection()?, id()?)?),
        "set_with_ttl" => json!(db.set_with_ttl(key()?, &args["value"], number(args, "ttl")?)?),
        "expire" => json!(db.expire(key()?, number(args, "ttl")?)?),
        "incr" => json!(db.incr(key()?, args["by"].as_i64().unwrap_or(1))?),
        "scan_keys" => json!(db.scan_keys(text(args, "pattern")?)?),
        other => return Err(Exception::value_error(format!("unknown op {other:?}")).into()),
    })
}

jac_scale_guest::app!(KeyValue, Documents, GetSetPairs);
