//! Calls of endpoints with upload fields: `multipart/form-data` bodies.
//!
//! A field is an upload when its schema is `{"type": "string", "format": "binary"}`
//! (OpenAPI's file type; the type may also be `["string", "null"]`): what a Rust app's
//! `UploadFile` and a Jac app's `UploadFile` describe. Such an endpoint takes a
//! multipart body: each file part of an upload field is streamed into the request's
//! upload folder (all files together within `[storage] max_upload_bytes`, else 413
//! `PAYLOAD_TOO_LARGE` and nothing is kept) and the walker gets the field value
//! `{"filename", "content_type", "size", "upload"}`; the other parts are text fields,
//! validated like query values (within the body limit). A JSON body is still accepted
//! for the other fields; upload fields cannot be sent that way.

use std::collections::HashMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream, Bytes};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use futures_util::Stream;
use serde_json::{Map, Value, json};

use super::body::{drain, read_json_body};
use super::error::ApiError;
use files::uploads::ReceiveError;
use files::{UploadArea, Uploads};
use runtime::manifest::Problem;
use runtime::manifest::{Source, validate};
use runtime::{Endpoint, Field};

/// Whether `field` is an upload field.
pub fn is_upload(field: &Field) -> bool {
    let string = match field.schema.get("type") {
        Some(Value::String(t)) => t == "string",
        Some(Value::Array(types)) => types.iter().any(|t| t == "string"),
        _ => false,
    };
    string && field.schema.get("format").and_then(Value::as_str) == Some("binary")
}

/// Whether calls of `endpoint` may carry files.
pub fn takes_uploads(endpoint: &Endpoint) -> bool {
    endpoint.fields.iter().any(is_upload)
}

/// The validated arguments of a call to an endpoint with upload fields, and its files.
///
/// `raw` holds the path parameters already (named in `from_path`); they win over body
/// fields of the same name.
pub async fn read_call(
    headers: &HeaderMap,
    body: Body,
    endpoint: &Endpoint,
    area: &UploadArea,
    text_limit: usize,
    mut raw: Map<String, Value>,
    from_path: &[String],
) -> Result<(Map<String, Value>, Uploads), ApiError> {
    let mut uploads = area.begin();
    let mut files = HashMap::new();
    let form = boundary(headers);
    match &form {
        Some(boundary) => {
            let parts = Parts {
                endpoint,
                area,
                text_limit,
            };
            parts
                .read(body, boundary, &mut raw, &mut files, &mut uploads)
                .await?;
        }
        None => {
            for (name, value) in read_json_body(body, text_limit).await? {
                if !is_upload_name(endpoint, &name) {
                    raw.entry(name).or_insert(value);
                }
            }
        }
    }
    let (upload_fields, other_fields): (Vec<Field>, Vec<Field>) =
        endpoint.fields.iter().cloned().partition(is_upload);
    let validated = validate(&other_fields, raw, |name| {
        if from_path.iter().any(|p| p == name) {
            Source::Path
        } else if form.is_some() {
            Source::Form
        } else {
            Source::Body
        }
    });
    let (mut args, mut problems) = match validated {
        Ok(args) => (args, Vec::new()),
        Err(problems) => (Map::new(), problems),
    };
    for field in upload_fields {
        match files.remove(&field.name) {
            Some(value) => {
                args.insert(field.name, value);
            }
            None if field.required => problems.push(Problem {
                loc: vec!["body".into(), field.name],
                msg: "Field required (an uploaded file in a multipart/form-data body)".into(),
                kind: "missing",
            }),
            None => {}
        }
    }
    if problems.is_empty() {
        Ok((args, uploads))
    } else {
        Err(ApiError::Validation(problems))
    }
}

fn is_upload_name(endpoint: &Endpoint, name: &str) -> bool {
    endpoint
        .fields
        .iter()
        .any(|f| f.name == name && is_upload(f))
}

/// The boundary of a `multipart/form-data` body (`None` for any other content type).
fn boundary(headers: &HeaderMap) -> Option<String> {
    multer::parse_boundary(headers.get(CONTENT_TYPE)?.to_str().ok()?).ok()
}

/// Reading the parts of one multipart body.
struct Parts<'a> {
    endpoint: &'a Endpoint,
    area: &'a UploadArea,
    text_limit: usize,
}

