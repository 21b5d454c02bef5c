//! One call's view of the graph: access checks, read-your-writes, and a buffered changeset.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{
    AccessFacts, AccessLevel, AccessPatch, Caller, Edge, Id, MAX_ARCHETYPE_BYTES,
    MAX_CHANGESET_ANCHORS, MAX_CHANGESET_BYTES, MAX_FIELDS_BYTES, MAX_PAGE, MAX_TYPE_FILTERS,
    NeighborQuery, Node,
};
use crate::store::{
    AccessSpec, AccessUpdate, AdjacencyQuery, AnchorKind, Changeset, EdgeInsert, FieldsUpdate,
    GraphStore, NodeInsert, StoredNeighbor,
};
use host_error::HostError;

/// Most refused writes listed in [`Session::warnings`]; a guest looping over refused
/// writes must not grow the host's memory.
const MAX_WARNINGS: usize = 64;
/// Roots fetched per store call while listing them.
const ROOTS_BATCH: u32 = 1_000;

/// Fields written in this session, with their JSON text for the store.
#[derive(Debug, Clone)]
struct Fields {
    map: Map<String, Value>,
    json: String,
}

impl Fields {
    /// Encodes fields, enforcing [`MAX_FIELDS_BYTES`].
    fn encode(map: Map<String, Value>) -> Result<Self, HostError> {
        let json = serde_json::to_string(&map)
            .map_err(|error| HostError::Invalid(format!("fields are not JSON: {error}")))?;
        if json.len() > MAX_FIELDS_BYTES {
            return Err(HostError::QuotaExceeded(format!(
                "fields of {} bytes exceed the bound of {MAX_FIELDS_BYTES} bytes",
                json.len()
            )));
        }
        Ok(Self { map, json })
    }
}

/// A node this session wrote.
#[derive(Debug)]
enum NodeDraft {
    /// Created in this session (owned by the caller's root).
    New { archetype: String, fields: Fields },
    /// A committed node whose fields were replaced.
    Updated(Fields),
    /// A committed node deleted, with its edges.
    Deleted,
}

/// An edge this session wrote.
#[derive(Debug)]
enum EdgeDraft {
    /// Created in this session; `order` is its key in [`Session::new_edges`].
    New {
        order: u64,
        archetype: String,
        fields: Fields,
        source: Id,
        target: Id,
        undirected: bool,
    },
    /// A committed edge whose fields were replaced.
    Updated(Fields),
    /// A committed edge deleted.
    Deleted,
}

/// What the caller may do with a node it can at least read.
#[derive(Debug, Clone, Copy)]
struct NodeAccess {
    level: AccessLevel,
    is_root: bool,
}

/// The graph as one call of one caller sees it. Dropping it discards every write.
pub struct Session {
    store: Arc<dyn GraphStore>,
    caller: Caller,
    nodes: HashMap<Id, NodeDraft>,
    edges: HashMap<Id, EdgeDraft>,
    /// Edges created in this session, by creation order (commit keeps this order).
    new_edges: BTreeMap<u64, Id>,
    /// For each node, the `new_edges` keys of the live edges created here that touch it,
    /// ascending.
    new_edges_by_node: HashMap<Id, Vec<u64>>,
    next_edge_order: u64,
    /// Access changes, with the kind of anchor they apply to.
    access: HashMap<Id, (AnchorKind, AccessPatch)>,
    /// Ids handed out by [`Session::reserve_id`] and not used yet.
    reserved: HashSet<Id>,
    /// Field bytes held by drafts.
    buffered_bytes: usize,
    warnings: Vec<String>,
}

impl Session {
    pub(super) fn new(store: Arc<dyn GraphStore>, caller: Caller) -> Self {
        Self {
            store,
            caller,
            nodes: HashMap::new(),
            edges: HashMap::new(),
            new_edges: BTreeMap::new(),
            new_edges_by_node: HashMap::new(),
            next_edge_order: 0,
            access: HashMap::new(),
            reserved: HashSet::new(),
            buffered_bytes: 0,
            warnings: Vec::new(),
        }
    }

