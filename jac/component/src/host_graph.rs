//! [`jac_lang::graph::Graph`] over the `jac:scale/graph` imports.
//!
//! Every read, write, connection and permission call is one host call; nothing is kept
//! between calls except the per-call [`IdMap`] (shared with the export glue, which
//! rewrites the call's output with it).

use std::cell::RefCell;
use std::rc::Rc;

use jac_lang::graph::{
    AccessLevel, Direction, EdgeData, Fields, Graph, GraphError, GraphResult, Neighbour, NodeData,
};
use serde_json::Value as Json;

use crate::bindings::jac::scale::graph as wit;
use crate::bindings::jac::scale::types::{AccessLevel as WitLevel, Error as WitError};
use crate::ids::IdMap;

/// Neighbours asked for per host call; the host clamps larger pages to its own bound
/// (10,000), so a full page means "ask for the next one".
const NEIGHBOUR_PAGE: u32 = 10_000;

/// The graph of the current call, as the host serves it to the caller.
pub struct HostGraph {
    ids: Rc<RefCell<IdMap>>,
}

impl HostGraph {
    /// A graph translating ids through `ids`.
    pub fn new(ids: Rc<RefCell<IdMap>>) -> Self {
        HostGraph { ids }
    }

    fn fields_out(&self, fields: &Fields) -> String {
        let mut json = Json::Object(fields.clone());
        self.ids.borrow().to_host_json(&mut json);
        json.to_string()
    }

    fn fields_in(&self, text: &str) -> GraphResult<Fields> {
        let Ok(Json::Object(mut fields)) = serde_json::from_str(text) else {
            return Err(GraphError::Unavailable(
                "the host sent fields that are not a JSON object".into(),
            ));
        };
        let ids = self.ids.borrow();
        fields.values_mut().for_each(|v| ids.to_guest_json(v));
        Ok(fields)
    }

    fn node_in(&self, node: wit::Node) -> GraphResult<NodeData> {
        Ok(NodeData {
            fields: self.fields_in(&node.fields)?,
            id: self.ids.borrow().guest(node.id),
            archetype: node.archetype,
        })
    }

    fn edge_in(&self, edge: wit::Edge) -> GraphResult<EdgeData> {
        let ids = self.ids.borrow();
        Ok(EdgeData {
            fields: self.fields_in(&edge.fields)?,
            id: ids.guest(edge.id),
            archetype: edge.archetype,
            source: ids.guest(edge.source),
            target: ids.guest(edge.target),
            undirected: edge.undirected,
        })
    }

    /// The host id of `id`, owned (so no borrow of the map outlives the host call).
    fn host_id(&self, id: &str) -> String {
        self.ids.borrow().host(id).to_owned()
    }
}

fn graph_error(e: WitError) -> GraphError {
    match e {
        WitError::AccessDenied(m) => GraphError::AccessDenied(m),
        WitError::NotFound(m) => GraphError::NotFound(m),
        WitError::Invalid(m)
        | WitError::Conflict(m)
        | WitError::QuotaExceeded(m)
        | WitError::Unavailable(m) => GraphError::Unavailable(m),
    }
}

fn level_out(level: AccessLevel) -> WitLevel {
    match level {
        AccessLevel::NoPerm => WitLevel::NoAccess,
        AccessLevel::Read => WitLevel::Read,
        AccessLevel::Connect => WitLevel::Connect,
        AccessLevel::Write => WitLevel::Write,
    }
}

impl Graph for HostGraph {
    fn root_id(&self) -> String {
        wit::root()
    }

    fn new_id(&mut self) -> String {
        self.ids.borrow_mut().issue()
    }

    fn get(&mut self, id: &str) -> GraphResult<Option<NodeData>> {
        match wit::get_node(&self.host_id(id)) {
            Ok(node) => self.node_in(node).map(Some),
            Err(WitError::NotFound(_)) => Ok(None),
            Err(e) => Err(graph_error(e)),
        }
    }

