//! The guest half of the host-import fuzz test (`tests/blackbox/isolation.rs`): `HostFuzz`
//! turns a byte string into a sequence of raw host calls of one family (`graph`,
//! `kvstore`, `storage`, `misc`: timer, log and streaming) with arguments drawn from the
//! bytes, and reports what each answered and what the reads returned; `Plant` writes a
//! marker value everywhere `HostFuzz` reads (the same store names, keys, collections and
//! paths), so a test can plant one app's marker and look for it in another app's reads.

use std::collections::BTreeMap;

use jac_scale_guest::__private::bindings::jac::scale::{
    graph, kvstore, log, storage, streaming, timer,
};
use jac_scale_guest::prelude::*;

use crate::Leftover;
use crate::host_abuse::kind;

/// Store names both walkers use.
const STORES: [&str; 2] = ["fuzz", "cache"];
/// Keys and document ids both walkers use.
const KEYS: [&str; 3] = ["marker", "k", "a:b"];
/// Collections both walkers use.
const COLLECTIONS: [&str; 2] = ["kvstore", "c"];
/// Paths both walkers use (`Plant` writes the first).
const PATHS: [&str; 7] = [
    "marker.txt",
    "dir/f",
    "dir",
    "../marker.txt",
    "/etc/passwd",
    "",
    "./marker.txt",
];
/// Host calls one `HostFuzz` makes at most.
const MAX_CALLS: usize = 200;
/// Bytes of read results one `HostFuzz` reports at most.
const MAX_SEEN: usize = 64 << 10;
/// Handles of each kind one `HostFuzz` keeps open at most.
const MAX_OPEN: usize = 8;

/// Runs the host calls `input` encodes on `family`; reports `{"calls", "outcomes":
/// {"ok" | "<error kind>": count}, "seen": "<what reads returned>"}`.
#[walker(public)]
pub struct HostFuzz {
    family: String,
    input: Vec<u8>,
}

#[walker]
impl HostFuzz {
    #[entry(Root)]
    fn fuzz(&mut self, w: &mut Walk) -> Result {
        let mut run = Run {
            bytes: Bytes {
                data: &self.input,
                at: 0,
            },
            outcomes: BTreeMap::new(),
            seen: String::new(),
            ids: vec![graph::root()],
            stores: Vec::new(),
            buckets: Vec::new(),
            calls: 0,
        };
        while !run.bytes.done() && run.calls < MAX_CALLS {
            match self.family.as_str() {
                "graph" => run.graph_call(),
                "kvstore" => run.kvstore_call(),
                "storage" => run.storage_call(),
                "misc" => run.misc_call(),
                other => {
                    return Err(Exception::value_error(format!("unknown family {other:?}")).into());
                }
            }
            run.calls += 1;
        }
        w.report(json!({"calls": run.calls, "outcomes": run.outcomes, "seen": run.seen}))
    }
}

/// Writes `marker` into a node connected to root, under every key of every store (both
/// kinds, every collection) and into the first path of the app's files.
#[walker(public)]
pub struct Plant {
    marker: String,
}

#[walker]
impl Plant {
    #[entry(Root)]
    fn plant(&mut self, w: &mut Walk) -> Result {
        w.attach(&w.root(), Leftover::new(&self.marker))?;
        let value = json!(self.marker).to_string();
        for name in STORES {
            let store = kvstore::Store::open(name, kvstore::Kind::KeyValue, None)?;
            let documents = kvstore::Store::open(name, kvstore::Kind::Document, None)?;
            for key in KEYS {
                store.set(key, &value, None)?;
                for collection in COLLECTIONS {
                    documents.set(key, &value, Some(collection))?;
                }
            }
        }
        let bucket = storage::Bucket::open(None, Some(true))?;
        bucket.write(PATHS[0], self.marker.as_bytes(), false)?;
        w.report(json!({"planted": self.marker}))
    }
}

/// The input, read from the front; zeros once it is used up.
struct Bytes<'a> {
    data: &'a [u8],
    at: usize,
}

