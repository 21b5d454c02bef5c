//! `re`: `compile`, `match`, `search`, `fullmatch`, `findall`, `finditer`,
//! `sub`, `subn`, `split`, `escape`, flags; `Pattern` and `Match` objects.
//!
//! Backed by the `regex` crate, whose syntax is Python's minus look-around and
//! backreferences: patterns using those raise `re.error` (a `ValueError`)
//! naming the problem. Positions are reported in characters, as in Python.

use std::any::Any;
use std::rc::Rc;

use regex::{Captures, Regex, RegexBuilder};

use super::{arg_str, def, opt_i64, value_error};
use crate::interp::Interpreter;
use crate::value::class::BuiltinType;
use crate::value::native::type_error;
use crate::value::{
    Args, Dict, ExcType, Exception, JacResult, Module, NativeFn, NativeObject, Value,
};

const IGNORECASE: i64 = 2;
const MULTILINE: i64 = 8;
const DOTALL: i64 = 16;
const VERBOSE: i64 = 64;
const ASCII: i64 = 256;

/// Longest pattern accepted (compiled size is bounded by `regex` itself).
const MAX_PATTERN_LEN: usize = 10_000;

/// A compiled pattern.
struct Pattern {
    regex: Regex,
    source: Rc<str>,
    flags: i64,
}

/// A successful match.
struct Match {
    pattern: Rc<Pattern>,
    text: Rc<str>,
    /// Byte ranges of each group (`None` = did not participate).
    groups: Vec<Option<(usize, usize)>>,
}

fn compile(source: &str, flags: i64) -> JacResult<Rc<Pattern>> {
    if source.len() > MAX_PATTERN_LEN {
        return Err(value_error("re.error: pattern too long"));
    }
    let regex = RegexBuilder::new(source)
        .case_insensitive(flags & IGNORECASE != 0)
        .multi_line(flags & MULTILINE != 0)
        .dot_matches_new_line(flags & DOTALL != 0)
        .ignore_whitespace(flags & VERBOSE != 0)
        .unicode(flags & ASCII == 0)
        .build()
        .map_err(|e| {
            let detail = match e {
                regex::Error::Syntax(s) => s.lines().last().unwrap_or("invalid pattern").trim().to_string(),
                other => other.to_string(),
            };
            value_error(format!("re.error: {detail} in pattern {source:?} (look-around and backreferences are not supported)"))
        })?;
    Ok(Rc::new(Pattern {
        regex,
        source: source.into(),
        flags,
    }))
}

fn char_index(text: &str, byte: usize) -> i64 {
    text[..byte].chars().count() as i64
}

/// The byte offset of character index `pos` (clamped).
fn byte_index(text: &str, pos: i64) -> usize {
    let pos = usize::try_from(pos.max(0)).unwrap_or(0);
    text.char_indices().nth(pos).map_or(text.len(), |(b, _)| b)
}

fn downcast<T: 'static>(v: &Value) -> Option<&T> {
    match v {
        Value::Object(o) => o.as_any().downcast_ref::<T>(),
        _ => None,
    }
}

impl Pattern {
    fn captures_at(self: &Rc<Self>, text: &Rc<str>, caps: &Captures<'_>) -> Value {
        let groups = (0..caps.len())
            .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
            .collect();
        Value::Object(Rc::new(Match {
            pattern: self.clone(),
            text: text.clone(),
            groups,
        }))
    }

    /// `match` (anchored at `pos`), `search`, or `fullmatch`.
    fn find(self: &Rc<Self>, text: &Rc<str>, mode: Mode, pos: usize) -> JacResult<Value> {
        let found = match mode {
            // Leftmost-first: a match at `pos` exists iff the leftmost match starts there.
            Mode::Search | Mode::Match => self
                .regex
                .captures_at(text, pos)
                .filter(|caps| {
                    mode == Mode::Search || caps.get(0).is_some_and(|m| m.start() == pos)
                })
                .map(|caps| {
                    (0..caps.len())
                        .map(|i| caps.get(i).map(|m| (m.start(), m.end())))
                        .collect()
                }),
            // The leftmost-first match need not span the text (`a|ab`): anchor both ends.
            Mode::Full => {
                let anchored = compile(&format!(r"\A(?:{})\z", self.source), self.flags)?;
                anchored.regex.captures(&text[pos..]).map(|caps| {
                    (0..caps.len())
                        .map(|i| caps.get(i).map(|m| (m.start() + pos, m.end() + pos)))
                        .collect()
                })
            }
        };
        Ok(found.map_or(Value::None, |groups| {
            Value::Object(Rc::new(Match {
                pattern: self.clone(),
                text: text.clone(),
                groups,
            }))
        }))
    }