    /// Who this session acts for.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The caller's root node (the shared guest root for anonymous callers).
    pub fn root(&self) -> Id {
        self.caller.root
    }

    /// Every root the caller may read, in id order; more than [`MAX_PAGE`] is
    /// `QuotaExceeded`.
    pub fn all_roots(&mut self) -> Result<Vec<Id>, HostError> {
        self.roots_where(|session, id, access| {
            session.effective_level(id, access) >= AccessLevel::Read
        })
    }

    /// Every root (each user's and the shared guest root), in id order, as jaclang's
    /// `allroots()` lists them: a root's id is no secret, and what the caller may see
    /// through it is still checked ([`Session::neighbors`] of another user's root lists
    /// only the nodes the caller may read). More than [`MAX_PAGE`] is `QuotaExceeded`.
    pub fn every_root(&mut self) -> Result<Vec<Id>, HostError> {
        self.roots_where(|_, _, _| true)
    }

    fn roots_where(
        &mut self,
        wanted: impl Fn(&Self, Id, AccessFacts) -> bool,
    ) -> Result<Vec<Id>, HostError> {
        let mut roots = Vec::new();
        let mut after = None;
        loop {
            let batch = self.store.roots(self.caller.root, after, ROOTS_BATCH)?;
            let exhausted = batch.len() < ROOTS_BATCH as usize;
            for stored in batch {
                let id = stored.node.id;
                after = Some(id);
                if !wanted(self, id, stored.access) {
                    continue;
                }
                if roots.len() == MAX_PAGE as usize {
                    return Err(HostError::QuotaExceeded(format!(
                        "more than {MAX_PAGE} roots"
                    )));
                }
                roots.push(id);
            }
            if exhausted {
                return Ok(roots);
            }
        }
    }

    /// A node the caller may read; `NotFound` otherwise (so ids do not leak).
    pub fn get_node(&mut self, id: Id) -> Result<Node, HostError> {
        match self.resolve_node(id)? {
            Some((node, level)) if level >= AccessLevel::Read => Ok(node),
            _ => Err(not_found("node", id)),
        }
    }

    /// A fresh id for a node or edge this call is about to create
    /// ([`Session::create_node_with_id`], [`Session::connect_with_id`]), so the guest knows
    /// the permanent id before the node exists. At most [`MAX_CHANGESET_ANCHORS`] unused
    /// reservations; more is `QuotaExceeded`.
    pub fn reserve_id(&mut self) -> Result<Id, HostError> {
        if self.reserved.len() >= MAX_CHANGESET_ANCHORS {
            return Err(HostError::QuotaExceeded(format!(
                "more than {MAX_CHANGESET_ANCHORS} reserved ids not used"
            )));
        }
        let id = Id::generate();
        self.reserved.insert(id);
        Ok(id)
    }

    /// Creates a node owned by the caller's root.
    pub fn create_node(
        &mut self,
        archetype: &str,
        fields: Map<String, Value>,
    ) -> Result<Id, HostError> {
        self.insert_node(Id::generate(), archetype, fields)
    }

    /// Creates a node owned by the caller's root under an id this session reserved.
    pub fn create_node_with_id(
        &mut self,
        id: Id,
        archetype: &str,
        fields: Map<String, Value>,
    ) -> Result<(), HostError> {
        self.check_reserved(id)?;
        self.insert_node(id, archetype, fields)?;
        self.reserved.remove(&id);
        Ok(())
    }

    fn insert_node(
        &mut self,
        id: Id,
        archetype: &str,
        fields: Map<String, Value>,
    ) -> Result<Id, HostError> {
        validate_archetype(archetype)?;
        let fields = Fields::encode(fields)?;
        self.make_room(id)?;
        self.account(0, fields.json.len())?;
        self.nodes.insert(
            id,
            NodeDraft::New {
                archetype: archetype.to_owned(),
                fields,
            },
        );
        Ok(id)
    }

