//! Writes: nodes and edges created, updated and deleted in the session's overlay,
//! each checked against the caller's access first.

use super::overlay::{EdgeDraft, Fields, NodeDraft};
use super::{Session, not_found, validate_archetype};
use crate::{AccessLevel, Edge, Id, MAX_CHANGESET_ANCHORS};
use host_error::HostError;
use serde_json::{Map, Value};

impl Session {
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
}
