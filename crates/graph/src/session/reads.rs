//! Reads: nodes, edges, neighbours and roots as the caller may see them, through
//! this session's own writes (read-your-writes).

use std::collections::HashSet;

use super::overlay::{EdgeDraft, NodeDraft};
use super::{ROOTS_BATCH, Session, not_found, validate_archetype};
use crate::store::{AdjacencyQuery, AnchorKind, StoredNeighbor};
use crate::{
    AccessFacts, AccessLevel, Edge, Id, MAX_PAGE, MAX_TYPE_FILTERS, NeighborCount, NeighborCursor,
    NeighborPage, NeighborQuery, Node,
};
use host_error::HostError;

impl Session {
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

    /// An edge the caller may read; `NotFound` otherwise.
    pub fn get_edge(&mut self, id: Id) -> Result<Edge, HostError> {
        Ok(self.readable_edge(id)?.0)
    }

    /// Neighbours of a node the caller may read, in edge insertion order (committed edges,
    /// then this session's), filtered by archetypes and by read access to the neighbour,
    /// then paged.
    pub fn neighbors(
        &mut self,
        origin: Id,
        query: &NeighborQuery,
    ) -> Result<Vec<(Edge, Node)>, HostError> {
        Ok(self.neighbors_after(origin, query, None)?.neighbors)
    }

    /// [`Session::neighbors`] after `after` (a cursor an earlier page returned; the
    /// query's offset then skips matches after it), with the cursor to continue from when
    /// the page is full (the next page may be empty). Each page costs what it lists, not
    /// what it skipped, however deep into the neighbourhood it starts.
    pub fn neighbors_after(
        &mut self,
        origin: Id,
        query: &NeighborQuery,
        after: Option<NeighborCursor>,
    ) -> Result<NeighborPage, HostError> {
        self.check_neighbor_query(origin, query)?;
        let mut page = Page::new(query.offset, query.limit.min(MAX_PAGE));
        if !page.is_full() {
            self.visit_neighbors(origin, query, after, &mut page)?;
        }
        Ok(NeighborPage {
            next: page.is_full().then_some(page.last).flatten(),
            neighbors: page.items,
        })
    }

    /// How many neighbours [`Session::neighbors`] would list for `query` (its offset and
    /// limit are ignored). Counted by the store, reading no fields, unless this session's
    /// own deletions, access changes or new edges to committed nodes could change the
    /// answer: then the neighbours are visited here, page by page (the host holds the
    /// ids of the distinct nodes while it counts, never their fields).
    pub fn count_neighbors(
        &mut self,
        origin: Id,
        query: &NeighborQuery,
    ) -> Result<NeighborCount, HostError> {
        self.check_neighbor_query(origin, query)?;
        if self.overlay_changes_neighbors(origin, query) {
            let mut tally = Tally::default();
            self.visit_neighbors(origin, query, None, &mut tally)?;
            return Ok(tally.count);
        }
        let mut count = NeighborCount::default();
        if !matches!(self.nodes.get(&origin), Some(NodeDraft::New { .. })) {
            let tally = self.store.count_neighbors(&AdjacencyQuery {
                origin,
                viewer: self.caller.root,
                direction: query.direction,
                edge_types: &query.edge_types,
                node_types: &query.node_types,
                after: 0,
                limit: 0,
            })?;
            count += tally.owned;
            // Without access changes in this session the committed settings decide.
            for (facts, group) in tally.shared {
                if facts.level() >= AccessLevel::Read {
                    count += group;
                }
            }
        }
        // What is left are new edges to nodes created here: readable, and new neighbours.
        let mut reached = HashSet::new();
        for other in self.new_neighbor_edges(origin, query) {
            if let Some(NodeDraft::New { archetype, .. }) = self.nodes.get(&other)
                && matches_type(&query.node_types, archetype)
            {
                count.edges += 1;
                count.nodes += u64::from(reached.insert(other));
            }
        }
        Ok(count)
    }

    /// The filters' bounds and the caller's right to list `origin`'s neighbours.
    fn check_neighbor_query(&self, origin: Id, query: &NeighborQuery) -> Result<(), HostError> {
        validate_type_filter(&query.edge_types)?;
        validate_type_filter(&query.node_types)?;
        self.origin_access(origin)
    }

    /// Whether this session wrote something the store's count of committed rows cannot
    /// see: a deletion, an access change that concerns the caller, or a matching new edge
    /// from `origin` to a committed node (which may be a neighbour already).
    fn overlay_changes_neighbors(&self, origin: Id, query: &NeighborQuery) -> bool {
        let viewer = self.caller.root;
        self.nodes
            .values()
            .any(|draft| matches!(draft, NodeDraft::Deleted))
            || self
                .edges
                .values()
                .any(|draft| matches!(draft, EdgeDraft::Deleted))
            || self.access.values().any(|(kind, patch)| {
                *kind == AnchorKind::Node
                    && (patch.all.is_some() || patch.roots.contains_key(&viewer))
            })
            || self
                .new_neighbor_edges(origin, query)
                .any(|other| !matches!(self.nodes.get(&other), Some(NodeDraft::New { .. })))
    }

