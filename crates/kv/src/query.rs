//! The document query language, checked once and evaluated in Rust on JSON documents.
//!
//! A [`Filter`] uses `$eq $gt $gte $lt $lte $in $ne $and $or`; an [`Update`] uses
//! `$set $unset $inc $push`, or is a whole replacement document. Field names may be
//! dotted paths (`"address.city"`). Comparisons follow MongoDB's type bracketing in the
//! small: numbers compare with numbers, strings with strings, booleans with booleans;
//! values of different types are never ordered (so `{"age": {"$gt": "x"}}` matches
//! nothing). The MongoDB backend checks filters and updates here too, then hands the
//! original JSON to the server, so both backends accept exactly the same language.

use std::cmp::Ordering;

use host_error::HostError;
use serde_json::{Map, Value};

/// The field holding a document's id (a string).
pub const ID: &str = "_id";

/// A checked filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter(Vec<Clause>);

#[derive(Debug, Clone, PartialEq)]
enum Clause {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Field(String, Vec<Condition>),
}

#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Eq(Value),
    Ne(Value),
    Gt(Value),
    Gte(Value),
    Lt(Value),
    Lte(Value),
    In(Vec<Value>),
}

fn invalid(message: impl Into<String>) -> HostError {
    HostError::Invalid(message.into())
}

impl Filter {
    /// Check `json` (an object; `{}` matches every document).
    pub fn parse(json: &Value) -> Result<Filter, HostError> {
        let Value::Object(map) = json else {
            return Err(invalid("a filter must be a JSON object"));
        };
        map.iter()
            .map(|(key, value)| match key.as_str() {
                "$and" => Ok(Clause::And(Self::list(key, value)?)),
                "$or" => Ok(Clause::Or(Self::list(key, value)?)),
                op if op.starts_with('$') => Err(invalid(format!(
                    "unknown query operator {op}: use $eq $gt $gte $lt $lte $in $ne $and $or"
                ))),
                field => Ok(Clause::Field(field.to_string(), Self::conditions(value)?)),
            })
            .collect::<Result<_, _>>()
            .map(Filter)
    }

    /// The filter `{"_id": id}`.
    pub fn by_id(id: &str) -> Filter {
        Filter(vec![Clause::Field(
            ID.into(),
            vec![Condition::Eq(Value::String(id.into()))],
        )])
    }

    /// The id this filter pins, when it is exactly `{"_id": "<id>"}` (an index lookup).
    pub fn pinned_id(&self) -> Option<&str> {
        match self.0.as_slice() {
            [Clause::Field(field, conditions)] if field == ID => match conditions.as_slice() {
                [Condition::Eq(Value::String(id))] => Some(id),
                _ => None,
            },
            _ => None,
        }
    }

    fn list(op: &str, value: &Value) -> Result<Vec<Filter>, HostError> {
        match value {
            Value::Array(items) if !items.is_empty() => items.iter().map(Filter::parse).collect(),
            _ => Err(invalid(format!("{op} needs a non-empty list of filters"))),
        }
    }

    fn conditions(value: &Value) -> Result<Vec<Condition>, HostError> {
        let Value::Object(ops) = value else {
            return Ok(vec![Condition::Eq(value.clone())]);
        };
        if !ops.keys().any(|k| k.starts_with('$')) {
            return Ok(vec![Condition::Eq(value.clone())]);
        }
        ops.iter()
            .map(|(op, operand)| {
                let operand = operand.clone();
                Ok(match op.as_str() {
                    "$eq" => Condition::Eq(operand),
                    "$ne" => Condition::Ne(operand),
                    "$gt" => Condition::Gt(operand),
                    "$gte" => Condition::Gte(operand),
                    "$lt" => Condition::Lt(operand),
                    "$lte" => Condition::Lte(operand),
                    "$in" => match operand {
                        Value::Array(items) => Condition::In(items),
                        _ => return Err(invalid("$in needs a list")),
                    },
                    other => {
                        return Err(invalid(format!(
                            "unknown query operator {other}: use $eq $gt $gte $lt $lte $in $ne $and $or"
                        )));
                    }
                })
            })
            .collect()
    }

