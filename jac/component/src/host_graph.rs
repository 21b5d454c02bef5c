//! [`jac_lang::graph::Graph`] over the `jac:scale/graph` imports.
//!
//! Every read, write, connection and permission call is one host call; nothing is kept
//! between calls. Ids of new nodes and edges are reserved from the host
//! (`reserve-id`) before the interpreter hands them out, so the program, its reports
//! and whatever it stores only ever see permanent ids.

use jac_lang::graph::{
    AccessLevel, Direction, EdgeData, Fields, Graph, GraphError, GraphResult, Neighbour,
    NeighbourCount, NodeData,
};
use serde_json::Value as Json;

use crate::bindings::jac::scale::graph as wit;
use crate::bindings::jac::scale::types::{AccessLevel as WitLevel, Error as WitError};

/// Neighbours asked for per host call (the host clamps larger pages to its own bound,
/// 10,000).
const NEIGHBOUR_PAGE: u32 = 10_000;

/// The graph of the current call, as the host serves it to the caller.
#[derive(Default)]
pub struct HostGraph;

fn fields_out(fields: &Fields) -> String {
    // `Fields` is a JSON map: serialising it cannot fail.
    serde_json::to_string(fields).unwrap_or_default()
}

fn fields_in(text: &str) -> GraphResult<Fields> {
    match serde_json::from_str(text) {
        Ok(Json::Object(fields)) => Ok(fields),
        _ => Err(GraphError::Unavailable(
            "the host sent fields that are not a JSON object".into(),
        )),
    }
}

fn node_in(node: wit::Node) -> GraphResult<NodeData> {
    Ok(NodeData {
        fields: fields_in(&node.fields)?,
        id: node.id,
        archetype: node.archetype,
    })
}

fn edge_in(edge: wit::Edge) -> GraphResult<EdgeData> {
    Ok(EdgeData {
        fields: fields_in(&edge.fields)?,
        id: edge.id,
        archetype: edge.archetype,
        source: edge.source,
        target: edge.target,
        undirected: edge.undirected,
    })
}

/// Hands each neighbour to `each`, page after page (`neighbors-after`, each page
/// continuing where the last ended).
fn each_neighbour(
    id: &str,
    dir: Direction,
    edge_types: Option<&[&str]>,
    mut each: impl FnMut(wit::Neighbor) -> GraphResult<()>,
) -> GraphResult<()> {
    let query = query_out(dir, edge_types, None, NEIGHBOUR_PAGE);
    let mut after = None;
    loop {
        let page = wit::neighbors_after(id, &query, after.as_deref()).map_err(graph_error)?;
        for step in page.neighbors {
            each(step)?;
        }
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

fn query_out(
    dir: Direction,
    edge_types: Option<&[&str]>,
    node_types: Option<&[&str]>,
    limit: u32,
) -> wit::NeighborQuery {
    let names = |types: Option<&[&str]>| {
        types
            .unwrap_or_default()
            .iter()
            .map(|t| (*t).to_owned())
            .collect()
    };
    wit::NeighborQuery {
        direction: match dir {
            Direction::Out => wit::Direction::Outgoing,
            Direction::In => wit::Direction::Incoming,
            Direction::Any => wit::Direction::Any,
        },
        edge_types: names(edge_types),
        node_types: names(node_types),
        offset: 0,
        limit,
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
        wit::reserve_id()
    }

    fn new_object_id(&mut self) -> String {
        jac_lang::graph::random_id()
    }

    fn get(&mut self, id: &str) -> GraphResult<Option<NodeData>> {
        match wit::get_node(id) {
            Ok(node) => node_in(node).map(Some),
            Err(WitError::NotFound(_)) => Ok(None),
            Err(e) => Err(graph_error(e)),
        }
    }

    fn create(&mut self, node: &NodeData) -> GraphResult<()> {
        wit::create_node_with_id(&node.id, &node.archetype, &fields_out(&node.fields))
            .map_err(graph_error)
    }

    fn update(&mut self, node: &NodeData) -> GraphResult<()> {
        wit::update_node(&node.id, &fields_out(&node.fields)).map_err(graph_error)
    }

    fn delete(&mut self, id: &str) -> GraphResult<()> {
        wit::delete_node(id).map_err(graph_error)
    }

    fn connect(&mut self, edge: &EdgeData) -> GraphResult<()> {
        wit::connect_with_id(
            &edge.id,
            &edge.source,
            &edge.target,
            &edge.archetype,
            &fields_out(&edge.fields),
            edge.undirected,
        )
        .map(drop)
        .map_err(graph_error)
    }

    fn update_edge(&mut self, edge: &EdgeData) -> GraphResult<()> {
        wit::update_edge(&edge.id, &fields_out(&edge.fields)).map_err(graph_error)
    }

    fn disconnect(&mut self, edge_id: &str) -> GraphResult<()> {
        wit::delete_edge(edge_id).map_err(graph_error)
    }

    fn neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
    ) -> GraphResult<Vec<Neighbour>> {
        let mut out = Vec::new();
        each_neighbour(id, dir, edge_types, |step| {
            out.push(Neighbour {
                edge: edge_in(step.edge)?,
                node: node_in(step.node)?,
            });
            Ok(())
        })?;
        Ok(out)
    }

    /// Only one page of node records is held at a time.
    fn visit_neighbour_nodes(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        visit: &mut dyn FnMut(&NodeData),
    ) -> GraphResult<()> {
        each_neighbour(id, dir, edge_types, |step| {
            visit(&node_in(step.node)?);
            Ok(())
        })
    }

    /// One host call, whatever the number of neighbours.
    fn count_neighbours(
        &mut self,
        id: &str,
        dir: Direction,
        edge_types: Option<&[&str]>,
        node_types: Option<&[&str]>,
    ) -> GraphResult<NeighbourCount> {
        let query = query_out(dir, edge_types, node_types, 0);
        let count = wit::count_neighbors(id, &query).map_err(graph_error)?;
        Ok(NeighbourCount {
            edges: count.edges,
            nodes: count.nodes,
        })
    }

    fn access(&mut self, id: &str) -> GraphResult<AccessLevel> {
        Ok(match wit::access(id) {
            WitLevel::NoAccess => AccessLevel::NoPerm,
            WitLevel::Read => AccessLevel::Read,
            WitLevel::Connect => AccessLevel::Connect,
            WitLevel::Write => AccessLevel::Write,
        })
    }

    fn grant(&mut self, id: &str, level: AccessLevel) -> GraphResult<()> {
        wit::grant(id, level_out(level)).map_err(graph_error)
    }

    fn revoke(&mut self, id: &str) -> GraphResult<()> {
        wit::revoke(id).map_err(graph_error)
    }

    fn allow_root(&mut self, id: &str, root_id: &str, level: AccessLevel) -> GraphResult<()> {
        wit::allow_root(id, root_id, level_out(level)).map_err(graph_error)
    }

    fn disallow_root(&mut self, id: &str, root_id: &str) -> GraphResult<()> {
        wit::disallow_root(id, root_id).map_err(graph_error)
    }

    fn all_roots(&mut self) -> GraphResult<Vec<String>> {
        Ok(wit::every_root())
    }

    fn shared_root_id(&self) -> Option<String> {
        None
    }
}
