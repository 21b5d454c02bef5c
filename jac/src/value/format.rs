//! Python's format-spec mini-language (`format(x, spec)`, f-string `{x:spec}`).

use num_bigint::BigInt;
use num_traits::Signed;

use super::{ExcType, Exception, JacResult, Value, num, repr};

/// A parsed format spec: `[[fill]align][sign][#][0][width][,|_][.precision][type]`.
#[derive(Debug, Default, Clone)]
struct Spec {
    fill: Option<char>,
    align: Option<char>,
    sign: Option<char>,
    alternate: bool,
    width: usize,
    grouping: Option<char>,
    precision: Option<usize>,
    ty: Option<char>,
}

/// Largest width/precision accepted, to bound allocations.
const MAX_WIDTH: usize = 10_000;

fn invalid(spec: &str) -> Exception {
    Exception::new(
        ExcType::ValueError,
        format!("Invalid format specifier '{spec}'"),
    )
}

fn parse(spec: &str) -> JacResult<Spec> {
    let chars: Vec<char> = spec.chars().collect();
    let mut s = Spec::default();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '>' | '^' | '=');
    if chars.len() >= 2 && is_align(chars[1]) {
        s.fill = Some(chars[0]);
        s.align = Some(chars[1]);
        i = 2;
    } else if !chars.is_empty() && is_align(chars[0]) {
        s.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c) = chars.get(i)
        && matches!(c, '+' | '-' | ' ')
    {
        s.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'z') {
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        s.alternate = true;
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        if s.fill.is_none() {
            s.fill = Some('0');
        }
        if s.align.is_none() {
            s.align = Some('=');
        }
        i += 1;
    }
    let start = i;
    while chars.get(i).is_some_and(char::is_ascii_digit) {
        i += 1;
    }
    if i > start {
        s.width = chars[start..i]
            .iter()
            .collect::<String>()
            .parse()
            .map_err(|_| invalid(spec))?;
    }
    if let Some(&c) = chars.get(i)
        && matches!(c, ',' | '_')
    {
        s.grouping = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'.') {
        i += 1;
        let start = i;
        while chars.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return Err(Exception::new(
                ExcType::ValueError,
                "Format specifier missing precision",
            ));
        }
        s.precision = Some(
            chars[start..i]
                .iter()
                .collect::<String>()
                .parse()
                .map_err(|_| invalid(spec))?,
        );
    }
    if let Some(&c) = chars.get(i) {
        s.ty = Some(c);
        i += 1;
    }
    if i != chars.len() || s.width > MAX_WIDTH || s.precision.is_some_and(|p| p > MAX_WIDTH) {
        return Err(invalid(spec));
    }
    Ok(s)
}

/// Formats `value` according to `spec` (builtin types; objects use their own hook).
pub fn format_value(value: &Value, spec: &str) -> JacResult<String> {
    if let Value::Object(o) = value
        && let Some(r) = o.format(spec)
    {
        return r;
    }
    if spec.is_empty() {
        return Ok(repr::str(value));
    }
    let s = parse(spec)?;
    match value {
        Value::Bool(_) if s.ty.is_none() => Ok(pad(&repr::str(value), &s, '<')),
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => {
            let n = num::to_bigint(value).unwrap_or_default();
            match s.ty {
                None | Some('d' | 'n' | 'x' | 'X' | 'o' | 'b' | 'c') => format_int(&n, &s),
                Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%') => {
                    format_float(num::big_to_f64(&n)?, &s)
                }
                _ => Err(unknown_code(&s, "int")),
            }
        }
        Value::Float(f) => match s.ty {
            None | Some('e' | 'E' | 'f' | 'F' | 'g' | 'G' | '%' | 'n') => format_float(*f, &s),
            _ => Err(unknown_code(&s, "float")),
        },
        Value::Str(text) => match s.ty {
            None | Some('s') => {
                if s.sign.is_some() || s.align == Some('=') {
                    return Err(invalid(spec));
                }
                let text: String = match s.precision {
                    Some(p) => text.chars().take(p).collect(),
                    None => text.to_string(),
                };
                Ok(pad(&text, &s, '<'))
            }
            _ => Err(unknown_code(&s, "str")),
        },
        _ => {
            if s.ty.is_some() || s.sign.is_some() || s.precision.is_some() {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!(
                        "unsupported format string passed to {}.__format__",
                        value.type_name()
                    ),
                ));
            }
            Ok(pad(&repr::str(value), &s, '<'))
        }
    }
}