    fn findall(&self, text: &str) -> Value {
        let n = self.regex.captures_len();
        let group =
            |caps: &Captures<'_>, i: usize| Value::from(caps.get(i).map_or("", |m| m.as_str()));
        Value::list(
            self.regex
                .captures_iter(text)
                .map(|caps| match n {
                    1 => group(&caps, 0),
                    2 => group(&caps, 1),
                    _ => Value::tuple((1..n).map(|i| group(&caps, i)).collect()),
                })
                .collect(),
        )
    }

    fn split(&self, text: &str, maxsplit: usize) -> Value {
        let mut out = Vec::new();
        let mut last = 0;
        for (count, caps) in self.regex.captures_iter(text).enumerate() {
            if maxsplit != 0 && count >= maxsplit {
                break;
            }
            let m = caps.get(0).expect("group 0 always participates");
            out.push(Value::from(&text[last..m.start()]));
            for i in 1..caps.len() {
                out.push(caps.get(i).map_or(Value::None, |g| Value::from(g.as_str())));
            }
            last = m.end();
        }
        out.push(Value::from(&text[last..]));
        Value::list(out)
    }

    /// `sub`/`subn`: replacement string (Python `\1`, `\g<name>`) or callable.
    fn sub(
        self: &Rc<Self>,
        vm: &mut Interpreter,
        repl: &Value,
        text: &Rc<str>,
        count: usize,
    ) -> JacResult<(String, i64)> {
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        let mut n = 0;
        for caps in self.regex.captures_iter(text) {
            if count != 0 && n as usize >= count {
                break;
            }
            let m = caps.get(0).expect("group 0 always participates");
            out.push_str(&text[last..m.start()]);
            match repl {
                Value::Str(template) => expand(template, &caps, &self.regex, &mut out)?,
                callable => {
                    let result =
                        vm.call_value(callable, Args::new(vec![self.captures_at(text, &caps)]))?;
                    match result {
                        Value::Str(s) => out.push_str(&s),
                        other => return Err(type_error("sub", "repl", &other)),
                    }
                }
            }
            last = m.end();
            n += 1;
        }
        out.push_str(&text[last..]);
        Ok((out, n))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Match,
    Search,
    Full,
}

/// Expands a Python replacement template (`\1`, `\g<1>`, `\g<name>`, `\n`, `\\`).
fn expand(template: &str, caps: &Captures<'_>, regex: &Regex, out: &mut String) -> JacResult<()> {
    let mut chars = template.chars().peekable();
    let group = |key: &str| -> JacResult<String> {
        let m = match key.parse::<usize>() {
            Ok(i) if i < caps.len() => caps.get(i),
            Ok(i) => {
                return Err(value_error(format!(
                    "re.error: invalid group reference {i}"
                )));
            }
            Err(_) if regex.capture_names().flatten().any(|n| n == key) => caps.name(key),
            Err(_) => {
                return Err(Exception::new(
                    ExcType::IndexError,
                    format!("unknown group name '{key}'"),
                ));
            }
        };
        Ok(m.map_or(String::new(), |m| m.as_str().to_string()))
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(d) if d.is_ascii_digit() => {
                let mut key = d.to_string();
                if let Some(&e) = chars.peek()
                    && e.is_ascii_digit()
                {
                    key.push(e);
                    chars.next();
                }
                out.push_str(&group(&key)?);
            }
            Some('g') if chars.peek() == Some(&'<') => {
                chars.next();
                let key: String = chars.by_ref().take_while(|&ch| ch != '>').collect();
                out.push_str(&group(&key)?);
            }
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => return Err(value_error("re.error: bad escape (end of pattern)")),
        }
    }
    Ok(())
}

/// The `re.Pattern` value wrapping a shared compiled [`Pattern`].
struct PatternObj(Rc<Pattern>);

fn pattern_value(p: Rc<Pattern>) -> Value {
    Value::Object(Rc::new(PatternObj(p)))
}

impl NativeObject for PatternObj {
    fn type_name(&self) -> &str {
        "Pattern"
    }

