//! `datetime`: `datetime`, `date`, `timedelta`, `timezone` (`utc` and fixed
//! offsets), `UTC`. Naive local time is UTC (the sandbox has no time zone).
//!
//! Representation: a datetime is its wall-clock time in microseconds since
//! 1970-01-01 plus an optional UTC offset; dates are days since 1970-01-01;
//! timedeltas are microseconds. Calendar maths uses the proleptic Gregorian
//! civil-day algorithms, years 1..=9999 as in Python.

use std::any::Any;
use std::cmp::Ordering;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{arg_str, as_f64, def_static, opt_i64, type_object, value_error};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::ops::BinOp;
use crate::value::{
    Args, Class, ExcType, Exception, JacResult, Module, NativeFn, NativeObject, Value,
};

const US_PER_SEC: i64 = 1_000_000;
const US_PER_DAY: i64 = 86_400 * US_PER_SEC;
/// Python's `timedelta.max.days`.
const MAX_DELTA_DAYS: i64 = 999_999_999;

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

// ----------------------------------------------------------------- calendar

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn is_leap(y: i64) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Validated days since epoch of `y-m-d`.
fn checked_days(y: i64, m: i64, d: i64) -> JacResult<i64> {
    if !(1..=9999).contains(&y) {
        return Err(value_error(format!("year {y} is out of range")));
    }
    if !(1..=12).contains(&m) {
        return Err(value_error("month must be in 1..12"));
    }
    if d < 1 || d > days_in_month(y, m) {
        return Err(value_error("day is out of range for month"));
    }
    Ok(days_from_civil(y, m, d))
}

/// Monday = 0.
fn weekday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

fn now_micros() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

// ----------------------------------------------------------------- objects

/// The class objects of this module, shared by every value it creates.
struct Types {
    datetime: Rc<Class>,
    date: Rc<Class>,
    timedelta: Rc<Class>,
    timezone: Rc<Class>,
}

/// A `datetime.datetime`.
struct DateTime {
    /// Wall-clock microseconds since 1970-01-01T00:00 (in the value's own offset).
    local: i64,
    /// UTC offset in seconds (`None` = naive).
    offset: Option<i32>,
    types: Rc<Types>,
}

/// A `datetime.date`.
struct Date {
    days: i64,
    types: Rc<Types>,
}

/// A `datetime.timedelta`.
struct TimeDelta {
    micros: i64,
    types: Rc<Types>,
}

/// A fixed-offset `datetime.timezone`.
struct TimeZone {
    offset: i32,
    name: Option<String>,
    types: Rc<Types>,
}

fn downcast<T: 'static>(v: &Value) -> Option<&T> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<T>(),
        _ => None,
    }
}

fn obj(o: impl NativeObject) -> Value {
    Value::Object(Rc::new(o))
}

fn hash_of(parts: impl Hash) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

impl Types {
    fn datetime(self: &Rc<Self>, local: i64, offset: Option<i32>) -> JacResult<Value> {
        let (y, ..) = civil_from_days(local.div_euclid(US_PER_DAY));
        if !(1..=9999).contains(&y) {
            return Err(Exception::new(
                ExcType::OverflowError,
                "date value out of range",
            ));
        }
        Ok(obj(DateTime {
            local,
            offset,
            types: self.clone(),
        }))
    }

    fn date(self: &Rc<Self>, days: i64) -> JacResult<Value> {
        let (y, ..) = civil_from_days(days);
        if !(1..=9999).contains(&y) {
            return Err(Exception::new(
                ExcType::OverflowError,
                "date value out of range",
            ));
        }
        Ok(obj(Date {
            days,
            types: self.clone(),
        }))
    }

    fn delta(self: &Rc<Self>, micros: i64) -> JacResult<Value> {
        if micros.abs() / US_PER_DAY > MAX_DELTA_DAYS {
            return Err(Exception::new(
                ExcType::OverflowError,
                format!(
                    "days={}; must have magnitude <= {MAX_DELTA_DAYS}",
                    micros / US_PER_DAY
                ),
            ));
        }
        Ok(obj(TimeDelta {
            micros,
            types: self.clone(),
        }))
    }

