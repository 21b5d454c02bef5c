//! Walker and function calls: route, authenticate, validate, run, answer.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::Method;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

use super::caller::{Identity, MaybeCaller, RequiredCaller};
use super::envelope::{self, CallData};
use super::error::ApiError;
use super::request_metrics::RouteTemplate;
use super::routes::{Lookup, NODE_PARAM, Target};
use super::{HttpState, Served, multipart};
use files::Uploads;
use graph::Id;
use runtime::manifest::{Source, validate};
use runtime::{Access, Call, Endpoint, Kind, Outcome};

/// Every request no fixed route took: look it up in the app's route table. The answer
/// carries the route's template for the metrics.
pub async fn dispatch(State(state): State<HttpState>, request: Request) -> Response {
    let served = state.served();
    let (parts, body) = request.into_parts();
    let (target, params) = match served.routes.lookup(&parts.method, parts.uri.path()) {
        Lookup::Found { target, params } => (target, params),
        Lookup::MethodNotAllowed => {
            return ApiError::MethodNotAllowed(parts.method.to_string()).into_response();
        }
        Lookup::NotFound => {
            return ApiError::NotFound(format!(
                "no route for {} {}",
                parts.method,
                parts.uri.path()
            ))
            .into_response();
        }
    };
    let mut response = call(&state, &served, &target, parts, body, params)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    response
        .extensions_mut()
        .insert(RouteTemplate(target.template));
    response
}

/// Authenticate, read and validate the arguments, and run the call of `target`.
async fn call(
    state: &HttpState,
    served: &Arc<Served>,
    target: &Target,
    mut parts: Parts,
    body: Body,
    params: Vec<(String, String)>,
) -> Result<Response, ApiError> {
    let endpoint = &served.app.manifest().endpoints[target.endpoint];
    super::log_endpoint(&endpoint.name);

    // Authentication comes before anything about the body is looked at.
    let identity = if endpoint.access == Access::Protected {
        let RequiredCaller(user) = RequiredCaller::from_request_parts(&mut parts, state).await?;
        Identity::User(user)
    } else {
        MaybeCaller::from_request_parts(&mut parts, state).await?.0
    };

    let mut node_id = None;
    let mut raw = Map::new();
    let mut from_path = Vec::new();
    for (name, value) in params {
        if name == NODE_PARAM {
            node_id = Some(value);
        } else {
            from_path.push(name.clone());
            let decoded = percent_decode_str(&value).decode_utf8().map_err(|_| {
                ApiError::invalid(
                    &["path", &name],
                    "path parameter is not valid UTF-8",
                    "string_unicode",
                )
            })?;
            raw.insert(name, Value::String(decoded.into_owned()));
        }
    }
    let query_args = takes_query(&parts.method);
    if !query_args && multipart::takes_uploads(endpoint) {
        let area = served.app().context().upload_area();
        let (args, uploads) = multipart::read_call(
            &parts.headers,
            body,
            endpoint,
            area,
            state.body_limit(),
            raw,
            &from_path,
        )
        .await?;
        return super::sse::run_streamable(
            served.clone(),
            target.endpoint,
            identity,
            args,
            node_id,
            uploads,
        )
        .await;
    }
    if query_args {
        read_query(parts.uri.query().unwrap_or(""), &mut raw);
    } else {
        let body = super::body::read_json_body(body, state.body_limit()).await?;
        for (k, v) in body {
            raw.entry(k).or_insert(v);
        }
    }
    let args = validate(&endpoint.fields, raw, |name| {
        if from_path.iter().any(|p| p == name) {
            Source::Path
        } else if query_args {
            Source::Query
        } else {
            Source::Body
        }
    })
    .map_err(ApiError::Validation)?;

    super::sse::run_streamable(
        served.clone(),
        target.endpoint,
        identity,
        args,
        node_id,
        Uploads::default(),
    )
    .await
}

/// GET and DELETE take their fields from the query string.
fn takes_query(method: &Method) -> bool {
    *method == Method::GET || *method == Method::DELETE
}

/// Query pairs into `args`; a repeated key becomes a list.
fn read_query(query: &str, args: &mut Map<String, Value>) {
    for (k, v) in url_pairs(query) {
        match args.get_mut(&k) {
            Some(Value::Array(list)) => list.push(Value::String(v)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(v)]);
            }
            None => {
                args.insert(k, Value::String(v));
            }
        }
    }
}

fn url_pairs(query: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).unwrap_or_default()
}

/// Run a call (with the files its request uploaded) and answer it with the envelope.
pub(super) async fn run(
    served: &Served,
    endpoint: &Endpoint,
    identity: Identity,
    args: Map<String, Value>,
    node_id: Option<String>,
    uploads: Uploads,
) -> Result<Response, ApiError> {
    let outcome = execute(served, endpoint, identity, args, node_id, uploads).await?;
    Ok(answer(&outcome))
}

/// The envelope of a successful call.
pub(super) fn answer(outcome: &Outcome) -> Response {
    envelope::ok(CallData {
        result: &outcome.result,
        reports: &outcome.reports,
        warnings: &outcome.warnings,
    })
}

/// Run one call of `endpoint` as `identity`, on its root or on `node_id`; `uploads`
/// are the request's files (deleted when the call ends).
pub(super) async fn execute(
    served: &Served,
    endpoint: &Endpoint,
    identity: Identity,
    args: Map<String, Value>,
    node_id: Option<String>,
    uploads: Uploads,
) -> Result<Outcome, ApiError> {
    let (caller, call) = prepare(served, endpoint, identity, args, node_id, uploads)?;
    let started = std::time::Instant::now();
    let outcome = served.app.invoke(caller, call).await;
    finished(served, endpoint, started, outcome)
}

/// The caller and the call of `endpoint`, at the caller's root or at `node_id`.
pub(super) fn prepare(
    served: &Served,
    endpoint: &Endpoint,
    identity: Identity,
    args: Map<String, Value>,
    node_id: Option<String>,
    uploads: Uploads,
) -> Result<(graph::Caller, Call), ApiError> {
    let caller = identity.into_caller(served.app.graph());
    let target = match node_id {
        None => None,
        Some(text) => {
            let hidden = || ApiError::NotFound(format!("no node with id {text:?}"));
            let id: Id = text.parse().map_err(|_| hidden())?;
            Some(id)
        }
    };
    let call = Call {
        name: endpoint.name.clone(),
        args,
        target,
        uploads,
    };
    Ok((caller, call))
}

/// Count a finished call of `endpoint` (started at `started`) and map its error.
pub(super) fn finished(
    served: &Served,
    endpoint: &Endpoint,
    started: std::time::Instant,
    outcome: Result<Outcome, runtime::CallError>,
) -> Result<Outcome, ApiError> {
    if endpoint.kind == Kind::Walker
        && let Some(metrics) = served.metrics()
    {
        metrics.walker_finished(
            served.app().name(),
            &endpoint.name,
            outcome.is_ok(),
            started.elapsed(),
        );
    }
    outcome.map_err(|e| ApiError::from_call(e, served.expose_traces))
}