    /// This session's new edges from `origin` that the query's direction and edge types
    /// follow, in creation order: the node at the other end of each.
    fn new_neighbor_edges<'s>(
        &'s self,
        origin: Id,
        query: &'s NeighborQuery,
    ) -> impl Iterator<Item = Id> + 's {
        self.new_edges_by_node
            .get(&origin)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(move |order| {
                match self.new_edges.get(order).and_then(|id| self.edges.get(id)) {
                    Some(EdgeDraft::New {
                        archetype,
                        source,
                        target,
                        undirected,
                        ..
                    }) if query
                        .direction
                        .follows(origin, *source, *target, *undirected)
                        && matches_type(&query.edge_types, archetype) =>
                    {
                        Some(if *source == origin { *target } else { *source })
                    }
                    _ => None,
                }
            })
    }

    /// Offers `sink` each neighbour after `after` the caller may read, in order (committed
    /// edges, then this session's), until it has enough.
    fn visit_neighbors(
        &self,
        origin: Id,
        query: &NeighborQuery,
        after: Option<NeighborCursor>,
        sink: &mut impl Sink,
    ) -> Result<(), HostError> {
        let (committed_after, created_after) = match after {
            None => (Some(0), None),
            Some(NeighborCursor::Committed(seq)) => (Some(seq), None),
            Some(NeighborCursor::Created(order)) => (None, Some(order)),
        };
        if let Some(mut after) = committed_after
            && !matches!(self.nodes.get(&origin), Some(NodeDraft::New { .. }))
        {
            loop {
                let want = sink.wanted();
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
                    if let Some((edge, node)) = self.committed_neighbor(row)
                        && sink.offer(NeighborCursor::Committed(after), edge, node)
                    {
                        return Ok(());
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
        for &order in orders {
            if created_after.is_some_and(|after| order <= after) {
                continue;
            }
            let Some(EdgeDraft::New {
                archetype,
                fields,
                source,
                target,
                undirected,
                ..
            }) = self.new_edges.get(&order).and_then(|id| self.edges.get(id))
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
                id: self.new_edges[&order],
                archetype: archetype.clone(),
                fields: fields.map.clone(),
                source: *source,
                target: *target,
                undirected: *undirected,
            };
            if sink.offer(NeighborCursor::Created(order), edge, node) {
                break;
            }
        }
        Ok(())
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
        self.read_versions.note(id, stored.version);
        let level = self.effective_level(id, stored.access);
        let mut node = stored.node;
        if let Some(fields) = replaced {
            node.fields = fields.map.clone();
        }
        Ok(Some((node, level)))
    }

    /// The edge as this session sees it and the caller's level on it, if the caller may
    /// read it; `NotFound` otherwise. An edge touching a node deleted here is gone.
    pub(super) fn readable_edge(&self, id: Id) -> Result<(Edge, AccessLevel), HostError> {
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
        self.read_versions.note(id, stored.version);
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

    /// A committed adjacency row as this session sees it, if the caller may read the
    /// neighbour.
    fn committed_neighbor(&self, row: StoredNeighbor) -> Option<(Edge, Node)> {
        if self.effective_level(row.node.node.id, row.node.access) < AccessLevel::Read {
            return None;
        }
        self.read_versions.note(row.edge.id, row.edge_version);
        self.read_versions.note(row.node.node.id, row.node.version);
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
        Some((edge, node))
    }
}

/// What [`Session::visit_neighbors`] hands the neighbours to.
trait Sink {
    /// How many more neighbours it may take (the store's batch size), at most [`MAX_PAGE`].
    fn wanted(&self) -> u32;
    /// Takes a neighbour at `position`; whether it has enough now.
    fn offer(&mut self, position: NeighborCursor, edge: Edge, node: Node) -> bool;
}

/// One page of neighbours being filled.
struct Page {
    skip: u32,
    limit: u32,
    items: Vec<(Edge, Node)>,
    /// The position of the last neighbour offered (taken or skipped).
    last: Option<NeighborCursor>,
}

impl Page {
    fn new(skip: u32, limit: u32) -> Self {
        Self {
            skip,
            limit,
            items: Vec::new(),
            last: None,
        }
    }

    fn is_full(&self) -> bool {
        self.items.len() >= self.limit as usize
    }
}

impl Sink for Page {
    /// The matches that would complete the page, skipped ones included.
    fn wanted(&self) -> u32 {
        let missing = self.limit - self.items.len() as u32;
        self.skip.saturating_add(missing).min(MAX_PAGE)
    }

    fn offer(&mut self, position: NeighborCursor, edge: Edge, node: Node) -> bool {
        self.last = Some(position);
        if self.skip > 0 {
            self.skip -= 1;
        } else {
            self.items.push((edge, node));
        }
        self.is_full()
    }
}

/// Neighbours counted one by one (the distinct nodes by id).
#[derive(Default)]
struct Tally {
    count: NeighborCount,
    reached: HashSet<Id>,
}

impl Sink for Tally {
    fn wanted(&self) -> u32 {
        MAX_PAGE
    }

    fn offer(&mut self, _: NeighborCursor, _: Edge, node: Node) -> bool {
        self.count.edges += 1;
        self.count.nodes += u64::from(self.reached.insert(node.id));
        false
    }
}

fn matches_type(types: &[String], archetype: &str) -> bool {
    types.is_empty() || types.iter().any(|name| name == archetype)
}

fn validate_type_filter(names: &[String]) -> Result<(), HostError> {
    if names.len() > MAX_TYPE_FILTERS {
        return Err(HostError::QuotaExceeded(format!(
            "a filter may name at most {MAX_TYPE_FILTERS} archetypes"
        )));
    }
    names.iter().try_for_each(|name| validate_archetype(name))
}
