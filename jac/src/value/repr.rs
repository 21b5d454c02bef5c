//! `repr()` and `str()` with Python's output format.

use super::class::ArchKind;
use super::exception::message_of;
use super::{Value, num};

/// Nesting depth after which containers print as `...` (guards self-references).
const MAX_DEPTH: usize = 64;

/// Python `repr(value)`.
pub fn repr(value: &Value) -> String {
    let mut out = String::new();
    write_repr(&mut out, value, 0);
    out
}

/// Python `str(value)`.
pub fn str(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Object(o) => o.str(),
        Value::Instance(i) => {
            if let Some((name, _)) = i.enum_member() {
                return format!("{}.{}", i.class.name, str(&name));
            }
            if i.class.exception_type().is_some() {
                return message_of(i);
            }
            repr(value)
        }
        _ => repr(value),
    }
}

/// Python `repr(s)` of a string.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python `repr(b)` of bytes.
pub fn repr_bytes(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from("b");
    out.push(quote);
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            c if c as char == quote => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

fn write_seq<'a>(out: &mut String, items: impl Iterator<Item = &'a Value>, depth: usize) {
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_repr(out, item, depth + 1);
    }
}

fn write_repr(out: &mut String, value: &Value, depth: usize) {
    if depth > MAX_DEPTH {
        out.push_str("...");
        return;
    }
    match value {
        Value::None => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::BigInt(b) => out.push_str(&b.to_string()),
        Value::Float(f) => out.push_str(&num::float_repr(*f)),
        Value::Str(s) => out.push_str(&repr_str(s)),
        Value::Bytes(b) => out.push_str(&repr_bytes(b)),
        Value::List(l) => {
            out.push('[');
            write_seq(out, l.borrow().iter(), depth);
            out.push(']');
        }
        Value::Tuple(t) => {
            out.push('(');
            write_seq(out, t.iter(), depth);
            if t.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        Value::Dict(d) => {
            out.push('{');
            for (i, (k, v)) in d.borrow().iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(out, k, depth + 1);
                out.push_str(": ");
                write_repr(out, v, depth + 1);
            }
            out.push('}');
        }
        Value::Set(s) => {
            let s = s.borrow();
            if s.is_empty() {
                out.push_str("set()");
            } else {
                out.push('{');
                write_seq(out, s.iter(), depth);
                out.push('}');
            }
        }
        Value::Range(r) => {
            if r.step == 1 {
                out.push_str(&format!("range({}, {})", r.start, r.stop));
            } else {
                out.push_str(&format!("range({}, {}, {})", r.start, r.stop, r.step));
            }
        }
        Value::Iter(_) => out.push_str("<iterator object>"),
        Value::Slice(s) => {
            out.push_str(&format!(
                "slice({}, {}, {})",
                repr(&s.start),
                repr(&s.stop),
                repr(&s.step)
            ));
        }
        Value::Function(f) => out.push_str(&format!("<function {}>", f.name())),
        Value::BoundMethod(m) => {
            let name = match &m.function {
                Value::Function(f) => f.name().to_string(),
                other => repr(other),
            };
            out.push_str(&format!("<bound method {} of {}>", name, repr(&m.receiver)));
        }
        Value::Native(n) => out.push_str(&format!("<built-in function {}>", n.name)),
        Value::Class(c) => out.push_str(&format!("<class '{}'>", c.name)),
        Value::Module(m) => out.push_str(&format!("<module '{}'>", m.name)),
        Value::Object(o) => out.push_str(&o.repr()),
        Value::Instance(i) => {
            if let Some((name, value)) = i.enum_member() {
                out.push_str(&format!("<{}.{}: ", i.class.name, str(&name)));
                write_repr(out, &value, depth + 1);
                out.push('>');
                return;
            }
            out.push_str(&i.class.name);
            out.push('(');
            if i.class.exception_type().is_some() {
                if let Some(Value::Tuple(args)) = i.get("args") {
                    write_seq(out, args.iter(), depth);
                }
            } else if i.class.kind != ArchKind::Class {
                for (n, (k, v)) in i.declared_fields().iter().enumerate() {
                    if n > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push('=');
                    write_repr(out, v, depth + 1);
                }
            }
            out.push(')');
        }
    }
}
