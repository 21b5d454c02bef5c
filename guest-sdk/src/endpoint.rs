//! Endpoints: the manifest entries (`#[walker]` structs and `#[function]` fns), the JSON
//! schema of their fields, and the dispatch of one call by name.
//!
//! The macros implement [`Endpoint`]; `app!` lists the endpoints and exports them.

use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use crate::ctx::Ctx;
use crate::error::Error;
use crate::graph::{AccessLevel, Id};
use crate::walk::Walker;

/// Walker or free function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A `#[walker]` struct.
    Walker,
    /// A `#[function]` fn.
    Function,
}

/// How the endpoint is reached (`@restspec(protocol=...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// Plain HTTP (the default).
    #[default]
    Http,
    /// `POST /webhook/{name}`, signed with an API key.
    Webhook,
    /// `ws://host/ws/{name}`.
    Websocket,
}

/// The HTTP method (`@restspec(method=...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Fields come from the query string.
    Get,
    /// Fields come from the JSON body (the default).
    #[default]
    Post,
    /// Fields come from the JSON body.
    Put,
    /// Fields come from the JSON body.
    Patch,
    /// Fields come from the query string.
    Delete,
}

/// Who may call the endpoint over HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// No token needed (`:pub`).
    Public,
    /// A bearer token is required (the default).
    #[default]
    Protected,
    /// Not exposed over HTTP (`:priv`).
    Private,
}

/// One input of an endpoint: a walker field or a function parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    /// The field name.
    pub name: String,
    /// Its JSON Schema.
    pub schema: Value,
    /// Its default; `None` makes the field required.
    pub default: Option<Value>,
    /// Its doc comment.
    pub doc: Option<String>,
}

/// One walker or function as the host serves it.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSpec {
    /// The endpoint name (the struct or fn name).
    pub name: String,
    /// Walker or function.
    pub kind: Kind,
    /// How it is reached.
    pub protocol: Protocol,
    /// Its HTTP method.
    pub method: Method,
    /// Its custom path, which may hold `{field}` templates.
    pub path: Option<String>,
    /// Who may call it.
    pub access: Access,
    /// WebSocket replies go to every connection of this endpoint.
    pub broadcast: bool,
    /// Its inputs.
    pub fields: Vec<FieldSpec>,
    /// Its doc comment.
    pub doc: Option<String>,
}

/// Why a call did not produce a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// No endpoint has this name.
    #[error("unknown endpoint `{0}`")]
    UnknownEndpoint(String),
    /// The arguments did not fit the endpoint's fields.
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The endpoint failed: a host error it did not handle, or an exception it raised.
    #[error(transparent)]
    Failed(#[from] Error),
}

/// A walker or function the app serves; `#[walker]` and `#[function]` implement it.
pub trait Endpoint {
    /// The endpoint name.
    const NAME: &'static str;
    /// Its manifest entry.
    fn spec() -> EndpointSpec;
    /// Runs one call: `args` is a JSON object of field values; walkers spawn on `target`
    /// (the caller's root when `None`). Returns the walker's fields or the fn's value.
    fn call(cx: &Ctx, args: Value, target: Option<Id>) -> Result<Value, CallError>;
}

/// What a successful call produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Walker: its fields after the run. Function: its return value.
    pub result: Value,
    /// Each reported value as JSON text, in order.
    pub reports: Vec<String>,
}

/// One row of an app's endpoint table (built by `app!`).
#[derive(Clone, Copy)]
pub struct EndpointEntry {
    name: &'static str,
    spec: fn() -> EndpointSpec,
    call: fn(&Ctx, Value, Option<Id>) -> Result<Value, CallError>,
}

impl EndpointEntry {
    /// The entry of endpoint `E`.
    pub const fn of<E: Endpoint>() -> Self {
        Self {
            name: E::NAME,
            spec: E::spec,
            call: E::call,
        }
    }
}

