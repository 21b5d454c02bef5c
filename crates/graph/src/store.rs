//! What the graph needs from its persistence: the [`GraphStore`] trait and the records
//! it speaks in (ids, inserts, changesets). Backends live in `graphdb`; they implement
//! this trait and report access facts, they never judge them.

use super::{AccessFacts, AccessLevel, Direction, Edge, Id, NeighborCount, Node, SharedFacts};

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The change conflicts with what another writer committed (a row vanished, a unique
    /// value is taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A stored value could not be decoded.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The backend failed (I/O, lock timeout, driver error).
    #[error("storage backend failed: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

// The backends' driver errors, so `?` works in their code. They live here, behind one
// feature per backend, because Rust allows a `From` impl only next to its type or the
// driver's (a departure from "graph names no backend", until the WIT-boundary error kind
// is shared).
#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        Self::Backend(Box::new(error))
    }
}

#[cfg(feature = "mongo")]
impl From<mongodb::error::Error> for StoreError {
    fn from(error: mongodb::error::Error) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// A node with what decides the viewer's access to it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNode {
    pub node: Node,
    pub access: AccessFacts,
    /// How many times its fields were replaced (see [`VersionCheck`]).
    pub version: u64,
}

/// An edge with what decides the viewer's access to it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEdge {
    pub edge: Edge,
    pub access: AccessFacts,
    /// How many times its fields were replaced (see [`VersionCheck`]).
    pub version: u64,
}

/// One row of a node's adjacency: the edge and the node at its other end.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredNeighbor {
    /// The edge's position in insertion order; the cursor for the next page.
    pub seq: u64,
    pub edge: Edge,
    /// The edge's version (see [`VersionCheck`]).
    pub edge_version: u64,
    pub node: StoredNode,
}

/// Which committed adjacency rows of a node to list.
#[derive(Debug, Clone, Copy)]
pub struct AdjacencyQuery<'a> {
    pub origin: Id,
    /// Whose access entries to report.
    pub viewer: Id,
    pub direction: Direction,
    /// Only edges of these archetypes (empty = any).
    pub edge_types: &'a [String],
    /// Only neighbour nodes of these archetypes (empty = any).
    pub node_types: &'a [String],
    /// Only edges after this position (0 = from the start).
    pub after: u64,
    pub limit: u32,
}

/// A node's committed adjacency rows that match a query's direction and archetypes,
/// counted by what decides the viewer's access to the node at their other end (the store
/// reports, the graph judges).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdjacencyTally {
    /// Rows whose node the viewer owns (its own root included): readable whatever the
    /// settings say.
    pub owned: NeighborCount,
    /// The other rows, grouped by their node's [`SharedFacts`] (so a node is in one group).
    pub shared: Vec<(SharedFacts, NeighborCount)>,
}

/// Access settings of an anchor being inserted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessSpec {
    pub all: AccessLevel,
    pub roots: Vec<(Id, AccessLevel)>,
}

/// A node to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInsert {
    pub id: Id,
    pub archetype: String,
    /// The fields as a JSON object text.
    pub fields: String,
    /// The owning root; a node that owns itself is a root.
    pub owner: Id,
    pub access: AccessSpec,
}

/// An edge to insert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeInsert {
    pub id: Id,
    pub archetype: String,
    /// The fields as a JSON object text.
    pub fields: String,
    pub owner: Id,
    pub source: Id,
    pub target: Id,
    pub undirected: bool,
    pub access: AccessSpec,
}

/// Whether an id names a node or an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnchorKind {
    Node,
    Edge,
}

/// New fields (a JSON object text) for an existing anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldsUpdate {
    pub id: Id,
    pub fields: String,
}

/// Access changes to an existing anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUpdate {
    pub anchor: Id,
    pub kind: AnchorKind,
    /// New level for every root, if changed.
    pub all: Option<AccessLevel>,
    /// Per-root entries to set (`Some`) or remove (`None`).
    pub roots: Vec<(Id, Option<AccessLevel>)>,
}

