//! Methods of the builtin types: `str`, `list`, `dict`, `set`, `tuple`,
//! `bytes`, `int`, `float`.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::rc::Rc;

use crate::interp::Interpreter;
use crate::value::format::format_value;
use crate::value::{
    Args, Dict, ExcType, Exception, JacResult, NativeFn, NativeObject, Set, Value, ops, repr,
};

const STR_METHODS: &[&str] = &[
    "upper",
    "lower",
    "strip",
    "lstrip",
    "rstrip",
    "split",
    "rsplit",
    "splitlines",
    "join",
    "replace",
    "startswith",
    "endswith",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "isupper",
    "islower",
    "isnumeric",
    "isdecimal",
    "isidentifier",
    "istitle",
    "title",
    "capitalize",
    "swapcase",
    "casefold",
    "center",
    "ljust",
    "rjust",
    "zfill",
    "format",
    "encode",
    "partition",
    "rpartition",
    "removeprefix",
    "removesuffix",
];
const LIST_METHODS: &[&str] = &[
    "append", "extend", "insert", "pop", "remove", "index", "count", "sort", "reverse", "clear",
    "copy",
];
const DICT_METHODS: &[&str] = &[
    "get",
    "keys",
    "values",
    "items",
    "pop",
    "popitem",
    "setdefault",
    "update",
    "clear",
    "copy",
];
const SET_METHODS: &[&str] = &[
    "add",
    "remove",
    "discard",
    "pop",
    "clear",
    "copy",
    "union",
    "intersection",
    "difference",
    "symmetric_difference",
    "update",
    "difference_update",
    "intersection_update",
    "issubset",
    "issuperset",
    "isdisjoint",
];
const TUPLE_METHODS: &[&str] = &["index", "count"];
const BYTES_METHODS: &[&str] = &["decode", "hex"];
const INT_METHODS: &[&str] = &["bit_length", "is_integer"];
const FLOAT_METHODS: &[&str] = &["is_integer"];

fn method_names(v: &Value) -> &'static [&'static str] {
    match v {
        Value::Str(_) => STR_METHODS,
        Value::List(_) => LIST_METHODS,
        Value::Dict(_) => DICT_METHODS,
        Value::Set(_) => SET_METHODS,
        Value::Tuple(_) => TUPLE_METHODS,
        Value::Bytes(_) => BYTES_METHODS,
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => INT_METHODS,
        Value::Float(_) => FLOAT_METHODS,
        _ => &[],
    }
}

/// The bound method `value.name` of a builtin value, if it exists.
pub fn get_method(value: &Value, name: &str) -> Option<Value> {
    let &name = method_names(value).iter().find(|m| **m == name)?;
    Some(NativeFn::method(
        name,
        value.clone(),
        move |vm, mut args| {
            let recv = args.positional.remove(0);
            call_method(vm, &recv, name, args)
                .unwrap_or_else(|| Err(Exception::new(ExcType::AttributeError, name)))
        },
    ))
}

/// Calls `recv.name(args)` for builtin values; `None` if there is no such method.
pub fn call_method(
    vm: &mut Interpreter,
    recv: &Value,
    name: &str,
    args: Args,
) -> Option<JacResult<Value>> {
    match recv {
        Value::Str(s) => str_method(vm, s, name, &args),
        Value::List(_) => list_method(vm, recv, name, args),
        Value::Dict(_) => dict_method(vm, recv, name, &args),
        Value::Set(_) => set_method(vm, recv, name, &args),
        Value::Tuple(t) => seq_method(vm, t, name, &args),
        Value::Bytes(b) => match name {
            "decode" => Some(
                String::from_utf8(b.to_vec())
                    .map(Value::from)
                    .map_err(|e| Exception::new(ExcType::UnicodeError, e.to_string())),
            ),
            "hex" => Some(Ok(Value::from(
                b.iter().map(|c| format!("{c:02x}")).collect::<String>(),
            ))),
            _ => None,
        },
        Value::Int(_) | Value::BigInt(_) | Value::Bool(_) => match name {
            "bit_length" => Some(Ok(Value::Int(
                crate::value::num::to_bigint(recv).map_or(0, |n| n.bits() as i64),
            ))),
            "is_integer" => Some(Ok(Value::Bool(true))),
            _ => None,
        },
        Value::Float(f) => match name {
            "is_integer" => Some(Ok(Value::Bool(f.fract() == 0.0 && f.is_finite()))),
            _ => None,
        },
        _ => None,
    }
}

