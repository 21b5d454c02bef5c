//! `/healthz`, `/healthz/live`, `/healthz/ready`.

use axum::Router;
use axum::response::Response;
use axum::routing::get;
use serde_json::json;

use super::HttpState;
use super::envelope;

/// The health routes. The server only listens once the app is loaded, so ready = live.
pub fn router() -> Router<HttpState> {
    Router::new()
        .route("/healthz", get(|| async { healthy("healthy") }))
        .route("/healthz/live", get(|| async { healthy("alive") }))
        .route("/healthz/ready", get(|| async { healthy("ready") }))
}

fn healthy(status: &str) -> Response {
    envelope::ok(json!({ "status": status }))
}
