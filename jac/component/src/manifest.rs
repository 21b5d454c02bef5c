//! The program's endpoint description ([`jac_lang::describe`]) as the WIT `manifest`.

use jac_lang::describe::{self as jd, EndpointAccess, EndpointKind, HttpMethod, Protocol, Trigger};

use crate::bindings::exports::jac::scale::endpoints as wit;

/// Converts the runtime's manifest into the WIT record.
pub fn to_wit(manifest: &jd::Manifest) -> wit::Manifest {
    wit::Manifest {
        endpoints: manifest.endpoints.iter().map(endpoint).collect(),
        jobs: manifest.jobs.iter().map(job).collect(),
    }
}

fn kind(kind: EndpointKind) -> wit::Kind {
    match kind {
        EndpointKind::Walker => wit::Kind::Walker,
        EndpointKind::Function => wit::Kind::Function,
    }
}

fn job(j: &jd::Job) -> wit::Job {
    wit::Job {
        name: j.name.clone(),
        kind: kind(j.kind),
        trigger: match &j.trigger {
            Trigger::Interval { ms } => wit::Trigger::Interval(*ms),
            Trigger::Cron(text) => wit::Trigger::Cron(text.clone()),
            Trigger::Dynamic => wit::Trigger::Dynamic,
        },
    }
}

fn endpoint(e: &jd::Endpoint) -> wit::Endpoint {
    wit::Endpoint {
        name: e.name.clone(),
        kind: kind(e.kind),
        protocol: match e.protocol {
            Protocol::Http => wit::Protocol::Http,
            Protocol::Webhook => wit::Protocol::Webhook,
            Protocol::Websocket => wit::Protocol::Websocket,
        },
        method: match e.method {
            HttpMethod::Get => wit::HttpMethod::Get,
            HttpMethod::Post => wit::HttpMethod::Post,
            HttpMethod::Put => wit::HttpMethod::Put,
            HttpMethod::Patch => wit::HttpMethod::Patch,
            HttpMethod::Delete => wit::HttpMethod::Delete,
        },
        path: e.path.clone(),
        access: match e.access {
            EndpointAccess::Public => wit::Access::Public,
            EndpointAccess::Protected => wit::Access::Protected,
            EndpointAccess::Private => wit::Access::Private,
        },
        broadcast: e.broadcast,
        is_async: e.is_async,
        fields: e.fields.iter().map(field).collect(),
        doc: e.doc.clone(),
    }
}

fn field(f: &jd::Field) -> wit::Field {
    wit::Field {
        name: f.name.clone(),
        schema: f.schema.to_string(),
        required: f.required,
        // `none` for a default the runtime computes when the field is left out.
        default: f.default.as_ref().map(|value| value.to_string()),
        doc: f.doc.clone(),
    }
}
