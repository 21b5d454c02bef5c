//! `datetime.datetime`: wall-clock microseconds plus an optional UTC offset.

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;

use super::calendar::{checked_days, civil_from_days, days_from_civil, weekday};
use super::format::{Parts, strftime};
use super::time_delta::TimeDelta;
use super::time_zone::{format_offset, tz_offset, tz_repr};
use super::{Types, US_PER_DAY, US_PER_SEC, downcast, hash_of, overflow};
use crate::interp::Interpreter;
use crate::stdlib::{arg_str, value_error};
use crate::value::native::type_error;
use crate::value::ops::BinOp;
use crate::value::{Args, Class, ExcType, Exception, JacResult, NativeFn, NativeObject, Value};

/// A `datetime.datetime`.
pub(super) struct DateTime {
    /// Wall-clock microseconds since 1970-01-01T00:00 (in the value's own offset).
    pub(super) local: i64,
    /// UTC offset in seconds (`None` = naive).
    pub(super) offset: Option<i32>,
    pub(super) types: Rc<Types>,
}

impl DateTime {
    fn fields(&self) -> (i64, i64, i64, i64, i64, i64, i64) {
        let days = self.local.div_euclid(US_PER_DAY);
        let rem = self.local.rem_euclid(US_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let secs = rem / US_PER_SEC;
        (
            y,
            m,
            d,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rem % US_PER_SEC,
        )
    }

    /// Microseconds since the epoch in UTC (naive values are taken as UTC).
    fn utc(&self) -> i64 {
        self.local - i64::from(self.offset.unwrap_or(0)) * US_PER_SEC
    }

    fn isoformat(&self, sep: &str, timespec: &str) -> JacResult<String> {
        let (y, m, d, hh, mm, ss, us) = self.fields();
        let time = match timespec {
            "auto" if us == 0 => format!("{hh:02}:{mm:02}:{ss:02}"),
            "auto" | "microseconds" => format!("{hh:02}:{mm:02}:{ss:02}.{us:06}"),
            "hours" => format!("{hh:02}"),
            "minutes" => format!("{hh:02}:{mm:02}"),
            "seconds" => format!("{hh:02}:{mm:02}:{ss:02}"),
            "milliseconds" => format!("{hh:02}:{mm:02}:{ss:02}.{:03}", us / 1000),
            other => return Err(value_error(format!("Unknown timespec value: {other}"))),
        };
        let tz = self
            .offset
            .map(|o| format_offset(o, ":"))
            .unwrap_or_default();
        Ok(format!("{y:04}-{m:02}-{d:02}{sep}{time}{tz}"))
    }
}

impl NativeObject for DateTime {
    fn type_name(&self) -> &str {
        "datetime"
    }