    /// `Invalid` unless `id` came from [`Session::reserve_id`] and is not used yet.
    fn check_reserved(&self, id: Id) -> Result<(), HostError> {
        if self.reserved.contains(&id) {
            Ok(())
        } else {
            Err(HostError::Invalid(format!(
                "id {id} was not reserved by this call (or is used already)"
            )))
        }
    }

    /// Replaces a node's fields (whole object). Needs write access.
    pub fn update_node(&mut self, id: Id, fields: Map<String, Value>) -> Result<(), HostError> {
        let access = self.node_access(id)?;
        self.require("write to", "node", id, access.level, AccessLevel::Write)?;
        let fields = Fields::encode(fields)?;
        match self.nodes.get(&id) {
            Some(NodeDraft::New { fields: old, .. } | NodeDraft::Updated(old)) => {
                self.account(old.json.len(), fields.json.len())?;
            }
            Some(NodeDraft::Deleted) => return Err(not_found("node", id)),
            None => {
                self.make_room(id)?;
                self.account(0, fields.json.len())?;
            }
        }
        match self.nodes.get_mut(&id) {
            Some(NodeDraft::New { fields: slot, .. } | NodeDraft::Updated(slot)) => *slot = fields,
            _ => {
                self.nodes.insert(id, NodeDraft::Updated(fields));
            }
        }
        Ok(())
    }

    /// Deletes a node and every edge touching it. Needs write access; roots cannot be
    /// deleted.
    pub fn delete_node(&mut self, id: Id) -> Result<(), HostError> {
        let access = self.node_access(id)?;
        self.require("write to", "node", id, access.level, AccessLevel::Write)?;
        if access.is_root {
            return Err(HostError::Invalid(format!(
                "root node {id} cannot be deleted"
            )));
        }
        let is_new = matches!(self.nodes.get(&id), Some(NodeDraft::New { .. }));
        if !is_new {
            self.make_room(id)?;
        }
        for order in self.new_edges_by_node.remove(&id).unwrap_or_default() {
            if let Some(edge) = self.new_edges.get(&order).copied() {
                self.forget_new_edge(edge);
            }
        }
        self.access.remove(&id);
        let previous = if is_new {
            self.nodes.remove(&id)
        } else {
            self.nodes.insert(id, NodeDraft::Deleted)
        };
        if let Some(NodeDraft::New { fields, .. } | NodeDraft::Updated(fields)) = previous {
            self.buffered_bytes -= fields.json.len();
        }
        Ok(())
    }

    /// Connects two nodes with a new edge owned by the caller's root. Needs connect access
    /// to both ends.
    pub fn connect(
        &mut self,
        source: Id,
        target: Id,
        archetype: &str,
        fields: Map<String, Value>,
        undirected: bool,
    ) -> Result<Edge, HostError> {
        let ends = (source, target, undirected);
        self.insert_edge(Id::generate(), ends, archetype, fields)
    }

    /// Like [`Session::connect`], under an id this session reserved.
    pub fn connect_with_id(
        &mut self,
        id: Id,
        (source, target, undirected): (Id, Id, bool),
        archetype: &str,
        fields: Map<String, Value>,
    ) -> Result<Edge, HostError> {
        self.check_reserved(id)?;
        let edge = self.insert_edge(id, (source, target, undirected), archetype, fields)?;
        self.reserved.remove(&id);
        Ok(edge)
    }

    fn insert_edge(
        &mut self,
        id: Id,
        (source, target, undirected): (Id, Id, bool),
        archetype: &str,
        fields: Map<String, Value>,
    ) -> Result<Edge, HostError> {
        validate_archetype(archetype)?;
        let source_level = self.node_access(source)?.level;
        let target_level = self.node_access(target)?.level;
        self.require(
            "connect to",
            "node",
            source,
            source_level,
            AccessLevel::Connect,
        )?;
        self.require(
            "connect to",
            "node",
            target,
            target_level,
            AccessLevel::Connect,
        )?;
        let fields = Fields::encode(fields)?;
        self.make_room(id)?;
        self.account(0, fields.json.len())?;
        let edge = Edge {
            id,
            archetype: archetype.to_owned(),
            fields: fields.map.clone(),
            source,
            target,
            undirected,
        };
        let order = self.next_edge_order;
        self.next_edge_order += 1;
        self.new_edges.insert(order, id);
        self.new_edges_by_node
            .entry(source)
            .or_default()
            .push(order);
        if target != source {
            self.new_edges_by_node
                .entry(target)
                .or_default()
                .push(order);
        }
        let archetype = archetype.to_owned();
        self.edges.insert(
            id,
            EdgeDraft::New {
                order,
                archetype,
                fields,
                source,
                target,
                undirected,
            },
        );
        Ok(edge)
    }

