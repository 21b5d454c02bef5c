//! `datetime.timedelta`: microseconds.

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;

use super::{MAX_DELTA_DAYS, Types, US_PER_DAY, US_PER_SEC, downcast, hash_of, overflow};
use crate::value::ops::BinOp;
use crate::value::{Class, ExcType, Exception, JacResult, NativeFn, NativeObject, Value};

/// A `datetime.timedelta`.
pub(super) struct TimeDelta {
    pub(super) micros: i64,
    pub(super) types: Rc<Types>,
}

/// `datetime.timedelta(days=1, seconds=5)` (Python 3.7+ form).
pub(super) fn delta_repr(micros: i64) -> String {
    let days = micros.div_euclid(US_PER_DAY);
    let rem = micros.rem_euclid(US_PER_DAY);
    let mut parts = Vec::new();
    if days != 0 {
        parts.push(format!("days={days}"));
    }
    if rem / US_PER_SEC != 0 {
        parts.push(format!("seconds={}", rem / US_PER_SEC));
    }
    if rem % US_PER_SEC != 0 {
        parts.push(format!("microseconds={}", rem % US_PER_SEC));
    }
    if parts.is_empty() {
        parts.push("0".into());
    }
    format!("datetime.timedelta({})", parts.join(", "))
}

impl NativeObject for TimeDelta {
    fn type_name(&self) -> &str {
        "timedelta"
    }

    fn repr(&self) -> String {
        delta_repr(self.micros)
    }

    fn str(&self) -> String {
        let days = self.micros.div_euclid(US_PER_DAY);
        let rem = self.micros.rem_euclid(US_PER_DAY);
        let secs = rem / US_PER_SEC;
        let mut s = String::new();
        if days != 0 {
            let plural = if days.abs() != 1 { "s" } else { "" };
            s.push_str(&format!("{days} day{plural}, "));
        }
        s.push_str(&format!(
            "{}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ));
        if rem % US_PER_SEC != 0 {
            s.push_str(&format!(".{:06}", rem % US_PER_SEC));
        }
        s
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        let rem = self.micros.rem_euclid(US_PER_DAY);
        match name {
            "days" => Some(Value::Int(self.micros.div_euclid(US_PER_DAY))),
            "seconds" => Some(Value::Int(rem / US_PER_SEC)),
            "microseconds" => Some(Value::Int(rem % US_PER_SEC)),
            "total_seconds" => Some(NativeFn::method(name, this.clone(), |_, args| {
                let me = downcast::<TimeDelta>(&args.positional[0]).expect("bound to a timedelta");
                Ok(Value::Float(me.micros as f64 / US_PER_SEC as f64))
            })),
            _ => None,
        }
    }

    fn eq(&self, other: &Value) -> bool {
        downcast::<TimeDelta>(other).is_some_and(|o| o.micros == self.micros)
    }

    fn hash(&self) -> Option<u64> {
        Some(hash_of(("timedelta", self.micros)))
    }

    fn compare(&self, other: &Value) -> Option<Ordering> {
        downcast::<TimeDelta>(other).map(|o| self.micros.cmp(&o.micros))
    }

    fn truthy(&self) -> bool {
        self.micros != 0
    }

    /// Responses carry timedeltas as total seconds (FastAPI's encoding).
    fn to_json(&self) -> serde_json::Value {
        serde_json::Number::from_f64(self.micros as f64 / US_PER_SEC as f64)
            .map_or(serde_json::Value::Null, serde_json::Value::Number)
    }

    fn binary_op(&self, op: BinOp, other: &Value, reflected: bool) -> Option<JacResult<Value>> {
        let t = &self.types;
        if let Some(o) = downcast::<TimeDelta>(other) {
            let (a, b) = if reflected {
                (o.micros, self.micros)
            } else {
                (self.micros, o.micros)
            };
            let zero = || {
                Exception::new(
                    ExcType::ZeroDivisionError,
                    "integer division or modulo by zero",
                )
            };
            return Some(match op {
                BinOp::Add => a
                    .checked_add(b)
                    .ok_or_else(overflow)
                    .and_then(|m| t.delta(m)),
                BinOp::Sub => a
                    .checked_sub(b)
                    .ok_or_else(overflow)
                    .and_then(|m| t.delta(m)),
                BinOp::Div if b == 0 => Err(Exception::new(
                    ExcType::ZeroDivisionError,
                    "division by zero",
                )),
                BinOp::Div => Ok(Value::Float(a as f64 / b as f64)),
                BinOp::FloorDiv if b == 0 => Err(zero()),
                BinOp::FloorDiv => Ok(Value::Int(a.div_euclid(b))),
                BinOp::Mod if b == 0 => Err(zero()),
                BinOp::Mod => t.delta(a.rem_euclid(b)),
                _ => return None,
            });
        }
        let factor = match other {
            Value::Int(i) => Some(*i as f64),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Float(f) => Some(*f),
            _ => None,
        }?;
        Some(match (op, reflected) {
            (BinOp::Mul, _) => scale(t, self.micros as f64 * factor),
            (BinOp::Div, false) if factor == 0.0 => Err(Exception::new(
                ExcType::ZeroDivisionError,
                "division by zero",
            )),
            (BinOp::Div, false) => scale(t, self.micros as f64 / factor),
            (BinOp::FloorDiv, false) if factor == 0.0 => Err(Exception::new(
                ExcType::ZeroDivisionError,
                "integer division or modulo by zero",
            )),
            (BinOp::FloorDiv, false) => scale(t, (self.micros as f64 / factor).floor()),
            _ => return None,
        })
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.types.timedelta.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A timedelta of `micros` rounded half-to-even, with overflow checks.
pub(super) fn scale(t: &Rc<Types>, micros: f64) -> JacResult<Value> {
    if !micros.is_finite() || micros.abs() > (MAX_DELTA_DAYS + 1) as f64 * US_PER_DAY as f64 {
        return Err(Exception::new(
            ExcType::OverflowError,
            "timedelta value out of range",
        ));
    }
    t.delta(micros.round_ties_even() as i64)
}
