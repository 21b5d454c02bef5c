//! Builtin functions (`len`, `print`, `sorted`, ...) and the Jac runtime
//! builtins (`jid`, `jobj`, `allroots`, `grant`, `commit`, `restspec`, ...).

use std::rc::Rc;

use crate::interp::Interpreter;
use crate::value::class::BuiltinType;
use crate::value::format::format_value;
use crate::value::{
    ArchKind, Args, Class, ExcType, Exception, Instance, JacResult, Module, NativeFn, Value, num,
    ops, repr,
};

use super::methods::sort_values;

fn int_arg(v: &Value, fname: &str) -> JacResult<i64> {
    v.as_i64().ok_or_else(|| {
        Exception::new(
            ExcType::TypeError,
            format!(
                "{fname}(): '{}' object cannot be interpreted as an integer",
                v.type_name()
            ),
        )
    })
}

fn len_of(vm: &mut Interpreter, v: &Value) -> JacResult<i64> {
    Ok(match v {
        Value::Str(s) => {
            if s.is_ascii() {
                s.len() as i64
            } else {
                s.chars().count() as i64
            }
        }
        Value::List(l) => l.borrow().len() as i64,
        Value::Tuple(t) => t.len() as i64,
        Value::Dict(d) => d.borrow().len() as i64,
        Value::Set(s) => s.borrow().len() as i64,
        Value::Bytes(b) => b.len() as i64,
        Value::Range(r) => r.len(),
        Value::Instance(i) if i.class.lookup("__len__").is_some() => {
            let r = vm.call_method(v, "__len__", Args::default())?;
            int_arg(&r, "len")?
        }
        Value::Object(o) => match o.iterate() {
            Some(items) => items.len() as i64,
            None => return Err(no_len(v)),
        },
        _ => return Err(no_len(v)),
    })
}

fn no_len(v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("object of type '{}' has no len()", v.type_name()),
    )
}

/// `min`/`max` over one iterable or several arguments, with `key` and `default`.
fn extremum(vm: &mut Interpreter, args: Args, want_max: bool) -> JacResult<Value> {
    let fname = if want_max { "max" } else { "min" };
    let items = if args.len() == 1 {
        vm.iterate(&args.positional[0])?
    } else {
        args.positional.clone()
    };
    let key = args.kw("key").filter(|k| !matches!(k, Value::None));
    let mut best: Option<(Value, Value)> = None;
    for item in items {
        let k = match &key {
            Some(f) => vm.call_value(f, Args::new(vec![item.clone()]))?,
            None => item.clone(),
        };
        let better = match &best {
            None => true,
            Some((_, bk)) => {
                let op = if want_max {
                    crate::syntax::ast::CmpOp::Gt
                } else {
                    crate::syntax::ast::CmpOp::Lt
                };
                vm.compare(op, &k, bk)?
            }
        };
        if better {
            best = Some((item, k));
        }
    }
    match (best, args.kw("default")) {
        (Some((v, _)), _) => Ok(v),
        (None, Some(d)) => Ok(d),
        (None, None) => Err(Exception::new(
            ExcType::ValueError,
            format!("{fname}() arg is an empty sequence"),
        )),
    }
}

fn sum(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let mut acc = args.get(1, "start").unwrap_or(Value::Int(0));
    for item in vm.iterate(&args.required(0, "iterable", "sum")?)? {
        acc = vm.binary(ops::BinOp::Add, &acc, &item)?;
    }
    Ok(acc)
}

fn round(args: Args) -> JacResult<Value> {
    let x = args.required(0, "number", "round")?;
    let nd = args.get(1, "ndigits").filter(|v| !matches!(v, Value::None));
    match (&x, nd) {
        (Value::Float(f), None) => {
            let r = f.round_ties_even();
            if !r.is_finite() {
                return Err(Exception::new(
                    ExcType::OverflowError,
                    "cannot convert float infinity to integer",
                ));
            }
            Ok(num::int_value(
                num_traits::FromPrimitive::from_f64(r).unwrap_or_default(),
            ))
        }
        (Value::Float(f), Some(n)) => Ok(Value::Float(num::round_float(*f, int_arg(&n, "round")?))),
        (Value::Int(_) | Value::BigInt(_) | Value::Bool(_), None) => Ok(ops::pos(&x)?),
        (Value::Int(i), Some(n)) => {
            let n = int_arg(&n, "round")?;
            if n >= 0 {
                return Ok(Value::Int(*i));
            }
            let p = 10i64.checked_pow((-n) as u32).unwrap_or(i64::MAX);
            let q = *i as f64 / p as f64;
            Ok(Value::Int((q.round_ties_even() as i64).saturating_mul(p)))
        }
        _ => Err(Exception::new(
            ExcType::TypeError,
            format!("type {} doesn't define __round__ method", x.type_name()),
        )),
    }
}