fn arg_str(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<Option<String>> {
    match args.get(i, name) {
        None | Some(Value::None) => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.to_string())),
        Some(other) => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "{fname}() argument must be str or None, not {}",
                other.type_name()
            ),
        )),
    }
}

fn arg_int(args: &Args, i: usize, name: &str, default: i64) -> JacResult<i64> {
    match args.get(i, name) {
        None | Some(Value::None) => Ok(default),
        Some(v) => v.as_i64().ok_or_else(|| {
            Exception::new(
                ExcType::TypeError,
                format!(
                    "'{}' object cannot be interpreted as an integer",
                    v.type_name()
                ),
            )
        }),
    }
}

fn strip_with<'a>(s: &'a str, chars: Option<&str>, left: bool, right: bool) -> &'a str {
    let pred = |c: char| match chars {
        Some(set) => set.contains(c),
        None => c.is_whitespace(),
    };
    let s = if left { s.trim_start_matches(pred) } else { s };
    if right { s.trim_end_matches(pred) } else { s }
}

fn affix_matches(vm: &mut Interpreter, s: &str, arg: &Value, start: bool) -> JacResult<bool> {
    let _ = vm;
    let test = |p: &str| {
        if start {
            s.starts_with(p)
        } else {
            s.ends_with(p)
        }
    };
    match arg {
        Value::Str(p) => Ok(test(p)),
        Value::Tuple(items) => Ok(items.iter().any(|p| p.as_str().is_some_and(test))),
        other => Err(Exception::new(
            ExcType::TypeError,
            format!(
                "startswith/endswith first arg must be str or a tuple of str, not {}",
                other.type_name()
            ),
        )),
    }
}

fn char_index(s: &str, byte: usize) -> i64 {
    s[..byte].chars().count() as i64
}

fn pad_str(s: &str, width: i64, fill: char, align: char) -> String {
    let len = s.chars().count() as i64;
    if width <= len {
        return s.to_string();
    }
    let total = (width - len) as usize;
    let (l, r) = match align {
        '<' => (0, total),
        '>' => (total, 0),
        _ => {
            let l = total / 2 + (total & usize::from(width % 2 == 1 && len % 2 == 0));
            let l = l.min(total);
            (l, total - l)
        }
    };
    format!(
        "{}{s}{}",
        fill.to_string().repeat(l),
        fill.to_string().repeat(r)
    )
}