impl Bytes<'_> {
    fn done(&self) -> bool {
        self.at >= self.data.len()
    }

    fn byte(&mut self) -> u8 {
        let byte = self.data.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        byte
    }

    fn flag(&mut self) -> bool {
        self.byte() & 1 == 1
    }

    /// A small number mostly, now and then an extreme one.
    fn number(&mut self) -> u64 {
        match self.byte() % 8 {
            0 => u64::MAX,
            1 => u64::from(u32::MAX),
            2 => u64::from(self.byte()) << 24,
            _ => u64::from(self.byte() % 16),
        }
    }

    fn u32(&mut self) -> u32 {
        u32::try_from(self.number()).unwrap_or(u32::MAX)
    }

    fn pick<'s>(&mut self, items: &[&'s str]) -> &'s str {
        items[usize::from(self.byte()) % items.len()]
    }

    /// One of `known`, or a string of random bytes (lossy UTF-8), or a long one.
    fn text(&mut self, known: &[&str]) -> String {
        match self.byte() % 8 {
            0 => {
                let len = usize::from(self.byte() % 32);
                let raw: Vec<u8> = (0..len).map(|_| self.byte()).collect();
                String::from_utf8_lossy(&raw).into_owned()
            }
            1 => "x".repeat(usize::from(self.byte()) << 4),
            _ => self.pick(known).to_string(),
        }
    }

    /// JSON text: mostly valid (objects, filters, updates), sometimes not.
    fn json(&mut self) -> String {
        const KNOWN: &[&str] = &[
            "{}",
            "{\"by\": \"fuzz\"}",
            "{\"value\": 1}",
            "{\"_id\": \"marker\"}",
            "{\"value\": {\"$gt\": 0}}",
            "{\"$or\": [{\"by\": \"fuzz\"}, {\"value\": {\"$in\": [1, 2]}}]}",
            "{\"$set\": {\"by\": \"fuzz\"}}",
            "{\"$inc\": {\"value\": 1}}",
            "{\"$push\": {\"list\": 1}}",
            "{\"$unset\": {\"by\": \"\"}}",
            "\"marker\"",
            "1",
            "[1, 2, 3]",
            "null",
            "{",
            "",
        ];
        self.text(KNOWN)
    }
}

/// One `HostFuzz` run: the input, what the host answered, what reads returned, and the
/// ids and handles the calls made.
struct Run<'a> {
    bytes: Bytes<'a>,
    outcomes: BTreeMap<String, u32>,
    seen: String,
    ids: Vec<String>,
    stores: Vec<kvstore::Store>,
    buckets: Vec<storage::Bucket>,
    calls: usize,
}