impl Parts<'_> {
    /// Read every part: files into `uploads` (their field values into `files`), text
    /// into `raw`. On a bound being hit, the rest of the body is drained and 413 answered.
    async fn read(
        &self,
        body: Body,
        boundary: &str,
        raw: &mut Map<String, Value>,
        files: &mut HashMap<String, Value>,
        uploads: &mut Uploads,
    ) -> Result<(), ApiError> {
        let shared = SharedBody(Arc::new(Mutex::new(body.into_data_stream())));
        let rest = shared.0.clone();
        let whole = self
            .area
            .max_request_bytes()
            .saturating_add(self.text_limit as u64);
        let constraints = multer::Constraints::new()
            .size_limit(multer::SizeLimit::new().whole_stream(whole.saturating_add(64 << 10)));
        let mut multipart = multer::Multipart::with_constraints(shared, boundary, constraints);
        let outcome = self.parts(&mut multipart, raw, files, uploads).await;
        drop(multipart);
        if matches!(outcome, Err(ApiError::PayloadTooLarge(_))) {
            let stream = std::mem::replace(
                &mut *rest.lock().unwrap_or_else(PoisonError::into_inner),
                Body::empty().into_data_stream(),
            );
            drain(stream, 0).await;
        }
        outcome
    }

    async fn parts(
        &self,
        multipart: &mut multer::Multipart<'static>,
        raw: &mut Map<String, Value>,
        files: &mut HashMap<String, Value>,
        uploads: &mut Uploads,
    ) -> Result<(), ApiError> {
        let mut text_bytes = 0usize;
        while let Some(mut part) = multipart.next_field().await.map_err(|e| self.error(e))? {
            let Some(name) = part.name().map(str::to_owned) else {
                continue;
            };
            if is_upload_name(self.endpoint, &name) {
                if files.contains_key(&name) {
                    return Err(ApiError::invalid(
                        &["body", &name],
                        "only one file may be sent for this field",
                        "too_long",
                    ));
                }
                let filename = part.file_name().unwrap_or_default().to_owned();
                let content_type = part.content_type().map_or_else(
                    || "application/octet-stream".to_owned(),
                    ToString::to_string,
                );
                let received = uploads
                    .receive(filename.clone(), content_type.clone(), &mut part)
                    .await;
                let key = match received {
                    Ok(key) => key,
                    Err(ReceiveError::TooLarge(limit)) => {
                        return Err(ApiError::PayloadTooLarge(
                            usize::try_from(limit).unwrap_or(usize::MAX),
                        ));
                    }
                    Err(ReceiveError::Stream(e)) => return Err(self.error(e)),
                    Err(ReceiveError::Io(e)) => {
                        return Err(ApiError::Internal(format!("keeping an upload failed: {e}")));
                    }
                };
                let size = uploads.get(&key).map(|f| f.size).unwrap_or_default();
                files.insert(
                    name,
                    json!({"filename": filename, "content_type": content_type, "size": size, "upload": key}),
                );
            } else if self.endpoint.fields.iter().any(|f| f.name == name) {
                let mut text = Vec::new();
                while let Some(chunk) = part.chunk().await.map_err(|e| self.error(e))? {
                    text_bytes += chunk.len();
                    if text_bytes > self.text_limit {
                        return Err(ApiError::PayloadTooLarge(self.text_limit));
                    }
                    text.extend_from_slice(&chunk);
                }
                let text = String::from_utf8(text).map_err(|_| {
                    ApiError::invalid(
                        &["body", &name],
                        "Input should be valid UTF-8",
                        "string_unicode",
                    )
                })?;
                raw.entry(name).or_insert(Value::String(text));
            }
        }
        Ok(())
    }

    fn error(&self, e: multer::Error) -> ApiError {
        match e {
            multer::Error::StreamSizeExceeded { .. } | multer::Error::FieldSizeExceeded { .. } => {
                ApiError::PayloadTooLarge(
                    usize::try_from(self.area.max_request_bytes()).unwrap_or(usize::MAX),
                )
            }
            other => ApiError::invalid(
                &["body"],
                format!("malformed multipart/form-data body: {other}"),
                "multipart",
            ),
        }
    }
}

/// The request body, shared with [`Parts::read`] so that what multer leaves unread can
/// be drained after an oversized upload (the client then gets the 413, not a reset).
struct SharedBody(Arc<Mutex<BodyDataStream>>);

impl Stream for SharedBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        Pin::new(&mut *body).poll_next(cx)
    }
}
