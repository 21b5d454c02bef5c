//! Numbers: `abs`, `min`/`max`, `sum`, `round`, `divmod`, `pow`, `ord`/`chr`, `hex`/`oct`/`bin`.

use crate::interp::Interpreter;
use crate::value::format::format_value;
use crate::value::{Args, ExcType, Exception, JacResult, Value, num, ops, repr};

use super::{Builtin, int_arg};

pub(super) const TABLE: &[(&str, Builtin)] = &[
    ("abs", abs),
    ("min", min),
    ("max", max),
    ("sum", sum),
    ("round", round),
    ("divmod", divmod),
    ("pow", pow),
    ("ord", ord),
    ("chr", chr),
    ("hex", hex),
    ("oct", oct),
    ("bin", bin),
];

/// `min`/`max` over one iterable or several arguments, with `key` and `default`.
fn extremum(vm: &mut Interpreter, args: Args, want_max: bool) -> JacResult<Value> {
    let fname = if want_max { "max" } else { "min" };
    let items = if args.len() == 1 {
        vm.iterate(&args.positional[0])?
    } else {
        args.positional.clone()
    };
    let key = args.kw("key").filter(|k| !matches!(k, Value::None));
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = match &key {
            Some(f) => vm.call_value(f, Args::new(vec![item.clone()]))?,
            None => item.clone(),
        };
        let better = match &best {
            None => true,
            Some((_, bk)) => {
                let op = if want_max {
                    crate::syntax::ast::CmpOp::Gt
                } else {
                    crate::syntax::ast::CmpOp::Lt
                };
                vm.compare(op, &k, bk)?
            }
        };
        if better {
            best = Some((item, k));
        }
    }
    match (best, args.kw("default")) {
        (Some((v, _)), _) => Ok(v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Exception::new(
            ExcType::ValueError,
            format!("{fname}() arg is an empty sequence"),
        )),
    }
}

fn sum(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let mut acc = args.get(1, "start").unwrap_or(Value::Int(0));
    for item in vm.iterate(&args.required(0, "iterable", "sum")?)? {
        acc = vm.binary(ops::BinOp::Add, &acc, &item)?;
    }
    Ok(acc)
}

fn round_number(args: Args) -> JacResult<Value> {
    let x = args.required(0, "number", "round")?;
    let nd = args.get(1, "ndigits").filter(|v| !matches!(v, Value::None));
    match (&x, nd) {
        (Value::Float(f), None) => {
            let r = f.round_ties_even();
            if !r.is_finite() {
                return Err(Exception::new(
                    ExcType::OverflowError,
                    "cannot convert float infinity to integer",
                ));
            }
            Ok(num::int_value(
                num_traits::FromPrimitive::from_f64(r).unwrap_or_default(),
            ))
        }
        (Value::Float(f), Some(n)) => Ok(Value::Float(num::round_float(*f, int_arg(&n, "round")?))),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), None) => Ok(ops::pos(&x)?),
        (Value::Int(i), Some(n)) => {
            let n = int_arg(&n, "round")?;
            if n >= 0 {
                return Ok(Value::Int(*i));
            }
            let p = 10i64.checked_pow((-n) as u32).unwrap_or(i64::MAX);
            let q = *i as f64 / p as f64;
            Ok(Value::Int((q.round_ties_even() as i64).saturating_mul(p)))
        }
        _ => Err(Exception::new(
            ExcType::TypeError,
            format!("type {} doesn't define __round__ method", x.type_name()),
        )),
    }
}

fn abs(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    match a.required(0, "x", "abs")? {
        Value::Float(f) => Ok(Value::Float(f.abs())),
        v @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) => {
            if ops::compare(&v, &Value::Int(0), crate::syntax::ast::CmpOp::Lt)?
                == Some(std::cmp::Ordering::Less)
            {
                ops::neg(&v)
            } else {
                ops::pos(&v)
            }
        }
        other => Err(Exception::new(
            ExcType::TypeError,
            format!("bad operand type for abs(): '{}'", other.type_name()),
        )),
    }
}

fn min(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    extremum(vm, a, false)
}

fn max(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    extremum(vm, a, true)
}

fn round(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    round_number(a)
}

fn divmod(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    a.check("divmod", 2, 2)?;
    let q = vm.binary(ops::BinOp::FloorDiv, &a.positional[0], &a.positional[1])?;
    let r = vm.binary(ops::BinOp::Mod, &a.positional[0], &a.positional[1])?;
    Ok(Value::tuple(vec![q, r]))
}

fn pow(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    a.check("pow", 2, 3)?;
    let p = vm.binary(ops::BinOp::Pow, &a.positional[0], &a.positional[1])?;
    match a.positional.get(2) {
        Some(m) => vm.binary(ops::BinOp::Mod, &p, m),
        None => Ok(p),
    }
}

fn ord(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    match a.required(0, "c", "ord")? {
        Value::Str(s) if s.chars().count() == 1 => {
            Ok(Value::Int(s.chars().next().map_or(0, |c| c as i64)))
        }
        other => Err(Exception::new(
            ExcType::TypeError,
            format!("ord() expected a character, but got {}", repr::repr(&other)),
        )),
    }
}

fn chr(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let i = int_arg(&a.required(0, "i", "chr")?, "chr")?;
    let c = u32::try_from(i).ok().and_then(char::from_u32);
    c.map(|c| Value::from(c.to_string()))
        .ok_or_else(|| Exception::new(ExcType::ValueError, "chr() arg not in range(0x110000)"))
}

fn hex(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::from(format_value(
        &a.required(0, "x", "hex")?,
        "#x",
    )?))
}

fn oct(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::from(format_value(
        &a.required(0, "x", "oct")?,
        "#o",
    )?))
}

fn bin(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::from(format_value(
        &a.required(0, "x", "bin")?,
        "#b",
    )?))
}