impl Run<'_> {
    /// Counts the outcome of one host call.
    fn answered<T>(&mut self, result: std::result::Result<T, HostError>) -> Option<T> {
        let outcome = match &result {
            Ok(_) => "ok".to_string(),
            Err(e) => kind(e).split(':').next().unwrap_or_default().to_string(),
        };
        *self.outcomes.entry(outcome).or_default() += 1;
        result.ok()
    }

    /// Keeps (a bounded part of) what a read returned.
    fn saw(&mut self, text: &str) {
        let room = MAX_SEEN.saturating_sub(self.seen.len());
        let mut end = text.len().min(room);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.seen.push_str(&text[..end]);
        self.seen.push('\n');
    }

    /// A known id, or a forged or malformed one.
    fn id(&mut self) -> String {
        match self.bytes.byte() % 4 {
            0 => self
                .bytes
                .text(&["00000000000000000000000000000000", "root", ""]),
            1 => (0..32)
                .map(|_| char::from(b"0123456789abcdef"[usize::from(self.bytes.byte() % 16)]))
                .collect(),
            _ => self.ids[usize::from(self.bytes.byte()) % self.ids.len()].clone(),
        }
    }

    fn archetype(&mut self) -> String {
        self.bytes.text(&["Leftover", "GenericEdge", "Root"])
    }

    fn level(&mut self) -> graph::AccessLevel {
        match self.bytes.byte() % 4 {
            0 => graph::AccessLevel::NoAccess,
            1 => graph::AccessLevel::Read,
            2 => graph::AccessLevel::Connect,
            _ => graph::AccessLevel::Write,
        }
    }

    fn saw_node(&mut self, node: Option<graph::Node>) {
        if let Some(node) = node {
            self.saw(&node.fields);
            self.ids.push(node.id);
        }
    }

    fn saw_edge(&mut self, edge: Option<graph::Edge>) {
        if let Some(edge) = edge {
            self.saw(&edge.fields);
            self.ids.push(edge.id);
        }
    }

    fn graph_call(&mut self) {
        match self.bytes.byte() % 17 {
            0 => {
                let root = graph::root();
                self.ids.push(root);
            }
            1 => {
                let roots = graph::all_roots();
                self.ids.extend(roots);
            }
            2 => {
                let roots = graph::every_root();
                self.ids.extend(roots);
            }
            3 => {
                let id = self.id();
                let node = self.answered(graph::get_node(&id));
                self.saw_node(node);
            }
            4 => {
                let (archetype, fields) = (self.archetype(), self.bytes.json());
                if let Some(id) = self.answered(graph::create_node(&archetype, &fields)) {
                    self.ids.push(id);
                }
            }
            5 => {
                let id = graph::reserve_id();
                let (archetype, fields) = (self.archetype(), self.bytes.json());
                self.answered(graph::create_node_with_id(&id, &archetype, &fields));
                self.ids.push(id);
            }
            6 => {
                let (id, fields) = (self.id(), self.bytes.json());
                self.answered(graph::update_node(&id, &fields));
            }
            7 => {
                let id = self.id();
                self.answered(graph::delete_node(&id));
            }
            8 => {
                let (source, target) = (self.id(), self.id());
                let (archetype, fields) = (self.archetype(), self.bytes.json());
                let undirected = self.bytes.flag();
                let edge = graph::connect(&source, &target, &archetype, &fields, undirected);
                let edge = self.answered(edge);
                self.saw_edge(edge);
            }
            9 => {
                let id = self.id();
                let edge = self.answered(graph::get_edge(&id));
                self.saw_edge(edge);
            }
            10 => {
                let (id, fields) = (self.id(), self.bytes.json());
                self.answered(graph::update_edge(&id, &fields));
            }
            11 => {
                let id = self.id();
                self.answered(graph::delete_edge(&id));
            }
            12 => {
                let origin = self.id();
                let direction = match self.bytes.byte() % 3 {
                    0 => graph::Direction::Outgoing,
                    1 => graph::Direction::Incoming,
                    _ => graph::Direction::Any,
                };
                let query = graph::NeighborQuery {
                    direction,
                    edge_types: vec![self.archetype(); usize::from(self.bytes.byte() % 2)],
                    node_types: vec![self.archetype(); usize::from(self.bytes.byte() % 2)],
                    offset: self.bytes.u32(),
                    limit: self.bytes.u32(),
                };
                for neighbor in self
                    .answered(graph::neighbors(&origin, &query))
                    .unwrap_or_default()
                {
                    self.saw_edge(Some(neighbor.edge));
                    self.saw_node(Some(neighbor.node));
                }
            }
            13 => {
                let (id, level) = (self.id(), self.level());
                self.answered(graph::grant(&id, level));
            }
            14 => {
                let id = self.id();
                self.answered(graph::revoke(&id));
            }
            15 => {
                let (id, root, level) = (self.id(), self.id(), self.level());
                if self.bytes.flag() {
                    self.answered(graph::allow_root(&id, &root, level));
                } else {
                    self.answered(graph::disallow_root(&id, &root));
                }
            }
            _ => {
                let id = self.id();
                graph::access(&id);
            }
        }
    }

    /// An open store (opening one when none is, or now and then).
    fn store(&mut self) -> Option<usize> {
        if self.stores.is_empty() || self.bytes.byte().is_multiple_of(8) {
            let name = self.bytes.text(&STORES);
            let kind = if self.bytes.flag() {
                kvstore::Kind::Document
            } else {
                kvstore::Kind::KeyValue
            };
            let uri = match self.bytes.byte() % 16 {
                0 => Some("http://not-a-store"),
                1 => Some("redis://127.0.0.1:1"),
                _ => None,
            };
            let store = self.answered(kvstore::Store::open(&name, kind, uri))?;
            if self.stores.len() >= MAX_OPEN {
                self.stores.remove(0);
            }
            self.stores.push(store);
        }
        Some(usize::from(self.bytes.byte()) % self.stores.len())
    }

    fn kvstore_call(&mut self) {
        let Some(at) = self.store() else {
            return;
        };
        let op = self.bytes.byte() % 21;
        let key = self.bytes.text(&KEYS);
        let collection = self.bytes.text(&COLLECTIONS);
        let in_collection = self.bytes.flag().then_some(collection.as_str());
        let (json, other) = (self.bytes.json(), self.bytes.json());
        let (offset, limit, number) = (self.bytes.u32(), self.bytes.u32(), self.bytes.number());
        let store = &self.stores[at];
        let read: Option<Vec<String>> = match op {
            0 => {
                let got = store.get(&key, in_collection);
                self.answered(got).map(|v| v.into_iter().collect())
            }
            1 => {
                let set = store.set(&key, &json, in_collection);
                self.answered(set).map(|()| Vec::new())
            }
            2 => {
                let deleted = store.delete(&key, in_collection);
                self.answered(deleted).map(|_| Vec::new())
            }
            3 => {
                let exists = store.exists(&key, in_collection);
                self.answered(exists).map(|_| Vec::new())
            }
            4 => {
                let found = store.find_one(&collection, &json);
                self.answered(found).map(|v| v.into_iter().collect())
            }
            5 => {
                let found = store.find(&collection, &json, offset, limit);
                self.answered(found)
            }
            6 => {
                let id = store.insert_one(&collection, &json);
                self.answered(id).map(|id| vec![id])
            }
            7 => {
                let documents = vec![json.clone(); usize::from(self.bytes.byte() % 4)];
                let store = &self.stores[at];
                let ids = store.insert_many(&collection, &documents);
                self.answered(ids)
            }
            8 => {
                let updated = store.update_one(&collection, &json, &other);
                self.answered(updated).map(|_| Vec::new())
            }
            9 => {
                let updated = store.update_many(&collection, &json, &other);
                self.answered(updated).map(|_| Vec::new())
            }
            10 => {
                let deleted = store.delete_one(&collection, &json);
                self.answered(deleted).map(|_| Vec::new())
            }
            11 => {
                let deleted = store.delete_many(&collection, &json);
                self.answered(deleted).map(|_| Vec::new())
            }
            12 => {
                let found = store.find_by_id(&collection, &key);
                self.answered(found).map(|v| v.into_iter().collect())
            }
            13 => {
                let updated = store.update_by_id(&collection, &key, &json);
                self.answered(updated).map(|_| Vec::new())
            }
            14 => {
                let deleted = store.delete_by_id(&collection, &key);
                self.answered(deleted).map(|_| Vec::new())
            }
            15 => {
                let set = store.set_with_ttl(&key, &json, number);
                self.answered(set).map(|()| Vec::new())
            }
            16 => {
                let expired = store.expire(&key, number);
                self.answered(expired).map(|_| Vec::new())
            }
            17 => {
                let by = i64::from_ne_bytes(number.to_ne_bytes());
                let value = store.incr(&key, by);
                self.answered(value).map(|n| vec![n.to_string()])
            }
            18 => {
                let keys = store.scan_keys(&key, offset, limit);
                self.answered(keys)
            }
            19 => {
                self.stores.remove(at);
                None
            }
            _ => {
                // A key from another store's scan, read back.
                let keys = store.scan_keys("*", 0, 4);
                self.answered(keys)
            }
        };
        for text in read.unwrap_or_default() {
            self.saw(&text);
        }
    }

    /// An open bucket (opening one when none is, or now and then).
    fn bucket(&mut self) -> Option<usize> {
        if self.buckets.is_empty() || self.bytes.byte().is_multiple_of(8) {
            let base = match self.bytes.byte() % 4 {
                0 => None,
                _ => Some(self.bytes.text(&[".", "uploads", "..", "/", "dir"])),
            };
            let create = self.bytes.flag().then_some(self.bytes.flag());
            let bucket = self.answered(storage::Bucket::open(base.as_deref(), create))?;
            if self.buckets.len() >= MAX_OPEN {
                self.buckets.remove(0);
            }
            self.buckets.push(bucket);
        }
        Some(usize::from(self.bytes.byte()) % self.buckets.len())
    }

    fn storage_call(&mut self) {
        let op = self.bytes.byte() % 13;
        let (path, other) = (self.bytes.text(&PATHS), self.bytes.text(&PATHS));
        let (offset, length) = (self.bytes.number(), self.bytes.u32());
        if op >= 10 {
            let upload = self.bytes.text(&["file", "0", ""]);
            match op {
                10 => {
                    let info = self.answered(storage::upload(&upload));
                    if let Some(info) = info {
                        self.saw(&info.filename);
                    }
                }
                11 => {
                    let bytes = self.answered(storage::read_upload(&upload, offset, length));
                    self.saw(&String::from_utf8_lossy(&bytes.unwrap_or_default()));
                }
                _ => {
                    if let Some(at) = self.bucket() {
                        let saved = self.buckets[at].save_upload(&upload, &path);
                        self.answered(saved);
                    }
                }
            }
            return;
        }
        let Some(at) = self.bucket() else {
            return;
        };
        let data: Vec<u8> = (0..usize::from(self.bytes.byte()) * 4)
            .map(|i| i as u8)
            .collect();
        let append = self.bytes.flag();
        let bucket = &self.buckets[at];
        match op {
            0 => {
                let written = bucket.write(&path, &data, append);
                self.answered(written);
            }
            1 => {
                let bytes = bucket.read(&path, offset, length);
                let bytes = self.answered(bytes).unwrap_or_default();
                self.saw(&String::from_utf8_lossy(&bytes));
            }
            2 => {
                let deleted = bucket.delete(&path);
                self.answered(deleted);
            }
            3 => {
                let exists = bucket.exists(&path);
                self.answered(exists);
            }
            4 => {
                let listed = bucket.list(&path, append, offset as u32, length);
                for name in self.answered(listed).unwrap_or_default() {
                    self.saw(&name);
                }
            }
            5 => {
                let metadata = bucket.metadata(&path);
                if let Some(metadata) = self.answered(metadata) {
                    self.saw(&metadata.name);
                }
            }
            6 => {
                let copied = bucket.copy(&path, &other);
                self.answered(copied);
            }
            7 => {
                let moved = bucket.move_(&path, &other);
                self.answered(moved);
            }
            8 => {
                self.buckets.remove(at);
            }
            _ => {
                // Read back the first paths the bucket lists.
                let listed = bucket.list("", true, 0, 4);
                for name in self.answered(listed).unwrap_or_default() {
                    let bytes = self.buckets[at].read(&name, 0, 1 << 10);
                    let bytes = self.answered(bytes).unwrap_or_default();
                    self.saw(&String::from_utf8_lossy(&bytes));
                }
            }
        }
    }

    fn misc_call(&mut self) {
        match self.bytes.byte() % 3 {
            0 => timer::sleep(u32::from(self.bytes.byte() % 4)),
            1 => {
                let level = match self.bytes.byte() % 5 {
                    0 => log::Level::Trace,
                    1 => log::Level::Debug,
                    2 => log::Level::Info,
                    3 => log::Level::Warn,
                    _ => log::Level::Error,
                };
                let message = self.bytes.text(&["fuzz", "\u{0}\n\r\u{1b}[31m"]);
                log::write(level, &message);
            }
            _ => {
                let value = self.bytes.text(&["fuzz", ""]);
                streaming::send(&json!(value).to_string());
            }
        }
        *self.outcomes.entry("ok".into()).or_default() += 1;
    }
}
