//! One call's view of the graph: access checks, read-your-writes, and a buffered changeset.
//!
//! [`Session`] is split by concern: `overlay` (what the call wrote, and its bounds),
//! `reads`, `writes`, `access` (levels and access edits), `versions` (what the commit
//! checks) and `commit`.

mod access;
mod commit;
mod overlay;
mod reads;
mod versions;
mod writes;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use super::{AccessLevel, AccessPatch, Caller, Id, MAX_ARCHETYPE_BYTES};
use crate::store::{AnchorKind, GraphStore};
use host_error::HostError;
use overlay::{EdgeDraft, NodeDraft};
use versions::ReadVersions;

/// Most refused writes listed in [`Session::warnings`]; a guest looping over refused
/// writes must not grow the host's memory.
const MAX_WARNINGS: usize = 64;
/// Roots fetched per store call while listing them.
const ROOTS_BATCH: u32 = 1_000;

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
    /// The versions of committed anchors as first read (checked by the commit).
    read_versions: ReadVersions,
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
            read_versions: ReadVersions::default(),
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

    /// The writes this session refused, human-readable, in order.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn not_found(kind: &str, id: Id) -> HostError {
    HostError::NotFound(format!("{kind} {id}"))
}

fn validate_archetype(name: &str) -> Result<(), HostError> {
    if name.is_empty() || name.len() > MAX_ARCHETYPE_BYTES || name.chars().any(char::is_control) {
        return Err(HostError::Invalid(format!(
            "archetype name must be 1 to {MAX_ARCHETYPE_BYTES} bytes without control characters"
        )));
    }
    Ok(())
}