/// The manifest of an endpoint table, in table order.
///
/// Panics (the app fails to load) when two endpoints share a name.
pub fn describe(endpoints: &[EndpointEntry]) -> Vec<EndpointSpec> {
    let mut names = HashSet::new();
    for entry in endpoints {
        assert!(
            names.insert(entry.name),
            "endpoint `{}` is listed twice in app!",
            entry.name
        );
    }
    endpoints.iter().map(|entry| (entry.spec)()).collect()
}

/// Runs the endpoint called `name` with `args` (JSON text) in `cx`.
pub fn dispatch(
    endpoints: &[EndpointEntry],
    cx: &Ctx,
    name: &str,
    args: &str,
    target: Option<Id>,
) -> Result<Outcome, CallError> {
    let entry = endpoints
        .iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| CallError::UnknownEndpoint(name.to_owned()))?;
    let args: Value =
        serde_json::from_str(args).map_err(|error| CallError::InvalidArgs(error.to_string()))?;
    if !args.is_object() {
        return Err(CallError::InvalidArgs(
            "arguments must be a JSON object".to_owned(),
        ));
    }
    let result = (entry.call)(cx, args, target)?;
    Ok(Outcome {
        result,
        reports: cx.take_report_texts(),
    })
}

/// Decodes call arguments into the walker or parameter struct.
pub fn decode_args<T: DeserializeOwned>(args: Value) -> Result<T, CallError> {
    T::deserialize(args).map_err(|error| CallError::InvalidArgs(error.to_string()))
}

/// Spawns a walker decoded from `args` on `target` (or the caller's root); its fields
/// after the run are the result.
pub fn call_walker<W: Walker + Serialize + DeserializeOwned>(
    cx: &Ctx,
    args: Value,
    target: Option<Id>,
) -> Result<Value, CallError> {
    let walker: W = decode_args(args)?;
    let walker = match target {
        Some(id) => cx.spawn(walker, id)?,
        None => cx.spawn(walker, cx.root())?,
    };
    Ok(serde_json::to_value(walker).map_err(Error::from)?)
}

/// The JSON result of an endpoint function.
pub fn function_result<T: Serialize, E: Into<Error>>(
    returned: Result<T, E>,
) -> Result<Value, CallError> {
    let value = returned.map_err(Into::into)?;
    Ok(serde_json::to_value(value).map_err(Error::from)?)
}

/// The manifest entry of a field of type `T`.
pub fn field<T: JsonSchema + Serialize>(
    name: &str,
    default: Option<T>,
    doc: Option<&str>,
) -> FieldSpec {
    FieldSpec {
        name: name.to_owned(),
        schema: T::json_schema(),
        default: default.map(|value| {
            serde_json::to_value(value).unwrap_or_else(|error| {
                panic!("the default of field `{name}` is not JSON: {error}")
            })
        }),
        doc: doc.map(str::to_owned),
    }
}

/// A default written as JSON in `#[jac(default = ...)]`, as the field's type.
///
/// Panics (the app fails to load) when it does not fit: that is a bug in the app.
pub fn default_value<T: DeserializeOwned>(owner: &str, field: &str, json: Value) -> T {
    T::deserialize(&json).unwrap_or_else(|error| {
        panic!("default {json} of `{owner}.{field}` does not fit its type: {error}")
    })
}

/// A type a walker field or function parameter may have: its JSON Schema.
///
/// Implemented for strings, integers, floats, `bool`, `Vec<T>`, `HashMap<String, T>`,
/// `Option<T>`, [`AccessLevel`] and `serde_json::Value` (any JSON). For a struct of your
/// own, implement it by hand: `{"type": "object", "properties": {...}}`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no JSON schema, so it cannot be a walker field or function parameter",
    note = "use String, integers, f64, bool, Vec<T>, HashMap<String, T>, Option<T> or serde_json::Value, \
            or implement `jac_scale_guest::endpoint::JsonSchema` for it"
)]
pub trait JsonSchema {
    /// The schema, e.g. `{"type": "integer"}`.
    fn json_schema() -> Value;
}