    fn timezone(self: &Rc<Self>, offset: i32, name: Option<String>) -> Value {
        obj(TimeZone {
            offset,
            name,
            types: self.clone(),
        })
    }
}

fn overflow() -> Exception {
    Exception::new(ExcType::OverflowError, "date value out of range")
}

/// `+HH:MM` (with `:SS` when needed); `sep` between hours and minutes.
fn format_offset(offset: i32, sep: &str) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let mut s = format!("{sign}{:02}{sep}{:02}", a / 3600, a / 60 % 60);
    if !a.is_multiple_of(60) {
        s.push_str(&format!("{sep}{:02}", a % 60));
    }
    s
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
fn build_local(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64, us: i64) -> JacResult<i64> {
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

fn tz_repr(offset: i32) -> String {
    if offset == 0 {
        "datetime.timezone.utc".into()
    } else {
        format!(
            "datetime.timezone({})",
            delta_repr(i64::from(offset) * US_PER_SEC)
        )
    }
}

/// The offset (seconds) of a `timezone` value.
fn tz_offset(v: &Value) -> JacResult<i32> {
    downcast::<TimeZone>(v).map(|tz| tz.offset).ok_or_else(|| {
        Exception::new(
            ExcType::TypeError,
            format!(
                "tzinfo argument must be None or of a tzinfo subclass, not type '{}'",
                v.type_name()
            ),
        )
    })
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

/// `datetime.timedelta(days=1, seconds=5)` (Python 3.7+ form).
fn delta_repr(micros: i64) -> String {
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
fn scale(t: &Rc<Types>, micros: f64) -> JacResult<Value> {
    if !micros.is_finite() || micros.abs() > (MAX_DELTA_DAYS + 1) as f64 * US_PER_DAY as f64 {
        return Err(Exception::new(
            ExcType::OverflowError,
            "timedelta value out of range",
        ));
    }
    t.delta(micros.round_ties_even() as i64)
}

impl NativeObject for TimeZone {
    fn type_name(&self) -> &str {
        "timezone"
    }

    fn repr(&self) -> String {
        tz_repr(self.offset)
    }

    fn str(&self) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None if self.offset == 0 => "UTC".into(),
            None => format!("UTC{}", format_offset(self.offset, ":")),
        }
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        match name {
            "utcoffset" => Some(NativeFn::method(name, this.clone(), |_, args| {
                let me = downcast::<TimeZone>(&args.positional[0]).expect("bound to a timezone");
                me.types.delta(i64::from(me.offset) * US_PER_SEC)
            })),
            "tzname" => Some(NativeFn::method(name, this.clone(), |_, args| {
                let me = downcast::<TimeZone>(&args.positional[0]).expect("bound to a timezone");
                Ok(Value::from(me.str()))
            })),
            _ => None,
        }
    }

    fn eq(&self, other: &Value) -> bool {
        downcast::<TimeZone>(other).is_some_and(|o| o.offset == self.offset)
    }

    fn hash(&self) -> Option<u64> {
        Some(hash_of(("timezone", self.offset)))
    }

    fn class(&self) -> Option<Rc<Class>> {
        Some(self.types.timezone.clone())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

// ----------------------------------------------------------------- strftime / strptime

/// The broken-down time strftime works on.
struct Parts {
    y: i64,
    m: i64,
    d: i64,
    hh: i64,
    mm: i64,
    ss: i64,
    us: i64,
    days: i64,
    offset: Option<i32>,
}

/// Python's `strftime` for the portable directives; `%-d` style (no padding) is accepted.
fn strftime(fmt: &str, p: &Parts) -> String {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let no_pad = chars.peek() == Some(&'-');
        if no_pad {
            chars.next();
        }
        let Some(directive) = chars.next() else {
            out.push('%');
            break;
        };
        let num = |v: i64, width: usize| {
            if no_pad {
                v.to_string()
            } else {
                format!("{v:0width$}")
            }
        };
        let hour12 = if p.hh % 12 == 0 { 12 } else { p.hh % 12 };
        let yday = p.days - days_from_civil(p.y, 1, 1) + 1;
        let wd = weekday(p.days) as usize;
        match directive {
            'Y' => out.push_str(&format!("{:04}", p.y)),
            'y' => out.push_str(&num(p.y % 100, 2)),
            'm' => out.push_str(&num(p.m, 2)),
            'd' => out.push_str(&num(p.d, 2)),
            'e' => out.push_str(&format!("{:>2}", p.d)),
            'H' => out.push_str(&num(p.hh, 2)),
            'I' => out.push_str(&num(hour12, 2)),
            'M' => out.push_str(&num(p.mm, 2)),
            'S' => out.push_str(&num(p.ss, 2)),
            'f' => out.push_str(&format!("{:06}", p.us)),
            'j' => out.push_str(&num(yday, 3)),
            'p' => out.push_str(if p.hh < 12 { "AM" } else { "PM" }),
            'b' | 'h' => out.push_str(&MONTHS[(p.m - 1) as usize][..3]),
            'B' => out.push_str(MONTHS[(p.m - 1) as usize]),
            'a' => out.push_str(&WEEKDAYS[wd][..3]),
            'A' => out.push_str(WEEKDAYS[wd]),
            'w' => out.push_str(&((wd + 1) % 7).to_string()),
            'u' => out.push_str(&(wd + 1).to_string()),
            'z' => out.push_str(&p.offset.map(|o| format_offset(o, "")).unwrap_or_default()),
            'Z' => out.push_str(match p.offset {
                Some(0) => "UTC",
                _ => "",
            }),
            'F' => out.push_str(&format!("{:04}-{:02}-{:02}", p.y, p.m, p.d)),
            'T' => out.push_str(&format!("{:02}:{:02}:{:02}", p.hh, p.mm, p.ss)),
            'D' => out.push_str(&format!("{:02}/{:02}/{:02}", p.m, p.d, p.y % 100)),
            'c' => out.push_str(&format!(
                "{} {} {:>2} {:02}:{:02}:{:02} {:04}",
                &WEEKDAYS[wd][..3],
                &MONTHS[(p.m - 1) as usize][..3],
                p.d,
                p.hh,
                p.mm,
                p.ss,
                p.y
            )),
            'x' => out.push_str(&format!("{:02}/{:02}/{:02}", p.m, p.d, p.y % 100)),
            'X' => out.push_str(&format!("{:02}:{:02}:{:02}", p.hh, p.mm, p.ss)),
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}

/// Python's `datetime.strptime` for the common directives.
fn strptime(text: &str, fmt: &str) -> JacResult<(i64, Option<i32>)> {
    let fail = || value_error(format!("time data {text:?} does not match format {fmt:?}"));
    let (mut y, mut m, mut d, mut hh, mut mm, mut ss, mut us) = (1900, 1, 1, 0, 0, 0, 0);
    let mut pm: Option<bool> = None;
    let mut offset = None;
    let s = text.as_bytes();
    let mut i = 0;
    let mut f = fmt.chars();
    let digits = |i: &mut usize, max: usize| -> Option<i64> {
        let start = *i;
        while *i < s.len() && *i - start < max && s[*i].is_ascii_digit() {
            *i += 1;
        }
        (start != *i)
            .then(|| text[start..*i].parse().ok())
            .flatten()
    };
    let word = |i: &mut usize, names: &[&str]| -> Option<i64> {
        let rest = text[*i..].to_ascii_lowercase();
        for (n, name) in names.iter().enumerate() {
            for cand in [name.to_ascii_lowercase(), name[..3].to_ascii_lowercase()] {
                if rest.starts_with(&cand) {
                    *i += cand.len();
                    return Some(n as i64);
                }
            }
        }
        None
    };
    while let Some(c) = f.next() {
        if c != '%' {
            if c.is_whitespace() {
                while i < s.len() && s[i].is_ascii_whitespace() {
                    i += 1;
                }
                continue;
            }
            if text[i..].starts_with(c) {
                i += c.len_utf8();
                continue;
            }
            return Err(fail());
        }
        let directive = f.next().ok_or_else(fail)?;
        match directive {
            'Y' => y = digits(&mut i, 4).ok_or_else(fail)?,
            'y' => {
                let v = digits(&mut i, 2).ok_or_else(fail)?;
                y = if v < 69 { 2000 + v } else { 1900 + v };
            }
            'm' => m = digits(&mut i, 2).ok_or_else(fail)?,
            'd' => d = digits(&mut i, 2).ok_or_else(fail)?,
            'H' | 'I' => hh = digits(&mut i, 2).ok_or_else(fail)?,
            'M' => mm = digits(&mut i, 2).ok_or_else(fail)?,
            'S' => ss = digits(&mut i, 2).ok_or_else(fail)?,
            'f' => {
                let start = i;
                let v = digits(&mut i, 6).ok_or_else(fail)?;
                us = v * 10_i64.pow(6 - (i - start) as u32);
            }
            'b' | 'B' | 'h' => m = word(&mut i, &MONTHS).ok_or_else(fail)? + 1,
            'a' | 'A' => {
                word(&mut i, &WEEKDAYS).ok_or_else(fail)?;
            }
            'p' => {
                let rest = text[i..].to_ascii_uppercase();
                pm = Some(if rest.starts_with("PM") {
                    true
                } else if rest.starts_with("AM") {
                    false
                } else {
                    return Err(fail());
                });
                i += 2;
            }
            'z' => {
                let (o, used) = parse_offset(&text[i..]).ok_or_else(fail)?;
                offset = Some(o);
                i += used;
            }
            '%' if text[i..].starts_with('%') => i += 1,
            _ => return Err(fail()),
        }
    }
    if i != s.len() {
        return Err(value_error(format!(
            "unconverted data remains: {}",
            &text[i..]
        )));
    }
    if let Some(pm) = pm {
        hh = hh % 12 + if pm { 12 } else { 0 };
    }
    Ok((build_local(y, m, d, hh, mm, ss, us)?, offset))
}

/// Parses `Z`, `+HH:MM[:SS[.ffffff]]` or `+HHMM`; returns (seconds, bytes used).
fn parse_offset(s: &str) -> Option<(i32, usize)> {
    if s.starts_with('Z') || s.starts_with('z') {
        return Some((0, 1));
    }
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &s[1..];
    let digits: String = body
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ':' || *c == '.')
        .collect();
    let clean: String = digits
        .split('.')
        .next()?
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if clean.len() < 4 || !clean.len().is_multiple_of(2) {
        return None;
    }
    let h: i32 = clean[0..2].parse().ok()?;
    let m: i32 = clean[2..4].parse().ok()?;
    let sec: i32 = clean.get(4..6).map_or(Some(0), |x| x.parse().ok())?;
    if h > 23 || m > 59 || sec > 59 {
        return None;
    }
    Some((sign * (h * 3600 + m * 60 + sec), 1 + digits.len()))
}

/// Python 3.11 `fromisoformat` (common forms): `YYYY-MM-DD[*HH[:MM[:SS[.ffffff]]]][Z|±HH:MM]`.
fn parse_iso(s: &str) -> Option<(i64, Option<i32>)> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())
            .flatten()
    };
    let (y, m, d, mut i) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        (num(0..4)?, num(5..7)?, num(8..10)?, 10)
    } else if b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit) {
        (num(0..4)?, num(4..6)?, num(6..8)?, 8)
    } else {
        return None;
    };
    let (mut hh, mut mm, mut ss, mut us) = (0, 0, 0, 0);
    let mut offset = None;
    if i < b.len() {
        i += 1; // any single separator character
        hh = num(i..i + 2)?;
        i += 2;
        if b.get(i) == Some(&b':') {
            mm = num(i + 1..i + 3)?;
            i += 3;
            if b.get(i) == Some(&b':') {
                ss = num(i + 1..i + 3)?;
                i += 3;
                if matches!(b.get(i), Some(b'.' | b',')) {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len() && b[end].is_ascii_digit() {
                        end += 1;
                    }
                    let frac = s.get(start..end)?;
                    if frac.is_empty() {
                        return None;
                    }
                    let padded = format!("{:0<6}", &frac[..frac.len().min(6)]);
                    us = padded.parse().ok()?;
                    i = end;
                }
            }
        }
        if i < b.len() {
            let (o, used) = parse_offset(&s[i..])?;
            offset = Some(o);
            i += used;
        }
    }
    if i != b.len() {
        return None;
    }
    Some((build_local(y, m, d, hh, mm, ss, us).ok()?, offset))
}

