//! `datetime.timezone`: a fixed UTC offset (`timezone.utc`, `UTC`).

use std::any::Any;
use std::rc::Rc;

use super::time_delta::delta_repr;
use super::{Types, US_PER_SEC, downcast, hash_of};
use crate::value::{Class, ExcType, Exception, JacResult, NativeFn, NativeObject, Value};

/// A fixed-offset `datetime.timezone`.
pub(super) struct TimeZone {
    pub(super) offset: i32,
    pub(super) name: Option<String>,
    pub(super) types: Rc<Types>,
}

/// `+HH:MM` (with `:SS` when needed); `sep` between hours and minutes.
pub(super) fn format_offset(offset: i32, sep: &str) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let mut s = format!("{sign}{:02}{sep}{:02}", a / 3600, a / 60 % 60);
    if !a.is_multiple_of(60) {
        s.push_str(&format!("{sep}{:02}", a % 60));
    }
    s
}

pub(super) fn tz_repr(offset: i32) -> String {
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
pub(super) fn tz_offset(v: &Value) -> JacResult<i32> {
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
