//! Request bodies: read within the size limit, parsed as a JSON object of arguments.

use axum::body::Body;
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::error::ApiError;

/// Read a JSON object body within `limit` bytes; an empty body is `{}`.
pub async fn read_json_body(body: Body, limit: usize) -> Result<Map<String, Value>, ApiError> {
    parse_object(&read_body(body, limit).await?)
}

/// Read a whole body within `limit` bytes (413 past it).
pub async fn read_body(body: Body, limit: usize) -> Result<Vec<u8>, ApiError> {
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::invalid(&["body"], format!("unreadable body: {e}"), "body_read")
        })?;
        if bytes.len() + chunk.len() > limit {
            drain(stream, bytes.len() + chunk.len()).await;
            return Err(ApiError::PayloadTooLarge(limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// A JSON object of arguments; empty (or blank) input is `{}`.
pub fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::invalid(
            &["body"],
            "Input should be a JSON object",
            "model_attributes_type",
        )),
        Err(e) => Err(ApiError::invalid(
            &["body"],
            format!("Invalid JSON: {e}"),
            "json_invalid",
        )),
    }
}

/// Bytes of an oversized body read and thrown away before answering 413, so a client
/// still sending gets the answer instead of a reset connection; past this we hang up.
const MAX_DRAIN_BYTES: usize = 16 << 20;

/// Read and discard the rest of an oversized body, up to [`MAX_DRAIN_BYTES`] in all.
pub(super) async fn drain(mut stream: axum::body::BodyDataStream, mut seen: usize) {
    while seen <= MAX_DRAIN_BYTES {
        match stream.next().await {
            Some(Ok(chunk)) => seen += chunk.len(),
            _ => return,
        }
    }
}
