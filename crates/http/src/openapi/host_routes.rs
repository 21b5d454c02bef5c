//! Operations of the host's own routes: users, API keys, health, traversal, metrics,
//! single sign-on.

use serde_json::{Map, Value, json};

use super::{DocumentOptions, Paths, error_responses, reference};

pub(super) fn add(paths: &mut Paths, options: &DocumentOptions) {
    users(paths);
    api_keys(paths);
    health(paths);
    traverse(paths);
    if !options.sso_platforms.is_empty() {
        single_sign_on(paths, &options.sso_platforms);
    }
    if let Some(endpoint) = &options.metrics_endpoint {
        paths.add(
            endpoint,
            "get",
            json!({
                "operationId": "metrics",
                "tags": ["Monitoring"],
                "summary": "Prometheus metrics",
                "description": "The text exposition format; requests to this endpoint are not counted.",
                "security": [],
                "responses": {"200": {
                    "description": "Metrics in the Prometheus text format.",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }},
            }),
        );
    }
}

fn users(paths: &mut Paths) {
    for (path, id, summary, status, codes) in [
        (
            "/user/register",
            "user_register",
            "Create an account (answers with a login)",
            "201",
            &[400, 413, 422, 429][..],
        ),
        (
            "/user/login",
            "user_login",
            "Log in: a bearer token for the other endpoints",
            "200",
            &[401, 413, 422, 429][..],
        ),
    ] {
        let mut responses = Map::new();
        responses.insert(
            status.into(),
            json!({
                "description": "A bearer token.",
                "content": {"application/json": {"schema": reference("schemas", "TokenResponse")}},
            }),
        );
        error_responses(&mut responses, codes);
        paths.add(
            path,
            "post",
            json!({
                "operationId": id,
                "tags": ["Users"],
                "summary": summary,
                "security": [],
                "requestBody": {
                    "required": true,
                    "content": {"application/json": {"schema": reference("schemas", "Credentials")}},
                },
                "responses": responses,
            }),
        );
    }
}

fn api_keys(paths: &mut Paths) {
    let enveloped = |description: &str, data: Value, codes: &[u16], status: &str| {
        let mut responses = Map::new();
        responses.insert(
            status.into(),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"allOf": [
                    reference("schemas", "Envelope"),
                    {"properties": {"data": data}},
                ]}}},
            }),
        );
        error_responses(&mut responses, codes);
        Value::Object(responses)
    };
    paths.add(
        "/api-key/create",
        "post",
        json!({
            "operationId": "api_key_create",
            "tags": ["API Keys"],
            "summary": "Create an API key for webhook callers",
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": true,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "expiry_days": {"type": "integer", "minimum": 0,
                            "description": "0 = never expires; absent = the server's default (365)."},
                    },
                }}},
            },
            "responses": enveloped(
                "The new key (shown once).",
                reference("schemas", "ApiKeyCreated"),
                &[401, 413, 422],
                "201",
            ),
        }),
    );
    paths.add(
        "/api-key/list",
        "get",
        json!({
            "operationId": "api_key_list",
            "tags": ["API Keys"],
            "summary": "The caller's API keys (never the keys themselves)",
            "security": [{"bearerAuth": []}],
            "responses": enveloped(
                "The caller's keys.",
                json!({"type": "object", "required": ["api_keys"], "properties": {
                    "api_keys": {"type": "array", "items": reference("schemas", "ApiKeyInfo")},
                }}),
                &[401],
                "200",
            ),
        }),
    );
    paths.add(
        "/api-key/{api_key_id}",
        "delete",
        json!({
            "operationId": "api_key_delete",
            "tags": ["API Keys"],
            "summary": "Revoke one of the caller's API keys",
            "security": [{"bearerAuth": []}],
            "parameters": [{"name": "api_key_id", "in": "path", "required": true, "schema": {"type": "string"}}],
            "responses": enveloped("Revoked.", json!({}), &[401, 403, 404], "200"),
        }),
    );
}

