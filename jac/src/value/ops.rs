//! Operators with Python semantics: arithmetic, bitwise, comparison,
//! equality and membership over builtin values. Operators on archetype
//! instances (`__add__`, `__eq__` ...) are dispatched by the interpreter first.

use std::cmp::Ordering;
use std::rc::Rc;

use num_traits::ToPrimitive;

use super::num::{self, FloatOp, IntOp};
use super::{Dict, ExcType, Exception, JacResult, Set, Value};

pub use crate::syntax::ast::{BinOp, CmpOp};

/// The Python dunder method name of a binary operator (`__add__`).
pub fn dunder(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "__add__",
        BinOp::Sub => "__sub__",
        BinOp::Mul => "__mul__",
        BinOp::Div => "__truediv__",
        BinOp::FloorDiv => "__floordiv__",
        BinOp::Mod => "__mod__",
        BinOp::Pow => "__pow__",
        BinOp::MatMul => "__matmul__",
        BinOp::LShift => "__lshift__",
        BinOp::RShift => "__rshift__",
        BinOp::BitAnd => "__and__",
        BinOp::BitOr => "__or__",
        BinOp::BitXor => "__xor__",
    }
}

/// Upper bound on the length of a sequence built by `*` repetition.
const MAX_REPEAT_LEN: usize = 1 << 26;

fn unsupported(op: &str, a: &Value, b: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!(
            "unsupported operand type(s) for {op}: '{}' and '{}'",
            a.type_name(),
            b.type_name()
        ),
    )
}

fn is_int(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::BigInt(_) | Value::Bool(_))
}

fn is_number(v: &Value) -> bool {
    is_int(v) || matches!(v, Value::Float(_))
}

/// Applies a binary operator to two builtin values.
pub fn binary(op: BinOp, a: &Value, b: &Value) -> JacResult<Value> {
    if is_int(a) && is_int(b) {
        let int_op = match op {
            BinOp::Add => IntOp::Add,
            BinOp::Sub => IntOp::Sub,
            BinOp::Mul => IntOp::Mul,
            BinOp::FloorDiv => IntOp::FloorDiv,
            BinOp::Mod => IntOp::Mod,
            BinOp::LShift => IntOp::Shl,
            BinOp::RShift => IntOp::Shr,
            BinOp::BitAnd if matches!((a, b), (Value::Bool(_), Value::Bool(_))) => {
                return Ok(Value::Bool(a.truthy() & b.truthy()));
            }
            BinOp::BitOr if matches!((a, b), (Value::Bool(_), Value::Bool(_))) => {
                return Ok(Value::Bool(a.truthy() | b.truthy()));
            }
            BinOp::BitXor if matches!((a, b), (Value::Bool(_), Value::Bool(_))) => {
                return Ok(Value::Bool(a.truthy() ^ b.truthy()));
            }
            BinOp::BitAnd => IntOp::And,
            BinOp::BitOr => IntOp::Or,
            BinOp::BitXor => IntOp::Xor,
            BinOp::Div => return num::int_truediv(a, b),
            BinOp::Pow => return num::int_pow(a, b),
            BinOp::MatMul => return Err(unsupported(op.symbol(), a, b)),
        };
        return num::int_op(int_op, a, b);
    }
    if is_number(a) && is_number(b) {
        let float_op = match op {
            BinOp::Add => FloatOp::Add,
            BinOp::Sub => FloatOp::Sub,
            BinOp::Mul => FloatOp::Mul,
            BinOp::Div => FloatOp::Div,
            BinOp::FloorDiv => FloatOp::FloorDiv,
            BinOp::Mod => FloatOp::Mod,
            BinOp::Pow => FloatOp::Pow,
            _ => return Err(unsupported(op.symbol(), a, b)),
        };
        let (Some(x), Some(y)) = (num::to_f64(a), num::to_f64(b)) else {
            return Err(unsupported(op.symbol(), a, b));
        };
        return num::float_op(float_op, x?, y?);
    }
    match (op, a, b) {
        (BinOp::Add, Value::Str(x), Value::Str(y)) => {
            let mut s = String::with_capacity(x.len() + y.len());
            s.push_str(x);
            s.push_str(y);
            Ok(Value::from(s))
        }
        (BinOp::Add, Value::Str(_), _) => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "can only concatenate str (not \"{}\") to str",
                b.type_name()
            ),
        )),
        (BinOp::Add, Value::List(x), Value::List(y)) => {
            let mut v = x.borrow().clone();
            v.extend(y.borrow().iter().cloned());
            Ok(Value::list(v))
        }
        (BinOp::Add, Value::List(_), _) => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "can only concatenate list (not \"{}\") to list",
                b.type_name()
            ),
        )),
        (BinOp::Add, Value::Tuple(x), Value::Tuple(y)) => {
            Ok(Value::tuple(x.iter().chain(y.iter()).cloned().collect()))
        }
        (BinOp::Add, Value::Bytes(x), Value::Bytes(y)) => Ok(Value::Bytes(
            x.iter()
                .chain(y.iter())
                .copied()
                .collect::<Vec<u8>>()
                .into(),
        )),
        (BinOp::Mul, seq, n) | (BinOp::Mul, n, seq) if is_int(n) && is_sequence(seq) => {
            repeat(seq, n)
        }
        (BinOp::BitOr, Value::Dict(x), Value::Dict(y)) => {
            let mut d = x.borrow().clone();
            for (k, v) in y.borrow().iter() {
                d.insert(k.clone(), v.clone())?;
            }
            Ok(Value::dict(d))
        }
        (_, Value::Set(x), Value::Set(y)) => {
            set_op(op, &x.borrow(), &y.borrow()).ok_or_else(|| unsupported(op.symbol(), a, b))?
        }
        (BinOp::Mod, Value::Str(template), args) => {
            Ok(Value::from(super::format::percent_format(template, args)?))
        }
        (_, Value::Object(o), _) => o
            .binary_op(op, b, false)
            .unwrap_or_else(|| Err(unsupported(op.symbol(), a, b))),
        (_, _, Value::Object(o)) => o
            .binary_op(op, a, true)
            .unwrap_or_else(|| Err(unsupported(op.symbol(), a, b))),
        _ => Err(unsupported(op.symbol(), a, b)),
    }
}

