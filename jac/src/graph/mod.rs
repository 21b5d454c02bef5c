//! The graph the interpreter reads and writes, behind one small trait.
//!
//! Nodes and edges cross this boundary as plain records: an id (32 hex
//! digits), the archetype name and the fields as a JSON map. The interpreter
//! loads nodes lazily, keeps one instance per id for the duration of a call
//! and writes back the ones it changed at the end of the call (or on
//! `commit()`); nothing is cached across calls. Access checks live behind the
//! trait too: an implementation answers for the user whose root it serves.

mod memory;

pub use memory::{MemoryGraph, MemoryStore};

use serde_json::{Map, Value as Json};

/// Field values as stored in the graph.
pub type Fields = Map<String, Json>;

/// A stored node.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeData {
    /// 32-hex id.
    pub id: String,
    /// Archetype name (`Root` for roots).
    pub archetype: String,
    /// Field values.
    pub fields: Fields,
}

/// A stored edge.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeData {
    /// 32-hex id.
    pub id: String,
    /// Archetype name (`GenericEdge` for untyped connections).
    pub archetype: String,
    /// Source node id.
    pub source: String,
    /// Target node id.
    pub target: String,
    /// Traversable both ways (`<++>`).
    pub undirected: bool,
    /// Field values.
    pub fields: Fields,
}

/// Which incident edges a neighbour query follows, seen from the origin node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Edges leaving the node (and undirected ones).
    Out,
    /// Edges arriving at the node (and undirected ones).
    In,
    /// Both.
    Any,
}

/// One result of a neighbour query: the edge followed and the node it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbour {
    /// The edge.
    pub edge: EdgeData,
    /// The node at its other end.
    pub node: NodeData,
}

/// How many neighbours a query matches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NeighbourCount {
    /// Edges followed (`len([edge -->])`).
    pub edges: u64,
    /// Distinct nodes reached (`len([-->])`).
    pub nodes: u64,
}

/// Access levels, ordered (`NoPerm < ReadPerm < ConnectPerm < WritePerm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessLevel {
    /// No access.
    NoPerm,
    /// May read.
    Read,
    /// May read and connect.
    Connect,
    /// May read, connect, modify and delete.
    Write,
}

/// Errors of the graph layer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// No node or edge with this id (or not visible to the caller).
    #[error("no such node or edge: {0}")]
    NotFound(String),
    /// The caller's access level is too low for the operation.
    #[error("access denied: {0}")]
    AccessDenied(String),
    /// The backing store failed.
    #[error("graph store unavailable: {0}")]
    Unavailable(String),
}

/// A random 32-hex id shaped like a version 4 UUID (for [`Graph::new_object_id`]).
pub fn random_id() -> String {
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Result of graph operations.
pub type GraphResult<T> = Result<T, GraphError>;

/// The graph as seen by one user (the owner of [`Graph::root_id`]).
pub trait Graph {
    /// The current user's root node id.
    fn root_id(&self) -> String;
    /// A fresh 32-hex id for a new node or edge: the id it is stored under once
    /// created (ids are final when the program sees them).
    fn new_id(&mut self) -> String;
    /// A fresh 32-hex id for an archetype instance that is never stored as a node or
    /// edge (`obj`, walker): unique, but nothing to reserve in the store.
    fn new_object_id(&mut self) -> String {
        self.new_id()
    }
    /// Reads a node (`None` if absent or unreadable).
    fn get(&mut self, id: &str) -> GraphResult<Option<NodeData>>;
    /// Stores a new node owned by the current user.
    fn create(&mut self, node: &NodeData) -> GraphResult<()>;
    /// Replaces a node's fields (needs WRITE).
    fn update(&mut self, node: &NodeData) -> GraphResult<()>;
    /// Deletes a node and every incident edge (needs WRITE).
    fn delete(&mut self, id: &str) -> GraphResult<()>;
    /// Stores a new edge between two existing nodes (needs CONNECT on both ends).
    fn connect(&mut self, edge: &EdgeData) -> GraphResult<()>;
    /// Replaces an edge's fields.
    fn update_edge(&mut self, edge: &EdgeData) -> GraphResult<()>;
    /// Deletes an edge.
    fn disconnect(&mut self, edge_id: &str) -> GraphResult<()>;
    /// The edges incident to `id` in direction `dir` (optionally only those whose
    /// archetype is in `edge_types`), each with the node at its other end, in edge
    /// insertion order; nodes the caller cannot READ are left out.
    fn neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<Neighbour>>;
    /// Like [`Graph::neighbours`], for queries that need only the nodes.
    fn neighbour_nodes(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<NodeData>> {
        Ok(self
            .neighbours(id, dir, edge_types)?
            .into_iter()
            .map(|n| n.node)
            .collect())
    }
    /// Like [`Graph::neighbour_nodes`], lending each node to `visit` instead of
    /// returning copies; implement it when the graph can do so without copying.
    fn visit_neighbour_nodes(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        visit: &mut dyn FnMut(&NodeData),
    ) -> GraphResult<()> {
        for node in self.neighbour_nodes(id, dir, edge_types)? {
            visit(&node);
        }
        Ok(())
    }
    /// How many of [`Graph::neighbours`] lead to nodes whose archetype is in `node_types`
    /// (`None`: any): the edges and the distinct nodes. Implement it when the graph can
    /// count without listing.
    fn count_neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        node_types: Option<&[&str]>,
    ) -> GraphResult<NeighbourCount> {
        let mut count = NeighbourCount::default();
        let mut reached = std::collections::HashSet::new();
        for step in self.neighbours(id, dir, edge_types)? {
            if node_types.is_none_or(|types| types.contains(&step.node.archetype.as_str())) {
                count.edges += 1;
                count.nodes += u64::from(reached.insert(step.node.id));
            }
        }
        Ok(count)
    }
    /// The caller's access level on a node.
    fn access(&mut self, id: &str) -> GraphResult<AccessLevel>;
    /// Opens a node to every user at `level` (owner or WRITE only).
    fn grant(&mut self, id: &str, level: AccessLevel) -> GraphResult<()>;
    /// Removes the public grant of a node.
    fn revoke(&mut self, id: &str) -> GraphResult<()>;
    /// Opens a node to the user owning `root_id` at `level`.
    fn allow_root(&mut self, id: &str, root_id: &str, level: AccessLevel) -> GraphResult<()>;
    /// Removes the grant of `root_id` on a node.
    fn disallow_root(&mut self, id: &str, root_id: &str) -> GraphResult<()>;
    /// Every user root id.
    fn all_roots(&mut self) -> GraphResult<Vec<String>>;
    /// The shared guest root (`root.shared`), if the host has one.
    fn shared_root_id(&self) -> Option<String>;
}
