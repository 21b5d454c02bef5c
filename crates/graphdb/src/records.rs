//! Anchors as stored, independent of any viewer: what a cache keeps and what a document
//! store holds. [`AnchorRecords`] reads them in batches; `view` turns them into the
//! viewer-specific answers of [`graph::store::GraphStore`].

use serde_json::{Map, Value};

use graph::store::StoreError;
use graph::{AccessLevel, Direction, Id};

/// A node with all its access settings.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRecord {
    pub id: Id,
    pub archetype: String,
    pub fields: Map<String, Value>,
    /// The owning root; a node that owns itself is a root.
    pub owner: Id,
    /// The level every root has (`perm_grant`).
    pub all: AccessLevel,
    /// Per-root entries (`allow_root`), in no particular order.
    pub roots: Vec<(Id, AccessLevel)>,
    /// Replacements of its fields so far (`graph::store::VersionCheck`).
    pub version: u64,
}

/// An edge with all its access settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeRecord {
    pub id: Id,
    pub archetype: String,
    pub fields: Map<String, Value>,
    pub owner: Id,
    pub all: AccessLevel,
    pub roots: Vec<(Id, AccessLevel)>,
    pub source: Id,
    pub target: Id,
    pub undirected: bool,
    /// Replacements of its fields so far.
    pub version: u64,
}

/// One incident edge of a node: which edge, where it leads, which ways it is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdjacencyRow {
    /// The edge's insertion position among the node's edges (the adjacency cursor):
    /// increasing in insertion order, unique per node; how far apart is the store's
    /// business (SQLite numbers across the graph, MongoDB per node).
    pub seq: u64,
    pub edge: Id,
    /// The node at the other end (the node itself for a self-loop).
    pub other: Id,
    /// Followed outward from the node (it is the source, or the edge is undirected).
    pub outgoing: bool,
    /// Followed inward to the node (it is the target, or the edge is undirected).
    pub incoming: bool,
}

impl AdjacencyRow {
    /// The row of `edge` seen from `node`, one of its ends, at position `seq`.
    pub fn of(node: Id, seq: u64, edge: &EdgeRecord) -> Self {
        Self {
            seq,
            edge: edge.id,
            other: if edge.source == node {
                edge.target
            } else {
                edge.source
            },
            outgoing: edge.source == node || edge.undirected,
            incoming: edge.target == node || edge.undirected,
        }
    }

    /// Whether the row is followed in `direction`.
    pub fn follows(&self, direction: Direction) -> bool {
        match direction {
            Direction::Outgoing => self.outgoing,
            Direction::Incoming => self.incoming,
            Direction::Any => self.outgoing || self.incoming,
        }
    }
}

impl NodeRecord {
    /// `viewer`'s entry on this anchor, if any.
    pub fn entry_for(&self, viewer: Id) -> Option<AccessLevel> {
        entry_for(&self.roots, viewer)
    }
}

/// `viewer`'s entry in a list of per-root entries.
pub(crate) fn entry_for(roots: &[(Id, AccessLevel)], viewer: Id) -> Option<AccessLevel> {
    roots
        .iter()
        .find(|(root, _)| *root == viewer)
        .map(|(_, level)| *level)
}

/// Viewer-independent, batched reads of committed anchors.
pub trait AnchorRecords: Send + Sync {
    /// A name for the data itself, the same in every process that shares it (cache keys
    /// and invalidation channels are named after it).
    fn store_id(&self) -> Result<String, StoreError>;
    /// The nodes with these ids, in the order asked (`None` = no such node).
    fn node_records(&self, ids: &[Id]) -> Result<Vec<Option<NodeRecord>>, StoreError>;
    /// The edges with these ids, in the order asked (`None` = no such edge).
    fn edge_records(&self, ids: &[Id]) -> Result<Vec<Option<EdgeRecord>>, StoreError>;
    /// Up to `limit` adjacency rows of `node` after position `after`, in insertion order.
    fn adjacency(&self, node: Id, after: u64, limit: u32) -> Result<Vec<AdjacencyRow>, StoreError>;
}

/// The conflict of a [`graph::store::VersionCheck`] that failed: the anchor is at another
/// version than the one the session read.
pub(crate) fn changed(kind: &str, id: Id, read: u64) -> StoreError {
    StoreError::Conflict(format!(
        "{kind} {id} was changed meanwhile (this call read version {read})"
    ))
}
