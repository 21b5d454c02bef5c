//! `jac:scale/graph`: convert between WIT values and `graph`, nothing more.
//!
//! No per-app state (the app's `graph::Graph` opens the call's session before the
//! call); the per-call state is that session, which checks every call against the caller.

use serde_json::{Map, Value};
use wasmtime::component::{HasSelf, Linker};

use super::bindings::graph::{
    self as wit, Direction, Edge, Neighbor, NeighborCount, NeighborPage, NeighborQuery, Node,
};
use super::bindings::types::{AccessLevel as WitLevel, Error as WitError};
use graph::{self as g, AccessLevel, Id, Session};
use host_error::HostError;

type Res<T> = wasmtime::Result<Result<T, WitError>>;

/// The graph of one call: its session, `None` while the app describes itself or is built.
pub(crate) struct CallGraph(Option<Session>);

impl CallGraph {
    pub(crate) fn new(session: Option<Session>) -> Self {
        CallGraph(session)
    }

    /// The session, handed back to the runtime after the call (to commit or drop).
    pub(crate) fn take_session(&mut self) -> Option<Session> {
        self.0.take()
    }

    /// The call's session; using the graph while the app describes itself is a host fault.
    fn session(&mut self) -> wasmtime::Result<&mut Session> {
        self.0.as_mut().ok_or_else(|| {
            wasmtime::format_err!("the graph is not available while describing the app")
        })
    }

    /// Run `f` against the session, turning graph errors into guest-visible errors.
    fn with<T>(&mut self, f: impl FnOnce(&mut Session) -> Result<T, HostError>) -> Res<T> {
        Ok(f(self.session()?).map_err(WitError::from))
    }
}

/// Add `jac:scale/graph` to `linker`; `get` projects a store's data to the call's graph.
pub(crate) fn add_to_linker<T: 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut CallGraph,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<CallGraph>>(linker, get)
}

fn id(text: &str) -> Result<Id, HostError> {
    text.parse()
        .map_err(|_| HostError::NotFound(format!("no anchor with id {text:?}")))
}

fn neighbor_query(q: NeighborQuery) -> g::NeighborQuery {
    g::NeighborQuery {
        direction: match q.direction {
            Direction::Outgoing => g::Direction::Outgoing,
            Direction::Incoming => g::Direction::Incoming,
            Direction::Any => g::Direction::Any,
        },
        edge_types: q.edge_types,
        node_types: q.node_types,
        offset: q.offset,
        limit: q.limit,
    }
}

fn neighbors(found: Vec<(g::Edge, g::Node)>) -> Vec<Neighbor> {
    found
        .into_iter()
        .map(|(e, n)| Neighbor {
            edge: edge(e),
            node: node(n),
        })
        .collect()
}

fn fields(json: &str) -> Result<Map<String, Value>, HostError> {
    match serde_json::from_str(json) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(HostError::Invalid("fields must be a JSON object".into())),
        Err(e) => Err(HostError::Invalid(format!(
            "fields are not valid JSON: {e}"
        ))),
    }
}

fn node(n: g::Node) -> Node {
    Node {
        id: n.id.to_string(),
        archetype: n.archetype,
        fields: Value::Object(n.fields).to_string(),
    }
}

fn edge(e: g::Edge) -> Edge {
    Edge {
        id: e.id.to_string(),
        archetype: e.archetype,
        fields: Value::Object(e.fields).to_string(),
        source: e.source.to_string(),
        target: e.target.to_string(),
        undirected: e.undirected,
    }
}

fn level_from_wit(l: WitLevel) -> AccessLevel {
    match l {
        WitLevel::NoAccess => AccessLevel::NoAccess,
        WitLevel::Read => AccessLevel::Read,
        WitLevel::Connect => AccessLevel::Connect,
        WitLevel::Write => AccessLevel::Write,
    }
}

fn level_to_wit(l: AccessLevel) -> WitLevel {
    match l {
        AccessLevel::NoAccess => WitLevel::NoAccess,
        AccessLevel::Read => WitLevel::Read,
        AccessLevel::Connect => WitLevel::Connect,
        AccessLevel::Write => WitLevel::Write,
    }
}

impl wit::Host for CallGraph {
    fn root(&mut self) -> wasmtime::Result<String> {
        Ok(self.session()?.root().to_string())
    }

    fn all_roots(&mut self) -> wasmtime::Result<Vec<String>> {
        let roots = self
            .session()?
            .all_roots()
            .map_err(|e| wasmtime::format_err!("listing roots failed: {e}"))?;
        Ok(roots.into_iter().map(|r| r.to_string()).collect())
    }