    fn repr(&self) -> String {
        format!(
            "re.compile({})",
            crate::value::repr::repr_str(&self.0.source)
        )
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        match name {
            "pattern" => return Some(Value::Str(self.0.source.clone())),
            "flags" => return Some(Value::Int(self.0.flags)),
            "groups" => return Some(Value::Int(self.0.regex.captures_len() as i64 - 1)),
            _ => {}
        }
        let op = Op::from_name(name)?;
        Some(NativeFn::method(name, this.clone(), move |vm, args| {
            let recv = args.positional[0].clone();
            let pattern = downcast::<PatternObj>(&recv)
                .expect("bound to a pattern")
                .0
                .clone();
            let rest = Args {
                positional: args.positional[1..].to_vec(),
                keywords: args.keywords,
            };
            op.run(vm, &pattern, &rest, 0)
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Match {
    fn group_value(&self, i: usize) -> Value {
        match self.groups.get(i).copied().flatten() {
            Some((s, e)) => Value::from(&self.text[s..e]),
            None => Value::None,
        }
    }

    /// Group index of a number or name argument.
    fn index_of(&self, key: &Value) -> JacResult<usize> {
        let idx = match key {
            Value::Int(i) => usize::try_from(*i).ok(),
            Value::Str(name) => self
                .pattern
                .regex
                .capture_names()
                .position(|n| n == Some(&**name)),
            _ => None,
        };
        idx.filter(|&i| i < self.groups.len())
            .ok_or_else(|| Exception::new(ExcType::IndexError, "no such group"))
    }
}

impl NativeObject for Match {
    fn type_name(&self) -> &str {
        "Match"
    }

    fn repr(&self) -> String {
        let (s, e) = self.groups[0].unwrap_or((0, 0));
        format!(
            "<re.Match object; span=({}, {}), match={}>",
            char_index(&self.text, s),
            char_index(&self.text, e),
            crate::value::repr::repr_str(&self.text[s..e])
        )
    }

    fn get_attr(&self, this: &Value, name: &str) -> Option<Value> {
        match name {
            "string" => return Some(Value::Str(self.text.clone())),
            "re" => return Some(pattern_value(self.pattern.clone())),
            "lastindex" => {
                return Some(
                    (1..self.groups.len())
                        .rev()
                        .find(|&i| self.groups[i].is_some())
                        .map_or(Value::None, |i| Value::Int(i as i64)),
                );
            }
            _ => {}
        }
        let f: fn(&Match, &Args) -> JacResult<Value> = match name {
            "group" => |m, args| {
                if args.positional.is_empty() {
                    return Ok(m.group_value(0));
                }
                let values: Vec<Value> = args
                    .positional
                    .iter()
                    .map(|k| m.index_of(k).map(|i| m.group_value(i)))
                    .collect::<JacResult<_>>()?;
                Ok(if values.len() == 1 {
                    values.into_iter().next().expect("one")
                } else {
                    Value::tuple(values)
                })
            },
            "groups" => |m, args| {
                let default = args.get(0, "default").unwrap_or(Value::None);
                Ok(Value::tuple(
                    (1..m.groups.len())
                        .map(|i| {
                            if m.groups[i].is_some() {
                                m.group_value(i)
                            } else {
                                default.clone()
                            }
                        })
                        .collect(),
                ))
            },
            "groupdict" => |m, args| {
                let default = args.get(0, "default").unwrap_or(Value::None);
                let mut d = Dict::new();
                for (i, name) in m.pattern.regex.capture_names().enumerate() {
                    if let Some(name) = name {
                        let v = if m.groups[i].is_some() {
                            m.group_value(i)
                        } else {
                            default.clone()
                        };
                        d.insert_str(name, v);
                    }
                }
                Ok(Value::dict(d))
            },
            "start" | "end" | "span" => return Some(self.position_method(this, name)),
            _ => return None,
        };
        Some(NativeFn::method(name, this.clone(), move |_, args| {
            let recv = args.positional[0].clone();
            let m = downcast::<Match>(&recv).expect("bound to a match");
            f(
                m,
                &Args {
                    positional: args.positional[1..].to_vec(),
                    keywords: args.keywords,
                },
            )
        }))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Match {
    fn position_method(&self, this: &Value, name: &str) -> Value {
        let which = name.to_string();
        NativeFn::method(name, this.clone(), move |_, args| {
            let recv = args.positional[0].clone();
            let m = downcast::<Match>(&recv).expect("bound to a match");
            let i = match args.positional.get(1) {
                Some(k) => m.index_of(k)?,
                None => 0,
            };
            let (s, e) = match m.groups[i] {
                Some((s, e)) => (char_index(&m.text, s), char_index(&m.text, e)),
                None => (-1, -1),
            };
            Ok(match which.as_str() {
                "start" => Value::Int(s),
                "end" => Value::Int(e),
                _ => Value::tuple(vec![Value::Int(s), Value::Int(e)]),
            })
        })
    }
}

/// The operations shared by module functions and `Pattern` methods.
#[derive(Clone, Copy)]
enum Op {
    Find(Mode),
    FindAll,
    FindIter,
    Sub { with_count: bool },
    Split,
}

impl Op {
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "match" => Op::Find(Mode::Match),
            "search" => Op::Find(Mode::Search),
            "fullmatch" => Op::Find(Mode::Full),
            "findall" => Op::FindAll,
            "finditer" => Op::FindIter,
            "sub" => Op::Sub { with_count: false },
            "subn" => Op::Sub { with_count: true },
            "split" => Op::Split,
            _ => return None,
        })
    }

    /// Runs the op; `args` start at index `first` with the op's own arguments
    /// (the string, or `repl` then the string for `sub`).
    fn run(
        self,
        vm: &mut Interpreter,
        p: &Rc<Pattern>,
        args: &Args,
        first: usize,
    ) -> JacResult<Value> {
        let text_at = |i: usize| arg_str(args, first + i, "string", "re");
        Ok(match self {
            Op::Find(mode) => {
                let text = text_at(0)?;
                let pos = byte_index(
                    &text,
                    opt_i64(args, first + 1, "pos", "match")?.unwrap_or(0),
                );
                p.find(&text, mode, pos)?
            }
            Op::FindAll => p.findall(&text_at(0)?),
            Op::FindIter => {
                let text = text_at(0)?;
                Value::iter(
                    p.regex
                        .captures_iter(&text)
                        .map(|caps| p.captures_at(&text, &caps))
                        .collect(),
                )
            }
            Op::Sub { with_count } => {
                let repl = args.required(first, "repl", "sub")?;
                let text = arg_str(args, first + 1, "string", "sub")?;
                let count = usize::try_from(opt_i64(args, first + 2, "count", "sub")?.unwrap_or(0))
                    .unwrap_or(0);
                let (out, n) = p.sub(vm, &repl, &text, count)?;
                if with_count {
                    Value::tuple(vec![Value::from(out), Value::Int(n)])
                } else {
                    Value::from(out)
                }
            }
            Op::Split => {
                let text = text_at(0)?;
                let maxsplit =
                    usize::try_from(opt_i64(args, first + 1, "maxsplit", "split")?.unwrap_or(0))
                        .unwrap_or(0);
                p.split(&text, maxsplit)
            }
        })
    }
}

/// The pattern argument of a module-level function: a string or a compiled pattern.
fn pattern_arg(args: &Args, flags_at: usize) -> JacResult<Rc<Pattern>> {
    let flags = opt_i64(args, flags_at, "flags", "re")?.unwrap_or(0);
    match args.required(0, "pattern", "re")? {
        Value::Str(s) => compile(&s, flags),
        other => match downcast::<PatternObj>(&other) {
            Some(p) if flags == 0 => Ok(p.0.clone()),
            Some(p) => compile(&p.0.source, p.0.flags | flags),
            None => Err(type_error("re", "pattern", &other)),
        },
    }
}

/// Builds the `re` module.
pub(super) fn module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("re"));
    for (name, flags_at) in [
        ("match", 2),
        ("search", 2),
        ("fullmatch", 2),
        ("findall", 2),
        ("finditer", 2),
        ("sub", 4),
        ("subn", 4),
        ("split", 3),
    ] {
        let op = Op::from_name(name).expect("listed ops exist");
        def(&module, name, move |vm, args| {
            let p = pattern_arg(&args, flags_at)?;
            op.run(vm, &p, &args, 1)
        });
    }
    def(&module, "compile", |_, args| {
        Ok(pattern_value(pattern_arg(&args, 1)?))
    });
    def(&module, "escape", |_, args| {
        let s = arg_str(&args, 0, "pattern", "escape")?;
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if !c.is_alphanumeric() && c != '_' {
                out.push('\\');
            }
            out.push(c);
        }
        Ok(Value::from(out))
    });
    for (names, value) in [
        (["I", "IGNORECASE"], IGNORECASE),
        (["M", "MULTILINE"], MULTILINE),
        (["S", "DOTALL"], DOTALL),
        (["X", "VERBOSE"], VERBOSE),
        (["A", "ASCII"], ASCII),
    ] {
        for n in names {
            module.set(n, Value::Int(value));
        }
    }
    module.set(
        "error",
        Value::Class(BuiltinType::Exception(ExcType::ValueError).class()),
    );
    Ok(module)
}