    /// The filter as JSON again (operators spelled out), for a server that evaluates it.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        for clause in &self.0 {
            match clause {
                Clause::And(all) => {
                    out.insert("$and".into(), all.iter().map(Filter::to_json).collect());
                }
                Clause::Or(any) => {
                    out.insert("$or".into(), any.iter().map(Filter::to_json).collect());
                }
                Clause::Field(path, conditions) => {
                    let ops = conditions.iter().map(|c| {
                        let (op, v) = match c {
                            Condition::Eq(v) => ("$eq", v.clone()),
                            Condition::Ne(v) => ("$ne", v.clone()),
                            Condition::Gt(v) => ("$gt", v.clone()),
                            Condition::Gte(v) => ("$gte", v.clone()),
                            Condition::Lt(v) => ("$lt", v.clone()),
                            Condition::Lte(v) => ("$lte", v.clone()),
                            Condition::In(vs) => ("$in", Value::Array(vs.clone())),
                        };
                        (op.to_string(), v)
                    });
                    out.insert(path.clone(), Value::Object(ops.collect()));
                }
            }
        }
        Value::Object(out)
    }

    /// Whether `doc` matches.
    pub fn matches(&self, doc: &Map<String, Value>) -> bool {
        self.0.iter().all(|clause| match clause {
            Clause::And(all) => all.iter().all(|f| f.matches(doc)),
            Clause::Or(any) => any.iter().any(|f| f.matches(doc)),
            Clause::Field(path, conditions) => {
                let value = lookup(doc, path);
                conditions.iter().all(|c| c.holds(value))
            }
        })
    }
}

impl Condition {
    fn holds(&self, value: Option<&Value>) -> bool {
        let ordered = |operand: &Value, accept: fn(Ordering) -> bool| {
            value.is_some_and(|v| compare(v, operand).is_some_and(accept))
        };
        match self {
            Condition::Eq(operand) => value.is_some_and(|v| equals(v, operand)),
            Condition::Ne(operand) => !value.is_some_and(|v| equals(v, operand)),
            Condition::Gt(o) => ordered(o, Ordering::is_gt),
            Condition::Gte(o) => ordered(o, Ordering::is_ge),
            Condition::Lt(o) => ordered(o, Ordering::is_lt),
            Condition::Lte(o) => ordered(o, Ordering::is_le),
            Condition::In(options) => value.is_some_and(|v| options.iter().any(|o| equals(v, o))),
        }
    }
}

/// Equality as MongoDB sees it: numbers by value; an array field also matches one of
/// its elements.
fn equals(field: &Value, operand: &Value) -> bool {
    compare(field, operand) == Some(Ordering::Equal)
        || field == operand
        || matches!(field, Value::Array(items) if items.iter().any(|i| i == operand))
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
        },
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    }
}

fn lookup<'a>(doc: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = doc.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A checked update.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The new document (its `_id` is kept).
    Replace(Map<String, Value>),
    /// Operators, applied in order.
    Operators(Vec<(Op, String, Value)>),
}

/// An update operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Set,
    Unset,
    Inc,
    Push,
}

impl Update {
    /// Check `json`: an object of operators, or a replacement document.
    pub fn parse(json: &Value) -> Result<Update, HostError> {
        let Value::Object(map) = json else {
            return Err(invalid("an update must be a JSON object"));
        };
        if !map.keys().any(|k| k.starts_with('$')) {
            if map.get(ID).is_some() {
                return Err(invalid("a replacement document cannot change `_id`"));
            }
            return Ok(Update::Replace(map.clone()));
        }
        let mut ops = Vec::new();
        for (name, fields) in map {
            let op = match name.as_str() {
                "$set" => Op::Set,
                "$unset" => Op::Unset,
                "$inc" => Op::Inc,
                "$push" => Op::Push,
                other => {
                    return Err(invalid(format!(
                        "unknown update operator {other:?}: use $set $unset $inc $push (or a whole document without operators)"
                    )));
                }
            };
            let Value::Object(fields) = fields else {
                return Err(invalid(format!("{name} needs an object of fields")));
            };
            for (path, value) in fields {
                if path == ID || path.starts_with("_id.") {
                    return Err(invalid("an update cannot change `_id`"));
                }
                if path.split('.').any(str::is_empty) {
                    return Err(invalid(format!("bad field path {path:?}")));
                }
                if op == Op::Inc && !value.is_number() {
                    return Err(invalid(format!("$inc of {path:?} needs a number")));
                }
                ops.push((op, path.clone(), value.clone()));
            }
        }
        Ok(Update::Operators(ops))
    }

    /// The update as JSON again (`{"$set": {...}, ...}` or the replacement document).
    pub fn to_json(&self) -> Value {
        match self {
            Update::Replace(doc) => Value::Object(doc.clone()),
            Update::Operators(ops) => {
                let mut out = Map::new();
                for (op, path, value) in ops {
                    let name = match op {
                        Op::Set => "$set",
                        Op::Unset => "$unset",
                        Op::Inc => "$inc",
                        Op::Push => "$push",
                    };
                    if let Value::Object(fields) =
                        out.entry(name).or_insert_with(|| Value::Object(Map::new()))
                    {
                        fields.insert(path.clone(), value.clone());
                    }
                }
                Value::Object(out)
            }
        }
    }