fn is_sequence(v: &Value) -> bool {
    matches!(
        v,
        Value::Str(_) | Value::List(_) | Value::Tuple(_) | Value::Bytes(_)
    )
}

fn repeat(seq: &Value, n: &Value) -> JacResult<Value> {
    let count = match n {
        Value::Int(i) => (*i).max(0) as usize,
        Value::Bool(b) => usize::from(*b),
        _ => {
            return Err(Exception::new(
                ExcType::OverflowError,
                "cannot fit 'int' into an index-sized integer",
            ));
        }
    };
    let unit = match seq {
        Value::Str(s) => s.len(),
        Value::List(l) => l.borrow().len(),
        Value::Tuple(t) => t.len(),
        Value::Bytes(b) => b.len(),
        _ => 0,
    };
    if unit.saturating_mul(count) > MAX_REPEAT_LEN {
        return Err(Exception::new(
            ExcType::MemoryError,
            "repeated sequence too large",
        ));
    }
    Ok(match seq {
        Value::Str(s) => Value::from(s.repeat(count)),
        Value::Bytes(b) => Value::Bytes(b.repeat(count).into()),
        Value::List(l) => {
            let items = l.borrow();
            Value::list((0..count).flat_map(|_| items.iter().cloned()).collect())
        }
        Value::Tuple(t) => Value::tuple((0..count).flat_map(|_| t.iter().cloned()).collect()),
        _ => unreachable!("repeat is only called on sequences"),
    })
}

fn set_op(op: BinOp, x: &Set, y: &Set) -> Option<JacResult<Value>> {
    let build = |items: Vec<Value>| Set::from_values(items).map(Value::set);
    let in_y = |v: &Value| y.contains(v).unwrap_or(false);
    let in_x = |v: &Value| x.contains(v).unwrap_or(false);
    Some(match op {
        BinOp::BitOr => build(x.iter().chain(y.iter()).cloned().collect()),
        BinOp::BitAnd => build(x.iter().filter(|v| in_y(v)).cloned().collect()),
        BinOp::Sub => build(x.iter().filter(|v| !in_y(v)).cloned().collect()),
        BinOp::BitXor => build(
            x.iter()
                .filter(|v| !in_y(v))
                .chain(y.iter().filter(|v| !in_x(v)))
                .cloned()
                .collect(),
        ),
        _ => return None,
    })
}

