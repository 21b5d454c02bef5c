//! The WIT side: the [`Host`] that calls the real imports (the generated `bindings`),
//! and the conversions between SDK types and WIT types. Apps never see this
//! module; `app!` reaches it through `__private`.

use std::rc::Rc;

use crate::ctx::Ctx;
use crate::endpoint::{
    self, Access, CallError, EndpointEntry, EndpointSpec, Kind, Method, Protocol,
};
use crate::error::{Error, HostError};
use crate::graph::{AccessLevel, EdgeRef, Fields, Id, NodeRef};
use crate::host::{
    Direction, Host, HostResult, LogLevel, Neighbor, NeighborCount, NeighborPage, NeighborQuery,
    NewEdge,
};

use crate::bindings;
use bindings::exports::jac::scale::endpoints as wit_endpoints;
use bindings::jac::scale::{
    graph as wit_graph, log as wit_log, streaming as wit_stream, timer as wit_timer,
    types as wit_types,
};

fn query_to_wit(query: &NeighborQuery) -> wit_graph::NeighborQuery {
    wit_graph::NeighborQuery {
        direction: match query.direction {
            Direction::Outgoing => wit_graph::Direction::Outgoing,
            Direction::Incoming => wit_graph::Direction::Incoming,
            Direction::Any => wit_graph::Direction::Any,
        },
        edge_types: query.edge_types.clone(),
        node_types: query.node_types.clone(),
        offset: query.offset,
        limit: query.limit,
    }
}

/// The real host: every method is one import call.
struct WitHost;

impl Host for WitHost {
    fn root(&self) -> Id {
        Id::from(wit_graph::root())
    }

    fn all_roots(&self) -> Vec<Id> {
        wit_graph::all_roots().into_iter().map(Id::from).collect()
    }

    fn get_node(&self, id: &Id) -> HostResult<NodeRef> {
        node_from_wit(wit_graph::get_node(id.as_str())?)
    }

    fn create_node(&self, archetype: &str, fields: &Fields) -> HostResult<Id> {
        Ok(Id::from(wit_graph::create_node(
            archetype,
            &fields_to_json(fields),
        )?))
    }

    fn update_node(&self, id: &Id, fields: &Fields) -> HostResult<()> {
        wit_graph::update_node(id.as_str(), &fields_to_json(fields))
    }

    fn delete_node(&self, id: &Id) -> HostResult<()> {
        wit_graph::delete_node(id.as_str())
    }

    fn connect(&self, edge: NewEdge<'_>) -> HostResult<EdgeRef> {
        edge_from_wit(wit_graph::connect(
            edge.source.as_str(),
            edge.target.as_str(),
            edge.archetype,
            &fields_to_json(edge.fields),
            edge.undirected,
        )?)
    }

    fn get_edge(&self, id: &Id) -> HostResult<EdgeRef> {
        edge_from_wit(wit_graph::get_edge(id.as_str())?)
    }

    fn update_edge(&self, id: &Id, fields: &Fields) -> HostResult<()> {
        wit_graph::update_edge(id.as_str(), &fields_to_json(fields))
    }

    fn delete_edge(&self, id: &Id) -> HostResult<()> {
        wit_graph::delete_edge(id.as_str())
    }

    fn neighbors_after(
        &self,
        origin: &Id,
        query: &NeighborQuery,
        after: Option<&str>,
    ) -> HostResult<NeighborPage> {
        let page = wit_graph::neighbors_after(origin.as_str(), &query_to_wit(query), after)?;
        let neighbors = page
            .neighbors
            .into_iter()
            .map(|step| {
                Ok(Neighbor {
                    edge: edge_from_wit(step.edge)?,
                    node: node_from_wit(step.node)?,
                })
            })
            .collect::<HostResult<_>>()?;
        Ok(NeighborPage {
            neighbors,
            next: page.next,
        })
    }

    fn count_neighbors(&self, origin: &Id, query: &NeighborQuery) -> HostResult<NeighborCount> {
        let count = wit_graph::count_neighbors(origin.as_str(), &query_to_wit(query))?;
        Ok(NeighborCount {
            edges: count.edges,
            nodes: count.nodes,
        })
    }

    fn grant(&self, id: &Id, level: AccessLevel) -> HostResult<()> {
        wit_graph::grant(id.as_str(), level.into())
    }

    fn revoke(&self, id: &Id) -> HostResult<()> {
        wit_graph::revoke(id.as_str())
    }

    fn allow_root(&self, id: &Id, root: &Id, level: AccessLevel) -> HostResult<()> {
        wit_graph::allow_root(id.as_str(), root.as_str(), level.into())
    }

    fn disallow_root(&self, id: &Id, root: &Id) -> HostResult<()> {
        wit_graph::disallow_root(id.as_str(), root.as_str())
    }

    fn access(&self, id: &Id) -> AccessLevel {
        match wit_graph::access(id.as_str()) {
            wit_types::AccessLevel::NoAccess => AccessLevel::NoAccess,
            wit_types::AccessLevel::Read => AccessLevel::Read,
            wit_types::AccessLevel::Connect => AccessLevel::Connect,
            wit_types::AccessLevel::Write => AccessLevel::Write,
        }
    }

