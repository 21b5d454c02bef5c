//! An in-memory [`Graph`] for native tests and embedders without a store.
//!
//! A [`MemoryStore`] holds every user's nodes; a [`MemoryGraph`] is one
//! user's view of it (its root, its access rights). Ids are deterministic
//! 32-hex counters, so test output is stable. Internally nodes and edges live
//! in slot vectors and refer to each other by slot, so a neighbour query does
//! one id lookup and then follows plain indices.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::{
    AccessLevel, Direction, EdgeData, Graph, GraphError, GraphResult, Neighbour, NodeData,
};

/// Index of a node or edge in its slot vector.
type Slot = usize;

struct StoredNode {
    data: NodeData,
    /// Slot of the owner's root node.
    owner: Slot,
    /// Slots of the incident edges, in insertion order.
    edges: Vec<Slot>,
    public: Option<AccessLevel>,
    allowed: FxHashMap<String, AccessLevel>,
}

struct StoredEdge {
    data: EdgeData,
    source: Slot,
    target: Slot,
}

/// Every node and edge of every user.
#[derive(Default)]
pub struct MemoryStore {
    nodes: Vec<Option<StoredNode>>,
    node_slots: FxHashMap<String, Slot>,
    edges: Vec<Option<StoredEdge>>,
    edge_slots: FxHashMap<String, Slot>,
    roots: Vec<String>,
    next_id: u64,
}

impl MemoryStore {
    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:032x}", self.next_id)
    }

    fn add_root(&mut self, id: String) -> Slot {
        let slot = self.nodes.len();
        let data = NodeData {
            id: id.clone(),
            archetype: "Root".into(),
            fields: Default::default(),
        };
        self.insert_node(data, slot);
        self.roots.push(id);
        slot
    }

    fn insert_node(&mut self, data: NodeData, owner: Slot) {
        let slot = self.nodes.len();
        self.node_slots.insert(data.id.clone(), slot);
        self.nodes.push(Some(StoredNode {
            data,
            owner,
            edges: Vec::new(),
            public: None,
            allowed: Default::default(),
        }));
    }

    fn node_slot(&self, id: &str) -> Option<Slot> {
        self.node_slots.get(id).copied()
    }

    fn node_at(&self, slot: Slot) -> Option<&StoredNode> {
        self.nodes.get(slot).and_then(Option::as_ref)
    }

    fn node_mut(&mut self, id: &str) -> Option<&mut StoredNode> {
        let slot = self.node_slot(id)?;
        self.nodes.get_mut(slot).and_then(Option::as_mut)
    }

    fn edge_at(&self, slot: Slot) -> Option<&StoredEdge> {
        self.edges.get(slot).and_then(Option::as_ref)
    }

    /// Number of stored nodes (roots included).
    pub fn node_count(&self) -> usize {
        self.node_slots.len()
    }

    /// Number of stored edges.
    pub fn edge_count(&self) -> usize {
        self.edge_slots.len()
    }

    /// A stored node, regardless of access.
    pub fn node(&self, id: &str) -> Option<NodeData> {
        self.node_slot(id)
            .and_then(|s| self.node_at(s))
            .map(|n| n.data.clone())
    }

    /// Calls `f` with each (edge, node) reachable from `id` that the user
    /// `viewer` may read.
    fn for_each_neighbour(
        &self,
        viewer: &Viewer,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        mut f: impl FnMut(&EdgeData, &NodeData),
    ) {
        let Some(slot) = self.node_slot(id) else {
            return;
        };
        let Some(node) = self.node_at(slot) else {
            return;
        };
        for &edge_slot in &node.edges {
            let Some(edge) = self.edge_at(edge_slot) else {
                continue;
            };
            if edge_types.is_some_and(|types| !types.contains(&edge.data.archetype.as_str())) {
                continue;
            }
            let outgoing = edge.source == slot;
            let incoming = edge.target == slot;
            let undirected = edge.data.undirected;
            let follows = match dir {
                Direction::Out => outgoing || (undirected && incoming),
                Direction::In => incoming || (undirected && outgoing),
                Direction::Any => true,
            };
            if !follows {
                continue;
            }
            let other = if outgoing { edge.target } else { edge.source };
            if let Some(n) = self.node_at(other)
                && viewer.level_on(n) >= AccessLevel::Read
            {
                f(&edge.data, &n.data);
            }
        }
    }

    /// Removes an edge and its entries in both ends' edge lists.
    fn remove_edge(&mut self, slot: Slot) {
        let Some(edge) = self.edges.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.edge_slots.remove(&edge.data.id);
        for end in [edge.source, edge.target] {
            if let Some(Some(n)) = self.nodes.get_mut(end) {
                n.edges.retain(|&e| e != slot);
            }
        }
    }

    fn level(&self, viewer: &Viewer, id: &str) -> AccessLevel {
        self.node_slot(id)
            .and_then(|s| self.node_at(s))
            .map_or(AccessLevel::NoPerm, |n| viewer.level_on(n))
    }
}

