//! The Prometheus side of HTTP: a middleware recording every request under its route
//! template, and the scrape endpoint (`[plugins.scale.metrics] endpoint`).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;
use metrics::Metrics;

/// The route template a response came from, for routes axum does not know (the app's
/// generated routes). Bounded: a node id in the URL is never a label value.
#[derive(Clone)]
pub struct RouteTemplate(pub Arc<str>);

/// Label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// The scrape route.
pub fn router(metrics: Arc<Metrics>) -> Router<HttpState> {
    let endpoint = metrics.endpoint().to_owned();
    Router::new().route(
        &endpoint,
        get(move |State(state): State<HttpState>| async move { scrape(&state, &metrics) }),
    )
}

fn scrape(state: &HttpState, metrics: &Metrics) -> Response {
    let served = state.served();
    let app = served.app();
    metrics.set_readings(
        app.name(),
        &metrics::Readings {
            in_use: app.load().in_use(),
            queued: app.load().queued(),
            websockets: state.websockets().hub.connections(),
            cache: app.graph().cache_counts(),
        },
    );
    let mut response = metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Record the request's method, route template, status and duration.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    if request.uri().path() == metrics.endpoint() {
        return next.run(request).await;
    }
    let method = method_label(request.method());
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::<str>::from(m.as_str()));
    let _in_progress = metrics.request_started();
    let started = Instant::now();
    let response = next.run(request).await;
    let template = matched.or_else(|| {
        response
            .extensions()
            .get::<RouteTemplate>()
            .map(|t| t.0.clone())
    });
    metrics.request_finished(
        method,
        template.as_deref().unwrap_or(UNMATCHED),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The method as a label; methods outside HTTP's own set share one value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}