/// Python `a == b` for builtin values (instances compare by identity).
pub fn eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::None, Value::None) => true,
        (x, y) if is_number(x) && is_number(y) => num_cmp(x, y) == Some(Ordering::Equal),
        (Value::Bytes(x), Value::Bytes(y)) => x == y,
        (Value::List(x), Value::List(y)) => Rc::ptr_eq(x, y) || seq_eq(&x.borrow(), &y.borrow()),
        (Value::Tuple(x), Value::Tuple(y)) => seq_eq(x, y),
        (Value::Dict(x), Value::Dict(y)) => Rc::ptr_eq(x, y) || dict_eq(&x.borrow(), &y.borrow()),
        (Value::Set(x), Value::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|v| y.contains(v).unwrap_or(false))
        }
        (Value::Range(x), Value::Range(y)) => {
            let (lx, ly) = (x.len(), y.len());
            lx == ly && (lx == 0 || (x.start == y.start && (lx == 1 || x.step == y.step)))
        }
        (Value::Slice(x), Value::Slice(y)) => {
            eq(&x.start, &y.start) && eq(&x.stop, &y.stop) && eq(&x.step, &y.step)
        }
        (Value::BoundMethod(x), Value::BoundMethod(y)) => {
            x.receiver.is(&y.receiver) && x.function.is(&y.function)
        }
        (Value::Object(x), other) | (other, Value::Object(x)) => a.is(b) || x.eq(other),
        _ => a.is(b),
    }
}

fn seq_eq(x: &[Value], y: &[Value]) -> bool {
    x.len() == y.len() && x.iter().zip(y).all(|(a, b)| eq(a, b))
}

fn dict_eq(x: &Dict, y: &Dict) -> bool {
    x.len() == y.len()
        && x.iter()
            .all(|(k, v)| matches!(y.get(k), Ok(Some(w)) if eq(v, &w)))
}

/// Numeric ordering across int/bool/float (`None` when a NaN is involved).
fn num_cmp(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y),
        (Value::Float(x), other) => int_float_cmp(other, *x).map(Ordering::reverse),
        (other, Value::Float(y)) => int_float_cmp(other, *y),
        _ => {
            if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
                return Some(x.cmp(&y));
            }
            Some(num::to_bigint(a)?.cmp(&num::to_bigint(b)?))
        }
    }
}

fn int_float_cmp(int: &Value, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f.is_infinite() {
        return Some(if f > 0.0 {
            Ordering::Less
        } else {
            Ordering::Greater
        });
    }
    let n = num::to_bigint(int)?;
    let floor = num_bigint::BigInt::from(f.floor().to_i128().unwrap_or_default());
    match n.cmp(&floor) {
        Ordering::Equal if f.fract() != 0.0 => Some(Ordering::Less),
        ord => Some(ord),
    }
}

/// Python ordering for `<`, `<=`, `>`, `>=`; `Ok(None)` when unordered (NaN).
pub fn compare(a: &Value, b: &Value, op: CmpOp) -> JacResult<Option<Ordering>> {
    if is_number(a) && is_number(b) {
        return Ok(num_cmp(a, b));
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(Some(x.cmp(y))),
        (Value::Bytes(x), Value::Bytes(y)) => Ok(Some(x.cmp(y))),
        (Value::List(x), Value::List(y)) => seq_cmp(&x.borrow().clone(), &y.borrow().clone(), op),
        (Value::Tuple(x), Value::Tuple(y)) => seq_cmp(x, y, op),
        (Value::Set(x), Value::Set(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            let sub = x.iter().all(|v| y.contains(v).unwrap_or(false));
            let sup = y.iter().all(|v| x.contains(v).unwrap_or(false));
            Ok(match (sub, sup) {
                (true, true) => Some(Ordering::Equal),
                (true, false) => Some(Ordering::Less),
                (false, true) => Some(Ordering::Greater),
                (false, false) => None,
            })
        }
        (Value::Object(o), other) => o
            .compare(other)
            .map(Some)
            .ok_or_else(|| not_orderable(op, a, b)),
        (other, Value::Object(o)) => o
            .compare(other)
            .map(|ord| Some(ord.reverse()))
            .ok_or_else(|| not_orderable(op, a, b)),
        _ => Err(not_orderable(op, a, b)),
    }
}

fn not_orderable(op: CmpOp, a: &Value, b: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!(
            "'{}' not supported between instances of '{}' and '{}'",
            op.symbol(),
            a.type_name(),
            b.type_name()
        ),
    )
}