/// The user a [`MemoryGraph`] acts for: its root id and the root's slot.
#[derive(Clone)]
struct Viewer {
    root: String,
    slot: Slot,
}

impl Viewer {
    fn level_on(&self, n: &StoredNode) -> AccessLevel {
        if n.owner == self.slot {
            return AccessLevel::Write;
        }
        let public = n.public.unwrap_or(AccessLevel::NoPerm);
        let personal = n
            .allowed
            .get(&self.root)
            .copied()
            .unwrap_or(AccessLevel::NoPerm);
        public.max(personal)
    }
}

/// One user's view of a [`MemoryStore`].
#[derive(Clone)]
pub struct MemoryGraph {
    store: Rc<RefCell<MemoryStore>>,
    viewer: Viewer,
    shared_root: Option<String>,
}

impl Default for MemoryGraph {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryGraph {
    /// A new store with one user, whose root id is all zeros.
    pub fn new() -> Self {
        let mut store = MemoryStore::default();
        let root = format!("{:032x}", 0);
        let slot = store.add_root(root.clone());
        Self {
            store: Rc::new(RefCell::new(store)),
            viewer: Viewer { root, slot },
            shared_root: None,
        }
    }

    /// A new user (with a fresh root) in the same store.
    pub fn new_user(&self) -> Self {
        let mut store = self.store.borrow_mut();
        let root = store.fresh_id();
        let slot = store.add_root(root.clone());
        Self {
            store: self.store.clone(),
            viewer: Viewer { root, slot },
            shared_root: self.shared_root.clone(),
        }
    }

    /// Designates `graph`'s root as the shared guest root (`root.shared`) of this view.
    pub fn with_shared_root(mut self, root_id: &str) -> Self {
        self.shared_root = Some(root_id.to_string());
        self
    }

    /// The underlying store.
    pub fn store(&self) -> std::cell::Ref<'_, MemoryStore> {
        self.store.borrow()
    }

    fn require(&self, id: &str, level: AccessLevel) -> GraphResult<()> {
        let store = self.store.borrow();
        if store.node_slot(id).is_none() {
            return Err(GraphError::NotFound(id.to_string()));
        }
        if store.level(&self.viewer, id) < level {
            return Err(GraphError::AccessDenied(format!("{level:?} on {id}")));
        }
        Ok(())
    }
}

impl Graph for MemoryGraph {
    fn root_id(&self) -> String {
        self.viewer.root.clone()
    }

    fn new_id(&mut self) -> String {
        self.store.borrow_mut().fresh_id()
    }

    fn get(&mut self, id: &str) -> GraphResult<Option<NodeData>> {
        Ok(self.store.borrow().node(id))
    }

    fn create(&mut self, node: &NodeData) -> GraphResult<()> {
        let mut store = self.store.borrow_mut();
        if let Some(existing) = store.node_mut(&node.id) {
            existing.data = node.clone();
            return Ok(());
        }
        store.insert_node(node.clone(), self.viewer.slot);
        Ok(())
    }

