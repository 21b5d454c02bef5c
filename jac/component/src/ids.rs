//! Provisional ids: the Jac runtime names a new node or edge itself
//! ([`jac_lang::graph::Graph::new_id`]), as jaclang does, but the host assigns the real id
//! when the node is created or the edge connected. [`IdMap`] remembers both for the
//! current call and translates at the boundary, so the interpreter only ever sees its own
//! ids and the host (and the HTTP client) only ever see the host's.

use rustc_hash::FxHashMap;
use serde_json::Value as Json;

/// Marks provisional ids. Host ids are UUID-shaped (a version digit of 4 or 7 in the 13th
/// place), so no host id starts with 16 zeros.
const PROVISIONAL_PREFIX: &str = "0000000000000000";

/// Provisional id <-> host id, for one call.
#[derive(Debug, Default)]
pub struct IdMap {
    issued: u64,
    to_host: FxHashMap<String, String>,
    to_guest: FxHashMap<String, String>,
}

impl IdMap {
    /// A fresh provisional id (32 hex digits, unique within the call).
    pub fn issue(&mut self) -> String {
        self.issued += 1;
        format!("{PROVISIONAL_PREFIX}{:016x}", self.issued)
    }

    /// Records that the host stored `provisional` under `host`.
    pub fn bind(&mut self, provisional: &str, host: String) {
        self.to_guest.insert(host.clone(), provisional.to_owned());
        self.to_host.insert(provisional.to_owned(), host);
    }

    /// The host's id for `id` (itself when it is not provisional).
    pub fn host<'a>(&'a self, id: &'a str) -> &'a str {
        self.to_host.get(id).map_or(id, String::as_str)
    }

    /// The interpreter's id for a host id (itself unless it was created in this call).
    pub fn guest(&self, id: String) -> String {
        self.to_guest.get(&id).cloned().unwrap_or(id)
    }

    /// Rewrites every provisional id inside `json` (field values, reports) to the host's.
    pub fn to_host_json(&self, json: &mut Json) {
        if !self.to_host.is_empty() {
            rewrite(json, &self.to_host);
        }
    }

    /// Rewrites every host id of a node or edge created in this call to the provisional one.
    pub fn to_guest_json(&self, json: &mut Json) {
        if !self.to_guest.is_empty() {
            rewrite(json, &self.to_guest);
        }
    }
}

fn rewrite(json: &mut Json, map: &FxHashMap<String, String>) {
    match json {
        Json::String(s) => {
            if let Some(to) = map.get(s.as_str()) {
                s.clone_from(to);
            }
        }
        Json::Array(items) => items.iter_mut().for_each(|j| rewrite(j, map)),
        Json::Object(fields) => fields.values_mut().for_each(|j| rewrite(j, map)),
        Json::Null | Json::Bool(_) | Json::Number(_) => {}
    }
}