    fn log(&self, level: LogLevel, message: &str) {
        let level = match level {
            LogLevel::Trace => wit_log::Level::Trace,
            LogLevel::Debug => wit_log::Level::Debug,
            LogLevel::Info => wit_log::Level::Info,
            LogLevel::Warn => wit_log::Level::Warn,
            LogLevel::Error => wit_log::Level::Error,
        };
        wit_log::write(level, message);
    }

    fn sleep(&self, duration: std::time::Duration) {
        wit_timer::sleep(u32::try_from(duration.as_millis()).unwrap_or(u32::MAX));
    }

    fn stream(&self, value: &str) {
        wit_stream::send(value);
    }
}

impl From<AccessLevel> for wit_types::AccessLevel {
    fn from(level: AccessLevel) -> Self {
        match level {
            AccessLevel::NoAccess => Self::NoAccess,
            AccessLevel::Read => Self::Read,
            AccessLevel::Connect => Self::Connect,
            AccessLevel::Write => Self::Write,
        }
    }
}

fn fields_to_json(fields: &Fields) -> String {
    serde_json::Value::Object(fields.clone()).to_string()
}

fn fields_from_json(json: &str) -> HostResult<Fields> {
    serde_json::from_str(json).map_err(|error| {
        HostError::Invalid(format!(
            "the host sent fields that are no JSON object: {error}"
        ))
    })
}

fn node_from_wit(node: wit_graph::Node) -> HostResult<NodeRef> {
    Ok(NodeRef {
        fields: fields_from_json(&node.fields)?,
        id: Id::from(node.id),
        archetype: node.archetype,
    })
}

fn edge_from_wit(edge: wit_graph::Edge) -> HostResult<EdgeRef> {
    Ok(EdgeRef {
        fields: fields_from_json(&edge.fields)?,
        id: Id::from(edge.id),
        archetype: edge.archetype,
        source: Id::from(edge.source),
        target: Id::from(edge.target),
        undirected: edge.undirected,
    })
}

/// The `describe` export of an app.
pub fn describe(endpoints: &[EndpointEntry]) -> wit_endpoints::Manifest {
    wit_endpoints::Manifest {
        endpoints: endpoint::describe(endpoints)
            .into_iter()
            .map(endpoint_to_wit)
            .collect(),
        jobs: Vec::new(),
    }
}

/// The `run` export of an app.
pub fn run(
    endpoints: &[EndpointEntry],
    call: wit_endpoints::Call,
) -> Result<wit_endpoints::Outcome, wit_endpoints::CallError> {
    let cx = Ctx::new(Rc::new(WitHost));
    let outcome = endpoint::dispatch(
        endpoints,
        &cx,
        &call.name,
        &call.args,
        call.target.map(Id::from),
    );
    match outcome {
        Ok(outcome) => Ok(wit_endpoints::Outcome {
            result: outcome.result.to_string(),
            reports: outcome.reports,
        }),
        Err(CallError::UnknownEndpoint(name)) => {
            Err(wit_endpoints::CallError::UnknownEndpoint(name))
        }
        Err(CallError::InvalidArgs(message)) => Err(wit_endpoints::CallError::InvalidArgs(message)),
        Err(CallError::Failed(Error::Host(error))) => Err(wit_endpoints::CallError::Host(error)),
        Err(CallError::Failed(Error::Raised(exception))) => {
            Err(wit_endpoints::CallError::Raised(wit_endpoints::Failure {
                kind: exception.kind,
                message: exception.message,
                trace: exception.trace,
            }))
        }
    }
}

fn endpoint_to_wit(spec: EndpointSpec) -> wit_endpoints::Endpoint {
    wit_endpoints::Endpoint {
        name: spec.name,
        kind: match spec.kind {
            Kind::Walker => wit_endpoints::Kind::Walker,
            Kind::Function => wit_endpoints::Kind::Function,
        },
        protocol: match spec.protocol {
            Protocol::Http => wit_endpoints::Protocol::Http,
            Protocol::Webhook => wit_endpoints::Protocol::Webhook,
            Protocol::Websocket => wit_endpoints::Protocol::Websocket,
        },
        method: match spec.method {
            Method::Get => wit_endpoints::HttpMethod::Get,
            Method::Post => wit_endpoints::HttpMethod::Post,
            Method::Put => wit_endpoints::HttpMethod::Put,
            Method::Patch => wit_endpoints::HttpMethod::Patch,
            Method::Delete => wit_endpoints::HttpMethod::Delete,
        },
        path: spec.path,
        access: match spec.access {
            Access::Public => wit_endpoints::Access::Public,
            Access::Protected => wit_endpoints::Access::Protected,
            Access::Private => wit_endpoints::Access::Private,
        },
        broadcast: spec.broadcast,
        is_async: false,
        fields: spec
            .fields
            .into_iter()
            .map(|field| wit_endpoints::Field {
                name: field.name,
                schema: field.schema.to_string(),
                required: field.default.is_none(),
                default: field.default.map(|value| value.to_string()),
                doc: field.doc,
            })
            .collect(),
        doc: spec.doc,
    }
}