    /// An edge the caller may read; `NotFound` otherwise.
    pub fn get_edge(&mut self, id: Id) -> Result<Edge, HostError> {
        Ok(self.readable_edge(id)?.0)
    }

    /// Replaces an edge's fields (whole object). Needs write access to the edge.
    pub fn update_edge(&mut self, id: Id, fields: Map<String, Value>) -> Result<(), HostError> {
        let (_, level) = self.readable_edge(id)?;
        self.require("write to", "edge", id, level, AccessLevel::Write)?;
        let fields = Fields::encode(fields)?;
        match self.edges.get(&id) {
            Some(EdgeDraft::New { fields: old, .. } | EdgeDraft::Updated(old)) => {
                self.account(old.json.len(), fields.json.len())?;
            }
            Some(EdgeDraft::Deleted) => return Err(not_found("edge", id)),
            None => {
                self.make_room(id)?;
                self.account(0, fields.json.len())?;
            }
        }
        match self.edges.get_mut(&id) {
            Some(EdgeDraft::New { fields: slot, .. } | EdgeDraft::Updated(slot)) => *slot = fields,
            _ => {
                self.edges.insert(id, EdgeDraft::Updated(fields));
            }
        }
        Ok(())
    }

    /// Deletes one edge. Needs write access to the edge.
    pub fn delete_edge(&mut self, id: Id) -> Result<(), HostError> {
        let (_, level) = self.readable_edge(id)?;
        self.require("write to", "edge", id, level, AccessLevel::Write)?;
        if matches!(self.edges.get(&id), Some(EdgeDraft::New { .. })) {
            self.forget_new_edge(id);
            return Ok(());
        }
        self.make_room(id)?;
        self.access.remove(&id);
        if let Some(EdgeDraft::Updated(fields)) = self.edges.insert(id, EdgeDraft::Deleted) {
            self.buffered_bytes -= fields.json.len();
        }
        Ok(())
    }

    /// Neighbours of a node the caller may read, in edge insertion order (committed edges,
    /// then this session's), filtered by archetypes and by read access to the neighbour,
    /// then paged.
    pub fn neighbors(
        &mut self,
        origin: Id,
        query: &NeighborQuery,
    ) -> Result<Vec<(Edge, Node)>, HostError> {
        validate_type_filter(&query.edge_types)?;
        validate_type_filter(&query.node_types)?;
        self.origin_access(origin)?;
        let mut page = Page::new(query.offset, query.limit.min(MAX_PAGE));
        if page.is_full() {
            return Ok(page.items);
        }
        if !matches!(self.nodes.get(&origin), Some(NodeDraft::New { .. })) {
            let mut after = 0;
            loop {
                let want = page.wanted();
                let rows = self.store.neighbors(&AdjacencyQuery {
                    origin,
                    viewer: self.caller.root,
                    direction: query.direction,
                    edge_types: &query.edge_types,
                    node_types: &query.node_types,
                    after,
                    limit: want,
                })?;
                let exhausted = rows.len() < want as usize;
                for row in rows {
                    after = row.seq;
                    if let Some(pair) = self.committed_neighbor(row)
                        && page.offer(pair)
                    {
                        return Ok(page.items);
                    }
                }
                if exhausted {
                    break;
                }
            }
        }
        let orders = self
            .new_edges_by_node
            .get(&origin)
            .map_or(&[][..], Vec::as_slice);
        for order in orders {
            let Some(EdgeDraft::New {
                archetype,
                fields,
                source,
                target,
                undirected,
                ..
            }) = self.new_edges.get(order).and_then(|id| self.edges.get(id))
            else {
                continue;
            };
            if !query
                .direction
                .follows(origin, *source, *target, *undirected)
                || !matches_type(&query.edge_types, archetype)
            {
                continue;
            }
            let other = if *source == origin { *target } else { *source };
            let Some((node, level)) = self.resolve_node(other)? else {
                continue;
            };
            if level < AccessLevel::Read || !matches_type(&query.node_types, &node.archetype) {
                continue;
            }
            let edge = Edge {
                id: self.new_edges[order],
                archetype: archetype.clone(),
                fields: fields.map.clone(),
                source: *source,
                target: *target,
                undirected: *undirected,
            };
            if page.offer((edge, node)) {
                break;
            }
        }
        Ok(page.items)
    }

