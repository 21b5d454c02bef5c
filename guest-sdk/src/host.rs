//! The graph and log imports as a trait, so that walkers run against the real host
//! inside wasm and against [`crate::testing::MemoryGraph`] in native tests.
//!
//! Apps rarely touch this module: [`crate::Ctx`] wraps it in typed helpers.

use crate::error::HostError;
use crate::graph::{AccessLevel, EdgeRef, Fields, Id, NodeRef};

/// The result of one host call.
pub type HostResult<T> = core::result::Result<T, HostError>;

/// Which incident edges a neighbour query follows, seen from the origin node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Edges leaving the origin, and undirected ones (`[-->]`).
    #[default]
    Outgoing,
    /// Edges arriving at the origin, and undirected ones (`[<--]`).
    Incoming,
    /// Both (`[<-->]`).
    Any,
}

/// One neighbour query: a single host call returns the edges and nodes together.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NeighborQuery {
    /// Which edges to follow.
    pub direction: Direction,
    /// Only edges of these archetypes (empty = any).
    pub edge_types: Vec<String>,
    /// Only neighbour nodes of these archetypes (empty = any).
    pub node_types: Vec<String>,
    /// Skip this many matches.
    pub offset: u32,
    /// Return at most this many matches (the host may clamp it).
    pub limit: u32,
}

/// One step from the origin: the edge taken and the node it leads to.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbor {
    /// The edge.
    pub edge: EdgeRef,
    /// The node at its other end.
    pub node: NodeRef,
}

/// One page of neighbours and where the next one starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NeighborPage {
    /// The neighbours, in order.
    pub neighbors: Vec<Neighbor>,
    /// The cursor of the next page; `None` after the last page.
    pub next: Option<String>,
}

/// How many neighbours a query matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NeighborCount {
    /// Edges followed (`len([edge -->])`).
    pub edges: u64,
    /// Distinct nodes reached (`len([-->])`).
    pub nodes: u64,
}

/// A new edge, as `Host::connect` takes it.
#[derive(Debug, Clone, Copy)]
pub struct NewEdge<'a> {
    /// The node it starts from.
    pub source: &'a Id,
    /// The node it leads to.
    pub target: &'a Id,
    /// Its archetype name.
    pub archetype: &'a str,
    /// Its fields.
    pub fields: &'a Fields,
    /// Whether it can be traversed both ways.
    pub undirected: bool,
}

/// Severity of a log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    /// Very detailed tracing.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected, handled.
    Warn,
    /// Something failed.
    Error,
}

/// The host's graph and log imports. Every call is checked by the host against the
/// caller of the current request; reads see the call's own uncommitted writes.
pub trait Host {
    /// The caller's root node.
    fn root(&self) -> Id;
    /// Every user root the caller may read.
    fn all_roots(&self) -> Vec<Id>;
    /// Read a node.
    fn get_node(&self, id: &Id) -> HostResult<NodeRef>;
    /// Create a node owned by the caller's root.
    fn create_node(&self, archetype: &str, fields: &Fields) -> HostResult<Id>;
    /// Replace a node's fields.
    fn update_node(&self, id: &Id, fields: &Fields) -> HostResult<()>;
    /// Delete a node and every edge touching it.
    fn delete_node(&self, id: &Id) -> HostResult<()>;
    /// Connect two nodes.
    fn connect(&self, edge: NewEdge<'_>) -> HostResult<EdgeRef>;
    /// Read an edge.
    fn get_edge(&self, id: &Id) -> HostResult<EdgeRef>;
    /// Replace an edge's fields.
    fn update_edge(&self, id: &Id, fields: &Fields) -> HostResult<()>;
    /// Delete one edge.
    fn delete_edge(&self, id: &Id) -> HostResult<()>;
    /// One page of the neighbours of a node, in edge insertion order, filtered to what the
    /// caller may read: from the start (`after` = `None`) or after the page whose `next`
    /// `after` is.
    fn neighbors_after(
        &self,
        origin: &Id,
        query: &NeighborQuery,
        after: Option<&str>,
    ) -> HostResult<NeighborPage>;
    /// How many neighbours `neighbors_after` would list in all (offset and limit ignored).
    fn count_neighbors(&self, origin: &Id, query: &NeighborQuery) -> HostResult<NeighborCount>;
    /// Give every root `level` access to a node or edge.
    fn grant(&self, id: &Id, level: AccessLevel) -> HostResult<()>;
    /// Remove the access given to every root.
    fn revoke(&self, id: &Id) -> HostResult<()>;
    /// Give one root `level` access to a node or edge.
    fn allow_root(&self, id: &Id, root: &Id, level: AccessLevel) -> HostResult<()>;
    /// Remove one root's access to a node or edge.
    fn disallow_root(&self, id: &Id, root: &Id) -> HostResult<()>;
    /// The caller's effective access level to a node or edge.
    fn access(&self, id: &Id) -> AccessLevel;
    /// Write one line to the host log.
    fn log(&self, level: LogLevel, message: &str);
    /// Suspend the call for `duration` (whole milliseconds) without holding a host thread.
    fn sleep(&self, duration: std::time::Duration);
    /// Send one value (JSON text) of the call's streamed answer.
    fn stream(&self, value: &str);
}
