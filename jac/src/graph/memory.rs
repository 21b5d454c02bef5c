//! An in-memory [`Graph`] for native tests and embedders without a store.
//!
//! A [`MemoryStore`] holds every user's nodes; a [`MemoryGraph`] is one
//! user's view of it (its root, its access rights). Ids are deterministic
//! 32-hex counters, so test output is stable.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::{
    AccessLevel, Direction, EdgeData, Graph, GraphError, GraphResult, Neighbour, NodeData,
};

struct StoredNode {
    data: NodeData,
    owner: String,
    edges: Vec<String>,
    public: Option<AccessLevel>,
    allowed: FxHashMap<String, AccessLevel>,
}

/// Every node and edge of every user.
#[derive(Default)]
pub struct MemoryStore {
    nodes: FxHashMap<String, StoredNode>,
    edges: FxHashMap<String, EdgeData>,
    roots: Vec<String>,
    next_id: u64,
}

impl MemoryStore {
    fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:032x}", self.next_id)
    }

    fn add_root(&mut self, id: String) {
        let data = NodeData {
            id: id.clone(),
            archetype: "Root".into(),
            fields: Default::default(),
        };
        let node = StoredNode {
            data,
            owner: id.clone(),
            edges: Vec::new(),
            public: None,
            allowed: Default::default(),
        };
        self.nodes.insert(id.clone(), node);
        self.roots.push(id);
    }

    /// Number of stored nodes (roots included).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of stored edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// A stored node, regardless of access.
    pub fn node(&self, id: &str) -> Option<NodeData> {
        self.nodes.get(id).map(|n| n.data.clone())
    }

    /// Calls `f` with each (edge, node) reachable from `id` that `root` may read.
    fn for_each_neighbour(
        &self,
        root: &str,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        mut f: impl FnMut(&EdgeData, &NodeData),
    ) {
        let Some(node) = self.nodes.get(id) else {
            return;
        };
        for edge_id in &node.edges {
            let Some(edge) = self.edges.get(edge_id) else {
                continue;
            };
            if edge_types.is_some_and(|types| !types.contains(&edge.archetype.as_str())) {
                continue;
            }
            let outgoing = edge.source == id;
            let incoming = edge.target == id;
            let follows = match dir {
                Direction::Out => outgoing || (edge.undirected && incoming),
                Direction::In => incoming || (edge.undirected && outgoing),
                Direction::Any => true,
            };
            if !follows {
                continue;
            }
            let other = if outgoing { &edge.target } else { &edge.source };
            if let Some(n) = self.nodes.get(other)
                && Self::node_level(root, n) >= AccessLevel::Read
            {
                f(edge, &n.data);
            }
        }
    }

    fn node_level(root: &str, n: &StoredNode) -> AccessLevel {
        if n.owner == root {
            return AccessLevel::Write;
        }
        let public = n.public.unwrap_or(AccessLevel::NoPerm);
        let personal = n.allowed.get(root).copied().unwrap_or(AccessLevel::NoPerm);
        public.max(personal)
    }

    fn level(&self, root: &str, id: &str) -> AccessLevel {
        self.nodes
            .get(id)
            .map_or(AccessLevel::NoPerm, |n| Self::node_level(root, n))
    }
}

/// One user's view of a [`MemoryStore`].
#[derive(Clone)]
pub struct MemoryGraph {
    store: Rc<RefCell<MemoryStore>>,
    root: String,
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
        store.add_root(root.clone());
        Self {
            store: Rc::new(RefCell::new(store)),
            root,
            shared_root: None,
        }
    }

    /// A new user (with a fresh root) in the same store.
    pub fn new_user(&self) -> Self {
        let root = self.store.borrow_mut().fresh_id();
        self.store.borrow_mut().add_root(root.clone());
        Self {
            store: self.store.clone(),
            root,
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
        if !store.nodes.contains_key(id) {
            return Err(GraphError::NotFound(id.to_string()));
        }
        if store.level(&self.root, id) < level {
            return Err(GraphError::AccessDenied(format!("{level:?} on {id}")));
        }
        Ok(())
    }
}

impl Graph for MemoryGraph {
    fn root_id(&self) -> String {
        self.root.clone()
    }

