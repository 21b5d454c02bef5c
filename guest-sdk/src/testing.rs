//! An in-memory [`Host`] for native unit tests of walkers (feature `testing`).
//!
//! It models one caller who owns everything: every access check passes, grants are
//! recorded (see [`MemoryGraph::granted`]) but not enforced, and writes apply at once
//! (there is no changeset to drop). It counts host calls, so a test can check that a
//! listing is one call.
//!
//! ```
//! use std::rc::Rc;
//! use jac_scale_guest::prelude::*;
//! use jac_scale_guest::testing::MemoryGraph;
//!
//! #[node]
//! struct Todo {
//!     title: String,
//! }
//!
//! let graph = Rc::new(MemoryGraph::new());
//! let cx = Ctx::new(graph.clone());
//! cx.attach(&cx.root(), Todo { title: "milk".into() })?;
//! let todos = cx.neighbors(&cx.root()).of::<Todo>()?;
//! assert_eq!(todos[0].title, "milk");
//! assert_eq!(graph.node_count(), 2); // the root and the todo
//! # Ok::<(), jac_scale_guest::Error>(())
//! ```

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};

use crate::error::HostError;
use crate::graph::{AccessLevel, EdgeRef, Fields, Id, NodeRef};
use crate::host::{
    Direction, Host, HostResult, LogLevel, Neighbor, NeighborCount, NeighborPage, NeighborQuery,
    NewEdge,
};

/// A graph in memory, owned by one root.
#[derive(Debug)]
pub struct MemoryGraph {
    state: RefCell<State>,
    calls: Cell<usize>,
}

#[derive(Debug)]
struct State {
    root: Id,
    next_id: u128,
    nodes: HashMap<Id, NodeRef>,
    edges: HashMap<Id, EdgeRef>,
    /// Each node's edges, in insertion order.
    incident: HashMap<Id, Vec<Id>>,
    granted: HashMap<Id, AccessLevel>,
    allowed: HashMap<(Id, Id), AccessLevel>,
    log: Vec<(LogLevel, String)>,
    /// Total time walkers asked to sleep (not actually slept: tests stay fast).
    slept: std::time::Duration,
    /// The values walkers streamed, as JSON text.
    streamed: Vec<String>,
}

impl State {
    fn new_id(&mut self) -> Id {
        self.next_id += 1;
        Id::from(format!("{:032x}", self.next_id))
    }

    fn node(&self, id: &Id) -> HostResult<&NodeRef> {
        self.nodes
            .get(id)
            .ok_or_else(|| HostError::NotFound(format!("node {id}")))
    }

    fn edge_mut(&mut self, id: &Id) -> HostResult<&mut EdgeRef> {
        self.edges
            .get_mut(id)
            .ok_or_else(|| HostError::NotFound(format!("edge {id}")))
    }

    fn has_anchor(&self, id: &Id) -> HostResult<()> {
        if self.nodes.contains_key(id) || self.edges.contains_key(id) {
            Ok(())
        } else {
            Err(HostError::NotFound(format!("anchor {id}")))
        }
    }

    fn remove_edge(&mut self, id: &Id) -> HostResult<()> {
        let edge = self
            .edges
            .remove(id)
            .ok_or_else(|| HostError::NotFound(format!("edge {id}")))?;
        for end in [&edge.source, &edge.target] {
            if let Some(list) = self.incident.get_mut(end) {
                list.retain(|incident| incident != id);
            }
        }
        Ok(())
    }
}

impl Default for MemoryGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryGraph {
    /// An empty graph: just the caller's root.
    pub fn new() -> Self {
        let mut state = State {
            root: Id::from(""),
            next_id: 0,
            nodes: HashMap::new(),
            edges: HashMap::new(),
            incident: HashMap::new(),
            granted: HashMap::new(),
            allowed: HashMap::new(),
            log: Vec::new(),
            slept: std::time::Duration::ZERO,
            streamed: Vec::new(),
        };
        let root = state.new_id();
        state.nodes.insert(
            root.clone(),
            NodeRef {
                id: root.clone(),
                archetype: "Root".to_owned(),
                fields: Fields::new(),
            },
        );
        state.root = root;
        Self {
            state: RefCell::new(state),
            calls: Cell::new(0),
        }
    }

