//! Reads: nodes, edges, neighbours and roots as the caller may see them, through
//! this session's own writes (read-your-writes).

use super::overlay::{EdgeDraft, NodeDraft};
use super::{ROOTS_BATCH, Session, not_found, validate_archetype};
use crate::store::{AdjacencyQuery, StoredNeighbor};
use crate::{AccessFacts, AccessLevel, Edge, Id, MAX_PAGE, MAX_TYPE_FILTERS, NeighborQuery, Node};
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