    fn every_root(&mut self) -> wasmtime::Result<Vec<String>> {
        let roots = self
            .session()?
            .every_root()
            .map_err(|e| wasmtime::format_err!("listing roots failed: {e}"))?;
        Ok(roots.into_iter().map(|r| r.to_string()).collect())
    }

    fn get_node(&mut self, node_id: String) -> Res<Node> {
        self.with(|s| s.get_node(id(&node_id)?).map(node))
    }

    fn create_node(&mut self, archetype: String, json: String) -> Res<String> {
        self.with(|s| {
            s.create_node(&archetype, fields(&json)?)
                .map(|i| i.to_string())
        })
    }

    fn reserve_id(&mut self) -> wasmtime::Result<String> {
        let id = self
            .session()?
            .reserve_id()
            .map_err(|e| wasmtime::format_err!("reserving an id failed: {e}"))?;
        Ok(id.to_string())
    }

    fn create_node_with_id(&mut self, node_id: String, archetype: String, json: String) -> Res<()> {
        self.with(|s| s.create_node_with_id(id(&node_id)?, &archetype, fields(&json)?))
    }

    fn update_node(&mut self, node_id: String, json: String) -> Res<()> {
        self.with(|s| s.update_node(id(&node_id)?, fields(&json)?))
    }

    fn delete_node(&mut self, node_id: String) -> Res<()> {
        self.with(|s| s.delete_node(id(&node_id)?))
    }

    fn connect(
        &mut self,
        source: String,
        target: String,
        archetype: String,
        json: String,
        undirected: bool,
    ) -> Res<Edge> {
        self.with(|s| {
            s.connect(
                id(&source)?,
                id(&target)?,
                &archetype,
                fields(&json)?,
                undirected,
            )
            .map(edge)
        })
    }

    fn connect_with_id(
        &mut self,
        edge_id: String,
        source: String,
        target: String,
        archetype: String,
        json: String,
        undirected: bool,
    ) -> Res<Edge> {
        self.with(|s| {
            let ends = (id(&source)?, id(&target)?, undirected);
            s.connect_with_id(id(&edge_id)?, ends, &archetype, fields(&json)?)
                .map(edge)
        })
    }

    fn get_edge(&mut self, edge_id: String) -> Res<Edge> {
        self.with(|s| s.get_edge(id(&edge_id)?).map(edge))
    }

    fn update_edge(&mut self, edge_id: String, json: String) -> Res<()> {
        self.with(|s| s.update_edge(id(&edge_id)?, fields(&json)?))
    }

    fn delete_edge(&mut self, edge_id: String) -> Res<()> {
        self.with(|s| s.delete_edge(id(&edge_id)?))
    }

    fn neighbors(&mut self, origin: String, q: NeighborQuery) -> Res<Vec<Neighbor>> {
        let query = neighbor_query(q);
        self.with(|s| Ok(neighbors(s.neighbors(id(&origin)?, &query)?)))
    }

    fn neighbors_after(
        &mut self,
        origin: String,
        q: NeighborQuery,
        after: Option<String>,
    ) -> Res<NeighborPage> {
        let query = neighbor_query(q);
        self.with(|s| {
            let after = after
                .as_deref()
                .map(g::NeighborCursor::decode)
                .transpose()?;
            let page = s.neighbors_after(id(&origin)?, &query, after)?;
            Ok(NeighborPage {
                neighbors: neighbors(page.neighbors),
                next: page.next.map(g::NeighborCursor::encode),
            })
        })
    }

    fn count_neighbors(&mut self, origin: String, q: NeighborQuery) -> Res<NeighborCount> {
        let query = neighbor_query(q);
        self.with(|s| {
            let count = s.count_neighbors(id(&origin)?, &query)?;
            Ok(NeighborCount {
                edges: count.edges,
                nodes: count.nodes,
            })
        })
    }

    fn grant(&mut self, anchor: String, level: WitLevel) -> Res<()> {
        self.with(|s| s.grant(id(&anchor)?, level_from_wit(level)))
    }

    fn revoke(&mut self, anchor: String) -> Res<()> {
        self.with(|s| s.revoke(id(&anchor)?))
    }

    fn allow_root(&mut self, anchor: String, root: String, level: WitLevel) -> Res<()> {
        self.with(|s| s.allow_root(id(&anchor)?, id(&root)?, level_from_wit(level)))
    }

    fn disallow_root(&mut self, anchor: String, root: String) -> Res<()> {
        self.with(|s| s.disallow_root(id(&anchor)?, id(&root)?))
    }

    fn access(&mut self, anchor: String) -> wasmtime::Result<WitLevel> {
        let session = self.session()?;
        Ok(level_to_wit(
            anchor
                .parse()
                .map(|i| session.access(i))
                .unwrap_or(AccessLevel::NoAccess),
        ))
    }
}
