//! Conversion between values and JSON: responses for the host, request
//! arguments, and node/edge fields as stored in the graph.
//!
//! Archetype instances serialize as objects carrying `_jac_type`, `_jac_id`
//! and `_jac_archetype` before their fields, as jac-scale does.

use std::cell::RefCell;
use std::rc::Rc;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
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
            let mut map = Map::new();
            map.insert(TYPE_KEY.into(), Json::String(inst.class.name.to_string()));
            map.insert(ID_KEY.into(), Json::String(id_of(inst).to_string()));
            map.insert(
                ARCHETYPE_KEY.into(),
                Json::String(archetype_kind(inst).into()),
            );
            for (k, v) in inst.declared_fields() {
                map.insert(k.to_string(), to_json_depth(&v, id_of, depth + 1));
            }
            Json::Object(map)
        }
        Value::Object(o) => o.to_json(),
        other => Json::String(repr::repr(other)),
    }
}

/// The `_jac_archetype` of an archetype instance.
fn archetype_kind(inst: &Instance) -> &'static str {
    match inst.class.kind {
        ArchKind::Node | ArchKind::Edge | ArchKind::Walker => inst.class.kind.keyword(),
        _ if inst.class.is_kind(ArchKind::Node) => "node",
        _ if inst.class.is_kind(ArchKind::Edge) => "edge",
        _ if inst.class.is_kind(ArchKind::Walker) => "walker",
        _ => "archetype",
    }
}

/// [`to_json`] as JSON text, written as it goes: lists, dicts and archetype objects are
/// encoded item by item, so no JSON tree of the whole value is built (a report of 100,000
/// nodes holds its text, not 100,000 maps besides). The text is exactly `to_json`'s.
pub fn to_json_text(value: &Value, id_of: &mut dyn FnMut(&Rc<Instance>) -> Str) -> String {
    let id_of = RefCell::new(id_of);
    let text = Text {
        value,
        id_of: &id_of,
        depth: 0,
    };
    serde_json::to_string(&text).unwrap_or_else(|_| "null".to_owned())
}

/// Supplies (assigning if needed) the id of an instance.
type IdOf<'f> = &'f mut dyn FnMut(&Rc<Instance>) -> Str;

/// One value being written by [`to_json_text`].
struct Text<'v, 'f> {
    value: &'v Value,
    id_of: &'v RefCell<IdOf<'f>>,
    depth: usize,
}

impl<'v, 'f> Text<'v, 'f> {
    fn child<'c>(&self, value: &'c Value) -> Text<'c, 'f>
    where
        'v: 'c,
    {
        Text {
            value,
            id_of: self.id_of,
            depth: self.depth + 1,
        }
    }

    fn items<'c, S: Serializer>(
        &self,
        serializer: S,
        items: impl ExactSizeIterator<Item = &'c Value>,
    ) -> Result<S::Ok, S::Error>
    where
        'v: 'c,
    {
        let mut seq = serializer.serialize_seq(Some(items.len()))?;
        for item in items {
            seq.serialize_element(&self.child(item))?;
        }
        seq.end()
    }

    /// An object of distinct keys, in order (repeated keys are `to_json`'s business).
    fn object<'c, S: Serializer>(
        &self,
        serializer: S,
        head: &[(&str, String)],
        entries: &'c [(String, &'c Value)],
    ) -> Result<S::Ok, S::Error>
    where
        'v: 'c,
    {
        let mut map = serializer.serialize_map(Some(head.len() + entries.len()))?;
        for (key, text) in head {
            map.serialize_entry(key, text)?;
        }
        for (key, value) in entries {
            map.serialize_entry(key, &self.child(value))?;
        }
        map.end()
    }

    /// The value through `to_json` (leaves, and the rare objects whose keys repeat).
    fn as_tree<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut id_of = self.id_of.borrow_mut();
        to_json_depth(self.value, &mut **id_of, self.depth).serialize(serializer)
    }
}

impl Serialize for Text<'_, '_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.depth > MAX_DEPTH {
            return serializer.serialize_unit();
        }
        match self.value {
            Value::List(items) => self.items(serializer, items.borrow().iter()),
            Value::Tuple(items) => self.items(serializer, items.iter()),
            Value::Iter(it) => self.items(serializer, it.borrow().remaining().iter()),
            Value::Dict(dict) => {
                let dict = dict.borrow();
                let entries: Vec<(String, &Value)> =
                    dict.iter().map(|(k, v)| (key_string(k), v)).collect();
                if !distinct(entries.iter().map(|(key, _)| key.as_str())) {
                    return self.as_tree(serializer);
                }
                self.object(serializer, &[], &entries)
            }
            Value::Instance(inst)
                if inst.enum_member().is_none() && inst.class.exception_type().is_none() =>
            {
                let fields = inst.declared_fields();
                let entries: Vec<(String, &Value)> =
                    fields.iter().map(|(k, v)| (k.to_string(), v)).collect();
                let special = [TYPE_KEY, ID_KEY, ARCHETYPE_KEY];
                let keys = special
                    .into_iter()
                    .chain(entries.iter().map(|(k, _)| k.as_str()));
                if !distinct(keys) {
                    return self.as_tree(serializer);
                }
                let id = (self.id_of.borrow_mut())(inst);
                let head = [
                    (TYPE_KEY, inst.class.name.to_string()),
                    (ID_KEY, id.to_string()),
                    (ARCHETYPE_KEY, archetype_kind(inst).to_owned()),
                ];
                self.object(serializer, &head, &entries)
            }
            _ => self.as_tree(serializer),
        }
    }
}

/// Whether no key repeats.
fn distinct<'k>(keys: impl Iterator<Item = &'k str>) -> bool {
    let mut seen = std::collections::HashSet::new();
    keys.into_iter().all(|key| seen.insert(key))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn no_ids(_: &Rc<Instance>) -> Str {
        unreachable!("no instance in these values")
    }

    #[test]
    fn text_is_the_trees_text() {
        let mut clashing = Dict::new();
        clashing.insert(Value::Int(1), Value::from("int")).unwrap();
        clashing
            .insert(Value::from("1"), Value::from("str"))
            .unwrap();
        let mut plain = Dict::new();
        plain
            .insert(Value::from("a \"quoted\"\n"), Value::Float(0.1))
            .unwrap();
        plain.insert(Value::None, Value::Float(f64::NAN)).unwrap();
        plain
            .insert(Value::from("nested"), Value::dict(clashing))
            .unwrap();
        let value = Value::list(vec![
            Value::Bool(true),
            Value::Int(-7),
            Value::tuple(vec![Value::from("é"), Value::list(Vec::new())]),
            Value::dict(plain),
            Value::dict(Dict::new()),
        ]);
        let tree = to_json(&value, &mut no_ids).to_string();
        assert_eq!(to_json_text(&value, &mut no_ids), tree);
        assert!(tree.contains(r#""1":"str""#), "{tree}");
    }
}
