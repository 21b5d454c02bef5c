//! Numbers: arbitrary-precision `int` with an `i64` fast path, and `float`
//! with Python's `repr` and division/modulo rules.

use std::rc::Rc;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::{ExcType, Exception, JacResult, Value};

/// The normalised `int` value of `n` (small form when it fits in `i64`).
pub fn int_value(n: BigInt) -> Value {
    match n.to_i64() {
        Some(i) => Value::Int(i),
        None => Value::BigInt(Rc::new(n)),
    }
}

/// The integer value of an `int` or `bool`.
pub fn to_bigint(v: &Value) -> Option<BigInt> {
    match v {
        Value::Int(i) => Some(BigInt::from(*i)),
        Value::Bool(b) => Some(BigInt::from(i64::from(*b))),
        Value::BigInt(b) => Some((**b).clone()),
        _ => None,
    }
}

/// Converts a big integer to `f64`, raising `OverflowError` when too large.
pub fn big_to_f64(n: &BigInt) -> JacResult<f64> {
    match n.to_f64() {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(Exception::new(
            ExcType::OverflowError,
            "int too large to convert to float",
        )),
    }
}

/// The numeric value as `f64` for `int`, `bool` and `float`.
pub fn to_f64(v: &Value) -> Option<JacResult<f64>> {
    match v {
        Value::Int(i) => Some(Ok(*i as f64)),
        Value::Bool(b) => Some(Ok(f64::from(u8::from(*b)))),
        Value::BigInt(b) => Some(big_to_f64(b)),
        Value::Float(f) => Some(Ok(*f)),
        _ => None,
    }
}

/// An integer binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `&`
    And,
    /// `|`
    Or,
    /// `^`
    Xor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

/// Largest shift count accepted for `<<`, to bound allocations.
const MAX_SHIFT: u64 = 1 << 20;

/// Applies an integer operator with Python semantics (overflow promotes to big).
pub fn int_op(op: IntOp, a: &Value, b: &Value) -> JacResult<Value> {
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        let fast = match op {
            IntOp::Add => x.checked_add(y),
            IntOp::Sub => x.checked_sub(y),
            IntOp::Mul => x.checked_mul(y),
            IntOp::FloorDiv | IntOp::Mod if y == 0 => {
                let msg = if op == IntOp::Mod {
                    "integer modulo by zero"
                } else {
                    "integer division or modulo by zero"
                };
                return Err(Exception::new(ExcType::ZeroDivisionError, msg));
            }
            IntOp::FloorDiv => (!(x == i64::MIN && y == -1)).then(|| Integer::div_floor(&x, &y)),
            IntOp::Mod => (!(x == i64::MIN && y == -1)).then(|| x.mod_floor(&y)),
            IntOp::And => Some(x & y),
            IntOp::Or => Some(x | y),
            IntOp::Xor => Some(x ^ y),
            IntOp::Shl | IntOp::Shr if y < 0 => {
                return Err(Exception::new(ExcType::ValueError, "negative shift count"));
            }
            IntOp::Shl => (y < 63).then(|| x.checked_mul(1i64 << y)).flatten(),
            IntOp::Shr => Some(if y >= 64 {
                if x < 0 { -1 } else { 0 }
            } else {
                x >> y
            }),
        };
        if let Some(r) = fast {
            return Ok(Value::Int(r));
        }
    }
    let (Some(x), Some(y)) = (to_bigint(a), to_bigint(b)) else {
        return Err(Exception::new(
            ExcType::TypeError,
            "unsupported operand types for int operation",
        ));
    };
    let r = match op {
        IntOp::Add => x + y,
        IntOp::Sub => x - y,
        IntOp::Mul => x * y,
        IntOp::FloorDiv | IntOp::Mod if y.is_zero() => {
            return Err(Exception::new(
                ExcType::ZeroDivisionError,
                "integer division or modulo by zero",
            ));
        }
        IntOp::FloorDiv => x.div_floor(&y),
        IntOp::Mod => x.mod_floor(&y),
        IntOp::And => x & y,
        IntOp::Or => x | y,
        IntOp::Xor => x ^ y,
        IntOp::Shl | IntOp::Shr if y.is_negative() => {
            return Err(Exception::new(ExcType::ValueError, "negative shift count"));
        }
        IntOp::Shl => match y.to_u64().filter(|s| *s <= MAX_SHIFT) {
            Some(s) => x << s,
            None => {
                return Err(Exception::new(
                    ExcType::OverflowError,
                    "shift count too large",
                ));
            }
        },
        IntOp::Shr => match y.to_u64() {
            Some(s) => x >> s,
            None => {
                if x.is_negative() {
                    -BigInt::one()
                } else {
                    BigInt::zero()
                }
            }
        },
    };
    Ok(int_value(r))
}

/// Largest exponent accepted for `int ** int`, to bound allocations.
const MAX_POW_BITS: u64 = 1 << 24;

