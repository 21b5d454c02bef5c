//! `math`: constants and the common functions, with Python's errors
//! (`ValueError: math domain error`) and int results for `floor`/`ceil`/`trunc`.

use std::rc::Rc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{FromPrimitive, One, Signed, Zero};

use super::{arg_f64, def, value_error};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::num::{int_value, to_bigint};
use crate::value::{Args, ExcType, Exception, JacResult, Module, Value};

/// Largest `n` accepted by `factorial` (bounds the allocation a guest can ask for).
const MAX_FACTORIAL: u64 = 10_000;

fn domain_error() -> Exception {
    value_error("math domain error")
}

/// A float result, raising `ValueError` for NaN from a non-NaN input and
/// `OverflowError` for an infinite result from finite input.
fn checked(x: f64, result: f64) -> JacResult<Value> {
    if result.is_nan() && !x.is_nan() {
        return Err(domain_error());
    }
    if result.is_infinite() && x.is_finite() {
        return Err(Exception::new(ExcType::OverflowError, "math range error"));
    }
    Ok(Value::Float(result))
}

/// Registers a one-argument float function.
fn unary(module: &Module, name: &'static str, f: fn(f64) -> f64) {
    def(module, name, move |_, args| {
        let x = arg_f64(&args, 0, "x", name)?;
        checked(x, f(x))
    });
}

