//! 5-field cron expressions exactly as jac-scale 0.2.x reads them (jaclang's scheduler).
//!
//! `minute hour day month weekday`, in UTC; each field a comma list of `*`, `*/step`,
//! `lo-hi` or a number. Departures from crontab(5) that the original has and we keep, so
//! a program fires at the same minutes here as there: weekday 0 is **Monday** (Python's
//! `weekday()`), day and weekday must **both** match, and `*/step` counts from the
//! field's minimum. Unlike the original, a malformed field is refused when the app loads
//! (the original skips the part and the job may silently never run). Hand-written rather
//! than a cron crate: every crate reads weekdays and day/weekday the crontab(5) way.

use chrono::{DateTime, Datelike, Duration, DurationRound, Timelike, Utc};

/// How far ahead the next firing is looked for (the original's bound).
const HORIZON_DAYS: i64 = 366;

/// A parsed cron expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minute: Field,
    hour: Field,
    day: Field,
    month: Field,
    weekday: Field,
}

/// One field: the values it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field(Vec<Part>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Any,
    Step(u32),
    Range(u32, u32),
    Value(u32),
}

impl Field {
    fn parse(text: &str, name: &str, min: u32, max: u32) -> Result<Self, String> {
        let number = |s: &str| -> Result<u32, String> {
            let n: u32 = s
                .trim()
                .parse()
                .map_err(|_| format!("{name} field: {s:?} is not a number"))?;
            if n < min || n > max {
                return Err(format!("{name} field: {n} is outside {min}-{max}"));
            }
            Ok(n)
        };
        let parts = text
            .split(',')
            .map(|part| {
                let part = part.trim();
                if part == "*" {
                    Ok(Part::Any)
                } else if let Some(step) = part.strip_prefix("*/") {
                    match step.parse::<u32>() {
                        Ok(s) if s > 0 => Ok(Part::Step(s)),
                        _ => Err(format!(
                            "{name} field: step {step:?} is not a positive number"
                        )),
                    }
                } else if let Some((lo, hi)) = part.split_once('-') {
                    Ok(Part::Range(number(lo)?, number(hi)?))
                } else {
                    Ok(Part::Value(number(part)?))
                }
            })
            .collect::<Result<_, _>>()?;
        Ok(Field(parts))
    }

    fn matches(&self, value: u32, min: u32) -> bool {
        self.0.iter().any(|part| match *part {
            Part::Any => true,
            Part::Step(step) => (value - min).is_multiple_of(step),
            Part::Range(lo, hi) => lo <= value && value <= hi,
            Part::Value(v) => v == value,
        })
    }
}

impl Cron {
    /// Parse `minute hour day month weekday`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields[..] else {
            return Err(format!("cron must have 5 fields, got {text:?}"));
        };
        let cron = Cron {
            minute: Field::parse(minute, "minute", 0, 59)?,
            hour: Field::parse(hour, "hour", 0, 23)?,
            day: Field::parse(day, "day", 1, 31)?,
            month: Field::parse(month, "month", 1, 12)?,
            weekday: Field::parse(weekday, "weekday", 0, 6)?,
        };
        if cron.next_after(Utc::now()).is_none() {
            return Err(format!("cron {text:?} matches no time in a year"));
        }
        Ok(cron)
    }

    /// The first whole minute after `now` that matches, within a year.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = now.duration_trunc(Duration::minutes(1)).ok()? + Duration::minutes(1);
        let limit = now + Duration::days(HORIZON_DAYS);
        let mut candidate = start;
        while candidate <= limit {
            if self.matches(candidate) {
                return Some(candidate);
            }
            candidate += Duration::minutes(1);
        }
        None
    }

    fn matches(&self, t: DateTime<Utc>) -> bool {
        self.month.matches(t.month(), 1)
            && self.day.matches(t.day(), 1)
            && self.weekday.matches(t.weekday().num_days_from_monday(), 0)
            && self.hour.matches(t.hour(), 0)
            && self.minute.matches(t.minute(), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, s).unwrap()
    }

    #[test]
    fn every_minute_fires_at_the_next_whole_minute() {
        let cron = Cron::parse("* * * * *").unwrap();
        assert_eq!(
            cron.next_after(at(2026, 1, 5, 10, 30, 15)),
            Some(at(2026, 1, 5, 10, 31, 0))
        );
    }

    #[test]
    fn weekday_zero_is_monday_as_in_the_original() {
        // 2026-01-03 is a Saturday; the next Monday 09:00 is 2026-01-05.
        let cron = Cron::parse("0 9 * * 0").unwrap();
        assert_eq!(
            cron.next_after(at(2026, 1, 3, 12, 0, 0)),
            Some(at(2026, 1, 5, 9, 0, 0))
        );
    }

    #[test]
    fn day_and_weekday_must_both_match() {
        // The 13th that is a Friday (weekday 4): 2026-02-13.
        let cron = Cron::parse("0 0 13 * 4").unwrap();
        assert_eq!(
            cron.next_after(at(2026, 1, 1, 0, 0, 0)),
            Some(at(2026, 2, 13, 0, 0, 0))
        );
    }

    #[test]
    fn steps_ranges_and_lists() {
        let cron = Cron::parse("*/15 8-9,17 * * *").unwrap();
        assert_eq!(
            cron.next_after(at(2026, 1, 5, 9, 50, 0)),
            Some(at(2026, 1, 5, 17, 0, 0))
        );
        assert_eq!(
            cron.next_after(at(2026, 1, 5, 8, 1, 0)),
            Some(at(2026, 1, 5, 8, 15, 0))
        );
    }

    #[test]
    fn malformed_expressions_are_refused_with_the_reason() {
        for (text, reason) in [
            ("* * * *", "5 fields"),
            ("61 * * * *", "outside 0-59"),
            ("*/0 * * * *", "positive"),
            ("x * * * *", "not a number"),
            ("* * 31 2 *", "matches no time"),
        ] {
            let e = Cron::parse(text).unwrap_err();
            assert!(e.contains(reason), "{text}: {e}");
        }
    }
}
