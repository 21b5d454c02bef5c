//! `json`: `dumps` (with `indent`, `sort_keys`, `separators`, `ensure_ascii`,
//! `default`) and `loads`, formatting exactly as CPython does.

use std::rc::Rc;

use super::{def, value_error};
use crate::interp::Interpreter;
use crate::value::class::BuiltinType;
use crate::value::num::float_repr;
use crate::value::{Args, ExcType, Exception, JacResult, Module, Value};

/// Deepest nesting `dumps` follows before reporting a cycle.
const MAX_DEPTH: usize = 256;

/// Builds the `json` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("json"));
    def(&module, "dumps", dumps);
    def(&module, "loads", |_, args| {
        let text = match args.required(0, "s", "loads")? {
            Value::Str(s) => s.to_string(),
            Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned(),
            other => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!(
                        "the JSON object must be str, bytes or bytearray, not {}",
                        other.type_name()
                    ),
                ));
            }
        };
        let parsed: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| value_error(format!("Expecting value: {e}")))?;
        Ok(crate::value::json::from_json_plain(&parsed))
    });
    // `except json.JSONDecodeError` catches what `loads` raises.
    module.set(
        "JSONDecodeError",
        Value::Class(BuiltinType::Exception(ExcType::ValueError).class()),
    );
    Ok(module)
}

/// Options of one `dumps` call.
struct Encoder {
    indent: Option<String>,
    item_sep: String,
    key_sep: String,
    sort_keys: bool,
    ensure_ascii: bool,
    default: Option<Value>,
}

fn dumps(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    args.allow_keywords(
        "dumps",
        &[
            "obj",
            "indent",
            "sort_keys",
            "separators",
            "ensure_ascii",
            "default",
        ],
    )?;
    let value = args.required(0, "obj", "dumps")?;
    let indent = match args.kw("indent") {
        None | Some(Value::None) => None,
        Some(Value::Int(n)) => Some(" ".repeat(usize::try_from(n).unwrap_or(0))),
        Some(Value::Str(s)) => Some(s.to_string()),
        Some(other) => return Err(crate::value::native::type_error("dumps", "indent", &other)),
    };
    let (item_sep, key_sep) = match args.kw("separators") {
        Some(Value::Tuple(t)) if t.len() == 2 => match (&t[0], &t[1]) {
            (Value::Str(a), Value::Str(b)) => (a.to_string(), b.to_string()),
            _ => {
                return Err(value_error(
                    "separators must be a (item_separator, key_separator) tuple",
                ));
            }
        },
        _ if indent.is_some() => (",".to_string(), ": ".to_string()),
        _ => (", ".to_string(), ": ".to_string()),
    };
    let encoder = Encoder {
        indent,
        item_sep,
        key_sep,
        sort_keys: args.kw("sort_keys").is_some_and(|v| v.truthy()),
        ensure_ascii: args.kw("ensure_ascii").is_none_or(|v| v.truthy()),
        default: args.kw("default").filter(|v| !matches!(v, Value::None)),
    };
    let mut out = String::new();
    encoder.encode(vm, &value, 0, &mut out)?;
    Ok(Value::from(out))
}

impl Encoder {
    fn newline(&self, level: usize, out: &mut String) {
        if let Some(indent) = &self.indent {
            out.push('\n');
            for _ in 0..level {
                out.push_str(indent);
            }
        }
    }

    fn encode(
        &self,
        vm: &mut Interpreter,
        value: &Value,
        level: usize,
        out: &mut String,
    ) -> JacResult<()> {
        if level > MAX_DEPTH {
            return Err(value_error("Circular reference detected"));
        }
        match value {
            Value::None => out.push_str("null"),
            Value::Bool(true) => out.push_str("true"),
            Value::Bool(false) => out.push_str("false"),
            Value::Int(i) => out.push_str(&i.to_string()),
            Value::BigInt(b) => out.push_str(&b.to_string()),
            Value::Float(f) => out.push_str(&float_json(*f)),
            Value::Str(s) => self.string(s, out),
            Value::List(items) => {
                let items = items.borrow().clone();
                self.sequence(vm, &items, level, out)?;
            }
            Value::Tuple(items) => self.sequence(vm, items, level, out)?,
            Value::Dict(d) => {
                let mut entries: Vec<(String, Value)> = Vec::new();
                for (k, v) in d.borrow().iter() {
                    entries.push((key_string(k)?, v.clone()));
                }
                if self.sort_keys {
                    entries.sort_by(|a, b| a.0.cmp(&b.0));
                }
                if entries.is_empty() {
                    out.push_str("{}");
                    return Ok(());
                }
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(&self.item_sep);
                    }
                    self.newline(level + 1, out);
                    self.string(k, out);
                    out.push_str(&self.key_sep);
                    self.encode(vm, v, level + 1, out)?;
                }
                self.newline(level, out);
                out.push('}');
            }
            other => match &self.default {
                Some(default) => {
                    let converted = vm.call_value(default, Args::new(vec![other.clone()]))?;
                    self.encode(vm, &converted, level + 1, out)?;
                }
                None => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!(
                            "Object of type {} is not JSON serializable",
                            other.type_name()
                        ),
                    ));
                }
            },
        }
        Ok(())
    }

    fn sequence(
        &self,
        vm: &mut Interpreter,
        items: &[Value],
        level: usize,
        out: &mut String,
    ) -> JacResult<()> {
        if items.is_empty() {
            out.push_str("[]");
            return Ok(());
        }
        out.push('[');
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(&self.item_sep);
            }
            self.newline(level + 1, out);
            self.encode(vm, item, level + 1, out)?;
        }
        self.newline(level, out);
        out.push(']');
        Ok(())
    }

    fn string(&self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (self.ensure_ascii && !c.is_ascii()) => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
}

/// Python's float JSON form: `repr`, with `NaN` / `Infinity` / `-Infinity`.
fn float_json(f: f64) -> String {
    if f.is_nan() {
        "NaN".into()
    } else if f.is_infinite() {
        if f > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        }
    } else {
        float_repr(f)
    }
}

/// A dict key as a JSON object key (str, int, float, bool, None only).
fn key_string(key: &Value) -> JacResult<String> {
    Ok(match key {
        Value::Str(s) => s.to_string(),
        Value::Bool(true) => "true".into(),
        Value::Bool(false) => "false".into(),
        Value::None => "null".into(),
        Value::Int(i) => i.to_string(),
        Value::BigInt(b) => b.to_string(),
        Value::Float(f) => float_json(*f),
        other => {
            return Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "keys must be str, int, float, bool or None, not {}",
                    other.type_name()
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_forms() {
        assert_eq!(float_json(1.0), "1.0");
        assert_eq!(float_json(f64::NAN), "NaN");
        assert_eq!(float_json(f64::NEG_INFINITY), "-Infinity");
    }

    #[test]
    fn strings_escape_like_python() {
        let e = Encoder {
            indent: None,
            item_sep: ", ".into(),
            key_sep: ": ".into(),
            sort_keys: false,
            ensure_ascii: true,
            default: None,
        };
        let mut out = String::new();
        e.string("a\"\n\u{1}é😀", &mut out);
        assert_eq!(out, r#""a\"\n\u0001\u00e9\ud83d\ude00""#);
    }
}