    /// Gives every root `level` access to an anchor (`perm_grant`). Needs write access.
    pub fn grant(&mut self, id: Id, level: AccessLevel) -> Result<(), HostError> {
        self.change_access(id, |patch| patch.all = Some(level))
    }

    /// Removes the access given to every root (`perm_revoke`). Needs write access.
    pub fn revoke(&mut self, id: Id) -> Result<(), HostError> {
        self.change_access(id, |patch| patch.all = Some(AccessLevel::NoAccess))
    }

    /// Gives one root `level` access to an anchor (`allow_root`); on a root node this opens
    /// that user's whole graph. Needs write access.
    pub fn allow_root(&mut self, id: Id, root: Id, level: AccessLevel) -> Result<(), HostError> {
        self.change_access(id, |patch| {
            patch.roots.insert(root, Some(level));
        })
    }

    /// Removes one root's entry on an anchor (`disallow_root`). Needs write access.
    pub fn disallow_root(&mut self, id: Id, root: Id) -> Result<(), HostError> {
        self.change_access(id, |patch| {
            patch.roots.insert(root, None);
        })
    }

    /// The caller's effective level on a node or edge (`NoAccess` when it does not exist).
    pub fn access(&mut self, id: Id) -> AccessLevel {
        match self.anchor_level(id) {
            Ok((_, level)) => level,
            Err(HostError::NotFound(_)) => AccessLevel::NoAccess,
            Err(error) => {
                tracing::warn!(%id, %error, "access level lookup failed; reporting no access");
                AccessLevel::NoAccess
            }
        }
    }

    /// The writes this session refused, human-readable, in order.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Applies every write of this session in one transaction.
    pub fn commit(mut self) -> Result<(), HostError> {
        let owner = self.caller.root;
        let mut changes = Changeset::default();
        for (order, id) in std::mem::take(&mut self.new_edges) {
            let Some(EdgeDraft::New {
                order: kept,
                archetype,
                fields,
                source,
                target,
                undirected,
            }) = self.edges.remove(&id)
            else {
                continue;
            };
            debug_assert_eq!(order, kept);
            let access = self.new_anchor_access(id);
            changes.new_edges.push(EdgeInsert {
                id,
                archetype,
                fields: fields.json,
                owner,
                source,
                target,
                undirected,
                access,
            });
        }
        for (id, draft) in std::mem::take(&mut self.nodes) {
            match draft {
                NodeDraft::New { archetype, fields } => {
                    let access = self.new_anchor_access(id);
                    changes.new_nodes.push(NodeInsert {
                        id,
                        archetype,
                        fields: fields.json,
                        owner,
                        access,
                    });
                }
                NodeDraft::Updated(fields) => {
                    changes.node_updates.push(FieldsUpdate {
                        id,
                        fields: fields.json,
                    });
                }
                NodeDraft::Deleted => changes.deleted_nodes.push(id),
            }
        }
        changes.new_nodes.sort_unstable_by_key(|node| node.id);
        for (id, draft) in std::mem::take(&mut self.edges) {
            match draft {
                EdgeDraft::Updated(fields) => {
                    changes.edge_updates.push(FieldsUpdate {
                        id,
                        fields: fields.json,
                    });
                }
                EdgeDraft::Deleted => changes.deleted_edges.push(id),
                EdgeDraft::New { .. } => unreachable!("new edges were all taken in order above"),
            }
        }
        for (anchor, (kind, patch)) in std::mem::take(&mut self.access) {
            changes.access_updates.push(AccessUpdate {
                anchor,
                kind,
                all: patch.all,
                roots: patch.roots.into_iter().collect(),
            });
        }
        if changes.is_empty() {
            return Ok(());
        }
        Ok(self.store.apply(changes)?)
    }