/// `a ** b` for two ints (negative exponents give a float).
pub fn int_pow(a: &Value, b: &Value) -> JacResult<Value> {
    let (Some(base), Some(exp)) = (to_bigint(a), to_bigint(b)) else {
        return Err(Exception::new(
            ExcType::TypeError,
            "unsupported operand types for **",
        ));
    };
    if exp.is_negative() {
        let (f, e) = (big_to_f64(&base)?, big_to_f64(&exp)?);
        if f == 0.0 {
            return Err(Exception::new(
                ExcType::ZeroDivisionError,
                "0.0 cannot be raised to a negative power",
            ));
        }
        return Ok(Value::Float(f.powf(e)));
    }
    if let (Some(x), Some(e)) = (base.to_i64(), exp.to_u32())
        && let Some(r) = x.checked_pow(e)
    {
        return Ok(Value::Int(r));
    }
    let e = exp.to_u64().unwrap_or(u64::MAX);
    let bits = base.bits().max(1);
    if base.abs() > BigInt::one() && bits.saturating_mul(e) > MAX_POW_BITS {
        return Err(Exception::new(
            ExcType::OverflowError,
            "integer power result too large",
        ));
    }
    let e32 = u32::try_from(e)
        .map_err(|_| Exception::new(ExcType::OverflowError, "exponent too large"))?;
    Ok(int_value(num_traits::pow(base, e32 as usize)))
}

/// A float binary operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
}

/// Applies a float operator with Python semantics.
pub fn float_op(op: FloatOp, x: f64, y: f64) -> JacResult<Value> {
    let zero_div = |msg: &str| Err(Exception::new(ExcType::ZeroDivisionError, msg));
    let r = match op {
        FloatOp::Add => x + y,
        FloatOp::Sub => x - y,
        FloatOp::Mul => x * y,
        FloatOp::Div if y == 0.0 => return zero_div("division by zero"),
        FloatOp::Div => x / y,
        FloatOp::FloorDiv if y == 0.0 => return zero_div("float floor division by zero"),
        FloatOp::FloorDiv => (x / y).floor(),
        FloatOp::Mod if y == 0.0 => return zero_div("float modulo"),
        FloatOp::Mod => {
            let m = x % y;
            if m != 0.0 && (m < 0.0) != (y < 0.0) {
                m + y
            } else if m == 0.0 {
                0.0f64.copysign(y)
            } else {
                m
            }
        }
        FloatOp::Pow if x == 0.0 && y < 0.0 => {
            return zero_div("0.0 cannot be raised to a negative power");
        }
        FloatOp::Pow => {
            if x < 0.0 && y.fract() != 0.0 {
                return Err(Exception::new(
                    ExcType::ValueError,
                    "complex results of ** on negative floats are not supported",
                ));
            }
            x.powf(y)
        }
    };
    Ok(Value::Float(r))
}

/// `a / b` for ints: true division.
pub fn int_truediv(a: &Value, b: &Value) -> JacResult<Value> {
    let (Some(x), Some(y)) = (to_f64(a), to_f64(b)) else {
        return Err(Exception::new(
            ExcType::TypeError,
            "unsupported operand types for /",
        ));
    };
    float_op(FloatOp::Div, x?, y?)
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation
/// outside `1e-4 <= |x| < 1e16`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // `{:e}` gives the shortest round-trip digits as `d.ddde<exp>`.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let n = digits.len() as i32;
        let body = if exp >= n - 1 {
            format!("{digits}{}.0", "0".repeat((exp - n + 1) as usize))
        } else if exp >= 0 {
            let (int, frac) = digits.split_at((exp + 1) as usize);
            format!("{int}.{frac}")
        } else {
            format!("0.{}{digits}", "0".repeat((-exp - 1) as usize))
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{esign}{:02}", exp.abs())
    }
}

/// Parses a Python `int` literal text (`int("  -12 ")`, with `base`; base 0 reads prefixes).
pub fn parse_int(text: &str, base: u32) -> Option<BigInt> {
    let t = text.trim().replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest.to_string()),
        None => (false, t.strip_prefix('+').unwrap_or(&t).to_string()),
    };
    let lower = t.to_ascii_lowercase();
    let (radix, digits) = match (base, lower.get(..2)) {
        (0 | 16, Some("0x")) => (16, &lower[2..]),
        (0 | 8, Some("0o")) => (8, &lower[2..]),
        (0 | 2, Some("0b")) => (2, &lower[2..]),
        (0, _) => (10, lower.as_str()),
        (b, _) => (b, lower.as_str()),
    };
    if digits.is_empty() || !(2..=36).contains(&radix) {
        return None;
    }
    let n = BigInt::parse_bytes(digits.as_bytes(), radix)?;
    Some(if neg { -n } else { n })
}

/// Parses a Python `float` text (`float(" 1.5 ")`, `"inf"`, `"nan"`, `"1e3"`).
pub fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim().replace('_', "");
    match t.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        s if s
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) =>
        {
            s.parse().ok()
        }
        _ => None,
    }
}

/// Python's `round(x, ndigits)` for floats (round-half-even on the decimal value).
pub fn round_float(x: f64, ndigits: i64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if ndigits > 300 {
        return x;
    }
    // Format with enough precision and let the decimal string decide, as CPython does.
    let digits = ndigits.clamp(-308, 300);
    if digits >= 0 {
        let s = format!("{:.*}", digits as usize, x);
        // `format!` rounds half-to-even on the exact binary value, which matches CPython.
        s.parse().unwrap_or(x)
    } else {
        let p = 10f64.powi((-digits) as i32);
        let q = x / p;
        let r = q.round();
        let r = if (q - q.trunc()).abs() == 0.5 {
            2.0 * (q / 2.0).round()
        } else {
            r
        };
        r * p
    }
}