fn str_method(
    vm: &mut Interpreter,
    s: &Rc<str>,
    name: &str,
    args: &Args,
) -> Option<JacResult<Value>> {
    let r: JacResult<Value> = (|| {
        Ok(match name {
            "upper" => Value::from(s.to_uppercase()),
            "lower" | "casefold" => Value::from(s.to_lowercase()),
            "strip" | "lstrip" | "rstrip" => {
                let chars = arg_str(args, 0, "chars", name)?;
                Value::from(strip_with(
                    s,
                    chars.as_deref(),
                    name != "rstrip",
                    name != "lstrip",
                ))
            }
            "split" | "rsplit" => {
                let sep = arg_str(args, 0, "sep", name)?;
                let max = arg_int(args, 1, "maxsplit", -1)?;
                let parts: Vec<String> = match (&sep, max < 0) {
                    (Some(sep), _) if sep.is_empty() => {
                        return Err(Exception::new(ExcType::ValueError, "empty separator"));
                    }
                    (Some(sep), true) => s.split(sep.as_str()).map(String::from).collect(),
                    (Some(sep), false) if name == "split" => s
                        .splitn(max as usize + 1, sep.as_str())
                        .map(String::from)
                        .collect(),
                    (Some(sep), false) => {
                        let mut v: Vec<String> = s
                            .rsplitn(max as usize + 1, sep.as_str())
                            .map(String::from)
                            .collect();
                        v.reverse();
                        v
                    }
                    (None, true) => s.split_whitespace().map(String::from).collect(),
                    (None, false) => split_whitespace_n(s, max as usize, name == "rsplit"),
                };
                Value::list(parts.into_iter().map(Value::from).collect())
            }
            "splitlines" => Value::list(s.lines().map(Value::from).collect()),
            "join" => {
                let items = vm.iterate(&args.required(0, "iterable", "join")?)?;
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(s);
                    }
                    match item {
                        Value::Str(x) => out.push_str(x),
                        other => {
                            return Err(Exception::new(
                                ExcType::TypeError,
                                format!(
                                    "sequence item {i}: expected str instance, {} found",
                                    other.type_name()
                                ),
                            ));
                        }
                    }
                }
                Value::from(out)
            }
            "replace" => {
                let old = arg_str(args, 0, "old", name)?.unwrap_or_default();
                let new = arg_str(args, 1, "new", name)?.unwrap_or_default();
                let count = arg_int(args, 2, "count", -1)?;
                Value::from(if count < 0 {
                    s.replace(&old, &new)
                } else {
                    s.replacen(&old, &new, count as usize)
                })
            }
            "startswith" | "endswith" => Value::Bool(affix_matches(
                vm,
                s,
                &args.required(0, "prefix", name)?,
                name == "startswith",
            )?),
            "find" | "rfind" | "index" | "rindex" => {
                let sub = arg_str(args, 0, "sub", name)?.unwrap_or_default();
                let found = if name.starts_with('r') {
                    s.rfind(&sub)
                } else {
                    s.find(&sub)
                };
                match found {
                    Some(b) => Value::Int(char_index(s, b)),
                    None if name.ends_with("find") => Value::Int(-1),
                    None => return Err(Exception::new(ExcType::ValueError, "substring not found")),
                }
            }
            "count" => {
                let sub = arg_str(args, 0, "sub", name)?.unwrap_or_default();
                Value::Int(if sub.is_empty() {
                    s.chars().count() as i64 + 1
                } else {
                    s.matches(&sub).count() as i64
                })
            }
            "isdigit" | "isdecimal" | "isnumeric" => {
                Value::Bool(!s.is_empty() && s.chars().all(|c| c.is_numeric()))
            }
            "isalpha" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphabetic)),
            "isalnum" => Value::Bool(!s.is_empty() && s.chars().all(char::is_alphanumeric)),
            "isspace" => Value::Bool(!s.is_empty() && s.chars().all(char::is_whitespace)),
            "isupper" => Value::Bool(
                s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_lowercase),
            ),
            "islower" => Value::Bool(
                s.chars().any(char::is_alphabetic) && !s.chars().any(char::is_uppercase),
            ),
            "isidentifier" => Value::Bool(
                s.chars()
                    .next()
                    .is_some_and(|c| c.is_alphabetic() || c == '_')
                    && s.chars().all(|c| c.is_alphanumeric() || c == '_'),
            ),
            "istitle" => Value::Bool(
                !s.is_empty() && title_case(s) == **s && s.chars().any(char::is_alphabetic),
            ),
            "title" => Value::from(title_case(s)),
            "capitalize" => {
                let mut chars = s.chars();
                Value::from(match chars.next() {
                    Some(c) => c
                        .to_uppercase()
                        .chain(chars.flat_map(char::to_lowercase))
                        .collect::<String>(),
                    None => String::new(),
                })
            }
            "swapcase" => Value::from(
                s.chars()
                    .flat_map(|c| {
                        if c.is_uppercase() {
                            c.to_lowercase().collect::<Vec<_>>()
                        } else {
                            c.to_uppercase().collect()
                        }
                    })
                    .collect::<String>(),
            ),
            "center" | "ljust" | "rjust" => {
                let width = arg_int(args, 0, "width", 0)?;
                let fill = arg_str(args, 1, "fillchar", name)?
                    .and_then(|f| f.chars().next())
                    .unwrap_or(' ');
                let align = match name {
                    "ljust" => '<',
                    "rjust" => '>',
                    _ => '^',
                };
                Value::from(pad_str(s, width, fill, align))
            }
            "zfill" => {
                let width = arg_int(args, 0, "width", 0)?;
                let (sign, digits) = match s.strip_prefix(['-', '+']) {
                    Some(rest) => (&s[..1], rest),
                    None => ("", &s[..]),
                };
                let len = s.chars().count() as i64;
                let zeros = "0".repeat((width - len).max(0) as usize);
                Value::from(format!("{sign}{zeros}{digits}"))
            }
            "format" => Value::from(str_format(vm, s, args)?),
            "encode" => Value::Bytes(s.as_bytes().into()),
            "partition" | "rpartition" => {
                let sep = arg_str(args, 0, "sep", name)?.unwrap_or_default();
                let found = if name == "partition" {
                    s.find(&sep)
                } else {
                    s.rfind(&sep)
                };
                let parts = match found {
                    Some(i) => [&s[..i], sep.as_str(), &s[i + sep.len()..]],
                    None if name == "partition" => [&s[..], "", ""],
                    None => ["", "", &s[..]],
                };
                Value::tuple(parts.iter().map(|p| Value::from(*p)).collect())
            }
            "removeprefix" => {
                let p = arg_str(args, 0, "prefix", name)?.unwrap_or_default();
                Value::from(s.strip_prefix(p.as_str()).unwrap_or(s))
            }
            "removesuffix" => {
                let p = arg_str(args, 0, "suffix", name)?.unwrap_or_default();
                Value::from(s.strip_suffix(p.as_str()).unwrap_or(s))
            }
            _ => return Err(Exception::new(ExcType::AttributeError, String::new())),
        })
    })();
    match r {
        Err(e) if e.is(ExcType::AttributeError) && e.message().is_empty() => None,
        other => Some(other),
    }
}