fn print(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let sep = match args.kw("sep") {
        Some(Value::Str(s)) => s.to_string(),
        _ => " ".into(),
    };
    let end = match args.kw("end") {
        Some(Value::Str(s)) => s.to_string(),
        _ => "\n".into(),
    };
    let mut parts = Vec::with_capacity(args.len());
    for v in &args.positional {
        parts.push(vm.str_of(v)?);
    }
    let line = parts.join(&sep) + &end;
    vm.write_output(&line);
    Ok(Value::None)
}

fn getattr(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let obj = args.required(0, "object", "getattr")?;
    let name = args.required(1, "name", "getattr")?;
    let Value::Str(name) = name else {
        return Err(Exception::new(
            ExcType::TypeError,
            "attribute name must be string",
        ));
    };
    match (vm.get_attr(&obj, &name), args.get(2, "default")) {
        (Err(e), Some(d)) if e.is(ExcType::AttributeError) => Ok(d),
        (r, _) => r,
    }
}

fn level_of(args: &Args, i: usize, default: &str) -> JacResult<crate::graph::AccessLevel> {
    match args.get(i, "level") {
        Some(v) => crate::interp::access_level(&v),
        None => crate::interp::access_level(&Value::from(default)),
    }
}

fn graph_call<T>(r: crate::graph::GraphResult<T>) -> JacResult<T> {
    r.map_err(crate::interp::graph_error)
}

fn root_id_arg(vm: &mut Interpreter, v: &Value) -> JacResult<String> {
    Ok(vm.node_id_of(v)?.to_string())
}

/// Applies an access change; without WRITE access it is refused like any write (a
/// no-op listed in the call's warnings, as jaclang skips it), not an exception.
fn access_change(
    vm: &mut Interpreter,
    name: &str,
    id: &str,
    change: impl FnOnce(&mut dyn crate::graph::Graph) -> crate::graph::GraphResult<()>,
) -> JacResult<Value> {
    match change(vm.graph()) {
        Ok(()) => Ok(Value::None),
        Err(crate::graph::GraphError::AccessDenied(_)) => {
            vm.warnings
                .push(format!("{name} on {id} refused: no WRITE access"));
            Ok(Value::None)
        }
        Err(e) => Err(crate::interp::graph_error(e)),
    }
}

fn grant(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "grant")?)?;
    let level = level_of(&args, 1, "CONNECT")?;
    access_change(vm, "grant", &id, |g| g.grant(&id, level))
}

fn revoke(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "revoke")?)?;
    access_change(vm, "revoke", &id, |g| g.revoke(&id))
}

fn allow_root(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "allow_root")?)?;
    let root = root_id_arg(vm, &args.required(1, "root_id", "allow_root")?)?;
    let level = level_of(&args, 2, "READ")?;
    access_change(vm, "allow_root", &id, |g| g.allow_root(&id, &root, level))
}

fn disallow_root(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "disallow_root")?)?;
    let root = root_id_arg(vm, &args.required(1, "root_id", "disallow_root")?)?;
    access_change(vm, "disallow_root", &id, |g| g.disallow_root(&id, &root))
}

fn allroots(vm: &mut Interpreter, _args: Args) -> JacResult<Value> {
    let ids = graph_call(vm.graph().all_roots())?;
    let roots = ids
        .iter()
        .map(|id| vm.root_node(id))
        .collect::<JacResult<_>>()?;
    Ok(Value::list(roots))
}

fn jobj(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    match args.required(0, "id", "jobj")? {
        Value::Str(id) => Ok(vm.readable_node(&id)?.unwrap_or(Value::None)),
        other => Err(Exception::new(
            ExcType::TypeError,
            format!("jobj() needs an id string, not {}", other.type_name()),
        )),
    }
}

/// `@restspec(...)` and `@schedule(...)`: HTTP/scheduling metadata read by the
/// host from the source; at run time the decorator returns its target unchanged.
fn passthrough_decorator(_vm: &mut Interpreter, _args: Args) -> JacResult<Value> {
    Ok(NativeFn::value("decorator", |_vm, args| {
        args.required(0, "target", "decorator")
    }))
}

