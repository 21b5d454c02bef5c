//! `datetime.date`: days since 1970-01-01.

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;

use super::calendar::{civil_from_days, weekday};
use super::format::{Parts, strftime};
use super::time_delta::TimeDelta;
use super::{Types, US_PER_DAY, downcast, hash_of};
use crate::stdlib::arg_str;
use crate::value::ops::BinOp;
use crate::value::{Args, Class, JacResult, NativeFn, NativeObject, Value};

/// A `datetime.date`.
pub(super) struct Date {
    pub(super) days: i64,
    pub(super) types: Rc<Types>,
}

impl NativeObject for Date {
    fn type_name(&self) -> &str {
        "date"
    }

    fn repr(&self) -> String {
        let (y, m, d) = civil_from_days(self.days);
        format!("datetime.date({y}, {m}, {d})")
    }

    fn str(&self) -> String {
        let (y, m, d) = civil_from_days(self.days);
        format!("{y:04}-{m:02}-{d:02}")
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        let (y, m, d) = civil_from_days(self.days);
        match name {
            "year" => return Some(Value::Int(y)),
            "month" => return Some(Value::Int(m)),
            "day" => return Some(Value::Int(d)),
            _ => {}
        }
        let method = |f: fn(&Date, Args) -> JacResult<Value>| {
            Some(NativeFn::method(name, this.clone(), move |_, args| {
                let recv = args.positional[0].clone();
                let me = downcast::<Date>(&recv).expect("bound to a date");
                f(
                    me,
                    Args {
                        positional: args.positional[1..].to_vec(),
                        keywords: args.keywords,
                    },
                )
            }))
        };
        match name {
            "isoformat" => method(|me, _| Ok(Value::from(me.str()))),
            "strftime" => method(|me, args| {
                let fmt = arg_str(&args, 0, "format", "strftime")?;
                Ok(Value::from(strftime(&fmt, &me.parts())))
            }),
            "weekday" => method(|me, _| Ok(Value::Int(weekday(me.days)))),
            "isoweekday" => method(|me, _| Ok(Value::Int(weekday(me.days) + 1))),
            "toordinal" => method(|me, _| Ok(Value::Int(me.days + 719_163))),
            _ => None,
        }
    }

    fn eq(&self, other: &Value) -> bool {
        downcast::<Date>(other).is_some_and(|o| o.days == self.days)
    }

    fn hash(&self) -> Option<u64> {
        Some(hash_of(("date", self.days)))
    }

    fn compare(&self, other: &Value) -> Option<Ordering> {
        downcast::<Date>(other).map(|o| self.days.cmp(&o.days))
    }

    fn binary_op(&self, op: BinOp, other: &Value, reflected: bool) -> Option<JacResult<Value>> {
        if let Some(delta) = downcast::<TimeDelta>(other) {
            let days = delta.micros.div_euclid(US_PER_DAY);
            return match (op, reflected) {
                (BinOp::Add, _) => Some(self.types.date(self.days + days)),
                (BinOp::Sub, false) => Some(self.types.date(self.days - days)),
                _ => None,
            };
        }
        if let (BinOp::Sub, Some(o)) = (op, downcast::<Date>(other)) {
            let diff = if reflected {
                o.days - self.days
            } else {
                self.days - o.days
            };
            return Some(self.types.delta(diff * US_PER_DAY));
        }
        None
    }

    fn format(&self, spec: &str) -> Option<JacResult<String>> {
        Some(Ok(if spec.is_empty() {
            self.str()
        } else {
            strftime(spec, &self.parts())
        }))
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.types.date.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Date {
    fn parts(&self) -> Parts {
        let (y, m, d) = civil_from_days(self.days);
        Parts {
            y,
            m,
            d,
            hh: 0,
            mm: 0,
            ss: 0,
            us: 0,
            days: self.days,
            offset: None,
        }
    }
}