fn split_whitespace_n(s: &str, max: usize, from_right: bool) -> Vec<String> {
    let words: Vec<&str> = s.split_whitespace().collect();
    if words.len() <= max + 1 {
        return words.into_iter().map(String::from).collect();
    }
    if from_right {
        let keep = &words[words.len() - max..];
        let head_end = s.trim_end().len() - keep.join(" ").len();
        let mut out = vec![s[..head_end].trim().to_string()];
        out.extend(keep.iter().map(|w| w.to_string()));
        out
    } else {
        let mut out: Vec<String> = words[..max].iter().map(|w| w.to_string()).collect();
        let mut rest = s.trim_start();
        for w in &words[..max] {
            rest = rest[w.len()..].trim_start();
        }
        out.push(rest.to_string());
        out
    }
}

fn title_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_alpha = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_alpha {
                out.extend(c.to_lowercase())
            } else {
                out.extend(c.to_uppercase())
            }
            prev_alpha = true;
        } else {
            out.push(c);
            prev_alpha = false;
        }
    }
    out
}

/// `"...".format(*args, **kwargs)`: `{}`, `{0}`, `{name}`, `{x.attr}`, `{x[0]}`, `!r`, `:spec`.
fn str_format(vm: &mut Interpreter, template: &str, args: &Args) -> JacResult<String> {
    let mut out = String::new();
    let mut auto = 0usize;
    let chars: Vec<char> = template.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '{' && chars.get(i + 1) == Some(&'{') {
            out.push('{');
            i += 2;
            continue;
        }
        if c == '}' && chars.get(i + 1) == Some(&'}') {
            out.push('}');
            i += 2;
            continue;
        }
        if c != '{' {
            out.push(c);
            i += 1;
            continue;
        }
        let end = chars[i..]
            .iter()
            .position(|&c| c == '}')
            .map(|p| i + p)
            .ok_or_else(|| {
                Exception::new(
                    ExcType::ValueError,
                    "Single '{' encountered in format string",
                )
            })?;
        let field: String = chars[i + 1..end].iter().collect();
        i = end + 1;
        let (field, spec) = field
            .split_once(':')
            .map_or((field.as_str(), ""), |(a, b)| (a, b));
        let (field, conv) = field
            .split_once('!')
            .map_or((field, None), |(a, b)| (a, b.chars().next()));
        let head_len = field.find(['.', '[']).unwrap_or(field.len());
        let (head, mut rest) = field.split_at(head_len);
        let mut value = if head.is_empty() {
            let v = args.positional.get(auto).cloned();
            auto += 1;
            v
        } else if let Ok(n) = head.parse::<usize>() {
            args.positional.get(n).cloned()
        } else {
            args.kw(head)
        }
        .ok_or_else(|| Exception::new(ExcType::KeyError, format!("'{head}'")))?;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.find(['.', '[']).unwrap_or(r.len());
                value = vm.get_attr(&value, &r[..n])?;
                rest = &r[n..];
            } else if let Some(r) = rest.strip_prefix('[') {
                let n = r.find(']').unwrap_or(r.len());
                let key = match r[..n].parse::<i64>() {
                    Ok(i) => Value::Int(i),
                    Err(_) => Value::from(&r[..n]),
                };
                value = vm.get_item(&value, &key)?;
                rest = r.get(n + 1..).unwrap_or("");
            } else {
                break;
            }
        }
        let text = match conv {
            Some('r' | 'a') => format_value(&Value::from(vm.repr_of(&value)?), spec)?,
            Some(_) => format_value(&Value::from(vm.str_of(&value)?), spec)?,
            None if spec.is_empty() => vm.str_of(&value)?,
            None => format_value(&value, spec)?,
        };
        out.push_str(&text);
    }
    Ok(out)
}