    /// How many nodes exist, the root included.
    pub fn node_count(&self) -> usize {
        self.state.borrow().nodes.len()
    }

    /// How many host calls were made so far.
    pub fn host_calls(&self) -> usize {
        self.calls.get()
    }

    /// The level granted to every root on an anchor, if any.
    pub fn granted(&self, id: &Id) -> Option<AccessLevel> {
        self.state.borrow().granted.get(id).copied()
    }

    /// The level granted to one root on an anchor, if any.
    pub fn allowed(&self, id: &Id, root: &Id) -> Option<AccessLevel> {
        self.state
            .borrow()
            .allowed
            .get(&(id.clone(), root.clone()))
            .copied()
    }

    /// The lines logged so far.
    pub fn log_lines(&self) -> Vec<(LogLevel, String)> {
        self.state.borrow().log.clone()
    }

    /// Total time the walkers asked to sleep ([`crate::Ctx::sleep`] returns at once here).
    pub fn slept(&self) -> std::time::Duration {
        self.state.borrow().slept
    }

    /// The values streamed so far ([`crate::Ctx::stream`]), in order.
    pub fn streamed(&self) -> Vec<serde_json::Value> {
        self.state
            .borrow()
            .streamed
            .iter()
            .map(|text| serde_json::from_str(text).expect("streamed values are JSON"))
            .collect()
    }

    fn call(&self) -> std::cell::RefMut<'_, State> {
        self.calls.set(self.calls.get() + 1);
        self.state.borrow_mut()
    }
}

impl MemoryGraph {
    /// Every step from `origin` the query's direction and archetypes match, in order.
    fn matches(&self, origin: &Id, query: &NeighborQuery) -> HostResult<Vec<Neighbor>> {
        let state = self.call();
        state.node(origin)?;
        let wanted = |list: &[String], archetype: &str| {
            list.is_empty() || list.iter().any(|name| name == archetype)
        };
        let steps = state
            .incident
            .get(origin)
            .into_iter()
            .flatten()
            .filter_map(|edge_id| {
                let edge = state.edges.get(edge_id)?;
                let outgoing = edge.source == *origin;
                let follows = edge.undirected
                    || match query.direction {
                        Direction::Outgoing => outgoing,
                        Direction::Incoming => !outgoing,
                        Direction::Any => true,
                    };
                let other = if outgoing { &edge.target } else { &edge.source };
                let node = state.nodes.get(other)?;
                (follows
                    && wanted(&query.edge_types, &edge.archetype)
                    && wanted(&query.node_types, &node.archetype))
                .then(|| Neighbor {
                    edge: edge.clone(),
                    node: node.clone(),
                })
            });
        Ok(steps.collect())
    }
}

impl Host for MemoryGraph {
    fn root(&self) -> Id {
        self.call().root.clone()
    }

    fn all_roots(&self) -> Vec<Id> {
        vec![self.call().root.clone()]
    }

    fn get_node(&self, id: &Id) -> HostResult<NodeRef> {
        self.call().node(id).cloned()
    }

    fn create_node(&self, archetype: &str, fields: &Fields) -> HostResult<Id> {
        let mut state = self.call();
        let id = state.new_id();
        let node = NodeRef {
            id: id.clone(),
            archetype: archetype.to_owned(),
            fields: fields.clone(),
        };
        state.nodes.insert(id.clone(), node);
        Ok(id)
    }

    fn update_node(&self, id: &Id, fields: &Fields) -> HostResult<()> {
        let mut state = self.call();
        let node = state
            .nodes
            .get_mut(id)
            .ok_or_else(|| HostError::NotFound(format!("node {id}")))?;
        node.fields = fields.clone();
        Ok(())
    }

