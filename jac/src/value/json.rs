//! Conversion between values and JSON: responses for the host, request
//! arguments, and node/edge fields as stored in the graph.
//!
//! Archetype instances serialize as objects carrying `_jac_type`, `_jac_id`
//! and `_jac_archetype` before their fields, as jac-scale does.

use std::rc::Rc;

use serde_json::{Map, Number, Value as Json};

use super::class::ArchKind;
use super::{Dict, Instance, JacResult, Str, Value, num, repr};

/// Nesting depth beyond which values serialize as `null` (guards self-references).
const MAX_DEPTH: usize = 128;

/// Key marking an archetype object in JSON.
pub const TYPE_KEY: &str = "_jac_type";
/// Key holding an archetype's 32-hex id.
pub const ID_KEY: &str = "_jac_id";
/// Key holding the archetype kind (`node`, `edge`, `walker`, or `archetype` for an `obj`,
/// as jac-scale 0.2.x labels it).
pub const ARCHETYPE_KEY: &str = "_jac_archetype";

/// Converts a value to JSON. `id_of` supplies (assigning if needed) the id of an instance.
pub fn to_json(value: &Value, id_of: &mut dyn FnMut(&Rc<Instance>) -> Str) -> Json {
    to_json_depth(value, id_of, 0)
}

fn number(f: f64) -> Json {
    Number::from_f64(f).map_or(Json::Null, Json::Number)
}

/// The JSON object key for a dict key (Python's `json.dumps` rules).
pub fn key_string(key: &Value) -> String {
    match key {
        Value::Str(s) => s.to_string(),
        Value::Bool(true) => "true".into(),
        Value::Bool(false) => "false".into(),
        Value::None => "null".into(),
        other => repr::str(other),
    }
}

fn to_json_depth(value: &Value, id_of: &mut dyn FnMut(&Rc<Instance>) -> Str, depth: usize) -> Json {
    if depth > MAX_DEPTH {
        return Json::Null;
    }
    let mut seq = |items: &mut dyn Iterator<Item = Value>| -> Json {
        Json::Array(items.map(|v| to_json_depth(&v, id_of, depth + 1)).collect())
    };
    match value {
        Value::None => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::Number((*i).into()),
        Value::BigInt(b) => b.to_string().parse::<f64>().map_or(Json::Null, number),
        Value::Float(f) => number(*f),
        Value::Str(s) => Json::String(s.to_string()),
        Value::Bytes(b) => Json::String(String::from_utf8_lossy(b).into_owned()),
        Value::List(l) => seq(&mut l.borrow().clone().into_iter()),
        Value::Tuple(t) => seq(&mut t.iter().cloned()),
        Value::Set(s) => seq(&mut s.borrow().iter().cloned().collect::<Vec<_>>().into_iter()),
        Value::Range(r) => seq(&mut (0..r.len()).map(|i| Value::Int(r.nth(i)))),
        // A reported generator is a streamed response upstream; without streaming the
        // items not consumed yet become one list (the iterator itself is left as it is).
        Value::Iter(it) => seq(&mut it.borrow().remaining().to_vec().into_iter()),
        Value::Dict(d) => {
            let entries: Vec<(Value, Value)> = d
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let mut map = Map::new();
            for (k, v) in entries {
                map.insert(key_string(&k), to_json_depth(&v, id_of, depth + 1));
            }
            Json::Object(map)
        }
        Value::Instance(inst) => {
            if let Some((_, v)) = inst.enum_member() {
                return to_json_depth(&v, id_of, depth + 1);
            }
            if inst.class.exception_type().is_some() {
                return Json::String(repr::str(value));
            }
            let kind = match inst.class.kind {
                ArchKind::Node | ArchKind::Edge | ArchKind::Walker => inst.class.kind.keyword(),
                _ if inst.class.is_kind(ArchKind::Node) => "node",
                _ if inst.class.is_kind(ArchKind::Edge) => "edge",
                _ if inst.class.is_kind(ArchKind::Walker) => "walker",
                _ => "archetype",
            };
            let mut map = Map::new();
            map.insert(TYPE_KEY.into(), Json::String(inst.class.name.to_string()));
            map.insert(ID_KEY.into(), Json::String(id_of(inst).to_string()));
            map.insert(ARCHETYPE_KEY.into(), Json::String(kind.into()));
            for (k, v) in inst.declared_fields() {
                map.insert(k.to_string(), to_json_depth(&v, id_of, depth + 1));
            }
            Json::Object(map)
        }
        Value::Object(o) => o.to_json(),
        other => Json::String(repr::repr(other)),
    }
}

/// Turns selected JSON objects into values (`None` = treat as a plain dict).
pub type Hydrator<'a> = dyn FnMut(&Map<String, Json>) -> Option<JacResult<Value>> + 'a;

/// Converts JSON to a value; objects for which `hydrate` returns a value
/// (e.g. ones carrying `_jac_type`) become that value, others become dicts.
pub fn from_json(json: &Json, hydrate: &mut Hydrator<'_>) -> JacResult<Value> {
    Ok(match json {
        Json::Null => Value::None,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i),
            (None, Some(u)) => num::int_value(u.into()),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::list(
            items
                .iter()
                .map(|j| from_json(j, hydrate))
                .collect::<JacResult<_>>()?,
        ),
        Json::Object(map) => {
            if let Some(v) = hydrate(map) {
                return v;
            }
            let mut d = Dict::new();
            for (k, v) in map {
                d.insert_str(k, from_json(v, hydrate)?);
            }
            Value::dict(d)
        }
    })
}

/// Converts JSON to plain values (objects become dicts).
pub fn from_json_plain(json: &Json) -> Value {
    match from_json(json, &mut |_| None) {
        Ok(v) => v,
        Err(_) => Value::None,
    }
}