/// Sorts values in place with Python's stable sort, an optional key and `reverse`.
pub fn sort_values(
    vm: &mut Interpreter,
    items: &mut Vec<Value>,
    key: Option<&Value>,
    reverse: bool,
) -> JacResult<()> {
    let keys: Vec<Value> = match key {
        Some(k) if !matches!(k, Value::None) => items
            .iter()
            .map(|v| vm.call_value(k, Args::new(vec![v.clone()])))
            .collect::<JacResult<_>>()?,
        _ => items.clone(),
    };
    let mut order: Vec<usize> = (0..items.len()).collect();
    let mut error = None;
    order.sort_by(|&a, &b| {
        if error.is_some() {
            return Ordering::Equal;
        }
        let (x, y) = if reverse {
            (&keys[b], &keys[a])
        } else {
            (&keys[a], &keys[b])
        };
        match vm.compare(crate::syntax::ast::CmpOp::Lt, x, y) {
            Ok(true) => Ordering::Less,
            Ok(false) => match vm.compare(crate::syntax::ast::CmpOp::Lt, y, x) {
                Ok(true) => Ordering::Greater,
                Ok(false) => Ordering::Equal,
                Err(e) => {
                    error = Some(e);
                    Ordering::Equal
                }
            },
            Err(e) => {
                error = Some(e);
                Ordering::Equal
            }
        }
    });
    if let Some(e) = error {
        return Err(e);
    }
    let sorted: Vec<Value> = order.into_iter().map(|i| items[i].clone()).collect();
    *items = sorted;
    Ok(())
}

