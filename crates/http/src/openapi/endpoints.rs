//! Operations of the app's own endpoints: walkers, functions, webhooks, WebSockets.

use serde_json::{Map, Value, json};

use super::{Paths, error_responses, reference};
use runtime::{Access, Endpoint, Field, Kind, Manifest, Protocol};

/// Add every non-private endpoint of `manifest`.
pub(super) fn add(paths: &mut Paths, manifest: &Manifest) {
    for e in manifest
        .endpoints
        .iter()
        .filter(|e| e.access != Access::Private)
    {
        match e.protocol {
            Protocol::Http => add_http(paths, e),
            Protocol::Webhook => add_webhook(paths, e),
            Protocol::Websocket => add_websocket(paths, e),
        }
    }
}

/// `/walker/{name}` (+ `/{node_id}`), `/function/{name}`, or the `@restspec` path.
fn add_http(paths: &mut Paths, e: &Endpoint) {
    let method = e.method.as_str().to_ascii_lowercase();
    let in_query = matches!(method.as_str(), "get" | "delete");
    let (kind, tag) = match e.kind {
        Kind::Walker => ("walker", "Walkers"),
        Kind::Function => ("function", "Functions"),
    };
    let path = e
        .path
        .clone()
        .unwrap_or_else(|| format!("/{kind}/{}", e.name));
    let templated = template_names(&path);
    let operation = |id: String, extra_param: Option<Value>| {
        let on_node = extra_param.is_some();
        let mut parameters: Vec<Value> = e
            .fields
            .iter()
            .filter(|f| templated.contains(&f.name.as_str()))
            .map(|f| parameter(f, "path"))
            .collect();
        parameters.extend(extra_param);
        let body_fields: Vec<&Field> = e
            .fields
            .iter()
            .filter(|f| !templated.contains(&f.name.as_str()))
            .collect();
        let mut op = base_operation(e, id, tag);
        if in_query {
            parameters.extend(body_fields.iter().map(|f| parameter(f, "query")));
        } else {
            op.insert("requestBody".into(), request_body(&body_fields));
        }
        if !parameters.is_empty() {
            op.insert("parameters".into(), Value::Array(parameters));
        }
        let mut codes = vec![422, 500, 503, 504];
        if !in_query {
            codes.push(413);
        }
        if e.access == Access::Protected {
            codes.push(401);
        }
        if on_node {
            codes.push(404);
        }
        codes.sort_unstable();
        op.insert("responses".into(), call_responses(&codes));
        security(&mut op, e.access);
        Value::Object(op)
    };
    paths.add(
        &path,
        &method,
        operation(format!("{kind}_{}", e.name), None),
    );
    if e.kind == Kind::Walker && e.path.is_none() {
        let node = json!({
            "name": "node_id",
            "in": "path",
            "required": true,
            "description": "The node to spawn on (32 hex); the caller needs READ access, else 404.",
            "schema": {"type": "string"},
        });
        paths.add(
            &format!("{path}/{{node_id}}"),
            &method,
            operation(format!("{kind}_{}_on_node", e.name), Some(node)),
        );
    }
}

/// `POST /webhook/{name}`: API key and signature.
fn add_webhook(paths: &mut Paths, e: &Endpoint) {
    let fields: Vec<&Field> = e.fields.iter().collect();
    let mut op = base_operation(e, format!("webhook_{}", e.name), "Webhooks");
    op.insert(
        "parameters".into(),
        json!([{
            "name": "X-Webhook-Timestamp",
            "in": "header",
            "required": false,
            "description": "Unix seconds; when sent, the signature covers `<timestamp>.<body>` \
                and the time must be within the replay tolerance.",
            "schema": {"type": "string"},
        }]),
    );
    op.insert("requestBody".into(), request_body(&fields));
    op.insert(
        "responses".into(),
        call_responses(&[401, 413, 422, 429, 500, 503, 504]),
    );
    op.insert(
        "security".into(),
        json!([{"apiKeyAuth": [], "webhookSignature": []}]),
    );
    paths.add(&format!("/webhook/{}", e.name), "post", Value::Object(op));
}