    /// Apply to `doc` (which keeps its `_id`).
    pub fn apply(&self, doc: &mut Map<String, Value>) -> Result<(), HostError> {
        match self {
            Update::Replace(new) => {
                let id = doc.remove(ID);
                *doc = new.clone();
                if let Some(id) = id {
                    doc.insert(ID.into(), id);
                }
            }
            Update::Operators(ops) => {
                for (op, path, value) in ops {
                    apply_op(doc, *op, path, value)?;
                }
            }
        }
        Ok(())
    }
}

fn apply_op(
    doc: &mut Map<String, Value>,
    op: Op,
    path: &str,
    value: &Value,
) -> Result<(), HostError> {
    let (parents, last) = match path.rsplit_once('.') {
        Some((parents, last)) => (Some(parents), last),
        None => (None, path),
    };
    let mut target = doc;
    for part in parents.into_iter().flat_map(|p| p.split('.')) {
        if op == Op::Unset && !target.contains_key(part) {
            return Ok(());
        }
        let slot = target
            .entry(part.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        target = slot
            .as_object_mut()
            .ok_or_else(|| invalid(format!("cannot update {path:?}: {part:?} is not an object")))?;
    }
    match op {
        Op::Set => {
            target.insert(last.to_string(), value.clone());
        }
        Op::Unset => {
            target.remove(last);
        }
        Op::Inc => {
            let new = match target.get(last) {
                None => value.clone(),
                Some(Value::Number(n)) => {
                    add(n, value).ok_or_else(|| invalid(format!("$inc of {path:?} overflows")))?
                }
                Some(_) => return Err(invalid(format!("$inc of {path:?}: not a number"))),
            };
            target.insert(last.to_string(), new);
        }
        Op::Push => match target
            .entry(last.to_string())
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            Value::Array(items) => items.push(value.clone()),
            _ => return Err(invalid(format!("$push to {path:?}: not a list"))),
        },
    }
    Ok(())
}