/// An enum class with the given `(name, value)` members (for runtime-provided enums).
pub fn enum_class(name: &str, members: &[(&str, Value)]) -> Rc<Class> {
    let class = Rc::new(Class::new(
        name,
        ArchKind::Enum,
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ));
    let mut list = Vec::with_capacity(members.len());
    for (member, value) in members {
        let inst = Value::Instance(Rc::new(Instance::new(
            class.clone(),
            vec![
                ("name".into(), Value::from(*member)),
                ("value".into(), value.clone()),
            ],
        )));
        class.set_attr(member, inst.clone());
        list.push(inst);
    }
    class.set_attr("__members__", Value::list(list));
    class
}

fn access_level_enum() -> Rc<Class> {
    enum_class(
        "AccessLevel",
        &[
            ("NO_ACCESS", Value::Int(-1)),
            ("READ", Value::Int(0)),
            ("CONNECT", Value::Int(1)),
            ("WRITE", Value::Int(2)),
        ],
    )
}

type Builtin = fn(&mut Interpreter, Args) -> JacResult<Value>;

fn builtin_table() -> Vec<(&'static str, Builtin)> {
    vec![
        ("print", print),
        ("store", crate::data::storage::store),
        ("len", |vm, a| {
            a.check("len", 1, 1)?;
            Ok(Value::Int(len_of(vm, &a.positional[0])?))
        }),
        ("repr", |vm, a| {
            Ok(Value::from(vm.repr_of(&a.required(0, "obj", "repr")?)?))
        }),
        ("ascii", |vm, a| {
            Ok(Value::from(vm.repr_of(&a.required(0, "obj", "ascii")?)?))
        }),
        ("isinstance", |vm, a| {
            a.check("isinstance", 2, 2)?;
            Ok(Value::Bool(
                vm.isinstance(&a.positional[0], &a.positional[1])?,
            ))
        }),
        ("issubclass", |_vm, a| {
            match (a.get(0, "cls"), a.get(1, "classinfo")) {
                (Some(Value::Class(c)), Some(Value::Class(p))) => {
                    Ok(Value::Bool(c.is_subclass(&p)))
                }
                _ => Err(Exception::new(
                    ExcType::TypeError,
                    "issubclass() arguments must be classes",
                )),
            }
        }),
        ("hasattr", |vm, a| {
            let obj = a.required(0, "obj", "hasattr")?;
            let name = a.required(1, "name", "hasattr")?;
            let name = name.as_str().unwrap_or_default().to_string();
            Ok(Value::Bool(vm.get_attr(&obj, &name).is_ok()))
        }),
        ("getattr", getattr),
        ("setattr", |vm, a| {
            a.check("setattr", 3, 3)?;
            let name = a.positional[1].as_str().unwrap_or_default().to_string();
            vm.set_attr(&a.positional[0], &name, a.positional[2].clone())?;
            Ok(Value::None)
        }),
        ("abs", |_vm, a| match a.required(0, "x", "abs")? {
            Value::Float(f) => Ok(Value::Float(f.abs())),
            v @ (Value::Int(_) | Value::BigInt(_) | Value::Bool(_)) => {
                if ops::compare(&v, &Value::Int(0), crate::syntax::ast::CmpOp::Lt)?
                    == Some(std::cmp::Ordering::Less)
                {
                    ops::neg(&v)
                } else {
                    ops::pos(&v)
                }
            }
            other => Err(Exception::new(
                ExcType::TypeError,
                format!("bad operand type for abs(): '{}'", other.type_name()),
            )),
        }),
        ("min", |vm, a| extremum(vm, a, false)),
        ("max", |vm, a| extremum(vm, a, true)),
        ("sum", sum),
        ("round", |_vm, a| round(a)),
        ("divmod", |vm, a| {
            a.check("divmod", 2, 2)?;
            let q = vm.binary(ops::BinOp::FloorDiv, &a.positional[0], &a.positional[1])?;
            let r = vm.binary(ops::BinOp::Mod, &a.positional[0], &a.positional[1])?;
            Ok(Value::tuple(vec![q, r]))
        }),
        ("pow", |vm, a| {
            a.check("pow", 2, 3)?;
            let p = vm.binary(ops::BinOp::Pow, &a.positional[0], &a.positional[1])?;
            match a.positional.get(2) {
                Some(m) => vm.binary(ops::BinOp::Mod, &p, m),
                None => Ok(p),
            }
        }),
        ("sorted", |vm, a| {
            let mut items = vm.iterate(&a.required(0, "iterable", "sorted")?)?;
            let reverse = a.kw("reverse").is_some_and(|v| v.truthy());
            sort_values(vm, &mut items, a.kw("key").as_ref(), reverse)?;
            Ok(Value::list(items))
        }),
        ("reversed", |vm, a| {
            let mut items = vm.iterate(&a.required(0, "sequence", "reversed")?)?;
            items.reverse();
            Ok(Value::iter(items))
        }),
        ("enumerate", |vm, a| {
            let items = vm.iterate(&a.required(0, "iterable", "enumerate")?)?;
            let start = match a.get(1, "start") {
                Some(v) => int_arg(&v, "enumerate")?,
                None => 0,
            };
            Ok(Value::iter(
                items
                    .into_iter()
                    .zip(start..)
                    .map(|(v, i)| Value::tuple(vec![Value::Int(i), v]))
                    .collect(),
            ))
        }),
        ("zip", |vm, a| {
            let mut columns = Vec::with_capacity(a.len());
            for v in &a.positional {
                columns.push(vm.iterate(v)?);
            }
            let n = columns.iter().map(Vec::len).min().unwrap_or(0);
            Ok(Value::iter(
                (0..n)
                    .map(|i| Value::tuple(columns.iter().map(|c| c[i].clone()).collect()))
                    .collect(),
            ))
        }),
        ("map", |vm, a| {
            let f = a.required(0, "func", "map")?;
            let mut columns = Vec::new();
            for v in &a.positional[1..] {
                columns.push(vm.iterate(v)?);
            }
            let n = columns.iter().map(Vec::len).min().unwrap_or(0);
            let mut out = Vec::with_capacity(n);
            for i in 0..n {
                out.push(vm.call_value(
                    &f,
                    Args::new(columns.iter().map(|c| c[i].clone()).collect()),
                )?);
            }
            Ok(Value::iter(out))
        }),
        ("filter", |vm, a| {
            let f = a.required(0, "function", "filter")?;
            let mut out = Vec::new();
            for item in vm.iterate(&a.required(1, "iterable", "filter")?)? {
                let keep = match &f {
                    Value::None => vm.truthy(&item)?,
                    f => {
                        let r = vm.call_value(f, Args::new(vec![item.clone()]))?;
                        vm.truthy(&r)?
                    }
                };
                if keep {
                    out.push(item);
                }
            }
            Ok(Value::iter(out))
        }),
        ("any", |vm, a| {
            for item in vm.iterate(&a.required(0, "iterable", "any")?)? {
                if vm.truthy(&item)? {
                    return Ok(Value::Bool(true));
                }
            }
            Ok(Value::Bool(false))
        }),
        ("all", |vm, a| {
            for item in vm.iterate(&a.required(0, "iterable", "all")?)? {
                if !vm.truthy(&item)? {
                    return Ok(Value::Bool(false));
                }
            }
            Ok(Value::Bool(true))
        }),
        ("iter", |vm, a| {
            Ok(Value::iter(vm.iterate(&a.required(0, "object", "iter")?)?))
        }),
        ("next", |_vm, a| {
            match a.required(0, "iterator", "next")? {
                Value::Iter(it) => match it.borrow_mut().next() {
                    Some(v) => Ok(v),
                    None => a
                        .get(1, "default")
                        .ok_or_else(|| Exception::new(ExcType::StopIteration, "")),
                },
                other => Err(Exception::new(
                    ExcType::TypeError,
                    format!("'{}' object is not an iterator", other.type_name()),
                )),
            }
        }),
        ("callable", |_vm, a| {
            Ok(Value::Bool(matches!(
                a.required(0, "obj", "callable")?,
                Value::Function(_) | Value::BoundMethod(_) | Value::Native(_) | Value::Class(_)
            )))
        }),
        ("ord", |_vm, a| match a.required(0, "c", "ord")? {
            Value::Str(s) if s.chars().count() == 1 => {
                Ok(Value::Int(s.chars().next().map_or(0, |c| c as i64)))
            }
            other => Err(Exception::new(
                ExcType::TypeError,
                format!("ord() expected a character, but got {}", repr::repr(&other)),
            )),
        }),
        ("chr", |_vm, a| {
            let i = int_arg(&a.required(0, "i", "chr")?, "chr")?;
            let c = u32::try_from(i).ok().and_then(char::from_u32);
            c.map(|c| Value::from(c.to_string())).ok_or_else(|| {
                Exception::new(ExcType::ValueError, "chr() arg not in range(0x110000)")
            })
        }),
        ("hex", |_vm, a| {
            Ok(Value::from(format_value(
                &a.required(0, "x", "hex")?,
                "#x",
            )?))
        }),
        ("oct", |_vm, a| {
            Ok(Value::from(format_value(
                &a.required(0, "x", "oct")?,
                "#o",
            )?))
        }),
        ("bin", |_vm, a| {
            Ok(Value::from(format_value(
                &a.required(0, "x", "bin")?,
                "#b",
            )?))
        }),
        ("format", |_vm, a| {
            let v = a.required(0, "value", "format")?;
            let spec = a
                .get(1, "format_spec")
                .and_then(|s| s.as_str().map(str::to_string))
                .unwrap_or_default();
            Ok(Value::from(format_value(&v, &spec)?))
        }),
        ("hash", |_vm, a| {
            Ok(Value::Int(
                crate::value::dict::hash_value(&a.required(0, "obj", "hash")?)? as i64 >> 1,
            ))
        }),
        ("id", |_vm, a| {
            Ok(Value::Int(
                (crate::value::dict::hash_value(&a.required(0, "obj", "id")?).unwrap_or(0) >> 2)
                    as i64,
            ))
        }),
        ("slice", |_vm, a| {
            let part = |i: usize| a.positional.get(i).cloned().unwrap_or(Value::None);
            Ok(match a.len() {
                1 => super::subscript::slice(Value::None, part(0), Value::None),
                _ => super::subscript::slice(part(0), part(1), part(2)),
            })
        }),
        ("jid", |vm, a| vm.jid(&a.required(0, "obj", "jid")?)),
        ("jobj", jobj),
        ("allroots", allroots),
        ("grant", grant),
        ("perm_grant", grant),
        ("revoke", revoke),
        ("perm_revoke", revoke),
        ("allow_root", allow_root),
        ("disallow_root", disallow_root),
        ("commit", |vm, _a| {
            vm.flush()?;
            Ok(Value::None)
        }),
        ("save", |vm, a| {
            let v = a.required(0, "obj", "save")?;
            if let Value::Instance(i) = &v
                && i.class.is_kind(ArchKind::Node)
            {
                vm.node_id_of(&v)?;
            }
            Ok(v)
        }),
        ("restspec", passthrough_decorator),
        ("schedule", passthrough_decorator),
    ]
}

