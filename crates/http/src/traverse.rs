//! `POST /traverse`: the spec's graph traversal API, over what the caller may read.
//!
//! Body: `source` (a node id, default the caller's root; or an edge id: the walk starts
//! at the node the edge leads to, the edge listed first), `depth` (default 1, at most
//! `graph::MAX_DEPTH`), `detailed` (include fields), `node_types`, `edge_types` (follow
//! only these), and paging: `limit` (nodes per page, default 100, at most [`MAX_LIMIT`])
//! and `cursor` (from the previous page's `next_cursor`). The whole walk is bounded by
//! `graph::MAX_NODES`; past any bound the answer is 422. The READ check is the graph's.

use std::ops::RangeInclusive;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HttpState;
use super::body::read_json_body;
use super::caller::{Identity, RequiredCaller};
use super::envelope;
use super::error::ApiError;
use graph::{Edge, Id, Node, TraverseQuery};
use host_error::HostError;

/// Most nodes on one page.
pub const MAX_LIMIT: usize = 1_000;
/// Nodes on a page when the request names no `limit`.
const DEFAULT_LIMIT: usize = 100;

/// The traversal route.
pub fn router() -> Router<HttpState> {
    Router::new().route("/traverse", post(traverse))
}

#[derive(Deserialize)]
struct TraverseBody {
    source: Option<String>,
    depth: Option<i64>,
    detailed: Option<bool>,
    node_types: Option<Vec<String>>,
    edge_types: Option<Vec<String>>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn traverse(
    State(state): State<HttpState>,
    RequiredCaller(user): RequiredCaller,
    body: Body,
) -> Result<Response, ApiError> {
    let raw = read_json_body(body, state.body_limit()).await?;
    let body: TraverseBody = serde_json::from_value(Value::Object(raw))
        .map_err(|e| ApiError::invalid(&["body"], e.to_string(), "value_error"))?;
    let depth = in_range(body.depth, 1, 0..=graph::MAX_DEPTH as usize, "depth")? as u32;
    let limit = in_range(body.limit, DEFAULT_LIMIT, 1..=MAX_LIMIT, "limit")?;
    let start = match body.cursor.as_deref() {
        None => 0,
        Some(c) => c.parse::<usize>().map_err(|_| bad_cursor())?,
    };
    let served = state.served();
    let graph = served.app().graph().clone();
    let caller = Identity::User(user).into_caller(&graph);
    let source = match body.source.as_deref() {
        None => caller.root,
        Some(text) => text
            .parse::<Id>()
            .map_err(|_| ApiError::NotFound(format!("no node or edge with id {text:?}")))?,
    };
    let query = TraverseQuery {
        source,
        depth,
        node_types: body.node_types.unwrap_or_default(),
        edge_types: body.edge_types.unwrap_or_default(),
    };
    // Up to MAX_NODES store reads: off the async workers.
    let found =
        tokio::task::block_in_place(|| graph.traverse(caller, &query)).map_err(|e| match e {
            HostError::Invalid(m) | HostError::QuotaExceeded(m) => {
                ApiError::invalid(&["body"], m, "value_error")
            }
            other => other.into(),
        })?;
    if start > found.nodes.len() {
        return Err(bad_cursor());
    }
    let end = (start + limit).min(found.nodes.len());
    let detailed = body.detailed.unwrap_or(false);
    let nodes: Vec<Value> = found.nodes[start..end]
        .iter()
        .map(|n| node_json(n, detailed))
        .collect();
    let edges: Vec<Value> = found
        .edges
        .iter()
        .filter(|(at, _)| (start..end).contains(at))
        .map(|(_, e)| edge_json(e, detailed))
        .collect();
    let next_cursor = (end < found.nodes.len()).then(|| end.to_string());
    Ok(envelope::ok(json!({
        "source": source.to_string(),
        "depth": depth,
        "nodes": nodes,
        "edges": edges,
        "total_nodes": found.nodes.len(),
        "next_cursor": next_cursor,
    })))
}

/// `value` (else `default`) when it lies in `range`; otherwise a 422 naming `body.<field>`.
fn in_range(
    value: Option<i64>,
    default: usize,
    range: RangeInclusive<usize>,
    field: &str,
) -> Result<usize, ApiError> {
    let Some(value) = value else {
        return Ok(default);
    };
    usize::try_from(value)
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| {
            ApiError::invalid(
                &["body", field],
                format!("{field} must be {} to {}", range.start(), range.end()),
                "less_than_equal",
            )
        })
}

fn bad_cursor() -> ApiError {
    ApiError::invalid(
        &["body", "cursor"],
        "not a cursor of this traversal",
        "value_error",
    )
}

/// `{"_jac_type", "_jac_id", "_jac_archetype": "node"}`, plus the fields when `detailed`.
fn node_json(node: &Node, detailed: bool) -> Value {
    let mut out = Map::new();
    out.insert("_jac_type".into(), json!(node.archetype));
    out.insert("_jac_id".into(), json!(node.id.to_string()));
    out.insert("_jac_archetype".into(), json!("node"));
    if detailed {
        out.extend(node.fields.clone());
    }
    Value::Object(out)
}

/// An edge like a node, with `_jac_source` and `_jac_target`.
fn edge_json(edge: &Edge, detailed: bool) -> Value {
    let mut out = Map::new();
    out.insert("_jac_type".into(), json!(edge.archetype));
    out.insert("_jac_id".into(), json!(edge.id.to_string()));
    out.insert("_jac_archetype".into(), json!("edge"));
    out.insert("_jac_source".into(), json!(edge.source.to_string()));
    out.insert("_jac_target".into(), json!(edge.target.to_string()));
    if edge.undirected {
        out.insert("_jac_undirected".into(), json!(true));
    }
    if detailed {
        out.extend(edge.fields.clone());
    }
    Value::Object(out)
}