fn add(n: &serde_json::Number, by: &Value) -> Option<Value> {
    let by = by.as_number()?;
    match (n.as_i64(), by.as_i64()) {
        (Some(a), Some(b)) => a.checked_add(b).map(Value::from),
        _ => serde_json::Number::from_f64(n.as_f64()? + by.as_f64()?).map(Value::Number),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn matches(filter: Value, d: Value) -> bool {
        Filter::parse(&filter).unwrap().matches(&doc(d))
    }

    #[test]
    fn every_query_operator() {
        let alice = json!({"name": "Alice", "age": 30, "tags": ["a", "b"], "addr": {"city": "X"}});
        assert!(matches(json!({}), alice.clone()));
        assert!(matches(json!({"name": "Alice"}), alice.clone()));
        assert!(matches(json!({"name": {"$eq": "Alice"}}), alice.clone()));
        assert!(matches(json!({"age": {"$gt": 28}}), alice.clone()));
        assert!(!matches(json!({"age": {"$gt": 30}}), alice.clone()));
        assert!(matches(json!({"age": {"$gte": 30.0}}), alice.clone()));
        assert!(matches(
            json!({"age": {"$lt": 31, "$gt": 29}}),
            alice.clone()
        ));
        assert!(matches(json!({"age": {"$lte": 30}}), alice.clone()));
        assert!(matches(json!({"age": {"$in": [1, 30]}}), alice.clone()));
        assert!(matches(json!({"age": {"$ne": 31}}), alice.clone()));
        assert!(matches(json!({"missing": {"$ne": 1}}), alice.clone()));
        assert!(matches(json!({"tags": "b"}), alice.clone()));
        assert!(matches(json!({"addr.city": "X"}), alice.clone()));
        assert!(matches(
            json!({"$or": [{"name": "Bob"}, {"age": 30}]}),
            alice.clone()
        ));
        assert!(!matches(
            json!({"$and": [{"name": "Alice"}, {"age": 31}]}),
            alice.clone()
        ));
        assert!(!matches(json!({"age": {"$gt": "a"}}), alice));
    }

    #[test]
    fn unknown_operators_are_invalid() {
        for bad in [
            json!({"$where": "1"}),
            json!({"a": {"$regex": "x"}}),
            json!({"$or": []}),
            json!({"a": {"$in": 3}}),
            json!([1]),
        ] {
            assert!(
                matches!(Filter::parse(&bad), Err(HostError::Invalid(_))),
                "{bad}"
            );
        }
        assert!(Update::parse(&json!({"$rename": {"a": "b"}})).is_err());
        assert!(Update::parse(&json!({"$set": {"_id": "x"}})).is_err());
        assert!(Update::parse(&json!({"$inc": {"n": "1"}})).is_err());
    }

    #[test]
    fn every_update_operator() {
        let mut d = doc(json!({"_id": "1", "n": 1, "list": [1], "gone": true}));
        Update::parse(&json!({
            "$set": {"a.b": 2, "name": "x"},
            "$unset": {"gone": ""},
            "$inc": {"n": 2, "fresh": 5},
            "$push": {"list": 2, "new_list": "z"}
        }))
        .unwrap()
        .apply(&mut d)
        .unwrap();
        assert_eq!(
            Value::Object(d.clone()),
            json!({"_id": "1", "n": 3, "list": [1, 2], "a": {"b": 2}, "name": "x", "fresh": 5, "new_list": ["z"]})
        );
        Update::parse(&json!({"only": 1}))
            .unwrap()
            .apply(&mut d)
            .unwrap();
        assert_eq!(Value::Object(d.clone()), json!({"only": 1, "_id": "1"}));
        let push_to_number = Update::parse(&json!({"$push": {"only": 1}})).unwrap();
        assert!(push_to_number.apply(&mut d).is_err());
    }

    #[test]
    fn filters_and_updates_round_trip_to_json() {
        let f = json!({"$or": [{"a": {"$gt": 1}}, {"b": {"$in": [1, 2]}}], "c": {"$eq": 3}});
        let parsed = Filter::parse(&f).unwrap();
        assert_eq!(Filter::parse(&parsed.to_json()).unwrap(), parsed);
        let u = json!({"$set": {"a": 1, "b.c": 2}, "$inc": {"n": 1}});
        assert_eq!(Update::parse(&u).unwrap().to_json(), u);
    }

    #[test]
    fn pinned_id_is_only_an_exact_id_filter() {
        assert_eq!(Filter::by_id("k").pinned_id(), Some("k"));
        let f = Filter::parse(&json!({"_id": "k", "a": 1})).unwrap();
        assert_eq!(f.pinned_id(), None);
    }

    /// A random JSON value of at most `depth` levels, its keys drawn from operators,
    /// dotted paths and plain names.
    fn random_value(rng: &mut rand::rngs::StdRng, depth: u32) -> Value {
        use rand::Rng;
        const KEYS: &[&str] = &[
            "$and", "$or", "$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$set", "$inc",
            "$unset", "$push", "$nope", "a", "b", "a.b", "a.b.c", "a..b", ".", "", "$", "_id",
            "a.0", "é",
        ];
        match rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
            0 => Value::Null,
            1 => json!(rng.random::<bool>()),
            2 => json!(rng.random_range(-3i64..=3)),
            3 => [
                json!(1e308),
                json!(-0.0),
                json!(0.5),
                json!(i64::MIN),
                json!(u64::MAX),
            ][rng.random_range(0..5)]
            .clone(),
            4 => json!(KEYS[rng.random_range(0..KEYS.len())]),
            5 => Value::Array(
                (0..rng.random_range(0..4))
                    .map(|_| random_value(rng, depth - 1))
                    .collect(),
            ),
            _ => Value::Object(
                (0..rng.random_range(0..4))
                    .map(|_| {
                        let key = KEYS[rng.random_range(0..KEYS.len())].to_owned();
                        (key, random_value(rng, depth - 1))
                    })
                    .collect(),
            ),
        }
    }

    /// Random filters and updates for a bounded time: each is refused or evaluates and
    /// applies to a random document without a panic.
    #[test]
    fn random_filters_and_updates_never_panic() {
        use rand::SeedableRng;
        let seed: u64 = rand::random();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            let (query, target) = (random_value(&mut rng, 4), random_value(&mut rng, 4));
            let Value::Object(mut document) = json!({"a": target, "b": {"c": [1, 2]}}) else {
                unreachable!()
            };
            let shown = format!("seed {seed}: {query} on {document:?}");
            if let Ok(filter) = Filter::parse(&query) {
                let _ = filter.matches(&document);
                assert_eq!(
                    Filter::parse(&filter.to_json()).as_ref(),
                    Ok(&filter),
                    "{shown}"
                );
            }
            if let Ok(update) = Update::parse(&query) {
                let _ = update.apply(&mut document);
            }
        }
    }
}
