//! The OpenAPI 3.1 document of a served app, generated from its manifest.
//!
//! [`document`] describes every route the server answers for the app: the walkers and
//! functions (default routes and `@restspec` methods and paths), webhook and WebSocket
//! walkers, and the host's own routes (users, API keys, health, traversal, metrics,
//! single sign-on).
//! Field schemas come from the manifest as the guest declared them; the response and error
//! envelopes are API.md's.
//!
//! Invariant: nothing here serves HTTP; `http::docs` serves what this module writes.

mod components;
mod endpoints;
mod host_routes;

use serde_json::{Map, Value, json};

use runtime::Manifest;

/// What the document says beyond the manifest.
#[derive(Debug, Clone)]
pub struct DocumentOptions {
    /// The app's name (the document's title).
    pub title: String,
    /// The header carrying a webhook's HMAC signature.
    pub signature_header: String,
    /// Path of the Prometheus scrape endpoint, when metrics are enabled.
    pub metrics_endpoint: Option<String>,
    /// The single sign-on platforms configured (`google`); none = no `/sso` routes.
    pub sso_platforms: Vec<String>,
}

/// The OpenAPI 3.1 document of `manifest` served with `options`.
pub fn document(manifest: &Manifest, options: &DocumentOptions) -> Value {
    let mut paths = Paths::default();
    endpoints::add(&mut paths, manifest);
    host_routes::add(&mut paths, options);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": options.title,
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Walkers and functions of this app, served by jac-scale. \
                Protected endpoints take `Authorization: Bearer <token>` from `/user/login`; \
                webhooks take an API key and an HMAC signature of the body.",
        },
        "paths": paths.0,
        "components": components::components(options),
        "tags": [
            {"name": "Walkers", "description": "Walkers of the app: `has` fields are the body."},
            {"name": "Functions", "description": "Public module-level functions of the app."},
            {"name": "Webhooks", "description": "Walkers called with an API key and a signed body."},
            {"name": "WebSockets", "description": "Walkers reached over a WebSocket: one JSON object of fields per message."},
            {"name": "Users", "description": "Registration and login."},
            {"name": "SSO", "description": "Sign-in through an OpenID provider (a browser flow)."},
            {"name": "API Keys", "description": "Keys for webhook callers."},
            {"name": "Graph", "description": "Reading the caller's graph."},
            {"name": "Health", "description": "Liveness and readiness."},
            {"name": "Monitoring", "description": "Prometheus metrics."},
        ],
    })
}

/// `paths`: path -> method -> operation, in insertion order.
#[derive(Default)]
struct Paths(Map<String, Value>);

impl Paths {
    /// Add `operation` for `method` (lower case) at `path`.
    fn add(&mut self, path: &str, method: &str, operation: Value) {
        let item = self
            .0
            .entry(path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            item.insert(method.to_owned(), operation);
        }
    }
}

/// A reference to `#/components/<kind>/<name>`.
fn reference(kind: &str, name: &str) -> Value {
    json!({ "$ref": format!("#/components/{kind}/{name}") })
}

/// `responses` entries for the error statuses `codes`, each the error envelope.
fn error_responses(responses: &mut Map<String, Value>, codes: &[u16]) {
    for code in codes {
        responses.insert(
            code.to_string(),
            reference("responses", &format!("Error{code}")),
        );
    }
}
