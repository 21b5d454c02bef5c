//! Indexing and slicing of builtin sequences and mappings.

use std::rc::Rc;

use crate::value::{ExcType, Exception, JacResult, Slice, Value};

/// Resolves a possibly negative index against `len`.
fn index_of(index: &Value, len: usize, what: &str) -> JacResult<usize> {
    let i = match index {
        Value::Int(i) => *i,
        Value::Bool(b) => i64::from(*b),
        Value::BigInt(_) => {
            return Err(Exception::new(
                ExcType::IndexError,
                "cannot fit 'int' into an index-sized integer",
            ));
        }
        other => {
            return Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "{what} indices must be integers or slices, not {}",
                    other.type_name()
                ),
            ));
        }
    };
    let len_i = len as i64;
    let resolved = if i < 0 { i + len_i } else { i };
    if resolved < 0 || resolved >= len_i {
        return Err(Exception::new(
            ExcType::IndexError,
            format!("{what} index out of range"),
        ));
    }
    Ok(resolved as usize)
}

fn slice_part(v: &Value) -> JacResult<Option<i64>> {
    match v {
        Value::None => Ok(None),
        Value::Int(i) => Ok(Some(*i)),
        Value::Bool(b) => Ok(Some(i64::from(*b))),
        other => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "slice indices must be integers or None, not {}",
                other.type_name()
            ),
        )),
    }
}

/// The positions a slice selects in a sequence of length `len` (Python's `slice.indices`).
pub fn slice_indices(s: &Slice, len: usize) -> JacResult<Vec<usize>> {
    let step = slice_part(&s.step)?.unwrap_or(1);
    if step == 0 {
        return Err(Exception::new(
            ExcType::ValueError,
            "slice step cannot be zero",
        ));
    }
    let len = len as i64;
    let clamp = |v: Option<i64>, default: i64, lo: i64, hi: i64| -> i64 {
        match v {
            None => default,
            Some(i) if i < 0 => (i + len).max(lo),
            Some(i) => i.min(hi),
        }
    };
    let (start, stop) = if step > 0 {
        (
            clamp(slice_part(&s.start)?, 0, 0, len),
            clamp(slice_part(&s.stop)?, len, 0, len),
        )
    } else {
        (
            clamp(slice_part(&s.start)?, len - 1, -1, len - 1),
            clamp(slice_part(&s.stop)?, -1, -1, len - 1),
        )
    };
    let mut out = Vec::new();
    let mut i = start;
    while (step > 0 && i < stop) || (step < 0 && i > stop) {
        out.push(i as usize);
        i += step;
    }
    Ok(out)
}

/// `value[index]` for builtin values.
pub fn get_item(value: &Value, index: &Value) -> JacResult<Value> {
    match (value, index) {
        (Value::List(l), Value::Slice(s)) => {
            let l = l.borrow();
            Ok(Value::list(
                slice_indices(s, l.len())?
                    .into_iter()
                    .map(|i| l[i].clone())
                    .collect(),
            ))
        }
        (Value::List(l), _) => {
            let l = l.borrow();
            Ok(l[index_of(index, l.len(), "list")?].clone())
        }
        (Value::Tuple(t), Value::Slice(s)) => Ok(Value::tuple(
            slice_indices(s, t.len())?
                .into_iter()
                .map(|i| t[i].clone())
                .collect(),
        )),
        (Value::Tuple(t), _) => Ok(t[index_of(index, t.len(), "tuple")?].clone()),
        (Value::Str(s), _) => {
            if s.is_ascii() {
                let bytes = s.as_bytes();
                return Ok(match index {
                    Value::Slice(sl) => Value::from(
                        slice_indices(sl, bytes.len())?
                            .into_iter()
                            .map(|i| bytes[i] as char)
                            .collect::<String>(),
                    ),
                    _ => Value::from(
                        (bytes[index_of(index, bytes.len(), "string")?] as char).to_string(),
                    ),
                });
            }
            let chars: Vec<char> = s.chars().collect();
            Ok(match index {
                Value::Slice(sl) => Value::from(
                    slice_indices(sl, chars.len())?
                        .into_iter()
                        .map(|i| chars[i])
                        .collect::<String>(),
                ),
                _ => Value::from(chars[index_of(index, chars.len(), "string")?].to_string()),
            })
        }
        (Value::Bytes(b), Value::Slice(s)) => Ok(Value::Bytes(
            slice_indices(s, b.len())?
                .into_iter()
                .map(|i| b[i])
                .collect::<Vec<u8>>()
                .into(),
        )),
        (Value::Bytes(b), _) => Ok(Value::Int(i64::from(b[index_of(index, b.len(), "index")?]))),
        (Value::Range(r), Value::Slice(s)) => {
            let idx = slice_indices(s, r.len() as usize)?;
            Ok(Value::list(
                idx.into_iter()
                    .map(|i| Value::Int(r.nth(i as i64)))
                    .collect(),
            ))
        }
        (Value::Range(r), _) => {
            Ok(Value::Int(r.nth(
                index_of(index, r.len() as usize, "range object")? as i64,
            )))
        }
        (Value::Dict(d), _) => match d.borrow().get(index)? {
            Some(v) => Ok(v),
            None => Err(Exception::with_arg(ExcType::KeyError, index.clone())),
        },
        (Value::Class(c), Value::Str(name)) if c.kind == crate::value::ArchKind::Enum => {
            match c.lookup(name) {
                Some(v @ Value::Instance(_)) => Ok(v),
                _ => Err(Exception::with_arg(ExcType::KeyError, index.clone())),
            }
        }
        _ => Err(Exception::new(
            ExcType::TypeError,
            format!("'{}' object is not subscriptable", value.type_name()),
        )),
    }
}

