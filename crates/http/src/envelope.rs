//! The response envelope of API.md, serialised without rebuilding guest JSON.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

#[derive(Serialize)]
struct Envelope<'a, D: Serialize> {
    ok: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    data: Option<D>,
    error: Option<ErrorBody<'a>>,
    meta: Meta,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    code: &'a str,
    message: &'a str,
    details: Value,
}

#[derive(Serialize)]
struct Meta {
    extra: Extra,
}

#[derive(Serialize)]
struct Extra {
    http_status: u16,
}

/// `data` of a walker or function call.
#[derive(Serialize)]
pub struct CallData<'a> {
    pub result: &'a RawValue,
    pub reports: &'a [Box<RawValue>],
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub warnings: &'a [String],
}

fn respond(status: StatusCode, body: Vec<u8>) -> Response {
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

/// A 200 envelope around `data`.
pub fn ok<D: Serialize>(data: D) -> Response {
    ok_with(StatusCode::OK, data)
}

/// A success envelope with another 2xx status.
pub fn ok_with<D: Serialize>(status: StatusCode, data: D) -> Response {
    let env = Envelope {
        ok: true,
        kind: "response",
        data: Some(data),
        error: None,
        meta: Meta {
            extra: Extra {
                http_status: status.as_u16(),
            },
        },
    };
    match serde_json::to_vec(&env) {
        Ok(body) => respond(status, body),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "EXECUTION_ERROR",
            &format!("response encoding failed: {e}"),
            Value::Null,
        ),
    }
}

/// An error envelope.
pub fn error(status: StatusCode, code: &str, message: &str, details: Value) -> Response {
    let env: Envelope<'_, ()> = Envelope {
        ok: false,
        kind: "error",
        data: None,
        error: Some(ErrorBody {
            code,
            message,
            details,
        }),
        meta: Meta {
            extra: Extra {
                http_status: status.as_u16(),
            },
        },
    };
    let body =
        serde_json::to_vec(&env).unwrap_or_else(|_| br#"{"ok":false,"type":"error"}"#.to_vec());
    respond(status, body)
}
