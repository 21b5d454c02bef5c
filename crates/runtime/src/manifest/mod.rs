//! The app manifest as the host uses it: endpoints with parsed field schemas.
//!
//! Built from the guest's `describe` export and checked once at load, so a broken
//! manifest fails the start instead of a request.

use std::collections::HashSet;

use serde_json::Value;

use capabilities::bindings::endpoints as wit;

use crate::schedule::{Job, Trigger, cron::Cron};

mod validate;

pub use validate::{Problem, Source, validate};

/// Walker or free function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Walker,
    Function,
}

/// How an endpoint is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Webhook,
    Websocket,
}

/// Who may call an endpoint over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No token needed.
    Public,
    /// A bearer token is required.
    Protected,
    /// Not exposed over HTTP.
    Private,
}

/// One input of an endpoint.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// JSON Schema of the value.
    pub schema: Value,
    /// Must the caller send it?
    pub required: bool,
    /// The constant default, if the app declared one (for documentation; the guest
    /// applies defaults itself).
    pub default: Option<Value>,
    pub doc: Option<String>,
}

/// One walker or function.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub kind: Kind,
    pub protocol: Protocol,
    pub method: axum::http::Method,
    /// Custom path with `{field}` templates, from `@restspec(path=...)`.
    pub path: Option<String>,
    pub access: Access,
    pub broadcast: bool,
    pub is_async: bool,
    pub fields: Vec<Field>,
    pub doc: Option<String>,
}

/// Every endpoint and scheduled job of an app.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub endpoints: Vec<Endpoint>,
    /// Walkers and functions run on the host's timer (no routes).
    pub jobs: Vec<Job>,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
#[error("invalid app manifest: {0}")]
pub struct ManifestError(String);

/// Longest endpoint or field name accepted.
const MAX_NAME: usize = 256;
/// Most endpoints one app may declare (each becomes routes).
const MAX_ENDPOINTS: usize = 10_000;

impl Manifest {
    /// Convert and check what `describe` returned.
    pub fn from_wit(m: wit::Manifest) -> Result<Self, ManifestError> {
        if m.endpoints.len() + m.jobs.len() > MAX_ENDPOINTS {
            return Err(ManifestError(format!(
                "more than {MAX_ENDPOINTS} endpoints"
            )));
        }
        let mut names = HashSet::new();
        let mut endpoints = Vec::with_capacity(m.endpoints.len());
        for e in m.endpoints {
            check_name(&e.name, "endpoint")?;
            let kind = kind_of(e.kind);
            if !names.insert((kind, e.name.clone())) {
                return Err(ManifestError(format!(
                    "endpoint `{}` is declared twice",
                    e.name
                )));
            }
            let mut field_names = HashSet::new();
            let mut fields = Vec::with_capacity(e.fields.len());
            for f in e.fields {
                check_name(&f.name, "field")?;
                if !field_names.insert(f.name.clone()) {
                    return Err(ManifestError(format!(
                        "field `{}` of `{}` is declared twice",
                        f.name, e.name
                    )));
                }
                let schema = parse_json(&f.schema, &e.name, &f.name, "schema")?;
                let default = f
                    .default
                    .as_deref()
                    .map(|d| parse_json(d, &e.name, &f.name, "default"))
                    .transpose()?;
                fields.push(Field {
                    name: f.name,
                    schema,
                    required: f.required,
                    default,
                    doc: f.doc,
                });
            }
            if let Some(path) = &e.path {
                check_path(path, &e.name, &fields)?;
            }
            endpoints.push(Endpoint {
                name: e.name,
                kind,
                protocol: match e.protocol {
                    wit::Protocol::Http => Protocol::Http,
                    wit::Protocol::Webhook => Protocol::Webhook,
                    wit::Protocol::Websocket => Protocol::Websocket,
                },
                method: match e.method {
                    wit::HttpMethod::Get => axum::http::Method::GET,
                    wit::HttpMethod::Post => axum::http::Method::POST,
                    wit::HttpMethod::Put => axum::http::Method::PUT,
                    wit::HttpMethod::Patch => axum::http::Method::PATCH,
                    wit::HttpMethod::Delete => axum::http::Method::DELETE,
                },
                path: e.path,
                access: match e.access {
                    wit::Access::Public => Access::Public,
                    wit::Access::Protected => Access::Protected,
                    wit::Access::Private => Access::Private,
                },
                broadcast: e.broadcast,
                is_async: e.is_async,
                fields,
                doc: e.doc,
            });
        }
        let mut jobs = Vec::with_capacity(m.jobs.len());
        for j in m.jobs {
            check_name(&j.name, "job")?;
            let kind = kind_of(j.kind);
            if !names.insert((kind, j.name.clone())) {
                return Err(ManifestError(format!("`{}` is declared twice", j.name)));
            }
            let trigger = match j.trigger {
                wit::Trigger::Interval(0) => {
                    return Err(ManifestError(format!(
                        "job `{}`: the interval must be positive",
                        j.name
                    )));
                }
                wit::Trigger::Interval(ms) => {
                    Trigger::Interval(std::time::Duration::from_millis(ms))
                }
                wit::Trigger::Cron(text) => Trigger::Cron(
                    Cron::parse(&text)
                        .map_err(|e| ManifestError(format!("job `{}`: {e}", j.name)))?,
                ),
                wit::Trigger::Dynamic => Trigger::Dynamic,
            };
            jobs.push(Job {
                name: j.name,
                kind,
                trigger,
            });
        }
        Ok(Manifest { endpoints, jobs })
    }

    /// The endpoint called `name` of `kind`.
    pub fn find(&self, kind: Kind, name: &str) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|e| e.kind == kind && e.name == name)
    }
}

fn kind_of(kind: wit::Kind) -> Kind {
    match kind {
        wit::Kind::Walker => Kind::Walker,
        wit::Kind::Function => Kind::Function,
    }
}

fn check_name(name: &str, what: &str) -> Result<(), ManifestError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ManifestError(format!(
            "{what} name {name:?} is not a valid identifier"
        )))
    }
}

fn parse_json(text: &str, endpoint: &str, field: &str, what: &str) -> Result<Value, ManifestError> {
    serde_json::from_str(text)
        .map_err(|e| ManifestError(format!("{what} of `{endpoint}.{field}` is not JSON: {e}")))
}

/// A custom path must be absolute, and every `{template}` must name a field.
fn check_path(path: &str, endpoint: &str, fields: &[Field]) -> Result<(), ManifestError> {
    if !path.starts_with('/') || path.contains("//") || path.contains(['?', '#', '*']) {
        return Err(ManifestError(format!(
            "path {path:?} of `{endpoint}` must be an absolute URL path"
        )));
    }
    for segment in path.split('/') {
        if let Some(param) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if !fields.iter().any(|f| f.name == param) {
                return Err(ManifestError(format!(
                    "path {path:?} of `{endpoint}` binds `{{{param}}}`, which is not one of its fields"
                )));
            }
        } else if segment.contains(['{', '}']) {
            return Err(ManifestError(format!(
                "path {path:?} of `{endpoint}` has a malformed template"
            )));
        }
    }
    Ok(())
}