/// `value[index] = item` for builtin values.
pub fn set_item(value: &Value, index: &Value, item: Value) -> JacResult<()> {
    match (value, index) {
        (Value::List(l), Value::Slice(s)) => {
            let items = super::iterate(&item)?;
            let mut l = l.borrow_mut();
            let step_is_one = matches!(s.step, Value::None) || s.step.as_i64() == Some(1);
            let idx = slice_indices(s, l.len())?;
            if step_is_one {
                let start = match idx.first() {
                    Some(i) => *i,
                    None => {
                        let probe = Slice {
                            start: s.start.clone(),
                            stop: Value::None,
                            step: Value::None,
                        };
                        slice_indices(&probe, l.len())?
                            .first()
                            .copied()
                            .unwrap_or(l.len())
                    }
                };
                l.splice(start..start + idx.len(), items);
                Ok(())
            } else if idx.len() == items.len() {
                for (i, v) in idx.into_iter().zip(items) {
                    l[i] = v;
                }
                Ok(())
            } else {
                Err(Exception::new(
                    ExcType::ValueError,
                    format!(
                        "attempt to assign sequence of size {} to extended slice of size {}",
                        items.len(),
                        idx.len()
                    ),
                ))
            }
        }
        (Value::List(l), _) => {
            let mut l = l.borrow_mut();
            let i = index_of(index, l.len(), "list assignment")?;
            l[i] = item;
            Ok(())
        }
        (Value::Dict(d), _) => d.borrow_mut().insert(index.clone(), item),
        _ => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "'{}' object does not support item assignment",
                value.type_name()
            ),
        )),
    }
}

/// `del value[index]` for builtin values.
pub fn del_item(value: &Value, index: &Value) -> JacResult<()> {
    match (value, index) {
        (Value::List(l), Value::Slice(s)) => {
            let mut l = l.borrow_mut();
            let mut idx = slice_indices(s, l.len())?;
            idx.sort_unstable();
            for i in idx.into_iter().rev() {
                l.remove(i);
            }
            Ok(())
        }
        (Value::List(l), _) => {
            let mut l = l.borrow_mut();
            let i = index_of(index, l.len(), "list assignment")?;
            l.remove(i);
            Ok(())
        }
        (Value::Dict(d), _) => match d.borrow_mut().remove(index)? {
            Some(_) => Ok(()),
            None => Err(Exception::with_arg(ExcType::KeyError, index.clone())),
        },
        _ => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "'{}' object does not support item deletion",
                value.type_name()
            ),
        )),
    }
}

/// A slice value (for natives that accept one).
pub fn slice(start: Value, stop: Value, step: Value) -> Value {
    Value::Slice(Rc::new(Slice { start, stop, step }))
}
