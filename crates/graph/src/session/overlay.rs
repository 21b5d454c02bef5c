//! The overlay: what this session wrote and has not committed (drafts of nodes and
//! edges), and the bounds on it.

use super::Session;
use crate::{Id, MAX_CHANGESET_ANCHORS, MAX_CHANGESET_BYTES, MAX_FIELDS_BYTES};
use host_error::HostError;
use serde_json::{Map, Value};

/// Fields written in this session, with their JSON text for the store.
#[derive(Debug, Clone)]
pub(super) struct Fields {
    pub(super) map: Map<String, Value>,
    pub(super) json: String,
}

impl Fields {
    /// Encodes fields, enforcing [`MAX_FIELDS_BYTES`].
    pub(super) fn encode(map: Map<String, Value>) -> Result<Self, HostError> {
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
pub(super) enum NodeDraft {
    /// Created in this session (owned by the caller's root).
    New { archetype: String, fields: Fields },
    /// A committed node whose fields were replaced.
    Updated(Fields),
    /// A committed node deleted, with its edges.
    Deleted,
}

/// An edge this session wrote.
#[derive(Debug)]
pub(super) enum EdgeDraft {
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

impl Session {
    /// Fails when writing one more anchor (`id`, unless already written) would pass
    /// [`MAX_CHANGESET_ANCHORS`].
    pub(super) fn make_room(&self, id: Id) -> Result<(), HostError> {
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
    pub(super) fn account(&mut self, old: usize, new: usize) -> Result<(), HostError> {
        let total = self.buffered_bytes - old + new;
        if total > MAX_CHANGESET_BYTES {
            return Err(HostError::QuotaExceeded(format!(
                "one call may buffer at most {MAX_CHANGESET_BYTES} bytes of fields"
            )));
        }
        self.buffered_bytes = total;
        Ok(())
    }

    /// Drops an edge created in this session (and its access changes).
    pub(super) fn forget_new_edge(&mut self, id: Id) {
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
}