fn seq_cmp(x: &[Value], y: &[Value], op: CmpOp) -> JacResult<Option<Ordering>> {
    for (a, b) in x.iter().zip(y) {
        if !eq(a, b) {
            return compare(a, b, op);
        }
    }
    Ok(Some(x.len().cmp(&y.len())))
}

/// Evaluates an ordering comparison to a bool.
pub fn ordering_holds(op: CmpOp, ord: Option<Ordering>) -> bool {
    match (op, ord) {
        (_, None) => false,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::LtE, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::GtE, Some(o)) => o != Ordering::Less,
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::NotEq, Some(o)) => o != Ordering::Equal,
        _ => false,
    }
}

/// Python `item in container` for builtin containers.
pub fn contains(container: &Value, item: &Value) -> JacResult<bool> {
    match container {
        Value::Str(s) => match item {
            Value::Str(sub) => Ok(s.contains(&**sub)),
            _ => Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "'in <string>' requires string as left operand, not {}",
                    item.type_name()
                ),
            )),
        },
        Value::List(l) => Ok(l.borrow().iter().any(|v| eq(v, item))),
        Value::Tuple(t) => Ok(t.iter().any(|v| eq(v, item))),
        Value::Dict(d) => d.borrow().contains(item),
        Value::Set(s) => s.borrow().contains(item),
        Value::Bytes(b) => match item {
            Value::Bytes(sub) => Ok(sub.is_empty() || b.windows(sub.len()).any(|w| w == &sub[..])),
            Value::Int(i) => Ok(b.iter().any(|c| i64::from(*c) == *i)),
            _ => Err(Exception::new(
                ExcType::TypeError,
                "a bytes-like object is required",
            )),
        },
        Value::Range(r) => Ok(match item.as_i64() {
            Some(i) => {
                let in_bounds = if r.step > 0 {
                    r.start <= i && i < r.stop
                } else {
                    r.stop < i && i <= r.start
                };
                in_bounds && (i - r.start) % r.step == 0
            }
            None => false,
        }),
        Value::Iter(it) => Ok(it.borrow_mut().any(|v| eq(&v, item))),
        Value::Object(o) => match o.iterate() {
            Some(items) => Ok(items.iter().any(|v| eq(v, item))),
            None => Err(not_iterable(container)),
        },
        _ => Err(not_iterable(container)),
    }
}

/// `TypeError: argument of type 'X' is not iterable`.
pub fn not_iterable(v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("argument of type '{}' is not iterable", v.type_name()),
    )
}

/// Unary minus.
pub fn neg(v: &Value) -> JacResult<Value> {
    match v {
        Value::Int(i) => Ok(i
            .checked_neg()
            .map_or_else(|| num::int_value(-num_bigint::BigInt::from(*i)), Value::Int)),
        Value::Bool(b) => Ok(Value::Int(-i64::from(*b))),
        Value::BigInt(b) => Ok(num::int_value(-(**b).clone())),
        Value::Float(f) => Ok(Value::Float(-f)),
        Value::Object(o) => o
            .binary_op(BinOp::Sub, &Value::Int(0), true)
            .unwrap_or_else(|| Err(bad_unary("-", v))),
        _ => Err(bad_unary("-", v)),
    }
}

/// Unary plus.
pub fn pos(v: &Value) -> JacResult<Value> {
    match v {
        Value::Bool(b) => Ok(Value::Int(i64::from(*b))),
        Value::Int(_) | Value::BigInt(_) | Value::Float(_) => Ok(v.clone()),
        _ => Err(bad_unary("+", v)),
    }
}

/// Bitwise inversion `~`.
pub fn invert(v: &Value) -> JacResult<Value> {
    match v {
        Value::Int(i) => Ok(Value::Int(!i)),
        Value::Bool(b) => Ok(Value::Int(!i64::from(*b))),
        Value::BigInt(b) => Ok(num::int_value(-(**b).clone() - 1)),
        _ => Err(bad_unary("~", v)),
    }
}

fn bad_unary(op: &str, v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("bad operand type for unary {op}: '{}'", v.type_name()),
    )
}