/// `GET /ws/{name}`: the upgrade; messages are described in `x-websocket-message`.
fn add_websocket(paths: &mut Paths, e: &Endpoint) {
    let fields: Vec<&Field> = e.fields.iter().collect();
    let mut op = base_operation(e, format!("websocket_{}", e.name), "WebSockets");
    let mut description = op
        .get("description")
        .and_then(Value::as_str)
        .map(|d| format!("{d}\n\n"))
        .unwrap_or_default();
    description.push_str(
        "A WebSocket: each text message is one JSON object of the walker's fields \
         (plus an optional `token`); each reply is `{\"ok\": true, \"data\": {\"result\", \"reports\"}}` \
         or `{\"ok\": false, \"error\": {\"code\", \"message\"}}`.",
    );
    if e.broadcast {
        description.push_str(" Replies are broadcast to every connection of this walker.");
    }
    op.insert("description".into(), Value::String(description));
    op.insert(
        "parameters".into(),
        json!([{
            "name": "token",
            "in": "query",
            "required": false,
            "description": "A bearer token (also accepted as the `Authorization` header).",
            "schema": {"type": "string"},
        }]),
    );
    op.insert("x-websocket-message".into(), object_schema(&fields));
    let mut responses = Map::new();
    responses.insert(
        "101".into(),
        json!({"description": "Switching Protocols: the WebSocket is open."}),
    );
    for (code, what) in [
        (400, "Not a WebSocket handshake."),
        (426, "The connection cannot be upgraded."),
    ] {
        responses.insert(
            code.to_string(),
            json!({"description": what, "content": {"text/plain": {"schema": {"type": "string"}}}}),
        );
    }
    error_responses(&mut responses, &[404, 429]);
    op.insert("responses".into(), Value::Object(responses));
    security(&mut op, e.access);
    paths.add(&format!("/ws/{}", e.name), "get", Value::Object(op));
}

fn base_operation(e: &Endpoint, operation_id: String, tag: &str) -> Map<String, Value> {
    let mut op = Map::new();
    op.insert("operationId".into(), Value::String(operation_id));
    op.insert("tags".into(), json!([tag]));
    op.insert("summary".into(), Value::String(e.name.clone()));
    if let Some(doc) = e.doc.as_deref().filter(|d| !d.trim().is_empty()) {
        op.insert("description".into(), Value::String(doc.trim().to_owned()));
    }
    op
}

/// Bearer for protected endpoints; none for public ones (a bad token there is ignored).
fn security(op: &mut Map<String, Value>, access: Access) {
    let requirement = match access {
        Access::Protected => json!([{"bearerAuth": []}]),
        _ => json!([]),
    };
    op.insert("security".into(), requirement);
}

/// 200 with the call envelope, plus the error envelopes of `codes`.
fn call_responses(codes: &[u16]) -> Value {
    let mut responses = Map::new();
    responses.insert(
        "200".into(),
        json!({
            "description": "The call's result and reports.",
            "content": {"application/json": {"schema": {"allOf": [
                reference("schemas", "Envelope"),
                {"properties": {"data": reference("schemas", "CallResult")}},
            ]}}},
        }),
    );
    error_responses(&mut responses, codes);
    Value::Object(responses)
}

/// The body of a call: JSON, or `multipart/form-data` when a field is an upload.
fn request_body(fields: &[&Field]) -> Value {
    let schema = object_schema(fields);
    let uploads = fields.iter().any(|f| is_upload(&f.schema));
    let media = if uploads {
        "multipart/form-data"
    } else {
        "application/json"
    };
    json!({
        "required": fields.iter().any(|f| f.required),
        "content": {media: {"schema": schema}},
    })
}

/// `{"type": "object", "properties", "required"}` of `fields`.
fn object_schema(fields: &[&Field]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|f| (f.name.clone(), property(f)))
        .collect();
    let required: Vec<&str> = fields
        .iter()
        .filter(|f| f.required)
        .map(|f| f.name.as_str())
        .collect();
    let mut schema = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        schema["required"] = json!(required);
    }
    schema
}

/// A field's schema with its default and doc.
fn property(f: &Field) -> Value {
    let mut schema = match &f.schema {
        Value::Object(_) => f.schema.clone(),
        _ => json!({}),
    };
    if let Some(default) = &f.default {
        schema["default"] = default.clone();
    }
    if let Some(doc) = f.doc.as_deref().filter(|d| !d.trim().is_empty()) {
        schema["description"] = Value::String(doc.trim().to_owned());
    }
    schema
}

/// A path or query parameter for `f`.
fn parameter(f: &Field, location: &str) -> Value {
    let mut p = json!({
        "name": f.name,
        "in": location,
        "required": location == "path" || f.required,
        "schema": property(f),
    });
    // Lists travel as repeated keys (`?tag=a&tag=b`).
    if location == "query" && f.schema.get("type") == Some(&json!("array")) {
        p["style"] = json!("form");
        p["explode"] = json!(true);
    }
    p
}

/// OpenAPI's file type: `{"type": "string", "format": "binary"}`.
fn is_upload(schema: &Value) -> bool {
    schema.get("type") == Some(&json!("string")) && schema.get("format") == Some(&json!("binary"))
}

/// The `{name}` templates of a path.
fn template_names(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}