// ----------------------------------------------------------------- module

/// Builds the `datetime` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let types = Rc::new(Types {
        datetime: type_object("datetime"),
        date: type_object("date"),
        timedelta: type_object("timedelta"),
        timezone: type_object("timezone"),
    });
    install_constructors(&types);
    install_statics(&types);
    let module = Rc::new(Module::new("datetime"));
    let utc = types.timezone(0, Some("UTC".into()));
    types.timezone.set_attr("utc", utc.clone());
    module.set("datetime", Value::Class(types.datetime.clone()));
    module.set("date", Value::Class(types.date.clone()));
    module.set("timedelta", Value::Class(types.timedelta.clone()));
    module.set("timezone", Value::Class(types.timezone.clone()));
    module.set("UTC", utc);
    module.set("MINYEAR", Value::Int(1));
    module.set("MAXYEAR", Value::Int(9999));
    Ok(module)
}

/// The constructors (`__new__`) of the four classes.
fn install_constructors(types: &Rc<Types>) {
    let t = types.clone();
    def_static(&types.datetime, "__new__", move |_, args| {
        let fname = "datetime";
        let field = |i, name, default: Option<i64>| -> JacResult<i64> {
            match (opt_i64(&args, i, name, fname)?, default) {
                (Some(v), _) => Ok(v),
                (None, Some(d)) => Ok(d),
                (None, None) => Err(Exception::new(
                    ExcType::TypeError,
                    format!("{fname}() missing required argument '{name}'"),
                )),
            }
        };
        let local = build_local(
            field(0, "year", None)?,
            field(1, "month", None)?,
            field(2, "day", None)?,
            field(3, "hour", Some(0))?,
            field(4, "minute", Some(0))?,
            field(5, "second", Some(0))?,
            field(6, "microsecond", Some(0))?,
        )?;
        let offset = match args.get(7, "tzinfo") {
            None | Some(Value::None) => None,
            Some(tz) => Some(tz_offset(&tz)?),
        };
        t.datetime(local, offset)
    });
    let t = types.clone();
    def_static(&types.date, "__new__", move |_, args| {
        let y = super::arg_i64(&args, 0, "year", "date")?;
        let m = super::arg_i64(&args, 1, "month", "date")?;
        let d = super::arg_i64(&args, 2, "day", "date")?;
        t.date(checked_days(y, m, d)?)
    });
    let t = types.clone();
    def_static(&types.timedelta, "__new__", move |_, args| {
        const UNITS: [(&str, f64); 7] = [
            ("days", US_PER_DAY as f64),
            ("seconds", US_PER_SEC as f64),
            ("microseconds", 1.0),
            ("milliseconds", 1000.0),
            ("minutes", 60.0 * US_PER_SEC as f64),
            ("hours", 3600.0 * US_PER_SEC as f64),
            ("weeks", 7.0 * US_PER_DAY as f64),
        ];
        args.allow_keywords("timedelta", &UNITS.map(|(n, _)| n))?;
        let mut total = 0.0;
        for (i, (name, scale_us)) in UNITS.iter().enumerate() {
            if let Some(v) = args.get(i, name) {
                let x = as_f64(&v).ok_or_else(|| type_error("timedelta", name, &v))??;
                total += x * scale_us;
            }
        }
        scale(&t, total)
    });
    let t = types.clone();
    def_static(&types.timezone, "__new__", move |_, args| {
        let offset = args.required(0, "offset", "timezone")?;
        let delta = downcast::<TimeDelta>(&offset)
            .ok_or_else(|| type_error("timezone", "offset", &offset))?;
        if delta.micros % US_PER_SEC != 0 || delta.micros.abs() >= US_PER_DAY {
            return Err(value_error(
                "offset must be a timedelta strictly between -timedelta(hours=24) and timedelta(hours=24)",
            ));
        }
        let name = match args.get(1, "name") {
            Some(Value::Str(s)) => Some(s.to_string()),
            _ => None,
        };
        Ok(t.timezone((delta.micros / US_PER_SEC) as i32, name))
    });
}

