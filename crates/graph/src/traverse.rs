//! Breadth-first traversal of what the caller may read (`POST /traverse`).
//!
//! The walk follows outgoing (and undirected) edges from a source node (or from an edge:
//! the node it leads to, the edge listed first), level by level,
//! through [`Session::neighbors_after`], so every node and edge it returns passed the same READ
//! check a walker's reads pass. Type filters prune the walk: only edges of `edge_types`
//! leading to nodes of `node_types` are followed. The whole walk is bounded by
//! [`MAX_DEPTH`] and [`MAX_NODES`]; callers page through its result.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{Direction, Edge, Id, NeighborQuery, Node, Session};
use host_error::HostError;

/// Deepest traversal accepted.
pub const MAX_DEPTH: u32 = 10;
/// Most nodes one traversal may reach (the source included).
pub const MAX_NODES: usize = 10_000;
/// Neighbours fetched per store round trip.
const NEIGHBORS_PER_QUERY: u32 = 1_000;

/// What to traverse.
#[derive(Debug, Clone)]
pub struct TraverseQuery {
    /// A node, or an edge (the walk starts at the node it leads to).
    pub source: Id,
    /// Levels of edges to follow (0 = the source alone); at most [`MAX_DEPTH`].
    pub depth: u32,
    /// Follow only into nodes of these archetypes (empty = any).
    pub node_types: Vec<String>,
    /// Follow only edges of these archetypes (empty = any).
    pub edge_types: Vec<String>,
}

/// The nodes reached, in breadth-first order, and the edges followed.
#[derive(Debug, Default)]
pub struct Traversal {
    /// The source first, then each level in edge order.
    pub nodes: Vec<Node>,
    /// Each edge with the position (in `nodes`) of the later of its two ends, so a page of
    /// nodes can carry the edges that reach into it, each edge on exactly one page.
    pub edges: Vec<(usize, Edge)>,
}

impl super::Graph {
    /// [`Session::traverse`] in a session of its own for `caller` (nothing to commit).
    pub fn traverse(
        &self,
        caller: super::Caller,
        query: &TraverseQuery,
    ) -> Result<Traversal, HostError> {
        self.session(caller).traverse(query)
    }
}

impl Session {
    /// Walk from `query.source`; `NotFound` if the caller cannot read it, `QuotaExceeded`
    /// past [`MAX_NODES`], `Invalid` past [`MAX_DEPTH`] or for a bad type filter.
    pub fn traverse(&mut self, query: &TraverseQuery) -> Result<Traversal, HostError> {
        if query.depth > MAX_DEPTH {
            return Err(HostError::Invalid(format!(
                "depth {} is more than the limit of {MAX_DEPTH}",
                query.depth
            )));
        }
        let (source, via) = self.start_of(query.source)?;
        let mut found = Traversal::default();
        let mut position: HashMap<Id, usize> = HashMap::new();
        position.insert(source.id, 0);
        found.nodes.push(source);
        let mut undirected_seen: HashSet<Id> = HashSet::new();
        if let Some(edge) = via {
            undirected_seen.insert(edge.id);
            found.edges.push((0, edge));
        }
        let mut frontier: VecDeque<(usize, u32)> = VecDeque::from([(0, 0)]);
        while let Some((at, level)) = frontier.pop_front() {
            if level >= query.depth {
                continue;
            }
            let origin = found.nodes[at].id;
            let step = NeighborQuery {
                direction: Direction::Outgoing,
                edge_types: query.edge_types.clone(),
                node_types: query.node_types.clone(),
                offset: 0,
                limit: NEIGHBORS_PER_QUERY,
            };
            let mut after = None;
            loop {
                let page = self.neighbors_after(origin, &step, after)?;
                for (edge, node) in page.neighbors {
                    let there = match position.get(&node.id) {
                        Some(&there) => there,
                        None => {
                            if found.nodes.len() >= MAX_NODES {
                                return Err(HostError::QuotaExceeded(format!(
                                    "the traversal reaches more than {MAX_NODES} nodes; \
                                     lower the depth or filter by type"
                                )));
                            }
                            let there = found.nodes.len();
                            position.insert(node.id, there);
                            found.nodes.push(node);
                            frontier.push_back((there, level + 1));
                            there
                        }
                    };
                    // An undirected edge is met from both ends; list it once.
                    if !edge.undirected || undirected_seen.insert(edge.id) {
                        found.edges.push((at.max(there), edge));
                    }
                }
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
        }
        Ok(found)
    }

    /// Where a walk from `source` starts: the node itself, or for an edge the node it
    /// leads to, with the edge. `NotFound` unless the caller may read both.
    fn start_of(&mut self, source: Id) -> Result<(Node, Option<Edge>), HostError> {
        match self.get_node(source) {
            Err(HostError::NotFound(message)) => {
                let Ok(edge) = self.get_edge(source) else {
                    return Err(HostError::NotFound(message));
                };
                Ok((self.get_node(edge.target)?, Some(edge)))
            }
            found => Ok((found?, None)),
        }
    }
}
