//! Anchors (nodes, edges, roots), access levels, per-call changesets and permission checks.
//!
//! A [`Graph`] is one app's graph over a [`GraphStore`]. Each walker call opens a
//! [`Session`] for its caller: every read is checked against the caller's access level
//! and sees the session's own writes, every write is checked and buffered, and
//! [`Session::commit`] applies them all in one transaction (dropping the session discards
//! them). The session API mirrors the WIT `graph` interface one call for one call.
//!
//! Invariant: every permission decision of the host is made here, by
//! [`AccessFacts::level`]; `capability/` asks, `store/` only reports facts.

mod access;
mod id;
mod session;
pub mod store;
mod traverse;

use std::sync::Arc;

use host_error::HostError;
use serde_json::{Map, Value};

pub(crate) use access::AccessPatch;
pub use access::{AccessFacts, AccessLevel, SharedFacts};
pub use id::{Id, ParseIdError};
pub use session::Session;
pub use traverse::{MAX_DEPTH, MAX_NODES, Traversal, TraverseQuery};

use store::{AccessSpec, Changeset, GraphStore, NodeInsert, StoreError};

/// Largest serialized fields object of one anchor: the default request body limit, so
/// anything a client may send fits, and one anchor cannot pin more memory than a request.
pub const MAX_FIELDS_BYTES: usize = 1 << 20;
/// Most anchors one call may write (create, update, delete or re-permission): keeps one
/// commit a short transaction; bulk imports split across calls.
pub const MAX_CHANGESET_ANCHORS: usize = 50_000;
/// Most field bytes one call may buffer before commit: bounds the memory a guest can
/// make the host hold.
pub const MAX_CHANGESET_BYTES: usize = 64 << 20;
/// Most neighbours (and roots) one call returns; a guest asking for more gets this many
/// per page and pages on.
pub const MAX_PAGE: u32 = 10_000;
/// Longest archetype name; Jac names are identifiers, this only stops abuse.
pub const MAX_ARCHETYPE_BYTES: usize = 256;
/// Most archetypes in one neighbour filter (a type and its subtypes).
pub const MAX_TYPE_FILTERS: usize = 256;

/// The archetype of every user's root node.
pub const ROOT_ARCHETYPE: &str = "Root";

/// Who is calling: their root, and their user id (`None` for an anonymous guest, whose
/// root is the shared guest root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub root: Id,
    pub user: Option<String>,
}

/// A node as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub id: Id,
    pub archetype: String,
    pub fields: Map<String, Value>,
}

/// An edge as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub id: Id,
    pub archetype: String,
    pub fields: Map<String, Value>,
    pub source: Id,
    pub target: Id,
    pub undirected: bool,
}

/// Which incident edges to follow, seen from the origin node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Edges whose source is the origin, and undirected edges.
    Outgoing,
    /// Edges whose target is the origin, and undirected edges.
    Incoming,
    /// Both.
    Any,
}

impl Direction {
    /// Whether an edge `source -> target` is followed from `origin` in this direction.
    pub fn follows(self, origin: Id, source: Id, target: Id, undirected: bool) -> bool {
        let outgoing = source == origin || (undirected && target == origin);
        let incoming = target == origin || (undirected && source == origin);
        match self {
            Self::Outgoing => outgoing,
            Self::Incoming => incoming,
            Self::Any => outgoing || incoming,
        }
    }
}

/// A neighbour query: one call returns edges and nodes together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeighborQuery {
    pub direction: Direction,
    /// Only edges of these archetypes (empty = any). Subtypes must be listed by the caller.
    pub edge_types: Vec<String>,
    /// Only neighbour nodes of these archetypes (empty = any).
    pub node_types: Vec<String>,
    /// Skip this many matches.
    pub offset: u32,
    /// Return at most this many matches (clamped to [`MAX_PAGE`]).
    pub limit: u32,
}

/// How many neighbours a query matches, as [`Session::neighbors`] would list them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NeighborCount {
    /// Edges followed (`len([edge -->])`).
    pub edges: u64,
    /// Distinct nodes reached (`len([-->])`: a node reached by two edges counts once).
    pub nodes: u64,
}

impl std::ops::AddAssign for NeighborCount {
    fn add_assign(&mut self, other: Self) {
        self.edges += other.edges;
        self.nodes += other.nodes;
    }
}

