//! The manifest types: they mirror the WIT `manifest` record without depending on WIT.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::syntax::Diagnostic;

/// Walker or free function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// A walker (`POST /walker/<name>`).
    Walker,
    /// A module-level function (`POST /function/<name>`).
    Function,
}

/// How an endpoint is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Plain HTTP (default).
    Http,
    /// `@restspec(protocol=APIProtocol.WEBHOOK)` / `@restspec(webhook=True)`.
    Webhook,
    /// `@restspec(protocol=APIProtocol.WEBSOCKET)`.
    Websocket,
}

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET (arguments from the query string).
    Get,
    /// POST (default).
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

/// Who may call an endpoint over HTTP (the WIT `access` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointAccess {
    /// `:pub` — no token needed.
    Public,
    /// No modifier or `:protect` — a bearer token is required.
    Protected,
    /// `:priv` — not exposed over HTTP.
    Private,
}

/// One input: a walker `has` field or a function parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Field / parameter name.
    pub name: String,
    /// JSON Schema of the value.
    pub schema: Json,
    /// Must the caller send it? (`false` when the declaration has a default.)
    pub required: bool,
    /// The default as JSON when it is a literal; `None` with `required == false`
    /// means the default is an expression the runtime evaluates.
    pub default: Option<Json>,
    /// The docstring of the declaring `has` statement.
    pub doc: Option<String>,
}

/// One walker or function as the host serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Walker or function name.
    pub name: String,
    /// Walker or function.
    pub kind: EndpointKind,
    /// HTTP, webhook or WebSocket.
    pub protocol: Protocol,
    /// HTTP method.
    pub method: HttpMethod,
    /// `@restspec(path=...)`, may hold `{field}` templates.
    pub path: Option<String>,
    /// Who may call it.
    pub access: EndpointAccess,
    /// `@restspec(broadcast=True)`.
    pub broadcast: bool,
    /// `async walker` / `async def`.
    pub is_async: bool,
    /// Inputs in declaration order (inherited walker fields first).
    pub fields: Vec<Field>,
    /// The docstring.
    pub doc: Option<String>,
}

/// When the host runs a scheduled walker or function (`@schedule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// `interval=<seconds>`, in milliseconds.
    Interval {
        /// The period.
        ms: u64,
    },
    /// `cron="<minute hour day month weekday>"` (UTC).
    Cron(String),
    /// `trigger=ScheduleTrigger.DYNAMIC`: created at run time through a jobs API.
    Dynamic,
}

/// A walker or function the host runs on a schedule instead of serving it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Walker or function name.
    pub name: String,
    /// Walker or function.
    pub kind: EndpointKind,
    /// When it runs.
    pub trigger: Trigger,
}

/// Every endpoint and scheduled job of an app, in source order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
    /// The scheduled walkers and functions.
    #[serde(default)]
    pub jobs: Vec<Job>,
}

impl Manifest {
    /// Whether `name` is a walker or a function (an endpoint or a scheduled job).
    pub fn kind_of(&self, name: &str) -> Option<EndpointKind> {
        self.endpoints
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.kind)
            .or_else(|| self.jobs.iter().find(|j| j.name == name).map(|j| j.kind))
    }
}

/// Why a manifest could not be built.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct DescribeError(pub Diagnostic);