    fn new_id(&mut self) -> String {
        self.store.borrow_mut().fresh_id()
    }

    fn get(&mut self, id: &str) -> GraphResult<Option<NodeData>> {
        Ok(self.store.borrow().nodes.get(id).map(|n| n.data.clone()))
    }

    fn create(&mut self, node: &NodeData) -> GraphResult<()> {
        let stored = StoredNode {
            data: node.clone(),
            owner: self.root.clone(),
            edges: Vec::new(),
            public: None,
            allowed: Default::default(),
        };
        self.store
            .borrow_mut()
            .nodes
            .insert(node.id.clone(), stored);
        Ok(())
    }

    fn update(&mut self, node: &NodeData) -> GraphResult<()> {
        self.require(&node.id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().nodes.get_mut(&node.id) {
            n.data.fields = node.fields.clone();
        }
        Ok(())
    }

    fn delete(&mut self, id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        let mut store = self.store.borrow_mut();
        let Some(node) = store.nodes.remove(id) else {
            return Ok(());
        };
        for edge_id in node.edges {
            if let Some(edge) = store.edges.remove(&edge_id) {
                let other = if edge.source == id {
                    edge.target
                } else {
                    edge.source
                };
                if let Some(n) = store.nodes.get_mut(&other) {
                    n.edges.retain(|e| *e != edge_id);
                }
            }
        }
        Ok(())
    }

    fn connect(&mut self, edge: &EdgeData) -> GraphResult<()> {
        self.require(&edge.source, AccessLevel::Connect)?;
        self.require(&edge.target, AccessLevel::Connect)?;
        let mut store = self.store.borrow_mut();
        let ends: &[&String] = if edge.source == edge.target {
            &[&edge.source]
        } else {
            &[&edge.source, &edge.target]
        };
        for end in ends {
            if let Some(n) = store.nodes.get_mut(*end) {
                n.edges.push(edge.id.clone());
            }
        }
        store.edges.insert(edge.id.clone(), edge.clone());
        Ok(())
    }

    fn update_edge(&mut self, edge: &EdgeData) -> GraphResult<()> {
        self.require(&edge.source, AccessLevel::Connect)?;
        match self.store.borrow_mut().edges.get_mut(&edge.id) {
            Some(e) => {
                e.fields = edge.fields.clone();
                Ok(())
            }
            None => Err(GraphError::NotFound(edge.id.clone())),
        }
    }

    fn disconnect(&mut self, edge_id: &str) -> GraphResult<()> {
        let mut store = self.store.borrow_mut();
        let Some(edge) = store.edges.get(edge_id).cloned() else {
            return Ok(());
        };
        if store.level(&self.root, &edge.source) < AccessLevel::Connect
            && store.level(&self.root, &edge.target) < AccessLevel::Connect
        {
            return Err(GraphError::AccessDenied(format!("disconnect {edge_id}")));
        }
        store.edges.remove(edge_id);
        for end in [&edge.source, &edge.target] {
            if let Some(n) = store.nodes.get_mut(end) {
                n.edges.retain(|e| e != edge_id);
            }
        }
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
        store.for_each_neighbour(&self.root, id, dir, edge_types, |edge, node| {
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
        let store = self.store.borrow();
        let mut out = Vec::new();
        store.for_each_neighbour(&self.root, id, dir, edge_types, |_, node| {
            out.push(node.clone())
        });
        Ok(out)
    }

    fn access(&mut self, id: &str) -> GraphResult<AccessLevel> {
        Ok(self.store.borrow().level(&self.root, id))
    }

    fn grant(&mut self, id: &str, level: AccessLevel) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().nodes.get_mut(id) {
            n.public = Some(level);
        }
        Ok(())
    }

    fn revoke(&mut self, id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().nodes.get_mut(id) {
            n.public = None;
        }
        Ok(())
    }

    fn allow_root(&mut self, id: &str, root_id: &str, level: AccessLevel) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().nodes.get_mut(id) {
            n.allowed.insert(root_id.to_string(), level);
        }
        Ok(())
    }

    fn disallow_root(&mut self, id: &str, root_id: &str) -> GraphResult<()> {
        self.require(id, AccessLevel::Write)?;
        if let Some(n) = self.store.borrow_mut().nodes.get_mut(id) {
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
