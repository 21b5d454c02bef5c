//! Cached values as bytes in Redis: compact JSON (the id is in the key, not the value).

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::keys::CacheKey;
use super::local::Cached;
use crate::records::{AdjacencyRow, EdgeRecord, NodeRecord};
use graph::{AccessLevel, Id};

// `v` (the version) is required: a value cached by a version of jac-scale without it
// decodes as a miss, so no read takes an unknown version for the current one.
#[derive(Serialize, Deserialize)]
struct NodeWire {
    a: String,
    f: Map<String, Value>,
    o: Id,
    l: i8,
    r: Vec<(Id, i8)>,
    v: u64,
}

#[derive(Serialize, Deserialize)]
struct EdgeWire {
    a: String,
    f: Map<String, Value>,
    o: Id,
    l: i8,
    r: Vec<(Id, i8)>,
    s: Id,
    t: Id,
    u: bool,
    v: u64,
}

/// `(seq, edge, other, outgoing, incoming)` per row; `None` = too long to cache.
type AdjacencyWire = Option<Vec<(u64, Id, Id, bool, bool)>>;

/// The bytes of a cached value.
pub(super) fn encode(value: &Cached) -> Vec<u8> {
    let encoded = match value {
        Cached::Node(node) => serde_json::to_vec(&NodeWire {
            a: node.archetype.clone(),
            f: node.fields.clone(),
            o: node.owner,
            l: node.all.value(),
            r: wire_entries(&node.roots),
            v: node.version,
        }),
        Cached::Edge(edge) => serde_json::to_vec(&EdgeWire {
            a: edge.archetype.clone(),
            f: edge.fields.clone(),
            o: edge.owner,
            l: edge.all.value(),
            r: wire_entries(&edge.roots),
            s: edge.source,
            t: edge.target,
            u: edge.undirected,
            v: edge.version,
        }),
        Cached::Adjacency(rows) => {
            serde_json::to_vec::<AdjacencyWire>(&rows.as_ref().map(|rows| {
                rows.iter()
                    .map(|row| (row.seq, row.edge, row.other, row.outgoing, row.incoming))
                    .collect()
            }))
        }
    };
    encoded.expect("cached values serialise")
}

/// The value of `key` from its bytes; `None` when they do not decode (a value written by
/// another version is treated as a miss).
pub(super) fn decode(key: &CacheKey, bytes: &[u8]) -> Option<Cached> {
    match *key {
        CacheKey::Node(id) => {
            let wire: NodeWire = serde_json::from_slice(bytes).ok()?;
            Some(Cached::Node(Arc::new(NodeRecord {
                id,
                archetype: wire.a,
                fields: wire.f,
                owner: wire.o,
                all: level(wire.l)?,
                roots: entries(wire.r)?,
                version: wire.v,
            })))
        }
        CacheKey::Edge(id) => {
            let wire: EdgeWire = serde_json::from_slice(bytes).ok()?;
            Some(Cached::Edge(Arc::new(EdgeRecord {
                id,
                archetype: wire.a,
                fields: wire.f,
                owner: wire.o,
                all: level(wire.l)?,
                roots: entries(wire.r)?,
                source: wire.s,
                target: wire.t,
                undirected: wire.u,
                version: wire.v,
            })))
        }
        CacheKey::Adjacency(_) => {
            let wire: AdjacencyWire = serde_json::from_slice(bytes).ok()?;
            let rows = wire.map(|rows| {
                rows.into_iter()
                    .map(|(seq, edge, other, outgoing, incoming)| AdjacencyRow {
                        seq,
                        edge,
                        other,
                        outgoing,
                        incoming,
                    })
                    .collect()
            });
            Some(Cached::Adjacency(rows.map(Arc::new)))
        }
    }
}

fn wire_entries(roots: &[(Id, AccessLevel)]) -> Vec<(Id, i8)> {
    roots
        .iter()
        .map(|(root, level)| (*root, level.value()))
        .collect()
}

fn entries(wire: Vec<(Id, i8)>) -> Option<Vec<(Id, AccessLevel)>> {
    wire.into_iter()
        .map(|(root, value)| Some((root, level(value)?)))
        .collect()
}

fn level(value: i8) -> Option<AccessLevel> {
    AccessLevel::from_value(i64::from(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let id = Id::generate();
        let mut fields = Map::new();
        fields.insert("title".into(), Value::from("write docs"));
        let node = NodeRecord {
            id,
            archetype: "Todo".into(),
            fields: fields.clone(),
            owner: Id::generate(),
            all: AccessLevel::Read,
            roots: vec![(Id::generate(), AccessLevel::Write)],
            version: 3,
        };
        let edge = EdgeRecord {
            id,
            archetype: "Owns".into(),
            fields,
            owner: node.owner,
            all: AccessLevel::NoAccess,
            roots: Vec::new(),
            source: node.owner,
            target: id,
            undirected: true,
            version: 0,
        };
        let rows = vec![AdjacencyRow::of(node.owner, 7, &edge)];
        let cases = [
            (CacheKey::Node(id), Cached::Node(Arc::new(node))),
            (CacheKey::Edge(id), Cached::Edge(Arc::new(edge))),
            (
                CacheKey::Adjacency(id),
                Cached::Adjacency(Some(Arc::new(rows))),
            ),
            (CacheKey::Adjacency(id), Cached::Adjacency(None)),
        ];
        for (key, value) in cases {
            let decoded = decode(&key, &encode(&value)).expect("decodes");
            assert_eq!(format!("{decoded:?}"), format!("{value:?}"));
        }
        assert!(decode(&CacheKey::Node(id), b"not json").is_none());
    }

    #[test]
    fn a_value_without_its_version_is_a_miss() {
        let id = Id::generate();
        let node = Cached::Node(Arc::new(NodeRecord {
            id,
            archetype: "Todo".into(),
            fields: Map::new(),
            owner: id,
            all: AccessLevel::NoAccess,
            roots: Vec::new(),
            version: 7,
        }));
        let mut wire: Value = serde_json::from_slice(&encode(&node)).unwrap();
        assert!(decode(&CacheKey::Node(id), wire.to_string().as_bytes()).is_some());
        wire.as_object_mut().unwrap().remove("v");
        assert!(decode(&CacheKey::Node(id), wire.to_string().as_bytes()).is_none());
    }
}