    /// The node as this session sees it and the caller's level on it; `None` when it does
    /// not exist (or was deleted here).
    fn resolve_node(&self, id: Id) -> Result<Option<(Node, AccessLevel)>, HostError> {
        let replaced = match self.nodes.get(&id) {
            Some(NodeDraft::Deleted) => return Ok(None),
            Some(NodeDraft::New { archetype, fields }) => {
                let node = Node {
                    id,
                    archetype: archetype.clone(),
                    fields: fields.map.clone(),
                };
                return Ok(Some((node, AccessLevel::Write)));
            }
            Some(NodeDraft::Updated(fields)) => Some(fields),
            None => None,
        };
        let Some(stored) = self.store.node(id, self.caller.root)? else {
            return Ok(None);
        };
        let level = self.effective_level(id, stored.access);
        let mut node = stored.node;
        if let Some(fields) = replaced {
            node.fields = fields.map.clone();
        }
        Ok(Some((node, level)))
    }

    /// The caller's access to a node it may read; `NotFound` when it may not (or the node
    /// does not exist). Reads no fields.
    fn node_access(&self, id: Id) -> Result<NodeAccess, HostError> {
        let access = match self.nodes.get(&id) {
            Some(NodeDraft::Deleted) => None,
            Some(NodeDraft::New { .. }) => Some(NodeAccess {
                level: AccessLevel::Write,
                is_root: false,
            }),
            _ if id == self.caller.root => Some(NodeAccess {
                level: AccessLevel::Write,
                is_root: true,
            }),
            _ => self
                .store
                .node_access(id, self.caller.root)?
                .map(|facts| NodeAccess {
                    level: self.effective_level(id, facts),
                    is_root: facts.owner == id,
                }),
        };
        access
            .filter(|access| access.level >= AccessLevel::Read)
            .ok_or_else(|| not_found("node", id))
    }

    /// Whether the caller may list the neighbours of `origin`: a node it may read, or any
    /// root (another user's root shows only the neighbours the caller may read, as in
    /// jaclang, where `[r -->]` over `allroots()` lists what others shared);
    /// `NotFound` otherwise.
    fn origin_access(&self, origin: Id) -> Result<(), HostError> {
        match self.node_access(origin) {
            Err(HostError::NotFound(message)) => {
                let root = !self.nodes.contains_key(&origin)
                    && self
                        .store
                        .node_access(origin, self.caller.root)?
                        .is_some_and(|facts| facts.owner == origin);
                if root {
                    Ok(())
                } else {
                    Err(HostError::NotFound(message))
                }
            }
            other => other.map(drop),
        }
    }

    /// The edge as this session sees it and the caller's level on it, if the caller may
    /// read it; `NotFound` otherwise. An edge touching a node deleted here is gone.
    fn readable_edge(&self, id: Id) -> Result<(Edge, AccessLevel), HostError> {
        let replaced = match self.edges.get(&id) {
            Some(EdgeDraft::Deleted) => return Err(not_found("edge", id)),
            Some(EdgeDraft::New {
                archetype,
                fields,
                source,
                target,
                undirected,
                ..
            }) => {
                let edge = Edge {
                    id,
                    archetype: archetype.clone(),
                    fields: fields.map.clone(),
                    source: *source,
                    target: *target,
                    undirected: *undirected,
                };
                return Ok((edge, AccessLevel::Write));
            }
            Some(EdgeDraft::Updated(fields)) => Some(fields),
            None => None,
        };
        let stored = self
            .store
            .edge(id, self.caller.root)?
            .ok_or_else(|| not_found("edge", id))?;
        let mut edge = stored.edge;
        let end_deleted = |end: Id| matches!(self.nodes.get(&end), Some(NodeDraft::Deleted));
        if end_deleted(edge.source) || end_deleted(edge.target) {
            return Err(not_found("edge", id));
        }
        let level = self.effective_level(id, stored.access);
        if level < AccessLevel::Read {
            return Err(not_found("edge", id));
        }
        if let Some(fields) = replaced {
            edge.fields = fields.map.clone();
        }
        Ok((edge, level))
    }