fn traverse(paths: &mut Paths) {
    let mut responses = Map::new();
    let item = json!({"type": "object", "required": ["_jac_type", "_jac_id", "_jac_archetype"],
    "properties": {
        "_jac_type": {"type": "string"},
        "_jac_id": {"type": "string"},
        "_jac_archetype": {"enum": ["node", "edge"]},
    }});
    responses.insert(
        "200".into(),
        json!({
            "description": "One page of the nodes reached (breadth-first) and the edges into them.",
            "content": {"application/json": {"schema": {"allOf": [
                reference("schemas", "Envelope"),
                {"properties": {"data": {
                    "type": "object",
                    "required": ["source", "depth", "nodes", "edges", "total_nodes", "next_cursor"],
                    "properties": {
                        "source": {"type": "string"},
                        "depth": {"type": "integer"},
                        "nodes": {"type": "array", "items": item},
                        "edges": {"type": "array", "items": item},
                        "total_nodes": {"type": "integer"},
                        "next_cursor": {"type": ["string", "null"]},
                    },
                }}},
            ]}}},
        }),
    );
    error_responses(&mut responses, &[401, 404, 413, 422, 503]);
    paths.add(
        "/traverse",
        "post",
        json!({
            "operationId": "traverse",
            "tags": ["Graph"],
            "summary": "Walk the caller's readable graph from a node",
            "description": format!(
                "Follows outgoing edges breadth-first, only through nodes and edges the caller \
                 may read. `node_types`/`edge_types` restrict what is followed. At most depth {} \
                 and {} nodes per traversal, and {} nodes per page (422 past them); page with \
                 `cursor` = the previous `next_cursor`. An unreadable source is 404.",
                graph::MAX_DEPTH,
                graph::MAX_NODES,
                crate::traverse::MAX_LIMIT,
            ),
            "security": [{"bearerAuth": []}],
            "requestBody": {
                "required": false,
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "properties": {
                        "source": {"type": "string", "description": "Starting node id (default: the caller's root), or an edge id: the walk starts at the node it leads to."},
                        "depth": {"type": "integer", "minimum": 0, "maximum": graph::MAX_DEPTH, "default": 1},
                        "detailed": {"type": "boolean", "default": false, "description": "Include each node's and edge's fields."},
                        "node_types": {"type": "array", "items": {"type": "string"}},
                        "edge_types": {"type": "array", "items": {"type": "string"}},
                        "limit": {"type": "integer", "minimum": 1, "maximum": crate::traverse::MAX_LIMIT, "default": 100},
                        "cursor": {"type": "string"},
                    },
                }}},
            },
            "responses": responses,
        }),
    );
}

fn health(paths: &mut Paths) {
    for (path, id, summary) in [
        ("/healthz", "health", "Is the server up?"),
        ("/healthz/live", "health_live", "Liveness"),
        ("/healthz/ready", "health_ready", "Readiness"),
    ] {
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({
                "description": "Up.",
                "content": {"application/json": {"schema": {"allOf": [
                    reference("schemas", "Envelope"),
                    {"properties": {"data": {"type": "object", "required": ["status"],
                        "properties": {
                            "status": {"type": "string"},
                            "backends": {"type": "object",
                                "description": "Each configured backend (redis, mongodb, s3): `ok`.",
                                "additionalProperties": {"type": "string"}},
                        }}}},
                ]}}},
            }),
        );
        if id == "health_ready" {
            // Not ready: `details.backends` says which backend is `unreachable`.
            error_responses(&mut responses, &[503]);
        }
        paths.add(
            path,
            "get",
            json!({
                "operationId": id,
                "tags": ["Health"],
                "summary": summary,
                "security": [],
                "responses": responses,
            }),
        );
    }
}

fn single_sign_on(paths: &mut Paths, platforms: &[String]) {
    let platform = json!({
        "name": "platform", "in": "path", "required": true,
        "schema": {"type": "string", "enum": platforms},
    });
    for (path, id, summary) in [
        (
            "/sso/{platform}/login",
            "sso_login",
            "Sign in through the platform's OpenID provider",
        ),
        (
            "/sso/{platform}/register",
            "sso_register",
            "Create the account through the provider (its consent screen is shown)",
        ),
    ] {
        let mut responses = Map::new();
        responses.insert(
            "303".into(),
            json!({
                "description": "To the provider's sign-in page; sets the `jac_sso` cookie the callback needs.",
                "headers": {
                    "Location": {"schema": {"type": "string"}},
                    "Set-Cookie": {"schema": {"type": "string"}},
                },
            }),
        );
        error_responses(&mut responses, &[404, 429, 503]);
        paths.add(
            path,
            "get",
            json!({
                "operationId": id,
                "tags": ["SSO"],
                "summary": summary,
                "description": "Open in a browser: the provider sends it back to the callback, \
                    which answers the login body. An account is created for a verified email \
                    on first use, or the account with that email is signed in.",
                "security": [],
                "parameters": [platform],
                "responses": responses,
            }),
        );
    }
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "Signed in: the same body as `/user/login`.",
            "content": {"application/json": {"schema": reference("schemas", "TokenResponse")}},
        }),
    );
    error_responses(&mut responses, &[401, 404, 422, 503]);
    let query = |name: &str, description: &str| {
        json!({"name": name, "in": "query", "required": false,
            "schema": {"type": "string"}, "description": description})
    };
    paths.add(
        "/sso/{platform}/login/callback",
        "get",
        json!({
            "operationId": "sso_callback",
            "tags": ["SSO"],
            "summary": "Where the provider sends the browser back",
            "description": "Refused (401) unless `state` is a sign-in this browser started in \
                the last ten minutes and not used yet, the provider accepts the code, and its ID \
                token is valid for this client and carries a verified email.",
            "security": [],
            "parameters": [
                platform,
                query("state", "The sign-in's `state`, as the provider hands it back."),
                query("code", "The authorization code."),
                query("error", "The provider's error, when the user declined."),
            ],
            "responses": responses,
        }),
    );
}