/// Registers the builtin functions and constants.
pub fn install(builtins: &Module) {
    for (name, f) in builtin_table() {
        builtins.set(name, NativeFn::value(name, f));
    }
    let levels = access_level_enum();
    for (alias, member) in [
        ("NoPerm", "NO_ACCESS"),
        ("ReadPerm", "READ"),
        ("ConnectPerm", "CONNECT"),
        ("WritePerm", "WRITE"),
        ("READ", "READ"),
        ("CONNECT", "CONNECT"),
        ("WRITE", "WRITE"),
    ] {
        if let Some(v) = levels.lookup(member) {
            builtins.set(alias, v);
        }
    }
    builtins.set("AccessLevel", Value::Class(levels));
    let protocol = enum_class(
        "APIProtocol",
        &[
            ("HTTP", Value::from("http")),
            ("WEBHOOK", Value::from("webhook")),
            ("WEBSOCKET", Value::from("websocket")),
        ],
    );
    builtins.set("APIProtocol", Value::Class(protocol));
    let trigger = enum_class(
        "ScheduleTrigger",
        &[
            ("STATIC", Value::from("static")),
            ("DYNAMIC", Value::from("dynamic")),
        ],
    );
    builtins.set("ScheduleTrigger", Value::Class(trigger));
    builtins.set("NoneType", Value::Class(BuiltinType::NoneType.class()));
}

/// The `jaclang` module: `JacRuntime` (alias `Jac`) with the permission and graph helpers.
pub fn jaclang_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let runtime = Rc::new(Module::new("JacRuntime"));
    for (name, f) in builtin_table() {
        if matches!(
            name,
            "jid"
                | "jobj"
                | "allroots"
                | "grant"
                | "perm_grant"
                | "revoke"
                | "perm_revoke"
                | "allow_root"
                | "disallow_root"
                | "commit"
                | "save"
                | "restspec"
        ) {
            runtime.set(name, NativeFn::value(name, f));
        }
    }
    let module = Module::new("jaclang");
    module.set("JacRuntime", Value::Module(runtime.clone()));
    module.set("Jac", Value::Module(runtime));
    module.set(
        "restspec",
        NativeFn::value("restspec", passthrough_decorator),
    );
    Ok(Rc::new(module))
}