fn seq_method(
    vm: &mut Interpreter,
    items: &[Value],
    name: &str,
    args: &Args,
) -> Option<JacResult<Value>> {
    let mut r = || -> JacResult<Value> {
        let x = args.required(0, "value", name)?;
        match name {
            "index" => {
                for (i, v) in items.iter().enumerate() {
                    if vm.values_eq(v, &x)? {
                        return Ok(Value::Int(i as i64));
                    }
                }
                Err(Exception::new(
                    ExcType::ValueError,
                    format!("{} is not in list", repr::repr(&x)),
                ))
            }
            _ => {
                let mut n = 0;
                for v in items {
                    if vm.values_eq(v, &x)? {
                        n += 1;
                    }
                }
                Ok(Value::Int(n))
            }
        }
    };
    match name {
        "index" | "count" => Some(r()),
        _ => None,
    }
}

fn list_method(
    vm: &mut Interpreter,
    recv: &Value,
    name: &str,
    args: Args,
) -> Option<JacResult<Value>> {
    let Value::List(list) = recv else { return None };
    let r = || -> JacResult<Value> {
        match name {
            "append" => {
                args.check("append", 1, 1)?;
                list.borrow_mut().push(args.positional[0].clone());
            }
            "extend" => {
                let items = vm.iterate(&args.required(0, "iterable", name)?)?;
                list.borrow_mut().extend(items);
            }
            "insert" => {
                let i = arg_int(&args, 0, "index", 0)?;
                let v = args.required(1, "object", name)?;
                let mut l = list.borrow_mut();
                let len = l.len() as i64;
                let at = if i < 0 { (i + len).max(0) } else { i.min(len) };
                l.insert(at as usize, v);
            }
            "pop" => {
                let mut l = list.borrow_mut();
                if l.is_empty() {
                    return Err(Exception::new(ExcType::IndexError, "pop from empty list"));
                }
                let len = l.len() as i64;
                let i = arg_int(&args, 0, "index", -1)?;
                let at = if i < 0 { i + len } else { i };
                if at < 0 || at >= len {
                    return Err(Exception::new(
                        ExcType::IndexError,
                        "pop index out of range",
                    ));
                }
                return Ok(l.remove(at as usize));
            }
            "remove" => {
                let x = args.required(0, "value", name)?;
                let items = list.borrow().clone();
                for (i, v) in items.iter().enumerate() {
                    if vm.values_eq(v, &x)? {
                        list.borrow_mut().remove(i);
                        return Ok(Value::None);
                    }
                }
                return Err(Exception::new(
                    ExcType::ValueError,
                    "list.remove(x): x not in list",
                ));
            }
            "index" | "count" => {
                let items = list.borrow().clone();
                return seq_method(vm, &items, name, &args).unwrap_or(Ok(Value::None));
            }
            "sort" => {
                let key = args.kw("key");
                let reverse = args.kw("reverse").is_some_and(|v| v.truthy());
                let mut items = list.borrow().clone();
                sort_values(vm, &mut items, key.as_ref(), reverse)?;
                *list.borrow_mut() = items;
            }
            "reverse" => list.borrow_mut().reverse(),
            "clear" => list.borrow_mut().clear(),
            "copy" => return Ok(Value::list(list.borrow().clone())),
            _ => unreachable!("list methods are listed in LIST_METHODS"),
        }
        Ok(Value::None)
    };
    LIST_METHODS.contains(&name).then(r)
}