    fn repr(&self) -> String {
        let (y, m, d, hh, mm, ss, us) = self.fields();
        let mut parts = vec![y, m, d, hh, mm, ss, us];
        for _ in 0..2 {
            if parts.last() == Some(&0) {
                parts.pop();
            }
        }
        let mut s = format!(
            "datetime.datetime({}",
            parts
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        if let Some(o) = self.offset {
            s.push_str(&format!(", tzinfo={}", tz_repr(o)));
        }
        s + ")"
    }

    fn str(&self) -> String {
        self.isoformat(" ", "auto").unwrap_or_default()
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        let (y, m, d, hh, mm, ss, us) = self.fields();
        let field = match name {
            "year" => Some(y),
            "month" => Some(m),
            "day" => Some(d),
            "hour" => Some(hh),
            "minute" => Some(mm),
            "second" => Some(ss),
            "microsecond" => Some(us),
            _ => None,
        };
        if let Some(f) = field {
            return Some(Value::Int(f));
        }
        if name == "tzinfo" {
            return Some(match self.offset {
                Some(o) => self.types.timezone(o, (o == 0).then(|| "UTC".to_string())),
                None => Value::None,
            });
        }
        let method = |f: fn(&DateTime, &mut Interpreter, Args) -> JacResult<Value>| {
            Some(NativeFn::method(name, this.clone(), move |vm, args| {
                let recv = args.positional[0].clone();
                let me = downcast::<DateTime>(&recv).expect("bound to a datetime");
                let rest = Args {
                    positional: args.positional[1..].to_vec(),
                    keywords: args.keywords,
                };
                f(me, vm, rest)
            }))
        };
        match name {
            "isoformat" => method(|me, _, args| {
                let sep = match args.get(0, "sep") {
                    Some(Value::Str(s)) => s.to_string(),
                    _ => "T".into(),
                };
                let timespec = match args.get(1, "timespec") {
                    Some(Value::Str(s)) => s.to_string(),
                    _ => "auto".into(),
                };
                Ok(Value::from(me.isoformat(&sep, &timespec)?))
            }),
            "strftime" => method(|me, _, args| {
                let fmt = arg_str(&args, 0, "format", "strftime")?;
                Ok(Value::from(strftime(&fmt, &me.parts())))
            }),
            "timestamp" => method(|me, _, _| Ok(Value::Float(me.utc() as f64 / US_PER_SEC as f64))),
            "date" => method(|me, _, _| me.types.date(me.local.div_euclid(US_PER_DAY))),
            "weekday" => {
                method(|me, _, _| Ok(Value::Int(weekday(me.local.div_euclid(US_PER_DAY)))))
            }
            "isoweekday" => {
                method(|me, _, _| Ok(Value::Int(weekday(me.local.div_euclid(US_PER_DAY)) + 1)))
            }
            "utcoffset" => method(|me, _, _| match me.offset {
                Some(o) => me.types.delta(i64::from(o) * US_PER_SEC),
                None => Ok(Value::None),
            }),
            "astimezone" => method(|me, _, args| {
                let offset = match args.get(0, "tz") {
                    None | Some(Value::None) => 0,
                    Some(tz) => tz_offset(&tz)?,
                };
                me.types
                    .datetime(me.utc() + i64::from(offset) * US_PER_SEC, Some(offset))
            }),
            "replace" => method(|me, _, args| me.replace(&args)),
            "time" => method(|me, _, _| {
                let (_, _, _, hh, mm, ss, us) = me.fields();
                let mut s = format!("{hh:02}:{mm:02}:{ss:02}");
                if us != 0 {
                    s.push_str(&format!(".{us:06}"));
                }
                Ok(Value::from(s))
            }),
            "timetuple" => method(|me, _, _| {
                let (y, m, d, hh, mm, ss, _) = me.fields();
                let days = me.local.div_euclid(US_PER_DAY);
                let yday = days - days_from_civil(y, 1, 1) + 1;
                Ok(Value::tuple(
                    [y, m, d, hh, mm, ss, weekday(days), yday, -1]
                        .into_iter()
                        .map(Value::Int)
                        .collect(),
                ))
            }),
            _ => None,
        }
    }

    fn eq(&self, other: &Value) -> bool {
        match downcast::<DateTime>(other) {
            Some(o) if self.offset.is_some() == o.offset.is_some() => self.utc() == o.utc(),
            _ => false,
        }
    }

    fn hash(&self) -> Option<u64> {
        Some(hash_of(("datetime", self.utc())))
    }

    fn compare(&self, other: &Value) -> Option<Ordering> {
        let o = downcast::<DateTime>(other)?;
        (self.offset.is_some() == o.offset.is_some()).then(|| self.utc().cmp(&o.utc()))
    }

    fn binary_op(&self, op: BinOp, other: &Value, reflected: bool) -> Option<JacResult<Value>> {
        if let Some(delta) = downcast::<TimeDelta>(other) {
            let shifted = match (op, reflected) {
                (BinOp::Add, _) => self.local.checked_add(delta.micros),
                (BinOp::Sub, false) => self.local.checked_sub(delta.micros),
                _ => return None,
            };
            return Some(
                shifted
                    .ok_or_else(overflow)
                    .and_then(|l| self.types.datetime(l, self.offset)),
            );
        }
        if let (BinOp::Sub, Some(o)) = (op, downcast::<DateTime>(other)) {
            if self.offset.is_some() != o.offset.is_some() {
                return Some(Err(Exception::new(
                    ExcType::TypeError,
                    "can't subtract offset-naive and offset-aware datetimes",
                )));
            }
            let (a, b) = if reflected {
                (o.utc(), self.utc())
            } else {
                (self.utc(), o.utc())
            };
            return Some(self.types.delta(a - b));
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

    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::String(self.isoformat("T", "auto").unwrap_or_default())
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.types.datetime.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl DateTime {
    fn parts(&self) -> Parts {
        let (y, m, d, hh, mm, ss, us) = self.fields();
        Parts {
            y,
            m,
            d,
            hh,
            mm,
            ss,
            us,
            days: self.local.div_euclid(US_PER_DAY),
            offset: self.offset,
        }
    }

    fn replace(&self, args: &Args) -> JacResult<Value> {
        let (y, m, d, hh, mm, ss, us) = self.fields();
        let get = |name: &str, cur: i64| -> JacResult<i64> {
            match args.kw(name) {
                None => Ok(cur),
                Some(v) => v.as_i64().ok_or_else(|| type_error("replace", name, &v)),
            }
        };
        let offset = match args.kw("tzinfo") {
            None => self.offset,
            Some(Value::None) => None,
            Some(tz) => Some(tz_offset(&tz)?),
        };
        let local = build_local(
            get("year", y)?,
            get("month", m)?,
            get("day", d)?,
            get("hour", hh)?,
            get("minute", mm)?,
            get("second", ss)?,
            get("microsecond", us)?,
        )?;
        self.types.datetime(local, offset)
    }
}

/// Validated wall-clock microseconds of a datetime's fields.
pub(super) fn build_local(
    y: i64,
    m: i64,
    d: i64,
    hh: i64,
    mm: i64,
    ss: i64,
    us: i64,
) -> JacResult<i64> {
    let days = checked_days(y, m, d)?;
    if !(0..24).contains(&hh) {
        return Err(value_error("hour must be in 0..23"));
    }
    if !(0..60).contains(&mm) {
        return Err(value_error("minute must be in 0..59"));
    }
    if !(0..60).contains(&ss) {
        return Err(value_error("second must be in 0..59"));
    }
    if !(0..US_PER_SEC).contains(&us) {
        return Err(value_error("microsecond must be in 0..999999"));
    }
    Ok(days * US_PER_DAY + ((hh * 60 + mm) * 60 + ss) * US_PER_SEC + us)
}