macro_rules! schema_of {
    ($kind:literal: $($ty:ty),+) => {
        $(impl JsonSchema for $ty {
            fn json_schema() -> Value {
                json!({"type": $kind})
            }
        })+
    };
}

schema_of!("string": String, char, Id);
schema_of!("integer": i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);
schema_of!("number": f32, f64);
schema_of!("boolean": bool);

impl<T: JsonSchema> JsonSchema for Vec<T> {
    fn json_schema() -> Value {
        json!({"type": "array", "items": T::json_schema()})
    }
}

impl<T: JsonSchema> JsonSchema for VecDeque<T> {
    fn json_schema() -> Value {
        Vec::<T>::json_schema()
    }
}

impl<T: JsonSchema> JsonSchema for HashMap<String, T> {
    fn json_schema() -> Value {
        json!({"type": "object", "additionalProperties": T::json_schema()})
    }
}

impl<T: JsonSchema> JsonSchema for BTreeMap<String, T> {
    fn json_schema() -> Value {
        HashMap::<String, T>::json_schema()
    }
}

impl JsonSchema for Map<String, Value> {
    fn json_schema() -> Value {
        json!({"type": "object"})
    }
}

/// Any JSON value.
impl JsonSchema for Value {
    fn json_schema() -> Value {
        json!({})
    }
}

/// `T` or `null`: the type list gains `"null"`.
impl<T: JsonSchema> JsonSchema for Option<T> {
    fn json_schema() -> Value {
        let mut schema = T::json_schema();
        if let Some(Value::String(kind)) = schema.get("type") {
            let kinds = json!([kind, "null"]);
            schema["type"] = kinds;
        }
        schema
    }
}

