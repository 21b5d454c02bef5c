//! The Prometheus side of HTTP: a middleware recording every request under its route
//! template, and the scrape endpoint (`[plugins.scale.metrics] endpoint`) of an app
//! measured alone ([`Scope::OneApp`]); a host measuring many apps serves one scrape of
//! them all with [`refresh_readings`] and [`scrape_response`].

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::HttpState;
use metrics::{Metrics, Scope};

/// The route template a response came from, for routes axum does not know (the app's
/// generated routes). Bounded: a node id in the URL is never a label value.
#[derive(Clone)]
pub struct RouteTemplate(pub Arc<str>);

/// Label of requests no route matched.
const UNMATCHED: &str = "unmatched";

/// The scrape route of an app measured alone; none for a host-wide registry (its host
/// serves the scrape).
pub fn router(metrics: Arc<Metrics>) -> Router<HttpState> {
    if metrics.scope() == Scope::Host {
        return Router::new();
    }
    let endpoint = metrics.endpoint().to_owned();
    Router::new().route(
        &endpoint,
        get(move |State(state): State<HttpState>| async move {
            refresh_readings(&state);
            scrape_response(&metrics)
        }),
    )
}

/// Bring the values read at scrape time (instances in use and queued, WebSocket
/// connections, cache lookups) up to date for the app `state` serves.
pub fn refresh_readings(state: &HttpState) {
    let Some(metrics) = state.metrics() else {
        return;
    };
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
}

/// Every metric of `metrics`, as a Prometheus scrape answer.
pub fn scrape_response(metrics: &Metrics) -> Response {
    let mut response = metrics.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

/// Record the request's method, route template, status and duration.
pub async fn track(State(state): State<HttpState>, request: Request, next: Next) -> Response {
    let Some(metrics) = state.metrics() else {
        return next.run(request).await;
    };
    if metrics.scope() == Scope::OneApp && request.uri().path() == metrics.endpoint() {
        return next.run(request).await;
    }
    let served = state.served();
    let app = served.app().name();
    let method = method_label(request.method());
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| Arc::<str>::from(m.as_str()));
    let _in_progress = metrics.request_started(app);
    let started = Instant::now();
    let response = next.run(request).await;
    let template = matched.or_else(|| {
        response
            .extensions()
            .get::<RouteTemplate>()
            .map(|t| t.0.clone())
    });
    metrics.request_finished(
        app,
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