/// One page of [`Session::neighbors_after`].
#[derive(Debug, Clone, PartialEq)]
pub struct NeighborPage {
    pub neighbors: Vec<(Edge, Node)>,
    /// Where to continue; `None` when this page was the last.
    pub next: Option<NeighborCursor>,
}

/// Where a page of neighbours ended: [`Session::neighbors_after`] continues after it.
/// Committed edges come first (by their store position), then this call's new edges (by
/// creation order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NeighborCursor {
    /// After the committed edge at this store position.
    Committed(u64),
    /// After this call's new edge of this creation order.
    Created(u64),
}

impl NeighborCursor {
    /// The cursor's text for the guest (`c<position>` or `n<order>`).
    pub fn encode(self) -> String {
        match self {
            Self::Committed(seq) => format!("c{seq}"),
            Self::Created(order) => format!("n{order}"),
        }
    }

    /// The cursor `encode` wrote; `Invalid` for anything else.
    pub fn decode(text: &str) -> Result<Self, HostError> {
        let number = |digits: &str| digits.parse::<u64>().ok();
        let cursor = match text.split_at_checked(1) {
            Some(("c", digits)) => number(digits).map(Self::Committed),
            Some(("n", digits)) => number(digits).map(Self::Created),
            _ => None,
        };
        cursor.ok_or_else(|| HostError::Invalid(format!("not a neighbour cursor: {text:?}")))
    }
}

impl From<StoreError> for HostError {
    /// Conflicts are the caller's business; backend details are logged, not shown to guests.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Conflict(message) => Self::Conflict(message),
            other => {
                tracing::error!(error = %other, "graph store failed");
                Self::Unavailable("the graph store is unavailable".into())
            }
        }
    }
}

impl From<ParseIdError> for HostError {
    fn from(error: ParseIdError) -> Self {
        Self::Invalid(error.to_string())
    }
}

/// One app's graph. Cheap to clone.
#[derive(Clone)]
pub struct Graph {
    store: Arc<dyn GraphStore>,
    guest_root: Id,
}

impl Graph {
    /// The lookups of the store's cache tiers, when it has them (see
    /// [`GraphStore::cache_counts`]).
    pub fn cache_counts(&self) -> Option<store::CacheCounts> {
        self.store.cache_counts()
    }

    /// The graph kept in `store`; creates the shared guest root on first use.
    pub fn new(store: Arc<dyn GraphStore>) -> Result<Self, HostError> {
        let guest_root = store.ensure_guest_root(&root_insert(Id::generate()))?;
        Ok(Self { store, guest_root })
    }

    /// The root that anonymous callers share.
    pub fn guest_root(&self) -> Id {
        self.guest_root
    }

    /// Creates a new user's root node (archetype [`ROOT_ARCHETYPE`]), committed at once.
    pub fn create_root(&self) -> Result<Id, HostError> {
        let root = Id::generate();
        let changes = Changeset {
            new_nodes: vec![root_insert(root)],
            ..Changeset::default()
        };
        self.store.apply(changes)?;
        Ok(root)
    }

    /// Deletes a root made by [`Graph::create_root`] that never got a user (registration
    /// lost a race for its identity), with its edges. Other anchors it owns are kept.
    pub fn discard_root(&self, root: Id) -> Result<(), HostError> {
        let changes = Changeset {
            deleted_nodes: vec![root],
            ..Changeset::default()
        };
        Ok(self.store.apply(changes)?)
    }

    /// A session for one call of `caller`. Nothing is read until it is used.
    pub fn session(&self, caller: Caller) -> Session {
        Session::new(Arc::clone(&self.store), caller)
    }

    /// The session of a walker `caller` spawns at `target` (`None`: the caller's root).
    /// Spawning needs READ on the target; anything less is answered as if the node did
    /// not exist (`NotFound`), so a call cannot probe for nodes it may not see.
    pub fn spawn_session(&self, caller: Caller, target: Option<Id>) -> Result<Session, HostError> {
        let mut session = self.session(caller);
        if let Some(id) = target
            && session.access(id) < AccessLevel::Read
        {
            return Err(HostError::NotFound(format!("no node with id {id}")));
        }
        Ok(session)
    }
}

/// A new, empty root node owning itself, closed to everyone else.
fn root_insert(id: Id) -> NodeInsert {
    NodeInsert {
        id,
        archetype: ROOT_ARCHETYPE.to_owned(),
        fields: "{}".to_owned(),
        owner: id,
        access: AccessSpec::default(),
    }
}
