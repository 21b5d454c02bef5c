//! Host calls no SDK makes, through the raw WIT bindings: forged, stale and wrong-type
//! resource handles, handle tables filled up, host calls from a recursion that runs out
//! of stack, sleeps past the call's time and oversized arguments. The host must answer
//! each with a typed error or stop the call (a trap: 500, a timeout: 504) and keep
//! serving.

use std::hint::black_box;
use std::time::Duration;

use jac_scale_guest::__private::bindings::jac::scale::{
    graph, kvstore, log, storage, streaming, timer,
};
use jac_scale_guest::prelude::*;

/// One abuse of the host, by name (`attempt`), sized by `n`. Reports
/// `{"answer": "ok" | "<error kind>: <message>", ...}` when the host answered; a trap or
/// a timeout ends the call instead.
#[walker(public)]
pub struct HostAbuse {
    attempt: String,
    #[jac(default = 0)]
    n: u64,
}

#[walker]
impl HostAbuse {
    #[entry(Root)]
    fn abuse(&mut self, w: &mut Walk) -> Result {
        let n = self.n;
        let report = match self.attempt.as_str() {
            "forged_store" => {
                // SAFETY (of the guest only): a handle the host never gave out.
                let store = unsafe { kvstore::Store::from_handle(n as u32) };
                answered(store.get("k", None))
            }
            "forged_bucket" => {
                // SAFETY (of the guest only): a handle the host never gave out.
                let bucket = unsafe { storage::Bucket::from_handle(n as u32) };
                answered(bucket.exists("x"))
            }
            "stale_store" => {
                let store = open_store()?;
                let handle = store.handle();
                drop(store);
                // SAFETY (of the guest only): the handle was dropped above.
                answered(unsafe { kvstore::Store::from_handle(handle) }.get("k", None))
            }
            "double_drop" => {
                let store = open_store()?;
                let handle = store.handle();
                drop(store);
                // SAFETY (of the guest only): the handle was dropped above.
                drop(unsafe { kvstore::Store::from_handle(handle) });
                json!({"answer": "ok"})
            }
            "wrong_type" => {
                let store = open_store()?;
                // SAFETY (of the guest only): a kvstore handle passed as a bucket.
                let bucket = unsafe { storage::Bucket::from_handle(store.take_handle()) };
                answered(bucket.exists("x"))
            }
            "open_stores" => {
                let mut open = Vec::new();
                let error = loop {
                    if open.len() as u64 >= n {
                        break None;
                    }
                    match kvstore::Store::open("abuse", kvstore::Kind::KeyValue, None) {
                        Ok(store) => open.push(store),
                        Err(e) => break Some(e),
                    }
                };
                json!({"opened": open.len(), "answer": error.map_or("ok".into(), |e| kind(&e))})
            }
            "open_buckets" => {
                let mut open = Vec::new();
                let error = loop {
                    if open.len() as u64 >= n {
                        break None;
                    }
                    match storage::Bucket::open(None, None) {
                        Ok(bucket) => open.push(bucket),
                        Err(e) => break Some(e),
                    }
                };
                json!({"opened": open.len(), "answer": error.map_or("ok".into(), |e| kind(&e))})
            }
            "recurse" => json!({"depth": recurse(n), "answer": "ok"}),
            "wasi_sleep" => {
                std::thread::sleep(Duration::from_millis(n));
                json!({"answer": "ok"})
            }
            "host_sleep" => {
                timer::sleep(u32::try_from(n).unwrap_or(u32::MAX));
                json!({"answer": "ok"})
            }
            "huge_key" => answered(open_store()?.set(&"k".repeat(n as usize), "1", None)),
            "huge_value" => {
                let value = format!("\"{}\"", "v".repeat(n as usize));
                answered(open_store()?.set("k", &value, None))
            }
            "huge_batch" => {
                let documents = vec!["{}".to_string(); n as usize];
                let documents_store = kvstore::Store::open("abuse", kvstore::Kind::Document, None)?;
                answered(documents_store.insert_many("c", &documents))
            }
            "huge_fields" => {
                let fields = format!("{{\"by\": \"{}\"}}", "f".repeat(n as usize));
                answered(graph::create_node("Leftover", &fields))
            }
            "huge_id" => answered(graph::get_node(&"0".repeat(n as usize))),
            "huge_write" => {
                let bucket = storage::Bucket::open(None, None)?;
                answered(bucket.write("abuse.bin", &vec![0; n as usize], false))
            }
            "huge_read" => {
                let bucket = storage::Bucket::open(None, None)?;
                let written = bucket.write("abuse.bin", &[1; 16], false);
                match written.and_then(|()| bucket.read("abuse.bin", 0, u32::MAX)) {
                    Ok(bytes) => json!({"answer": "ok", "read": bytes.len()}),
                    Err(e) => json!({"answer": kind(&e)}),
                }
            }
            "huge_log" => {
                log::write(log::Level::Info, &"l".repeat(n as usize));
                json!({"answer": "ok"})
            }
            "huge_stream" => {
                streaming::send(&format!("\"{}\"", "s".repeat(n as usize)));
                json!({"answer": "ok"})
            }
            other => {
                return Err(Exception::value_error(format!("unknown attempt {other:?}")).into());
            }
        };
        w.report(report)
    }
}

/// The kvstore `abuse` (key-value).
fn open_store() -> Result<kvstore::Store> {
    Ok(kvstore::Store::open(
        "abuse",
        kvstore::Kind::KeyValue,
        None,
    )?)
}

/// `{"answer": "ok"}` or `{"answer": "<kind>: <message>"}`.
fn answered<T>(result: std::result::Result<T, HostError>) -> Value {
    json!({"answer": result.map_or_else(|e| kind(&e), |_| "ok".into())})
}

/// `<kind>: <message>` of a host error, the kind as WIT names it.
pub(crate) fn kind(e: &HostError) -> String {
    let (kind, message) = match e {
        HostError::AccessDenied(m) => ("access-denied", m),
        HostError::NotFound(m) => ("not-found", m),
        HostError::Invalid(m) => ("invalid", m),
        HostError::Conflict(m) => ("conflict", m),
        HostError::QuotaExceeded(m) => ("quota-exceeded", m),
        HostError::Unavailable(m) => ("unavailable", m),
    };
    format!("{kind}: {message}")
}

/// Calls the host at every level of a recursion `depth` deep, each level holding a
/// kilobyte of stack: deep enough, the guest's stack runs out (a trap).
fn recurse(depth: u64) -> u64 {
    let frame = black_box([depth as u8; 1024]);
    black_box(graph::root());
    if depth == 0 {
        return 0;
    }
    let below = recurse(depth - 1);
    // The frame outlives the call below, so each level keeps its kilobyte.
    black_box(&frame);
    1 + below
}