fn install_statics(types: &Rc<Types>) {
    let dt = &types.datetime;
    let t = types.clone();
    def_static(dt, "now", move |_, args| {
        let utc = now_micros();
        match args.get(0, "tz") {
            None | Some(Value::None) => t.datetime(utc, None),
            Some(tz) => {
                let o = tz_offset(&tz)?;
                t.datetime(utc + i64::from(o) * US_PER_SEC, Some(o))
            }
        }
    });
    let t = types.clone();
    def_static(dt, "utcnow", move |_, _| t.datetime(now_micros(), None));
    let t = types.clone();
    def_static(dt, "today", move |_, _| t.datetime(now_micros(), None));
    let t = types.clone();
    def_static(dt, "fromisoformat", move |_, args| {
        let s = arg_str(&args, 0, "date_string", "fromisoformat")?;
        let (local, offset) =
            parse_iso(&s).ok_or_else(|| value_error(format!("Invalid isoformat string: {s:?}")))?;
        t.datetime(local, offset)
    });
    let t = types.clone();
    def_static(dt, "fromtimestamp", move |_, args| {
        let ts = super::arg_f64(&args, 0, "timestamp", "fromtimestamp")?;
        let utc = (ts * US_PER_SEC as f64).round() as i64;
        match args.get(1, "tz") {
            None | Some(Value::None) => t.datetime(utc, None),
            Some(tz) => {
                let o = tz_offset(&tz)?;
                t.datetime(utc + i64::from(o) * US_PER_SEC, Some(o))
            }
        }
    });
    let t = types.clone();
    def_static(dt, "utcfromtimestamp", move |_, args| {
        let ts = super::arg_f64(&args, 0, "timestamp", "utcfromtimestamp")?;
        t.datetime((ts * US_PER_SEC as f64).round() as i64, None)
    });
    let t = types.clone();
    def_static(dt, "strptime", move |_, args| {
        let text = arg_str(&args, 0, "date_string", "strptime")?;
        let fmt = arg_str(&args, 1, "format", "strptime")?;
        let (local, offset) = strptime(&text, &fmt)?;
        t.datetime(local, offset)
    });
    let t = types.clone();
    def_static(&types.date, "today", move |_, _| {
        t.date(now_micros().div_euclid(US_PER_DAY))
    });
    let t = types.clone();
    def_static(&types.date, "fromisoformat", move |_, args| {
        let s = arg_str(&args, 0, "date_string", "fromisoformat")?;
        match parse_iso(&s) {
            Some((local, None)) if s.len() <= 10 => t.date(local.div_euclid(US_PER_DAY)),
            _ => Err(value_error(format!("Invalid isoformat string: {s:?}"))),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in [-719_162, -1, 0, 1, 11_016, 19_723, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(
            weekday(days_from_civil(2024, 1, 1)),
            0,
            "2024-01-01 was a Monday"
        );
    }

    #[test]
    fn iso_parsing() {
        let (local, off) = parse_iso("2024-03-05T07:08:09.5+05:30").expect("parses");
        assert_eq!(off, Some(5 * 3600 + 30 * 60));
        assert_eq!(local % US_PER_SEC, 500_000);
        assert!(parse_iso("2024-03-05").is_some());
        assert!(parse_iso("2024-03-05 07:08Z").is_some());
        assert!(parse_iso("2024-13-05").is_none());
        assert!(parse_iso("nope").is_none());
    }

    #[test]
    fn strftime_directives() {
        let local = build_local(2024, 3, 5, 14, 8, 9, 42).expect("valid");
        let days = local.div_euclid(US_PER_DAY);
        let p = Parts {
            y: 2024,
            m: 3,
            d: 5,
            hh: 14,
            mm: 8,
            ss: 9,
            us: 42,
            days,
            offset: Some(0),
        };
        assert_eq!(
            strftime("%Y-%m-%d %H:%M:%S.%f %z %Z", &p),
            "2024-03-05 14:08:09.000042 +0000 UTC"
        );
        assert_eq!(
            strftime("%a %A %b %B %j %I%p %-d/%-m %%", &p),
            "Tue Tuesday Mar March 065 02PM 5/3 %"
        );
        let (parsed, off) = strptime("05 Mar 2024 02:08PM", "%d %b %Y %I:%M%p").expect("parses");
        assert_eq!(
            (parsed, off),
            (build_local(2024, 3, 5, 14, 8, 0, 0).expect("valid"), None)
        );
    }
}