    /// The kind of anchor `id` names and the caller's level on it, if readable.
    fn anchor_level(&self, id: Id) -> Result<(AnchorKind, AccessLevel), HostError> {
        match self.node_access(id) {
            Ok(access) => Ok((AnchorKind::Node, access.level)),
            Err(HostError::NotFound(_)) => {
                let (_, level) = self
                    .readable_edge(id)
                    .map_err(|_| not_found("anchor", id))?;
                Ok((AnchorKind::Edge, level))
            }
            Err(error) => Err(error),
        }
    }

    /// A committed adjacency row as this session sees it, if the caller may read the
    /// neighbour.
    fn committed_neighbor(&self, row: StoredNeighbor) -> Option<(Edge, Node)> {
        let mut edge = row.edge;
        match self.edges.get(&edge.id) {
            Some(EdgeDraft::Deleted) => return None,
            Some(EdgeDraft::Updated(fields)) => edge.fields = fields.map.clone(),
            _ => {}
        }
        let mut node = row.node.node;
        match self.nodes.get(&node.id) {
            Some(NodeDraft::Deleted) => return None,
            Some(NodeDraft::Updated(fields)) => node.fields = fields.map.clone(),
            _ => {}
        }
        (self.effective_level(node.id, row.node.access) >= AccessLevel::Read)
            .then_some((edge, node))
    }

    /// The caller's level on a committed anchor, with this session's access changes.
    fn effective_level(&self, anchor: Id, mut facts: AccessFacts) -> AccessLevel {
        let viewer = self.caller.root;
        if facts.owner == viewer || anchor == viewer {
            return AccessLevel::Write;
        }
        if !self.access.is_empty() {
            let patch_of = |id: Id| self.access.get(&id).map(|(_, patch)| patch);
            let owner = facts.owner;
            AccessPatch::apply(&mut facts, viewer, patch_of(anchor), patch_of(owner));
        }
        facts.level(anchor, viewer)
    }

    /// Records an access change on a node or edge the caller may write.
    fn change_access(
        &mut self,
        id: Id,
        change: impl FnOnce(&mut AccessPatch),
    ) -> Result<(), HostError> {
        let (kind, level) = self.anchor_level(id)?;
        let kind_name = match kind {
            AnchorKind::Node => "node",
            AnchorKind::Edge => "edge",
        };
        self.require("write to", kind_name, id, level, AccessLevel::Write)?;
        self.make_room(id)?;
        change(
            &mut self
                .access
                .entry(id)
                .or_insert_with(|| (kind, AccessPatch::default()))
                .1,
        );
        Ok(())
    }

    /// The access settings a new anchor is inserted with.
    fn new_anchor_access(&mut self, id: Id) -> AccessSpec {
        let Some((_, patch)) = self.access.remove(&id) else {
            return AccessSpec::default();
        };
        AccessSpec {
            all: patch.all.unwrap_or_default(),
            roots: patch
                .roots
                .into_iter()
                .filter_map(|(root, level)| Some((root, level?)))
                .collect(),
        }
    }