fn unknown_code(s: &Spec, ty: &str) -> Exception {
    Exception::new(
        ExcType::ValueError,
        format!(
            "Unknown format code '{}' for object of type '{ty}'",
            s.ty.unwrap_or(' ')
        ),
    )
}

fn group(digits: &str, sep: char, every: usize) -> String {
    let chars: Vec<char> = digits.chars().collect();
    let mut out = String::with_capacity(digits.len() + digits.len() / every);
    for (i, c) in chars.iter().enumerate() {
        if i > 0 && (chars.len() - i).is_multiple_of(every) {
            out.push(sep);
        }
        out.push(*c);
    }
    out
}

fn sign_prefix(negative: bool, s: &Spec) -> &'static str {
    match (negative, s.sign) {
        (true, _) => "-",
        (false, Some('+')) => "+",
        (false, Some(' ')) => " ",
        _ => "",
    }
}

fn format_int(n: &BigInt, s: &Spec) -> JacResult<String> {
    let abs = n.abs();
    let (digits, prefix) = match s.ty {
        Some('x') => (abs.to_str_radix(16), "0x"),
        Some('X') => (abs.to_str_radix(16).to_uppercase(), "0X"),
        Some('o') => (abs.to_str_radix(8), "0o"),
        Some('b') => (abs.to_str_radix(2), "0b"),
        Some('c') => {
            let c = u32::try_from(n)
                .ok()
                .and_then(char::from_u32)
                .ok_or_else(|| {
                    Exception::new(ExcType::OverflowError, "%c arg not in range(0x110000)")
                })?;
            return Ok(pad(&c.to_string(), s, '<'));
        }
        _ => (abs.to_string(), ""),
    };
    if s.precision.is_some() {
        return Err(Exception::new(
            ExcType::ValueError,
            "Precision not allowed in integer format specifier",
        ));
    }
    let digits = match s.grouping {
        Some(sep) => group(&digits, sep, if prefix.is_empty() { 3 } else { 4 }),
        None => digits,
    };
    let prefix = if s.alternate { prefix } else { "" };
    Ok(pad_number(
        sign_prefix(n.is_negative(), s),
        &format!("{prefix}{digits}"),
        s,
    ))
}

fn format_float(f: f64, s: &Spec) -> JacResult<String> {
    let negative = f.is_sign_negative() && !f.is_nan();
    let a = f.abs();
    let body = if !a.is_finite() {
        let t = if a.is_nan() { "nan" } else { "inf" };
        if matches!(s.ty, Some('E' | 'F' | 'G')) {
            t.to_uppercase()
        } else {
            t.to_string()
        }
    } else {
        match s.ty {
            Some('f' | 'F') => fixed(a, s.precision.unwrap_or(6), s),
            Some('e' | 'E') => {
                let t = sci(a, s.precision.unwrap_or(6), s.alternate);
                if s.ty == Some('E') {
                    t.to_uppercase()
                } else {
                    t
                }
            }
            Some('%') => format!("{}%", fixed(a * 100.0, s.precision.unwrap_or(6), s)),
            Some('g' | 'G' | 'n') => {
                let t = general(a, s.precision.unwrap_or(6), s.alternate, false, s);
                if s.ty == Some('G') {
                    t.to_uppercase()
                } else {
                    t
                }
            }
            _ => match s.precision {
                Some(p) => general(a, p, s.alternate, true, s),
                None => {
                    let r = num::float_repr(a);
                    match s.grouping {
                        Some(sep) => group_float(&r, sep),
                        None => r,
                    }
                }
            },
        }
    };
    Ok(pad_number(sign_prefix(negative, s), &body, s))
}

