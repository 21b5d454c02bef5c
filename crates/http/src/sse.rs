//! Streamed answers: a call whose guest streams values (a reported or returned generator)
//! is answered `text/event-stream`, framed exactly as jac-scale 0.2.x frames it:
//!
//! ```text
//! data: <value as Python's json.dumps writes it>\n\n      one per yielded value
//! event: end\ndata: {}\n\n                                the call returned ok (after commit)
//! event: error\ndata: {"error_type": ..., "message": ...}\n\n   it failed midway
//! ```
//!
//! The call runs inside the response body: a client that disconnects drops the body,
//! which drops the call (the guest is not resumed, nothing of it commits). The guest's
//! values come through a channel of [`STREAM_BUFFER`] values, so a slow client makes
//! the guest wait instead of the host buffer. A call that streams nothing is answered
//! with the usual JSON envelope.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::Served;
use super::caller::Identity;
use super::endpoints::{answer, finished, prepare};
use super::error::ApiError;
use files::Uploads;
use runtime::{Outcome, StreamReceiver};

/// Values the guest may be ahead of the client by.
const STREAM_BUFFER: usize = 8;

type CallFuture = Pin<Box<dyn Future<Output = Result<Outcome, ApiError>> + Send>>;

/// Run the call of the endpoint at `index` of `served`'s manifest; answer with the
/// envelope, or with an event stream when the guest streams.
pub(super) async fn run_streamable(
    served: Arc<Served>,
    index: usize,
    identity: Identity,
    args: Map<String, Value>,
    node_id: Option<String>,
    uploads: Uploads,
) -> Result<Response, ApiError> {
    let endpoint = &served.app.manifest().endpoints[index];
    let (caller, call) = prepare(&served, endpoint, identity, args, node_id, uploads)?;
    let (sender, mut values) = mpsc::channel(STREAM_BUFFER);
    let task_served = served.clone();
    let mut call: CallFuture = Box::pin(async move {
        let endpoint = &task_served.app.manifest().endpoints[index];
        let started = std::time::Instant::now();
        let outcome = task_served.app.invoke_streaming(caller, call, sender).await;
        finished(&task_served, endpoint, started, outcome)
    });
    tokio::select! {
        biased;
        first = values.recv() => match first {
            Some(first) => Ok(event_stream(Some(first), values, Some(call), None)),
            // The sender is dropped only when the call is done.
            None => answer_or_stream(call.await, values),
        },
        outcome = &mut call => answer_or_stream(outcome, values),
    }
}

/// A call that ended before its first value was read: streamed values may wait in the
/// channel (fewer than its capacity, or the call could not have ended).
fn answer_or_stream(
    outcome: Result<Outcome, ApiError>,
    mut values: StreamReceiver,
) -> Result<Response, ApiError> {
    match values.try_recv() {
        Ok(first) => Ok(event_stream(Some(first), values, None, Some(outcome))),
        Err(_) => outcome.map(|o| answer(&o)),
    }
}

/// Where the body is: values still to come from a running call, or the call's end.
struct Pending {
    first: Option<Box<RawValue>>,
    values: StreamReceiver,
    call: Option<CallFuture>,
    outcome: Option<Result<Outcome, ApiError>>,
    ended: bool,
}

fn event_stream(
    first: Option<Box<RawValue>>,
    values: StreamReceiver,
    call: Option<CallFuture>,
    outcome: Option<Result<Outcome, ApiError>>,
) -> Response {
    let pending = Pending {
        first,
        values,
        call,
        outcome,
        ended: false,
    };
    let frames = futures_util::stream::unfold(pending, |mut p| async move {
        let frame = next_frame(&mut p).await?;
        Some((Ok::<_, std::convert::Infallible>(frame), p))
    });
    let mut response = Response::new(Body::from_stream(frames));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// The next frame of the body; `None` after the closing event.
async fn next_frame(p: &mut Pending) -> Option<Bytes> {
    if p.ended {
        return None;
    }
    if let Some(first) = p.first.take() {
        return Some(data_frame(&first));
    }
    if let Some(call) = p.call.as_mut() {
        tokio::select! {
            biased;
            value = p.values.recv() => match value {
                Some(value) => return Some(data_frame(&value)),
                None => {
                    // Every sender is gone: the call has ended.
                    let outcome = call.as_mut().await;
                    p.outcome = Some(outcome);
                    p.call = None;
                }
            },
            outcome = call.as_mut() => {
                p.outcome = Some(outcome);
                p.call = None;
            }
        }
    }
    if let Ok(value) = p.values.try_recv() {
        return Some(data_frame(&value));
    }
    p.ended = true;
    Some(match p.outcome.take() {
        Some(Ok(_)) | None => Bytes::from_static(b"event: end\ndata: {}\n\n"),
        Some(Err(e)) => error_frame(&e),
    })
}

fn data_frame(value: &RawValue) -> Bytes {
    Bytes::from(format!("data: {}\n\n", python_json(value.get())))
}

/// `event: error` with the exception's type and message, as the original sends it.
fn error_frame(e: &ApiError) -> Bytes {
    let (error_type, message) = match e {
        ApiError::Execution { message, details } => {
            match details.get("exception").and_then(Value::as_str) {
                // "Kind: message" for an exception the app raised.
                Some(kind) => (
                    kind.to_string(),
                    message
                        .strip_prefix(&format!("{kind}: "))
                        .unwrap_or(message)
                        .to_string(),
                ),
                None => ("EXECUTION_ERROR".to_string(), message.clone()),
            }
        }
        other => {
            let (code, message, _) = other.public_parts();
            (code.to_string(), message)
        }
    };
    let payload = json!({"error_type": error_type, "message": message}).to_string();
    Bytes::from(format!("event: error\ndata: {}\n\n", python_json(&payload)))
}

/// Compact JSON as Python's `json.dumps` writes it: `", "` and `": "` between items,
/// non-ASCII characters as `\uXXXX` escapes (UTF-16, as `ensure_ascii` does).
fn python_json(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() + compact.len() / 8);
    let mut in_string = false;
    let mut escaped = false;
    for c in compact.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            if c.is_ascii() {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            ',' => out.push_str(", "),
            ':' => out.push_str(": "),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::python_json;

    #[test]
    fn writes_json_the_way_python_dumps_it() {
        assert_eq!(
            python_json(r#"{"a":[1,2],"b:c":"x, y","é":"ü😀"}"#),
            r#"{"a": [1, 2], "b:c": "x, y", "\u00e9": "\u00fc\ud83d\ude00"}"#
        );
        assert_eq!(python_json(r#""q\"u,o:te""#), r#""q\"u,o:te""#);
    }
}
