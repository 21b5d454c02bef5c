//! Defaults as JSON: literal expressions only.

use serde_json::{Map, Value as Json};

use crate::syntax::ast::*;

/// The JSON value of a literal expression (numbers, strings, bools, None, and
/// lists / tuples / string-keyed dicts of literals); `None` otherwise.
pub fn literal_json(e: &Expr) -> Option<Json> {
    Some(match &e.kind {
        ExprKind::None => Json::Null,
        ExprKind::Bool(b) => Json::Bool(*b),
        ExprKind::Int(i) => Json::from(*i),
        ExprKind::Float(f) => Json::from(serde_json::Number::from_f64(*f)?),
        ExprKind::Str(s) => Json::String(s.to_string()),
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            Json::Array(items.iter().map(literal_json).collect::<Option<Vec<_>>>()?)
        }
        ExprKind::Dict(entries) => {
            let mut map = Map::new();
            for entry in entries {
                let DictEntry::Pair(k, v) = entry else {
                    return None;
                };
                let ExprKind::Str(key) = &k.kind else {
                    return None;
                };
                map.insert(key.to_string(), literal_json(v)?);
            }
            Json::Object(map)
        }
        _ => return None,
    })
}
