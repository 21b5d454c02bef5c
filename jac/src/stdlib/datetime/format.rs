//! `strftime`, `strptime` and `fromisoformat` parsing.

use super::calendar::{days_from_civil, weekday};
use super::date_time::build_local;
use super::time_zone::format_offset;
use super::{MONTHS, WEEKDAYS};
use crate::stdlib::value_error;
use crate::value::JacResult;

/// The broken-down time strftime works on.
pub(super) struct Parts {
    pub(super) y: i64,
    pub(super) m: i64,
    pub(super) d: i64,
    pub(super) hh: i64,
    pub(super) mm: i64,
    pub(super) ss: i64,
    pub(super) us: i64,
    pub(super) days: i64,
    pub(super) offset: Option<i32>,
}

/// Python's `strftime` for the portable directives; `%-d` style (no padding) is accepted.
pub(super) fn strftime(fmt: &str, p: &Parts) -> String {
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
pub(super) fn strptime(text: &str, fmt: &str) -> JacResult<(i64, Option<i32>)> {
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
pub(super) fn parse_offset(s: &str) -> Option<(i32, usize)> {
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
pub(super) fn parse_iso(s: &str) -> Option<(i64, Option<i32>)> {
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