/// An int argument as a big integer.
fn arg_int(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<BigInt> {
    let v = args.required(i, name, fname)?;
    match v {
        Value::Float(_) => Err(Exception::new(
            ExcType::TypeError,
            "'float' object cannot be interpreted as an integer",
        )),
        _ => to_bigint(&v).ok_or_else(|| type_error(fname, name, &v)),
    }
}

/// `floor` / `ceil` / `trunc`: ints pass through, floats round to an int.
fn rounding(module: &Module, name: &'static str, f: fn(f64) -> f64) {
    def(module, name, move |_, args| {
        let v = args.required(0, "x", name)?;
        if let Value::Int(_) | Value::BigInt(_) | Value::Bool(_) = v {
            return Ok(int_value(to_bigint(&v).unwrap_or_default()));
        }
        let x = arg_f64(&args, 0, "x", name)?;
        if x.is_nan() {
            return Err(value_error("cannot convert float NaN to integer"));
        }
        if x.is_infinite() {
            return Err(Exception::new(
                ExcType::OverflowError,
                "cannot convert float infinity to integer",
            ));
        }
        Ok(int_value(BigInt::from_f64(f(x)).unwrap_or_default()))
    });
}

/// Builds the `math` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("math"));
    module.set("pi", Value::Float(std::f64::consts::PI));
    module.set("e", Value::Float(std::f64::consts::E));
    module.set("tau", Value::Float(std::f64::consts::TAU));
    module.set("inf", Value::Float(f64::INFINITY));
    module.set("nan", Value::Float(f64::NAN));
    rounding(&module, "floor", f64::floor);
    rounding(&module, "ceil", f64::ceil);
    rounding(&module, "trunc", f64::trunc);
    unary(&module, "sqrt", f64::sqrt);
    unary(&module, "exp", f64::exp);
    unary(&module, "log10", f64::log10);
    unary(&module, "log2", f64::log2);
    unary(&module, "fabs", f64::abs);
    unary(&module, "sin", f64::sin);
    unary(&module, "cos", f64::cos);
    unary(&module, "tan", f64::tan);
    unary(&module, "asin", f64::asin);
    unary(&module, "acos", f64::acos);
    unary(&module, "atan", f64::atan);
    unary(&module, "sinh", f64::sinh);
    unary(&module, "cosh", f64::cosh);
    unary(&module, "tanh", f64::tanh);
    unary(&module, "degrees", f64::to_degrees);
    unary(&module, "radians", f64::to_radians);
    def(&module, "log", |_, args| {
        let x = arg_f64(&args, 0, "x", "log")?;
        if x <= 0.0 {
            return Err(domain_error());
        }
        match args.get(1, "base") {
            None => checked(x, x.ln()),
            Some(_) => {
                let base = arg_f64(&args, 1, "base", "log")?;
                if base <= 0.0 || base == 1.0 {
                    return Err(domain_error());
                }
                checked(x, x.ln() / base.ln())
            }
        }
    });
    def(&module, "pow", |_, args| {
        let x = arg_f64(&args, 0, "x", "pow")?;
        let y = arg_f64(&args, 1, "y", "pow")?;
        checked(x, x.powf(y))
    });
    def(&module, "atan2", |_, args| {
        Ok(Value::Float(
            arg_f64(&args, 0, "y", "atan2")?.atan2(arg_f64(&args, 1, "x", "atan2")?),
        ))
    });
    def(&module, "hypot", |_, args| {
        let mut total = 0.0_f64;
        for i in 0..args.len() {
            total = total.hypot(arg_f64(&args, i, "x", "hypot")?);
        }
        Ok(Value::Float(total))
    });
    def(&module, "copysign", |_, args| {
        Ok(Value::Float(
            arg_f64(&args, 0, "x", "copysign")?.copysign(arg_f64(&args, 1, "y", "copysign")?),
        ))
    });
    def(&module, "fmod", |_, args| {
        let x = arg_f64(&args, 0, "x", "fmod")?;
        let y = arg_f64(&args, 1, "y", "fmod")?;
        if y == 0.0 {
            return Err(domain_error());
        }
        Ok(Value::Float(x % y))
    });
    def(&module, "isnan", |_, args| {
        Ok(Value::Bool(arg_f64(&args, 0, "x", "isnan")?.is_nan()))
    });
    def(&module, "isinf", |_, args| {
        Ok(Value::Bool(arg_f64(&args, 0, "x", "isinf")?.is_infinite()))
    });
    def(&module, "isfinite", |_, args| {
        Ok(Value::Bool(arg_f64(&args, 0, "x", "isfinite")?.is_finite()))
    });
    def(&module, "isclose", |_, args| {
        let a = arg_f64(&args, 0, "a", "isclose")?;
        let b = arg_f64(&args, 1, "b", "isclose")?;
        let rel = args
            .kw("rel_tol")
            .map_or(Ok(1e-9), |_| arg_f64(&args, 99, "rel_tol", "isclose"))?;
        let abs = args
            .kw("abs_tol")
            .map_or(Ok(0.0), |_| arg_f64(&args, 99, "abs_tol", "isclose"))?;
        Ok(Value::Bool(
            a == b || (a - b).abs() <= (rel * a.abs().max(b.abs())).max(abs),
        ))
    });
    def(&module, "fsum", |vm, args| {
        let items = vm.iterate(&args.required(0, "seq", "fsum")?)?;
        let mut sum = 0.0_f64;
        let mut compensation = 0.0_f64;
        for item in &items {
            let x = super::as_f64(item).ok_or_else(|| type_error("fsum", "seq", item))??;
            // Neumaier summation.
            let t = sum + x;
            compensation += if sum.abs() >= x.abs() {
                (sum - t) + x
            } else {
                (x - t) + sum
            };
            sum = t;
        }
        Ok(Value::Float(sum + compensation))
    });
    def(&module, "factorial", |_, args| {
        let n = arg_int(&args, 0, "n", "factorial")?;
        if n.is_negative() {
            return Err(value_error("factorial() not defined for negative values"));
        }
        let n = u64::try_from(&n).ok().filter(|&n| n <= MAX_FACTORIAL);
        let Some(n) = n else {
            return Err(Exception::new(
                ExcType::OverflowError,
                format!("factorial() argument should not exceed {MAX_FACTORIAL}"),
            ));
        };
        Ok(int_value((1..=n).fold(BigInt::one(), |acc, k| acc * k)))
    });
    def(&module, "gcd", |_, args| {
        let mut g = BigInt::zero();
        for i in 0..args.len() {
            g = g.gcd(&arg_int(&args, i, "x", "gcd")?);
        }
        Ok(int_value(g))
    });
    def(&module, "lcm", |_, args| {
        let mut l = BigInt::one();
        for i in 0..args.len() {
            l = l.lcm(&arg_int(&args, i, "x", "lcm")?);
        }
        Ok(int_value(l))
    });
    def(&module, "comb", |_, args| {
        let n = arg_int(&args, 0, "n", "comb")?;
        let k = arg_int(&args, 1, "k", "comb")?;
        if n.is_negative() || k.is_negative() {
            return Err(value_error("n must be a non-negative integer"));
        }
        if k > n {
            return Ok(Value::Int(0));
        }
        let k = u64::try_from(&k.clone().min(&n - &k))
            .map_err(|_| Exception::new(ExcType::OverflowError, "comb() too large"))?;
        let mut result = BigInt::one();
        for i in 0..k {
            result = result * (&n - i) / (i + 1);
        }
        Ok(int_value(result))
    });
    def(&module, "prod", |vm, args| {
        let items = vm.iterate(&args.required(0, "iterable", "prod")?)?;
        let mut acc = args.kw("start").unwrap_or(Value::Int(1));
        for item in &items {
            acc = vm.binary(crate::value::ops::BinOp::Mul, &acc, item)?;
        }
        Ok(acc)
    });
    Ok(module)
}