/// The version of an anchor's fields a changeset was computed from. Every stored node
/// and edge counts the replacements of its fields (0 when inserted; access changes do not
/// count); a session remembers the version it read of each anchor it then updates or
/// deletes, so a commit cannot overwrite a change it never saw (a lost update).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionCheck {
    pub anchor: Id,
    pub kind: AnchorKind,
    pub version: u64,
}

/// Everything one session wrote, applied by [`GraphStore::apply`] in one transaction and
/// in this order: version checks, inserts, field updates (each adds one to the anchor's
/// version), access updates, then deletions (so a deletion also removes what the same
/// changeset updated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changeset {
    pub new_nodes: Vec<NodeInsert>,
    /// In creation order; they take the next insertion positions in this order.
    pub new_edges: Vec<EdgeInsert>,
    pub node_updates: Vec<FieldsUpdate>,
    pub edge_updates: Vec<FieldsUpdate>,
    pub access_updates: Vec<AccessUpdate>,
    pub deleted_edges: Vec<Id>,
    /// Deleting a node also deletes every edge touching it.
    pub deleted_nodes: Vec<Id>,
    /// Anchors that must still be at these versions: one that exists at another version
    /// is a [`StoreError::Conflict`] (one that is gone fails its update, or was deleted
    /// already).
    pub checks: Vec<VersionCheck>,
}

impl Changeset {
    /// Whether applying it would change nothing.
    pub fn is_empty(&self) -> bool {
        self.new_nodes.is_empty()
            && self.new_edges.is_empty()
            && self.node_updates.is_empty()
            && self.edge_updates.is_empty()
            && self.access_updates.is_empty()
            && self.deleted_edges.is_empty()
            && self.deleted_nodes.is_empty()
    }
}

/// Where the graph lives. Calls block; callers run them where blocking is allowed.
pub trait GraphStore: Send + Sync {
    /// The guest root's id; on first use, inserts `candidate` (a root) and records it as the
    /// guest root.
    fn ensure_guest_root(&self, candidate: &NodeInsert) -> Result<Id, StoreError>;
    /// A node, with `viewer`'s access facts.
    fn node(&self, id: Id, viewer: Id) -> Result<Option<StoredNode>, StoreError>;
    /// Only `viewer`'s access facts of a node (no fields decoded): the write-path check.
    fn node_access(&self, id: Id, viewer: Id) -> Result<Option<AccessFacts>, StoreError>;
    /// An edge, with `viewer`'s access facts.
    fn edge(&self, id: Id, viewer: Id) -> Result<Option<StoredEdge>, StoreError>;
    /// Up to `query.limit` adjacency rows of `query.origin`, in insertion order.
    fn neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<Vec<StoredNeighbor>, StoreError>;
    /// Counts the adjacency rows of `query.origin` matching its direction and archetypes
    /// (`after` and `limit` are ignored), without reading any fields.
    fn count_neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<AdjacencyTally, StoreError>;
    /// Up to `limit` root nodes with ids above `after`, in id order, with `viewer`'s facts.
    fn roots(
        &self,
        viewer: Id,
        after: Option<Id>,
        limit: u32,
    ) -> Result<Vec<StoredNode>, StoreError>;
    /// Applies a changeset atomically: all of it or, on error, none of it. A field or access
    /// update of an anchor that no longer exists, an edge whose end no longer exists, or an
    /// anchor whose version is not the one checked, is a [`StoreError::Conflict`]; deleting
    /// something already gone is not an error.
    fn apply(&self, changes: Changeset) -> Result<(), StoreError>;
    /// The lookups of the cache tiers in front of the store since it opened; `None`
    /// for a store without them.
    fn cache_counts(&self) -> Option<CacheCounts> {
        None
    }
}

/// Cache lookups by tier and outcome, counted since the store opened (the metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheCounts {
    /// Keys found in process memory (L1).
    pub l1_hits: u64,
    /// Keys not found in process memory.
    pub l1_misses: u64,
    /// Keys L1 missed that Redis (L2) had.
    pub l2_hits: u64,
    /// Keys neither tier had (read from the store of record).
    pub l2_misses: u64,
}
