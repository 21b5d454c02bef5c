//! `components`: the envelopes, the token body and the security schemes.

use serde_json::{Map, Value, json};

use super::DocumentOptions;

/// Statuses of the error envelope, with API.md's codes and a description.
pub(super) const ERRORS: &[(u16, &str, &str)] = &[
    (400, "IDENTITY_TAKEN", "Bad request."),
    (
        401,
        "UNAUTHORIZED",
        "A valid bearer token (or API key and signature) is required.",
    ),
    (403, "FORBIDDEN", "The caller may not do this."),
    (
        404,
        "NOT_FOUND",
        "No such route, endpoint or node (or the caller may not read it).",
    ),
    (
        409,
        "CONFLICT",
        "Another call changed what this call wrote. Such a call runs again by itself; \
         one that also changed a kvstore or stored files, or streamed, answers this.",
    ),
    (
        413,
        "PAYLOAD_TOO_LARGE",
        "The body is larger than the server's limit.",
    ),
    (
        422,
        "VALIDATION_ERROR",
        "Invalid input: `details` lists every problem.",
    ),
    (429, "RATE_LIMITED", "Too many requests or connections."),
    (500, "EXECUTION_ERROR", "The walker or function failed."),
    (
        503,
        "UNAVAILABLE",
        "The server is busy or a backend is unreachable.",
    ),
    (504, "TIMEOUT", "The call ran out of time."),
];

pub(super) fn components(options: &DocumentOptions) -> Value {
    let mut responses = Map::new();
    for (status, code, description) in ERRORS {
        responses.insert(
            format!("Error{status}"),
            json!({
                "description": description,
                "content": {"application/json": {"schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/ErrorEnvelope"},
                        {"properties": {"meta": {"properties": {"extra": {"properties": {
                            "http_status": {"const": status}
                        }}}}}},
                    ],
                    "examples": [{
                        "ok": false, "type": "error", "data": null,
                        "error": {"code": code, "message": description, "details": null},
                        "meta": {"extra": {"http_status": status}},
                    }],
                }}},
            }),
        );
    }
    json!({
        "schemas": schemas(),
        "responses": responses,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The `access_token` of `/user/login` or `/user/register`.",
            },
            "apiKeyAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
                "description": "A key from `/api-key/create`; the webhook runs as its owner.",
            },
            "webhookSignature": {
                "type": "apiKey",
                "in": "header",
                "name": options.signature_header,
                "description": "Hex HMAC-SHA256 of the raw body (or of `<X-Webhook-Timestamp>.<body>` \
                    when a timestamp is sent), keyed with the API key; `sha256=` prefix optional.",
            },
        },
    })
}

fn schemas() -> Value {
    let meta = json!({
        "type": "object",
        "required": ["extra"],
        "properties": {"extra": {
            "type": "object",
            "required": ["http_status"],
            "properties": {"http_status": {"type": "integer"}},
        }},
    });
    json!({
        "Envelope": {
            "description": "Every JSON answer except the token bodies.",
            "type": "object",
            "required": ["ok", "type", "data", "error", "meta"],
            "properties": {
                "ok": {"const": true},
                "type": {"const": "response"},
                "data": {},
                "error": {"type": "null"},
                "meta": meta,
            },
        },
        "ErrorEnvelope": {
            "type": "object",
            "required": ["ok", "type", "data", "error", "meta"],
            "properties": {
                "ok": {"const": false},
                "type": {"const": "error"},
                "data": {"type": "null"},
                "error": {
                    "type": "object",
                    "required": ["code", "message", "details"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"description": "For VALIDATION_ERROR, a list of ValidationProblem."},
                    },
                },
                "meta": meta,
            },
        },
        "ValidationProblem": {
            "type": "object",
            "required": ["loc", "msg", "type"],
            "properties": {
                "loc": {"type": "array", "items": {"type": "string"}},
                "msg": {"type": "string"},
                "type": {"type": "string"},
            },
        },
        "CallResult": {
            "description": "What a walker or function call returns.",
            "type": "object",
            "required": ["result", "reports"],
            "properties": {
                "result": {"description": "A walker's `has` fields after the run, or a function's return value."},
                "reports": {"type": "array", "description": "Each `report`, in order."},
                "warnings": {"type": "array", "items": {"type": "string"},
                    "description": "Writes that were refused for lack of access."},
            },
        },
        "TokenResponse": {
            "description": "An OAuth2 token response plus what 0.2.x clients read (not enveloped).",
            "type": "object",
            "required": ["access_token", "token_type", "expires_in", "token", "user_id", "root_id", "role"],
            "properties": {
                "access_token": {"type": "string"},
                "token_type": {"const": "bearer"},
                "expires_in": {"type": "integer"},
                "token": {"type": "string"},
                "user_id": {"type": "string"},
                "root_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                "role": {"type": "string"},
            },
        },
        "Credentials": {
            "description": "`email` (or `username`) and `password`; the 0.2.x shape with \
                `identities`/`identity` and `credential` is accepted too.",
            "type": "object",
            "properties": {
                "email": {"type": "string", "format": "email"},
                "username": {"type": "string"},
                "password": {"type": "string"},
                "identities": {"type": "array", "items": {"$ref": "#/components/schemas/IdentityItem"}},
                "identity": {"$ref": "#/components/schemas/IdentityItem"},
                "credential": {
                    "type": "object",
                    "required": ["password"],
                    "properties": {"type": {"const": "password"}, "password": {"type": "string"}},
                },
            },
            "examples": [{"email": "ada@example.com", "password": "correct horse battery staple"}],
        },
        "IdentityItem": {
            "type": "object",
            "required": ["type", "value"],
            "properties": {"type": {"enum": ["email", "username"]}, "value": {"type": "string"}},
        },
        "ApiKeyInfo": {
            "type": "object",
            "required": ["api_key_id", "name", "created_at", "expires_at"],
            "properties": {
                "api_key_id": {"type": "string"},
                "name": {"type": "string"},
                "created_at": {"type": "string", "format": "date-time"},
                "expires_at": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "ApiKeyCreated": {
            "allOf": [
                {"$ref": "#/components/schemas/ApiKeyInfo"},
                {"type": "object", "required": ["api_key"], "properties": {
                    "api_key": {"type": "string", "description": "Shown once; store it."},
                }},
            ],
        },
    })
}
