//! The public listener of `serve`: find the app a request is for, by Host header
//! (`<name>.<domain>`) or path prefix (`/apps/<name>/...`), and hand the request to that
//! app's own router with the prefix taken off, so every route of a single app works
//! unchanged under it (WebSocket upgrades included).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{Uri, header};
use axum::response::{IntoResponse, Response};
use http::{ApiError, MountPrefix};
use tower::ServiceExt;

use super::registry::Registry;

/// Where apps are mounted by path.
const PREFIX: &str = "/apps/";

/// The router of the public listener.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new().fallback(dispatch).with_state(registry)
}

async fn dispatch(State(registry): State<Arc<Registry>>, mut request: Request) -> Response {
    let by_host = registry
        .settings()
        .domain
        .as_deref()
        .and_then(|domain| app_of_host(&request, domain));
    let (name, prefix) = match by_host {
        Some(name) => (name, None),
        None => match app_of_path(request.uri().path()) {
            Some((name, rest)) => {
                let (name, prefix) = (name.to_owned(), format!("{PREFIX}{name}"));
                let Some(uri) = with_path(request.uri(), rest) else {
                    return not_found(&name);
                };
                *request.uri_mut() = uri;
                (name, Some(prefix))
            }
            None => {
                return ApiError::NotFound(
                    "no app here: apps are served under /apps/<name>/".into(),
                )
                .into_response();
            }
        },
    };
    let Some(hosted) = registry.get(&name) else {
        return not_found(&name);
    };
    hosted.count_request();
    if let Some(prefix) = prefix {
        request.extensions_mut().insert(MountPrefix(prefix.into()));
    }
    match hosted.composed.router.clone().oneshot(request).await {
        Ok(response) => response,
        Err(infallible) => match infallible {},
    }
}

fn not_found(name: &str) -> Response {
    let shown: String = name.chars().take(64).collect();
    ApiError::NotFound(format!("no app named `{shown}`")).into_response()
}

/// The app named by a `Host: <name>.<domain>[:port]` header.
fn app_of_host(request: &Request, domain: &str) -> Option<String> {
    let host = request.headers().get(header::HOST)?.to_str().ok()?;
    let host = host.rsplit_once(':').map_or(host, |(name, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            name
        } else {
            host
        }
    });
    let host = host.to_ascii_lowercase();
    let name = host.strip_suffix(domain)?.strip_suffix('.')?;
    (!name.is_empty() && !name.contains('.')).then(|| name.to_owned())
}

/// `/apps/<name>/<rest>` -> (`name`, `/<rest>`); `/apps/<name>` -> (`name`, `/`).
fn app_of_path(path: &str) -> Option<(&str, &str)> {
    let after = path.strip_prefix(PREFIX)?;
    match after.find('/') {
        Some(slash) => Some((&after[..slash], &after[slash..])),
        None => Some((after, "/")),
    }
    .filter(|(name, _)| !name.is_empty())
}

/// `uri` with its path replaced by `path` (the query kept).
fn with_path(uri: &Uri, path: &str) -> Option<Uri> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path.to_owned(),
    };
    Uri::builder().path_and_query(path_and_query).build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_the_app_and_keep_the_rest() {
        assert_eq!(
            app_of_path("/apps/todo/walker/Ping"),
            Some(("todo", "/walker/Ping"))
        );
        assert_eq!(app_of_path("/apps/todo"), Some(("todo", "/")));
        assert_eq!(app_of_path("/apps/"), None);
        assert_eq!(app_of_path("/walker/Ping"), None);
    }

    #[test]
    fn hosts_name_the_app_under_the_domain_only() {
        let request = |host: &str| {
            Request::builder()
                .header(header::HOST, host)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        let domain = "apps.test";
        assert_eq!(
            app_of_host(&request("todo.apps.test:8000"), domain).as_deref(),
            Some("todo")
        );
        assert_eq!(
            app_of_host(&request("TODO.Apps.Test"), domain).as_deref(),
            Some("todo")
        );
        assert_eq!(app_of_host(&request("apps.test"), domain), None);
        assert_eq!(app_of_host(&request("a.b.apps.test"), domain), None);
        assert_eq!(app_of_host(&request("todo.otherapps.test"), domain), None);
    }
}