fn dict_method(
    vm: &mut Interpreter,
    recv: &Value,
    name: &str,
    args: &Args,
) -> Option<JacResult<Value>> {
    let Value::Dict(dict) = recv else { return None };
    let r = || -> JacResult<Value> {
        Ok(match name {
            "get" => {
                let k = args.required(0, "key", name)?;
                dict.borrow()
                    .get(&k)?
                    .unwrap_or_else(|| args.get(1, "default").unwrap_or(Value::None))
            }
            "keys" => DictView::value(dict, ViewKind::Keys),
            "values" => DictView::value(dict, ViewKind::Values),
            "items" => DictView::value(dict, ViewKind::Items),
            "pop" => {
                let k = args.required(0, "key", name)?;
                let removed = dict.borrow_mut().remove(&k)?;
                match (removed, args.get(1, "default")) {
                    (Some(v), _) => v,
                    (None, Some(d)) => d,
                    (None, None) => return Err(Exception::with_arg(ExcType::KeyError, k)),
                }
            }
            "popitem" => match dict.borrow_mut().pop_last() {
                Some((k, v)) => Value::tuple(vec![k, v]),
                None => {
                    return Err(Exception::new(
                        ExcType::KeyError,
                        "popitem(): dictionary is empty",
                    ));
                }
            },
            "setdefault" => {
                let k = args.required(0, "key", name)?;
                let existing = dict.borrow().get(&k)?;
                match existing {
                    Some(v) => v,
                    None => {
                        let d = args.get(1, "default").unwrap_or(Value::None);
                        dict.borrow_mut().insert(k, d.clone())?;
                        d
                    }
                }
            }
            "update" => {
                if let Some(other) = args.positional.first() {
                    let pairs = match other {
                        Value::Dict(_) => vm.mapping_items(other)?,
                        _ => pairs_of(vm, other)?,
                    };
                    for (k, v) in pairs {
                        dict.borrow_mut().insert(k, v)?;
                    }
                }
                for (k, v) in &args.keywords {
                    dict.borrow_mut().insert_str(k, v.clone());
                }
                Value::None
            }
            "clear" => {
                dict.borrow_mut().clear();
                Value::None
            }
            "copy" => Value::dict(dict.borrow().clone()),
            _ => unreachable!("dict methods are listed in DICT_METHODS"),
        })
    };
    DICT_METHODS.contains(&name).then(r)
}

/// Which part of a dict a view shows.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ViewKind {
    Keys,
    Values,
    Items,
}

/// `dict.keys()` / `.values()` / `.items()`: a live view of the dict.
struct DictView {
    dict: Rc<RefCell<Dict>>,
    kind: ViewKind,
}

impl DictView {
    fn value(dict: &Rc<RefCell<Dict>>, kind: ViewKind) -> Value {
        Value::Object(Rc::new(DictView {
            dict: dict.clone(),
            kind,
        }))
    }

    fn items(&self) -> Vec<Value> {
        let d = self.dict.borrow();
        match self.kind {
            ViewKind::Keys => d.keys().cloned().collect(),
            ViewKind::Values => d.values().cloned().collect(),
            ViewKind::Items => d
                .iter()
                .map(|(k, v)| Value::tuple(vec![k.clone(), v.clone()]))
                .collect(),
        }
    }
}

