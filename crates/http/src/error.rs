//! `ApiError`: every failure the HTTP layer answers, mapped to API.md's envelope.
//!
//! Only this file picks status codes and public messages; internal errors are logged
//! here and never shown to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::envelope;
use host_error::HostError;
use runtime::manifest::Problem;
use runtime::{CallError, Quota};

/// An error answer.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("method {0} is not allowed here")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The app's answer is larger than one response may be (413 too, with its own message).
    #[error("{0}")]
    AnswerTooLarge(String),
    #[error("{} validation problem(s)", .0.len())]
    Validation(Vec<Problem>),
    #[error("{message}")]
    Execution { message: String, details: Value },
    /// 429; `retry_after` becomes the `Retry-After` header (whole seconds, at least 1).
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Option<std::time::Duration>,
    },
    #[error("the request URL is longer than {0} bytes")]
    UriTooLong(usize),
    #[error("the request headers are larger than {0} bytes")]
    HeadersTooLarge(usize),
    #[error("{0}")]
    Timeout(String),
    #[error("{0}")]
    Unavailable(String),
    /// One of the app's quotas refused or stopped the call; `details.quota` names it.
    #[error("{message}")]
    QuotaExceeded { quota: Quota, message: String },
    /// A host fault: logged, answered with a generic message.
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    /// A single 422 problem.
    pub fn invalid(loc: &[&str], msg: impl Into<String>, kind: &'static str) -> Self {
        ApiError::Validation(vec![Problem {
            loc: loc.iter().map(|s| s.to_string()).collect(),
            msg: msg.into(),
            kind,
        }])
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::PayloadTooLarge(_) | ApiError::AnswerTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
            }
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "VALIDATION_ERROR"),
            ApiError::Execution { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "EXECUTION_ERROR"),
            ApiError::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            ApiError::UriTooLong(_) => (StatusCode::URI_TOO_LONG, "URI_TOO_LONG"),
            ApiError::HeadersTooLarge(_) => (
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "HEADERS_TOO_LARGE",
            ),
            ApiError::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, "TIMEOUT"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            ApiError::QuotaExceeded { quota, .. } => match quota {
                Quota::ConcurrentCalls
                | Quota::CallsPerSecond
                | Quota::KvstoreOpsPerSecond
                | Quota::WebsocketConnections => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
                Quota::StorageBytes | Quota::KvstoreBytes => {
                    (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE")
                }
                Quota::Instances => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
                Quota::CpuTimePerCall => (StatusCode::GATEWAY_TIMEOUT, "TIMEOUT"),
                Quota::MemoryPerInstance => (StatusCode::INTERNAL_SERVER_ERROR, "EXECUTION_ERROR"),
            },
            // API.md has one code for server-side failures; the detail is only logged.
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "EXECUTION_ERROR"),
        }
    }

    fn details(&self) -> Value {
        match self {
            ApiError::Validation(problems) => json!(problems),
            ApiError::Execution { details, .. } => details.clone(),
            ApiError::QuotaExceeded { quota, .. } => json!({"quota": quota.as_str()}),
            _ => Value::Null,
        }
    }
}

impl ApiError {
    /// Code, public message and details, for answers outside HTTP (WebSocket frames).
    /// Internal errors are logged here and answered generically.
    pub(super) fn public_parts(&self) -> (&'static str, String, Value) {
        if let ApiError::Internal(detail) = self {
            tracing::error!("internal error: {detail}");
        }
        (self.status_and_code().1, self.to_string(), self.details())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status_and_code().0;
        let (code, message, details) = self.public_parts();
        let mut response = envelope::error(status, code, &message, details);
        if let ApiError::RateLimited {
            retry_after: Some(after),
            ..
        } = self
        {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds.max(1)),
            );
        }
        response
    }
}

impl From<HostError> for ApiError {
    fn from(e: HostError) -> Self {
        match e {
            HostError::AccessDenied(m) => ApiError::Forbidden(m),
            HostError::NotFound(m) => ApiError::NotFound(m),
            HostError::Conflict(m) => ApiError::Conflict(m),
            HostError::Unavailable(m) => ApiError::Unavailable(m),
            HostError::Invalid(m) | HostError::QuotaExceeded(m) => ApiError::Execution {
                message: m,
                details: Value::Null,
            },
        }
    }
}

impl ApiError {
    /// The answer to a failed call. A guest's own trace (its source locations) is shown
    /// only with `expose_trace` (the operator's debug setting); the runtime logs it always.
    pub(super) fn from_call(e: CallError, expose_trace: bool) -> Self {
        match e {
            CallError::UnknownEndpoint(name) => {
                ApiError::NotFound(format!("no endpoint named `{name}`"))
            }
            CallError::InvalidArgs(msg) => ApiError::invalid(&["body"], msg, "value_error"),
            CallError::Raised {
                kind,
                message,
                trace,
            } => ApiError::Execution {
                message: format!("{kind}: {message}"),
                details: if expose_trace {
                    json!({"exception": kind, "trace": trace})
                } else {
                    json!({"exception": kind})
                },
            },
            CallError::Graph(g) => g.into(),
            CallError::Timeout(_) => ApiError::Timeout(e.to_string()),
            CallError::Overloaded => ApiError::Unavailable(e.to_string()),
            CallError::QuotaExceeded(_)
            | CallError::CpuTimeExceeded(_)
            | CallError::MemoryExceeded(_) => ApiError::QuotaExceeded {
                quota: e.quota().expect("these errors name their quota"),
                message: e.to_string(),
            },
            // Too much to answer in one response (a listing of a huge neighbourhood): the
            // app should page it, as the message says.
            CallError::OutcomeTooLarge => ApiError::AnswerTooLarge(format!(
                "{e}: the answer is too large for one response; list it in pages"
            )),
            CallError::Trap(_) | CallError::BadOutcome(_) => ApiError::Execution {
                message: e.to_string(),
                details: Value::Null,
            },
        }
    }
}
