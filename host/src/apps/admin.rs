//! The admin API of `serve`, on its own listener (loopback by default), for the operator
//! alone: every request carries `Authorization: Bearer <operator token>`.
//!
//! - `GET /apps`: every app with its usage.
//! - `PUT /apps/{name}`: deploy the body (a component, or a Jac source) as app `name`;
//!   201 for a new app, 200 for a new version of a served one.
//! - `DELETE /apps/{name}[?purge=true]`: stop serving it and delete its files; `purge`
//!   deletes its data too.
//! - `GET <[plugins.scale.metrics] endpoint>` (when metrics are enabled): the Prometheus
//!   metrics of every app, labelled by app.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use http::ApiError;
use serde::Deserialize;
use serde_json::json;

use super::registry::{ChangeError, MAX_UPLOAD_BYTES, Registry};

/// The admin router; `token` is the operator token.
pub fn router(registry: Arc<Registry>, token: Arc<str>) -> Router {
    let mut router = Router::new();
    if registry.settings().base.metrics.enabled {
        router = router.route(&registry.settings().base.metrics.endpoint, get(scrape));
    }
    router
        .route("/apps", get(list))
        .route("/apps/{name}", put(deploy).delete(remove))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD_BYTES))
        .layer(middleware::from_fn_with_state(token, operator_only))
        .with_state(registry)
}

/// Refuse any request without the operator token (401).
async fn operator_only(State(token): State<Arc<str>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !auth::same_secret(given.trim().as_bytes(), token.as_bytes()) {
        // The upload it may carry is never read: `http::serve` closes the connection.
        return ApiError::Unauthorized("the admin API needs the operator token".into())
            .into_response();
    }
    next.run(request).await
}

async fn scrape(State(registry): State<Arc<Registry>>) -> Response {
    registry
        .scrape()
        .unwrap_or_else(|| ApiError::NotFound("metrics are not enabled".into()).into_response())
}

async fn list(State(registry): State<Arc<Registry>>) -> Response {
    http::ok(json!({ "apps": registry.list().await }))
}

async fn deploy(
    State(registry): State<Arc<Registry>>,
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    match registry.deploy(&name, &body).await {
        Ok(replaced) => {
            let status = if replaced {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            http::ok_with(status, json!({ "name": name, "replaced": replaced }))
        }
        Err(e) => refusal(e),
    }
}

#[derive(Deserialize)]
struct RemoveOptions {
    #[serde(default)]
    purge: bool,
}

async fn remove(
    State(registry): State<Arc<Registry>>,
    Path(name): Path<String>,
    Query(options): Query<RemoveOptions>,
) -> Response {
    match registry.remove(&name, options.purge).await {
        Ok(()) => http::ok(json!({ "name": name, "purged": options.purge })),
        Err(e) => refusal(e),
    }
}

/// The answer to a refused change.
fn refusal(error: ChangeError) -> Response {
    let message = error.to_string();
    let error = match error {
        ChangeError::BadName(_) => ApiError::invalid(&["path", "name"], message, "value_error"),
        ChangeError::BadUpload(_) => ApiError::invalid(&["body"], message, "value_error"),
        ChangeError::Load(_) | ChangeError::Config(_) => {
            ApiError::invalid(&["body"], message, "load_error")
        }
        ChangeError::Unknown(_) => ApiError::NotFound(message),
        ChangeError::Pinned(_) => ApiError::Conflict(message),
        ChangeError::Io(_) => ApiError::Internal(message),
    };
    error.into_response()
}