    fn create(&mut self, node: &NodeData) -> GraphResult<()> {
        let host = wit::create_node(&node.archetype, &self.fields_out(&node.fields))
            .map_err(graph_error)?;
        self.ids.borrow_mut().bind(&node.id, host);
        Ok(())
    }

    fn update(&mut self, node: &NodeData) -> GraphResult<()> {
        wit::update_node(&self.host_id(&node.id), &self.fields_out(&node.fields))
            .map_err(graph_error)
    }

    fn delete(&mut self, id: &str) -> GraphResult<()> {
        wit::delete_node(&self.host_id(id)).map_err(graph_error)
    }

    fn connect(&mut self, edge: &EdgeData) -> GraphResult<()> {
        let stored = wit::connect(
            &self.host_id(&edge.source),
            &self.host_id(&edge.target),
            &edge.archetype,
            &self.fields_out(&edge.fields),
            edge.undirected,
        )
        .map_err(graph_error)?;
        self.ids.borrow_mut().bind(&edge.id, stored.id);
        Ok(())
    }

    fn update_edge(&mut self, edge: &EdgeData) -> GraphResult<()> {
        wit::update_edge(&self.host_id(&edge.id), &self.fields_out(&edge.fields))
            .map_err(graph_error)
    }

    fn disconnect(&mut self, edge_id: &str) -> GraphResult<()> {
        wit::delete_edge(&self.host_id(edge_id)).map_err(graph_error)
    }

    fn neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<Neighbour>> {
        let origin = self.host_id(id);
        let mut query = wit::NeighborQuery {
            direction: match dir {
                Direction::Out => wit::Direction::Outgoing,
                Direction::In => wit::Direction::Incoming,
                Direction::Any => wit::Direction::Any,
            },
            edge_types: edge_types
                .unwrap_or_default()
                .iter()
                .map(|t| (*t).to_owned())
                .collect(),
            node_types: Vec::new(),
            offset: 0,
            limit: NEIGHBOUR_PAGE,
        };
        let mut out = Vec::new();
        loop {
            let page = wit::neighbors(&origin, &query).map_err(graph_error)?;
            let full = page.len() >= NEIGHBOUR_PAGE as usize;
            for step in page {
                out.push(Neighbour {
                    edge: self.edge_in(step.edge)?,
                    node: self.node_in(step.node)?,
                });
            }
            if !full {
                return Ok(out);
            }
            query.offset = query.offset.saturating_add(NEIGHBOUR_PAGE);
        }
    }

    fn access(&mut self, id: &str) -> GraphResult<AccessLevel> {
        Ok(match wit::access(&self.host_id(id)) {
            WitLevel::NoAccess => AccessLevel::NoPerm,
            WitLevel::Read => AccessLevel::Read,
            WitLevel::Connect => AccessLevel::Connect,
            WitLevel::Write => AccessLevel::Write,
        })
    }

    fn grant(&mut self, id: &str, level: AccessLevel) -> GraphResult<()> {
        wit::grant(&self.host_id(id), level_out(level)).map_err(graph_error)
    }

    fn revoke(&mut self, id: &str) -> GraphResult<()> {
        wit::revoke(&self.host_id(id)).map_err(graph_error)
    }

    fn allow_root(&mut self, id: &str, root_id: &str, level: AccessLevel) -> GraphResult<()> {
        wit::allow_root(&self.host_id(id), &self.host_id(root_id), level_out(level))
            .map_err(graph_error)
    }

    fn disallow_root(&mut self, id: &str, root_id: &str) -> GraphResult<()> {
        wit::disallow_root(&self.host_id(id), &self.host_id(root_id)).map_err(graph_error)
    }

    fn all_roots(&mut self) -> GraphResult<Vec<String>> {
        Ok(wit::all_roots())
    }

    fn shared_root_id(&self) -> Option<String> {
        None
    }
}