impl NativeObject for DictView {
    fn type_name(&self) -> &str {
        match self.kind {
            ViewKind::Keys => "dict_keys",
            ViewKind::Values => "dict_values",
            ViewKind::Items => "dict_items",
        }
    }
    fn repr(&self) -> String {
        format!(
            "{}({})",
            self.type_name(),
            repr::repr(&Value::list(self.items()))
        )
    }
    fn eq(&self, other: &Value) -> bool {
        let mine = Value::list(self.items());
        match other {
            Value::Object(o) => o.as_any().downcast_ref::<DictView>().is_some_and(|v| {
                v.kind == self.kind
                    && self.kind != ViewKind::Values
                    && same_members(&mine, &Value::list(v.items()))
            }),
            Value::Set(_) if self.kind != ViewKind::Values => same_members(&mine, other),
            _ => false,
        }
    }
    fn iterate(&self) -> Option<Vec<Value>> {
        Some(self.items())
    }
    fn truthy(&self) -> bool {
        !self.dict.borrow().is_empty()
    }
    fn to_json(&self) -> serde_json::Value {
        crate::value::json::to_json(&Value::list(self.items()), &mut |i| {
            i.id().unwrap_or_default()
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

fn same_members(a: &Value, b: &Value) -> bool {
    let (Ok(x), Ok(y)) = (super::iterate(a), super::iterate(b)) else {
        return false;
    };
    x.len() == y.len() && x.iter().all(|v| y.iter().any(|w| ops::eq(v, w)))
}

/// The `(key, value)` pairs of an iterable of pairs (`dict([(k, v)])`).
pub fn pairs_of(vm: &mut Interpreter, v: &Value) -> JacResult<Vec<(Value, Value)>> {
    let mut out = Vec::new();
    for item in vm.iterate(v)? {
        let pair = vm.iterate(&item)?;
        match <[Value; 2]>::try_from(pair) {
            Ok([k, v]) => out.push((k, v)),
            Err(p) => {
                return Err(Exception::new(
                    ExcType::ValueError,
                    format!(
                        "dictionary update sequence element has length {}; 2 is required",
                        p.len()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn set_method(
    vm: &mut Interpreter,
    recv: &Value,
    name: &str,
    args: &Args,
) -> Option<JacResult<Value>> {
    let Value::Set(set) = recv else { return None };
    let r = || -> JacResult<Value> {
        let others = |vm: &mut Interpreter| -> JacResult<Vec<Set>> {
            args.positional
                .iter()
                .map(|a| Set::from_values(vm.iterate(a)?))
                .collect()
        };
        Ok(match name {
            "add" => {
                set.borrow_mut().insert(args.required(0, "elem", name)?)?;
                Value::None
            }
            "remove" => {
                let x = args.required(0, "elem", name)?;
                if !set.borrow_mut().remove(&x)? {
                    return Err(Exception::with_arg(ExcType::KeyError, x));
                }
                Value::None
            }
            "discard" => {
                set.borrow_mut().remove(&args.required(0, "elem", name)?)?;
                Value::None
            }
            "pop" => match set.borrow_mut().pop() {
                Some(v) => v,
                None => return Err(Exception::new(ExcType::KeyError, "pop from an empty set")),
            },
            "clear" => {
                set.borrow_mut().clear();
                Value::None
            }
            "copy" => Value::set(set.borrow().clone()),
            "union" | "intersection" | "difference" | "symmetric_difference" => {
                let op = match name {
                    "union" => ops::BinOp::BitOr,
                    "intersection" => ops::BinOp::BitAnd,
                    "difference" => ops::BinOp::Sub,
                    _ => ops::BinOp::BitXor,
                };
                let mut acc = Value::set(set.borrow().clone());
                for o in others(vm)? {
                    acc = ops::binary(op, &acc, &Value::set(o))?;
                }
                acc
            }
            "update" | "difference_update" | "intersection_update" => {
                let op = match name {
                    "update" => ops::BinOp::BitOr,
                    "difference_update" => ops::BinOp::Sub,
                    _ => ops::BinOp::BitAnd,
                };
                let mut acc = Value::set(set.borrow().clone());
                for o in others(vm)? {
                    acc = ops::binary(op, &acc, &Value::set(o))?;
                }
                if let Value::Set(result) = acc {
                    *set.borrow_mut() = result.borrow().clone();
                }
                Value::None
            }
            "issubset" | "issuperset" | "isdisjoint" => {
                let other = Set::from_values(vm.iterate(&args.required(0, "other", name)?)?)?;
                let mine = set.borrow();
                Value::Bool(match name {
                    "issubset" => mine.iter().all(|v| other.contains(v).unwrap_or(false)),
                    "issuperset" => other.iter().all(|v| mine.contains(v).unwrap_or(false)),
                    _ => !mine.iter().any(|v| other.contains(v).unwrap_or(false)),
                })
            }
            _ => unreachable!("set methods are listed in SET_METHODS"),
        })
    };
    SET_METHODS.contains(&name).then(r)
}

/// A new dict from keys with one value (`dict.fromkeys`).
pub fn dict_fromkeys(vm: &mut Interpreter, args: &Args) -> JacResult<Value> {
    let keys = vm.iterate(&args.required(0, "iterable", "fromkeys")?)?;
    let value = args.get(1, "value").unwrap_or(Value::None);
    let mut d = Dict::new();
    for k in keys {
        d.insert(k, value.clone())?;
    }
    Ok(Value::dict(d))
}