fn group_float(text: &str, sep: char) -> String {
    let (int, rest) = match text.find(['.', 'e']) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    format!("{}{rest}", group(int, sep, 3))
}

fn fixed(a: f64, precision: usize, s: &Spec) -> String {
    let mut t = format!("{a:.precision$}");
    if s.alternate && precision == 0 {
        t.push('.');
    }
    match s.grouping {
        Some(sep) => group_float(&t, sep),
        None => t,
    }
}

fn sci(a: f64, precision: usize, alternate: bool) -> String {
    let t = format!("{a:.precision$e}");
    let (mant, exp) = t.split_once('e').unwrap_or((&t, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mant = if alternate && precision == 0 {
        format!("{mant}.")
    } else {
        mant.to_string()
    };
    format!("{mant}e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs())
}

/// `g` formatting; `repr_like` is the no-type form that keeps at least one decimal.
fn general(a: f64, precision: usize, alternate: bool, repr_like: bool, s: &Spec) -> String {
    let p = precision.max(1);
    if a == 0.0 {
        return if repr_like {
            "0.0".into()
        } else if alternate {
            format!("{:.*}", p - 1, 0.0)
        } else {
            "0".into()
        };
    }
    let exp_text = format!("{a:.prec$e}", prec = p - 1);
    let exp: i32 = exp_text
        .split_once('e')
        .and_then(|(_, e)| e.parse().ok())
        .unwrap_or(0);
    let strip = |t: String| -> String {
        if alternate || !t.contains('.') {
            return t;
        }
        let t = t.trim_end_matches('0');
        t.strip_suffix('.').unwrap_or(t).to_string()
    };
    if -4 <= exp && exp < p as i32 {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let mut t = strip(format!("{a:.decimals$}"));
        if repr_like && !t.contains('.') {
            t.push_str(".0");
        }
        match s.grouping {
            Some(sep) => group_float(&t, sep),
            None => t,
        }
    } else {
        let t = sci(a, p - 1, alternate);
        let (mant, e) = t.split_once('e').unwrap_or((&t, ""));
        format!("{}e{e}", strip(mant.to_string()))
    }
}

fn pad_number(sign: &str, body: &str, s: &Spec) -> String {
    let len = sign.chars().count() + body.chars().count();
    if len >= s.width {
        return format!("{sign}{body}");
    }
    if s.align.unwrap_or('>') == '=' {
        let fill = s.fill.unwrap_or(' ');
        let padding: String = std::iter::repeat_n(fill, s.width - len).collect();
        return format!("{sign}{padding}{body}");
    }
    pad(&format!("{sign}{body}"), s, '>')
}

fn pad(text: &str, s: &Spec, default_align: char) -> String {
    let len = text.chars().count();
    if len >= s.width {
        return text.to_string();
    }
    let fill = s.fill.unwrap_or(' ');
    let total = s.width - len;
    let (left, right) = match s.align.unwrap_or(default_align) {
        '<' => (0, total),
        '^' => (total / 2, total - total / 2),
        _ => (total, 0),
    };
    let mut out = String::with_capacity(s.width);
    out.extend(std::iter::repeat_n(fill, left));
    out.push_str(text);
    out.extend(std::iter::repeat_n(fill, right));
    out
}

/// printf-style `template % args` (`%s`, `%r`, `%d`, `%i`, `%f`, `%e`, `%g`, `%x`, `%o`,
/// `%c`, `%%`, with flags, width, precision and `%(name)s` mapping keys).
pub fn percent_format(template: &str, args: &Value) -> JacResult<String> {
    let positional: Vec<Value> = match args {
        Value::Tuple(items) => items.to_vec(),
        other => vec![other.clone()],
    };
    let mut next = 0usize;
    let mut out = String::with_capacity(template.len());
    let mut chars = template.chars().peekable();
    let bad = |msg: &str| Exception::new(ExcType::ValueError, msg.to_string());
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut key = None;
        if chars.peek() == Some(&'(') {
            chars.next();
            let name: String = chars.by_ref().take_while(|c| *c != ')').collect();
            key = Some(name);
        }
        let mut flags = String::new();
        while let Some(&f) = chars
            .peek()
            .filter(|f| matches!(f, '-' | '+' | ' ' | '#' | '0'))
        {
            flags.push(f);
            chars.next();
        }
        let mut width = String::new();
        while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
            width.push(d);
            chars.next();
        }
        let mut precision = None;
        if chars.peek() == Some(&'.') {
            chars.next();
            let mut p = String::new();
            while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                p.push(d);
                chars.next();
            }
            precision = Some(p);
        }
        let ty = chars.next().ok_or_else(|| bad("incomplete format"))?;
        if ty == '%' {
            out.push('%');
            continue;
        }
        let value = match &key {
            Some(k) => match args {
                Value::Dict(d) => d.borrow().get_str(k).ok_or_else(|| {
                    Exception::with_arg(ExcType::KeyError, Value::from(k.as_str()))
                })?,
                _ => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        "format requires a mapping",
                    ));
                }
            },
            None => {
                let v = positional.get(next).cloned().ok_or_else(|| {
                    Exception::new(ExcType::TypeError, "not enough arguments for format string")
                })?;
                next += 1;
                v
            }
        };
        let align = if flags.contains('-') { "<" } else { ">" };
        let zero = if flags.contains('0') && !flags.contains('-') {
            "0"
        } else {
            ""
        };
        let sign = if flags.contains('+') {
            "+"
        } else if flags.contains(' ') {
            " "
        } else {
            ""
        };
        let alt = if flags.contains('#') { "#" } else { "" };
        let prec = precision
            .map(|p| format!(".{}", if p.is_empty() { "0" } else { &p }))
            .unwrap_or_default();
        let text = match ty {
            's' | 'r' | 'a' => {
                let s = if ty == 's' {
                    repr::str(&value)
                } else {
                    repr::repr(&value)
                };
                format_value(&Value::from(s), &format!("{align}{width}{prec}"))?
            }
            'd' | 'i' | 'u' => {
                let n = match &value {
                    Value::Float(f) => num::int_value(
                        num_traits::FromPrimitive::from_f64(f.trunc())
                            .ok_or_else(|| bad("cannot convert float to integer"))?,
                    ),
                    other => other.clone(),
                };
                let spec = if zero.is_empty() {
                    format!("{align}{sign}{width}d")
                } else {
                    format!("{sign}0{width}d")
                };
                format_value(&n, &spec)?
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'x' | 'X' | 'o' | 'c' => {
                let prec = if prec.is_empty() && matches!(ty, 'f' | 'F' | 'e' | 'E') {
                    ".6".to_string()
                } else {
                    prec
                };
                let spec = if zero.is_empty() {
                    format!("{align}{sign}{alt}{width}{prec}{ty}")
                } else {
                    format!("{sign}{alt}0{width}{prec}{ty}")
                };
                format_value(&value, &spec)?
            }
            other => return Err(bad(&format!("unsupported format character '{other}'"))),
        };
        out.push_str(&text);
    }
    if key_free_leftover(args, next, &positional) {
        return Err(Exception::new(
            ExcType::TypeError,
            "not all arguments converted during string formatting",
        ));
    }
    Ok(out)
}

fn key_free_leftover(args: &Value, used: usize, positional: &[Value]) -> bool {
    !matches!(args, Value::Dict(_)) && used < positional.len()
}
