//! `@schedule(trigger=..., interval=..., cron=...)`: a walker or function the host runs
//! on its timer instead of serving it (jaclang's `ScheduleSpec`, read from the syntax).

use super::Describer;
use super::manifest::{DescribeError, Trigger};
use super::schema::type_name;
use crate::syntax::ast::*;

impl Describer<'_> {
    /// The trigger of a `@schedule` decorator among `decorators`, if there is one.
    pub(super) fn schedule(&self, decorators: &[Expr]) -> Result<Option<Trigger>, DescribeError> {
        for decorator in decorators {
            let (func, args) = match &decorator.kind {
                ExprKind::Call { func, args } => (&**func, &args[..]),
                _ => (decorator, &[][..]),
            };
            if type_name(func) != Some("schedule") {
                continue;
            }
            let mut dynamic = false;
            let mut trigger = None;
            for arg in args {
                let Arg::Keyword(key, value) = arg else {
                    return Err(
                        self.error(decorator.span, "@schedule takes keyword arguments only")
                    );
                };
                match &**key {
                    "trigger" => dynamic = self.dynamic(value)?,
                    "interval" => trigger = Some(self.interval(value)?),
                    "cron" => match &value.kind {
                        ExprKind::Str(text) => trigger = Some(Trigger::Cron(text.to_string())),
                        _ => {
                            return Err(self.error(
                                value.span,
                                "@schedule(cron=...) must be a string literal",
                            ));
                        }
                    },
                    "date" => {
                        return Err(self.error(
                            value.span,
                            "@schedule(date=...) (a one-off run) is not supported; use interval= or cron=",
                        ));
                    }
                    other => {
                        return Err(
                            self.error(value.span, format!("unknown @schedule option '{other}'"))
                        );
                    }
                }
            }
            return match (dynamic, trigger) {
                (true, _) => Ok(Some(Trigger::Dynamic)),
                (false, Some(trigger)) => Ok(Some(trigger)),
                (false, None) => Err(self.error(
                    decorator.span,
                    "@schedule needs interval=<seconds> or cron=\"<5 fields>\"",
                )),
            };
        }
        Ok(None)
    }

    /// `ScheduleTrigger.STATIC` / `DYNAMIC` (or the strings): whether it is dynamic.
    fn dynamic(&self, value: &Expr) -> Result<bool, DescribeError> {
        let word = match &value.kind {
            ExprKind::Str(s) => s.to_string(),
            _ => type_name(value).unwrap_or("").to_string(),
        };
        match word.to_ascii_uppercase().as_str() {
            "STATIC" => Ok(false),
            "DYNAMIC" => Ok(true),
            _ => Err(self.error(
                value.span,
                "@schedule(trigger=...) must be ScheduleTrigger.STATIC or DYNAMIC",
            )),
        }
    }

    /// `interval=<seconds>` (a positive number literal) in whole milliseconds.
    fn interval(&self, value: &Expr) -> Result<Trigger, DescribeError> {
        let seconds = match value.kind {
            ExprKind::Int(i) => i as f64,
            ExprKind::Float(f) => f,
            _ => f64::NAN,
        };
        let ms = (seconds * 1000.0).round();
        if !(ms >= 1.0 && ms < u64::MAX as f64) {
            return Err(self.error(
                value.span,
                "@schedule(interval=...) must be a positive number of seconds (at least 0.001)",
            ));
        }
        Ok(Trigger::Interval { ms: ms as u64 })
    }
}
