//! `datetime`: `datetime`, `date`, `timedelta`, `timezone` (`utc` and fixed
//! offsets), `UTC`. Naive local time is UTC (the sandbox has no time zone).
//!
//! Representation: a datetime is its wall-clock time in microseconds since
//! 1970-01-01 plus an optional UTC offset; dates are days since 1970-01-01;
//! timedeltas are microseconds. Calendar maths uses the proleptic Gregorian
//! civil-day algorithms, years 1..=9999 as in Python.
//!
//! One file per Python type ([`date_time`], [`date`], [`time_delta`], [`time_zone`]),
//! the calendar maths ([`calendar`]) and text formats ([`format`]); this file holds the
//! shared class objects and builds the module.

mod calendar;
mod date;
mod date_time;
mod format;
mod time_delta;
mod time_zone;

use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;

use super::{arg_str, as_f64, def_static, opt_i64, type_object, value_error};
use crate::interp::Interpreter;
use crate::value::native::type_error;
use crate::value::{Class, ExcType, Exception, JacResult, Module, NativeObject, Value};
use calendar::checked_days;
use calendar::civil_from_days;
use calendar::now_micros;
use date::Date;
use date_time::DateTime;
use date_time::build_local;
use format::parse_iso;
use format::strptime;
use time_delta::TimeDelta;
use time_delta::scale;
use time_zone::TimeZone;
use time_zone::tz_offset;

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

/// The class objects of this module, shared by every value it creates.
pub(super) struct Types {
    datetime: Rc<Class>,
    date: Rc<Class>,
    timedelta: Rc<Class>,
    timezone: Rc<Class>,
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
    use super::calendar::{days_from_civil, weekday};
    use super::format::{Parts, strftime};
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