    /// Drops an edge created in this session (and its access changes).
    fn forget_new_edge(&mut self, id: Id) {
        if let Some(EdgeDraft::New {
            order,
            fields,
            source,
            target,
            ..
        }) = self.edges.remove(&id)
        {
            self.new_edges.remove(&order);
            for end in [source, target] {
                if let Some(orders) = self.new_edges_by_node.get_mut(&end) {
                    if let Ok(at) = orders.binary_search(&order) {
                        orders.remove(at);
                    }
                    if orders.is_empty() {
                        self.new_edges_by_node.remove(&end);
                    }
                }
            }
            self.buffered_bytes -= fields.json.len();
        }
        self.access.remove(&id);
    }

    /// Fails when the caller's `level` is below `needed`, recording the refusal.
    fn require(
        &mut self,
        action: &str,
        kind: &str,
        id: Id,
        level: AccessLevel,
        needed: AccessLevel,
    ) -> Result<(), HostError> {
        if level >= needed {
            return Ok(());
        }
        let message = format!("{action} {kind} {id} refused: {level} only");
        match self.warnings.len() {
            count if count < MAX_WARNINGS => self.warnings.push(message.clone()),
            MAX_WARNINGS => self
                .warnings
                .push("further refused writes are not listed".into()),
            _ => {}
        }
        Err(HostError::AccessDenied(message))
    }

    /// Fails when writing one more anchor (`id`, unless already written) would pass
    /// [`MAX_CHANGESET_ANCHORS`].
    fn make_room(&self, id: Id) -> Result<(), HostError> {
        let written = self.nodes.len() + self.edges.len() + self.access.len();
        let known = self.nodes.contains_key(&id)
            || self.edges.contains_key(&id)
            || self.access.contains_key(&id);
        if !known && written >= MAX_CHANGESET_ANCHORS {
            return Err(HostError::QuotaExceeded(format!(
                "one call may write at most {MAX_CHANGESET_ANCHORS} anchors"
            )));
        }
        Ok(())
    }

    /// Replaces `old` buffered field bytes by `new`, enforcing [`MAX_CHANGESET_BYTES`].
    fn account(&mut self, old: usize, new: usize) -> Result<(), HostError> {
        let total = self.buffered_bytes - old + new;
        if total > MAX_CHANGESET_BYTES {
            return Err(HostError::QuotaExceeded(format!(
                "one call may buffer at most {MAX_CHANGESET_BYTES} bytes of fields"
            )));
        }
        self.buffered_bytes = total;
        Ok(())
    }
}

/// One page of neighbours being filled.
struct Page {
    skip: u32,
    limit: u32,
    items: Vec<(Edge, Node)>,
}

impl Page {
    fn new(skip: u32, limit: u32) -> Self {
        Self {
            skip,
            limit,
            items: Vec::new(),
        }
    }

    fn is_full(&self) -> bool {
        self.items.len() >= self.limit as usize
    }

    /// How many more matches would complete the page (skipped ones included), per store
    /// call at most [`MAX_PAGE`].
    fn wanted(&self) -> u32 {
        let missing = self.limit - self.items.len() as u32;
        self.skip.saturating_add(missing).min(MAX_PAGE)
    }

    /// Takes a match (or skips it); whether the page is now full.
    fn offer(&mut self, item: (Edge, Node)) -> bool {
        if self.skip > 0 {
            self.skip -= 1;
        } else {
            self.items.push(item);
        }
        self.is_full()
    }
}

fn not_found(kind: &str, id: Id) -> HostError {
    HostError::NotFound(format!("{kind} {id}"))
}

fn matches_type(types: &[String], archetype: &str) -> bool {
    types.is_empty() || types.iter().any(|name| name == archetype)
}

fn validate_archetype(name: &str) -> Result<(), HostError> {
    if name.is_empty() || name.len() > MAX_ARCHETYPE_BYTES || name.chars().any(char::is_control) {
        return Err(HostError::Invalid(format!(
            "archetype name must be 1 to {MAX_ARCHETYPE_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}

fn validate_type_filter(names: &[String]) -> Result<(), HostError> {
    if names.len() > MAX_TYPE_FILTERS {
        return Err(HostError::QuotaExceeded(format!(
            "a filter may name at most {MAX_TYPE_FILTERS} archetypes"
        )));
    }
    names.iter().try_for_each(|name| validate_archetype(name))
}