impl JsonSchema for AccessLevel {
    fn json_schema() -> Value {
        json!({"type": "string", "enum": ["NO_ACCESS", "READ", "CONNECT", "WRITE"]})
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;

    use super::*;
    use crate::prelude::*;
    use crate::testing::MemoryGraph;

    /// Greets someone.
    #[walker(public, method = GET, path = "/hello/{name}")]
    struct Hello {
        /// Who to greet.
        name: String,
        #[jac(default = 1)]
        times: i64,
        /// A raw identifier keeps its plain name in JSON.
        #[jac(default = "plain")]
        r#type: String,
    }

    #[walker]
    impl Hello {
        #[entry(Root)]
        fn greet(&mut self, w: &mut Walk) -> Result {
            if self.times < 0 {
                return Err(raise!("ValueError", "times must not be negative"));
            }
            self.times += 1;
            w.report(format!("hello {}", self.name))
        }
    }

    /// Adds.
    #[function]
    fn add(a: i64, #[jac(default = 10)] b: i64) -> Result<i64> {
        Ok(a + b)
    }

    /// Reads a node that does not exist.
    #[function(private)]
    fn missing(cx: &Ctx) -> Result<Value> {
        cx.get(&Id::from("f".repeat(32)))?;
        Ok(Value::Null)
    }

    const TABLE: &[EndpointEntry] = &[
        EndpointEntry::of::<Hello>(),
        EndpointEntry::of::<add>(),
        EndpointEntry::of::<missing>(),
    ];

    fn call(name: &str, args: &str) -> Result<Outcome, CallError> {
        dispatch(
            TABLE,
            &Ctx::new(Rc::new(MemoryGraph::new())),
            name,
            args,
            None,
        )
    }

    #[test]
    fn manifest_carries_options_fields_defaults_and_docs() {
        let specs = describe(TABLE);
        let hello = &specs[0];
        assert_eq!(
            (
                hello.kind,
                hello.access,
                hello.method,
                hello.path.as_deref()
            ),
            (
                Kind::Walker,
                Access::Public,
                Method::Get,
                Some("/hello/{name}")
            )
        );
        assert_eq!(hello.doc.as_deref(), Some("Greets someone."));
        assert_eq!(
            hello.fields,
            vec![
                FieldSpec {
                    name: "name".into(),
                    schema: json!({"type": "string"}),
                    default: None,
                    doc: Some("Who to greet.".into()),
                },
                FieldSpec {
                    name: "times".into(),
                    schema: json!({"type": "integer"}),
                    default: Some(json!(1)),
                    doc: None,
                },
                FieldSpec {
                    name: "type".into(),
                    schema: json!({"type": "string"}),
                    default: Some(json!("plain")),
                    doc: Some("A raw identifier keeps its plain name in JSON.".into()),
                },
            ]
        );
        let add = &specs[1];
        assert_eq!(
            (add.kind, add.access, add.method),
            (Kind::Function, Access::Protected, Method::Post)
        );
        assert_eq!(add.fields[1].default, Some(json!(10)));
        assert_eq!(specs[2].access, Access::Private);
        assert!(
            specs[2].fields.is_empty(),
            "the context parameter is no field"
        );
    }

    #[test]
    fn walker_result_is_its_fields_after_the_run() {
        let outcome = call("Hello", r#"{"name": "ann", "ignored": true}"#).expect("runs");
        assert_eq!(
            outcome.result,
            json!({"name": "ann", "times": 2, "type": "plain"})
        );
        assert_eq!(outcome.reports, vec![json!("hello ann").to_string()]);
    }

    #[test]
    fn function_defaults_fill_missing_parameters() {
        assert_eq!(call("add", r#"{"a": 1}"#).expect("runs").result, json!(11));
        assert_eq!(
            call("add", r#"{"a": 1, "b": 2}"#).expect("runs").result,
            json!(3)
        );
    }

    #[test]
    fn unknown_endpoint_and_bad_arguments_are_told_apart() {
        assert_eq!(
            call("Nope", "{}"),
            Err(CallError::UnknownEndpoint("Nope".into()))
        );
        assert!(
            matches!(call("add", "{}"), Err(CallError::InvalidArgs(message)) if message.contains("`a`"))
        );
        assert!(matches!(
            call("add", r#"{"a": "x"}"#),
            Err(CallError::InvalidArgs(_))
        ));
        assert!(matches!(call("add", "[1]"), Err(CallError::InvalidArgs(_))));
        assert!(matches!(
            call("add", "not json"),
            Err(CallError::InvalidArgs(_))
        ));
    }

    #[test]
    fn raised_exceptions_and_host_errors_fail_the_call() {
        let Err(CallError::Failed(Error::Raised(raised))) =
            call("Hello", r#"{"name": "x", "times": -1}"#)
        else {
            panic!("expected a raised exception");
        };
        assert_eq!(
            (raised.kind.as_str(), raised.message.as_str()),
            ("ValueError", "times must not be negative")
        );
        assert!(
            raised.trace[0].starts_with("guest-sdk/src/endpoint.rs:"),
            "{:?}",
            raised.trace
        );
        assert!(matches!(
            call("missing", "{}"),
            Err(CallError::Failed(Error::Host(HostError::NotFound(_))))
        ));
    }

    #[test]
    fn schemas_follow_json_schema_types() {
        assert_eq!(i64::json_schema(), json!({"type": "integer"}));
        assert_eq!(
            Vec::<String>::json_schema(),
            json!({"type": "array", "items": {"type": "string"}})
        );
        assert_eq!(
            HashMap::<String, f64>::json_schema(),
            json!({"type": "object", "additionalProperties": {"type": "number"}})
        );
        assert_eq!(
            Option::<bool>::json_schema(),
            json!({"type": ["boolean", "null"]})
        );
    }

    #[test]
    fn field_default_is_json() {
        let spec = field::<Vec<String>>("tags", Some(vec![]), Some("labels"));
        assert_eq!(spec.default, Some(json!([])));
        assert_eq!(spec.doc.as_deref(), Some("labels"));
        assert_eq!(field::<String>("name", None, None).default, None);
    }

    #[test]
    #[should_panic(expected = "does not fit its type")]
    fn default_of_wrong_type_fails_loudly() {
        let _: i64 = default_value("Echo", "count", json!("one"));
    }
}
