//! Structural pattern matching for `match` statements (Python semantics).

use std::rc::Rc;

use crate::syntax::ast::{Pattern, PatternKind};
use crate::value::{Dict, JacResult, Value};

use super::Interpreter;
use super::env::Scope;

impl Interpreter {
    /// Whether `value` matches `pattern`, binding captures in `scope`.
    pub(crate) fn match_pattern(
        &mut self,
        pattern: &Pattern,
        value: &Value,
        scope: &Rc<Scope>,
    ) -> JacResult<bool> {
        match &pattern.kind {
            PatternKind::Wildcard => Ok(true),
            PatternKind::Capture(name) => {
                scope.assign(name, value.clone());
                Ok(true)
            }
            PatternKind::Value(e) => {
                let expected = self.eval(e, scope)?;
                if matches!(expected, Value::None | Value::Bool(_)) {
                    Ok(value.is(&expected))
                } else {
                    self.values_eq(value, &expected)
                }
            }
            PatternKind::Sequence(items) => {
                let elements = match value {
                    Value::List(l) => l.borrow().clone(),
                    Value::Tuple(t) => t.to_vec(),
                    _ => return Ok(false),
                };
                let star = items
                    .iter()
                    .position(|p| matches!(p.kind, PatternKind::Star(_)));
                match star {
                    None => {
                        if elements.len() != items.len() {
                            return Ok(false);
                        }
                        for (p, v) in items.iter().zip(&elements) {
                            if !self.match_pattern(p, v, scope)? {
                                return Ok(false);
                            }
                        }
                        Ok(true)
                    }
                    Some(s) => {
                        let after = items.len() - s - 1;
                        if elements.len() < items.len() - 1 {
                            return Ok(false);
                        }
                        for (p, v) in items[..s].iter().zip(&elements) {
                            if !self.match_pattern(p, v, scope)? {
                                return Ok(false);
                            }
                        }
                        let tail_start = elements.len() - after;
                        for (p, v) in items[s + 1..].iter().zip(&elements[tail_start..]) {
                            if !self.match_pattern(p, v, scope)? {
                                return Ok(false);
                            }
                        }
                        if let PatternKind::Star(Some(name)) = &items[s].kind {
                            scope.assign(name, Value::list(elements[s..tail_start].to_vec()));
                        }
                        Ok(true)
                    }
                }
            }
            PatternKind::Star(_) => Ok(true),
            PatternKind::Mapping { entries, rest } => {
                let Value::Dict(d) = value else {
                    return Ok(false);
                };
                let d = d.borrow().clone();
                let mut used = Vec::new();
                for (k, p) in entries {
                    let key = self.eval(k, scope)?;
                    let Some(v) = d.get(&key)? else {
                        return Ok(false);
                    };
                    if !self.match_pattern(p, &v, scope)? {
                        return Ok(false);
                    }
                    used.push(key);
                }
                if let Some(name) = rest {
                    let mut remaining = Dict::new();
                    for (k, v) in d.iter() {
                        if !used.iter().any(|u| crate::value::ops::eq(u, k)) {
                            remaining.insert(k.clone(), v.clone())?;
                        }
                    }
                    scope.assign(name, Value::dict(remaining));
                }
                Ok(true)
            }
            PatternKind::Class { cls, args, kwargs } => {
                let ty = self.eval(cls, scope)?;
                if !self.isinstance(value, &ty)? {
                    return Ok(false);
                }
                if !args.is_empty() {
                    let builtin_self_match =
                        matches!(&ty, Value::Class(c) if c.builtin().is_some());
                    if builtin_self_match {
                        return match args.as_slice() {
                            [one] => self.match_pattern(one, value, scope),
                            _ => Ok(false),
                        };
                    }
                    let fields: Vec<crate::value::Str> = match &ty {
                        Value::Class(c) => c.fields.iter().map(|f| f.name.clone()).collect(),
                        _ => Vec::new(),
                    };
                    for (p, name) in args.iter().zip(fields.iter()) {
                        let v = self.get_attr(value, name)?;
                        if !self.match_pattern(p, &v, scope)? {
                            return Ok(false);
                        }
                    }
                    if args.len() > fields.len() {
                        return Ok(false);
                    }
                }
                for (name, p) in kwargs {
                    let Ok(v) = self.get_attr(value, name) else {
                        return Ok(false);
                    };
                    if !self.match_pattern(p, &v, scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            PatternKind::Or(alternatives) => {
                for p in alternatives {
                    if self.match_pattern(p, value, scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            PatternKind::As { pattern, name } => {
                if self.match_pattern(pattern, value, scope)? {
                    scope.assign(name, value.clone());
                    Ok(true)
                } else {
                    Ok(false)
                }
            }
        }
    }
}