    fn update(&mut self, node: &NodeData) -> GraphResult<()> {
        self.require(&node.id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().node_mut(&node.id) {
            n.data.fields = node.fields.clone();
        }
        Ok(())
    }

    fn delete(&mut self, id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        let mut store = self.store.borrow_mut();
        let Some(slot) = store.node_slots.remove(id) else {
            return Ok(());
        };
        let Some(node) = store.nodes.get_mut(slot).and_then(Option::take) else {
            return Ok(());
        };
        for edge_slot in node.edges {
            store.remove_edge(edge_slot);
        }
        Ok(())
    }

    fn connect(&mut self, edge: &EdgeData) -> GraphResult<()> {
        self.require(&edge.source, AccessLevel::Connect)?;
        self.require(&edge.target, AccessLevel::Connect)?;
        let mut store = self.store.borrow_mut();
        let (Some(source), Some(target)) =
            (store.node_slot(&edge.source), store.node_slot(&edge.target))
        else {
            return Err(GraphError::NotFound(edge.id.clone()));
        };
        let slot = store.edges.len();
        let ends: &[Slot] = if source == target {
            &[source]
        } else {
            &[source, target]
        };
        for &end in ends {
            if let Some(Some(n)) = store.nodes.get_mut(end) {
                n.edges.push(slot);
            }
        }
        store.edge_slots.insert(edge.id.clone(), slot);
        store.edges.push(Some(StoredEdge {
            data: edge.clone(),
            source,
            target,
        }));
        Ok(())
    }

    fn update_edge(&mut self, edge: &EdgeData) -> GraphResult<()> {
        self.require(&edge.source, AccessLevel::Connect)?;
        let mut store = self.store.borrow_mut();
        let stored = store
            .edge_slots
            .get(&edge.id)
            .copied()
            .and_then(|s| store.edges.get_mut(s))
            .and_then(Option::as_mut);
        match stored {
            Some(e) => {
                e.data.fields = edge.fields.clone();
                Ok(())
            }
            None => Err(GraphError::NotFound(edge.id.clone())),
        }
    }

    fn disconnect(&mut self, edge_id: &str) -> GraphResult<()> {
        let mut store = self.store.borrow_mut();
        let Some(slot) = store.edge_slots.get(edge_id).copied() else {
            return Ok(());
        };
        let Some(edge) = store.edge_at(slot) else {
            return Ok(());
        };
        let (source, target) = (edge.source, edge.target);
        let level = |s: Slot| {
            store
                .node_at(s)
                .map_or(AccessLevel::NoPerm, |n| self.viewer.level_on(n))
        };
        if level(source) < AccessLevel::Connect && level(target) < AccessLevel::Connect {
            return Err(GraphError::AccessDenied(format!("disconnect {edge_id}")));
        }
        store.remove_edge(slot);
        Ok(())
    }

    fn neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<Neighbour>> {
        let store = self.store.borrow();
        let mut out = Vec::new();
        store.for_each_neighbour(&self.viewer, id, dir, edge_types, |edge, node| {
            out.push(Neighbour {
                edge: edge.clone(),
                node: node.clone(),
            });
        });
        Ok(out)
    }

    fn neighbour_nodes(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<NodeData>> {
        let mut out = Vec::new();
        self.visit_neighbour_nodes(id, dir, edge_types, &mut |node| out.push(node.clone()))?;
        Ok(out)
    }

    fn visit_neighbour_nodes(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        visit: &mut dyn FnMut(&NodeData),
    ) -> GraphResult<()> {
        let store = self.store.borrow();
        store.for_each_neighbour(&self.viewer, id, dir, edge_types, |_, node| visit(node));
        Ok(())
    }

    fn access(&mut self, id: &str) -> GraphResult<AccessLevel> {
        Ok(self.store.borrow().level(&self.viewer, id))
    }

    fn grant(&mut self, id: &str, level: AccessLevel) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().node_mut(id) {
            n.public = Some(level);
        }
        Ok(())
    }

    fn revoke(&mut self, id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().node_mut(id) {
            n.public = None;
        }
        Ok(())
    }

    fn allow_root(&mut self, id: &str, root_id: &str, level: AccessLevel) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().node_mut(id) {
            n.allowed.insert(root_id.to_string(), level);
        }
        Ok(())
    }

    fn disallow_root(&mut self, id: &str, root_id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().node_mut(id) {
            n.allowed.remove(root_id);
        }
        Ok(())
    }

    fn all_roots(&mut self) -> GraphResult<Vec<String>> {
        Ok(self.store.borrow().roots.clone())
    }

    fn shared_root_id(&self) -> Option<String> {
        self.shared_root.clone()
    }
}