    fn delete_node(&self, id: &Id) -> HostResult<()> {
        let mut state = self.call();
        state.node(id)?;
        for edge in state.incident.remove(id).unwrap_or_default() {
            state.remove_edge(&edge)?;
        }
        state.nodes.remove(id);
        Ok(())
    }

    fn connect(&self, edge: NewEdge<'_>) -> HostResult<EdgeRef> {
        let mut state = self.call();
        state.node(edge.source)?;
        state.node(edge.target)?;
        let stored = EdgeRef {
            id: state.new_id(),
            archetype: edge.archetype.to_owned(),
            fields: edge.fields.clone(),
            source: edge.source.clone(),
            target: edge.target.clone(),
            undirected: edge.undirected,
        };
        state
            .incident
            .entry(edge.source.clone())
            .or_default()
            .push(stored.id.clone());
        if edge.source != edge.target {
            state
                .incident
                .entry(edge.target.clone())
                .or_default()
                .push(stored.id.clone());
        }
        state.edges.insert(stored.id.clone(), stored.clone());
        Ok(stored)
    }

    fn get_edge(&self, id: &Id) -> HostResult<EdgeRef> {
        Ok(self.call().edge_mut(id)?.clone())
    }

    fn update_edge(&self, id: &Id, fields: &Fields) -> HostResult<()> {
        self.call().edge_mut(id)?.fields = fields.clone();
        Ok(())
    }

    fn delete_edge(&self, id: &Id) -> HostResult<()> {
        self.call().remove_edge(id)
    }

    /// The cursor is how many matches earlier pages went past.
    fn neighbors_after(
        &self,
        origin: &Id,
        query: &NeighborQuery,
        after: Option<&str>,
    ) -> HostResult<NeighborPage> {
        let start = match after {
            None => 0,
            Some(text) => text
                .parse::<usize>()
                .map_err(|_| HostError::Invalid(format!("not a neighbour cursor: {text:?}")))?,
        };
        let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(query.limit).unwrap_or(usize::MAX);
        let skipped = start.saturating_add(offset);
        let neighbors: Vec<Neighbor> = self
            .matches(origin, query)?
            .into_iter()
            .skip(skipped)
            .take(limit)
            .collect();
        let next = (limit > 0 && neighbors.len() == limit)
            .then(|| (skipped + neighbors.len()).to_string());
        Ok(NeighborPage { neighbors, next })
    }

    fn count_neighbors(&self, origin: &Id, query: &NeighborQuery) -> HostResult<NeighborCount> {
        let found = self.matches(origin, query)?;
        let nodes: HashSet<&Id> = found.iter().map(|step| &step.node.id).collect();
        Ok(NeighborCount {
            edges: found.len() as u64,
            nodes: nodes.len() as u64,
        })
    }

    fn grant(&self, id: &Id, level: AccessLevel) -> HostResult<()> {
        let mut state = self.call();
        state.has_anchor(id)?;
        state.granted.insert(id.clone(), level);
        Ok(())
    }

    fn revoke(&self, id: &Id) -> HostResult<()> {
        let mut state = self.call();
        state.has_anchor(id)?;
        state.granted.remove(id);
        Ok(())
    }

    fn allow_root(&self, id: &Id, root: &Id, level: AccessLevel) -> HostResult<()> {
        let mut state = self.call();
        state.has_anchor(id)?;
        state.allowed.insert((id.clone(), root.clone()), level);
        Ok(())
    }

    fn disallow_root(&self, id: &Id, root: &Id) -> HostResult<()> {
        let mut state = self.call();
        state.has_anchor(id)?;
        state.allowed.remove(&(id.clone(), root.clone()));
        Ok(())
    }

    fn access(&self, id: &Id) -> AccessLevel {
        match self.call().has_anchor(id) {
            Ok(()) => AccessLevel::Write,
            Err(_) => AccessLevel::NoAccess,
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.call().log.push((level, message.to_owned()));
    }

    fn sleep(&self, duration: std::time::Duration) {
        self.call().slept += duration;
    }

    fn stream(&self, value: &str) {
        self.call().streamed.push(value.to_owned());
    }
}
