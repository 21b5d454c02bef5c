//! Builtin functions, types and exception classes, the methods of the
//! builtin types, and the OSP/permission builtins (`jid`, `grant`, ...).

pub mod functions;
pub mod methods;
pub mod subscript;

use std::rc::Rc;

use num_traits::FromPrimitive;

use crate::interp::Interpreter;
use crate::value::class::BuiltinType;
use crate::value::native::ModuleLoader;
use crate::value::num::{parse_float, parse_int};
use crate::value::{
    ArchKind, Args, Class, Dict, ExcType, Exception, Instance, JacResult, Module, NativeFn, Range,
    Set, Value, num, repr,
};

/// Largest `range` materialised into a list by iteration (bounds guest-driven allocations).
const MAX_MATERIALISED: i64 = 10_000_000;

/// Fills the builtins namespace.
pub fn install(builtins: &Module, root_class: &Rc<Class>) {
    for bt in [
        BuiltinType::Object,
        BuiltinType::Type,
        BuiltinType::Bool,
        BuiltinType::Int,
        BuiltinType::Float,
        BuiltinType::Str,
        BuiltinType::Bytes,
        BuiltinType::List,
        BuiltinType::Tuple,
        BuiltinType::Dict,
        BuiltinType::Set,
        BuiltinType::Range,
    ] {
        builtins.set(bt.name(), Value::Class(bt.class()));
    }
    for &e in ExcType::ALL {
        builtins.set(e.name(), Value::Class(e.class()));
    }
    builtins.set("Root", Value::Class(root_class.clone()));
    functions::install(builtins);
}

/// The class of any value (`type(x)`).
pub fn class_of(v: &Value) -> Rc<Class> {
    let bt = match v {
        Value::Instance(i) => return i.class.clone(),
        Value::None => BuiltinType::NoneType,
        Value::Bool(_) => BuiltinType::Bool,
        Value::Int(_) | Value::BigInt(_) => BuiltinType::Int,
        Value::Float(_) => BuiltinType::Float,
        Value::Str(_) => BuiltinType::Str,
        Value::Bytes(_) => BuiltinType::Bytes,
        Value::List(_) => BuiltinType::List,
        Value::Tuple(_) => BuiltinType::Tuple,
        Value::Dict(_) => BuiltinType::Dict,
        Value::Set(_) => BuiltinType::Set,
        Value::Range(_) => BuiltinType::Range,
        Value::Class(_) => BuiltinType::Type,
        Value::Object(o) => match o.class() {
            Some(c) => return c,
            None => BuiltinType::Object,
        },
        _ => BuiltinType::Object,
    };
    bt.class()
}

/// Class-level attributes of builtin classes: unbound methods (`str.upper`), `dict.fromkeys`.
pub fn class_attr(c: &Rc<Class>, name: &str) -> Option<Value> {
    let bt = c.builtin()?;
    if bt == BuiltinType::Dict && name == "fromkeys" {
        return Some(NativeFn::value("fromkeys", |vm, args| {
            methods::dict_fromkeys(vm, &args)
        }));
    }
    let sample = match bt {
        BuiltinType::Str => Value::from(""),
        BuiltinType::List => Value::list(Vec::new()),
        BuiltinType::Dict => Value::dict(Dict::new()),
        BuiltinType::Set => Value::set(Set::new()),
        BuiltinType::Tuple => Value::tuple(Vec::new()),
        BuiltinType::Int => Value::Int(0),
        BuiltinType::Float => Value::Float(0.0),
        _ => return None,
    };
    methods::get_method(&sample, name)?;
    let name: crate::value::Str = name.into();
    Some(NativeFn::value(&name.clone(), move |vm, mut args| {
        if args.positional.is_empty() {
            return Err(Exception::new(
                ExcType::TypeError,
                format!("unbound method {name}() needs an argument"),
            ));
        }
        let recv = args.positional.remove(0);
        vm.call_method(&recv, &name, args)
    }))
}

/// The values an iterable builtin value yields.
pub fn iterate(v: &Value) -> JacResult<Vec<Value>> {
    Ok(match v {
        Value::List(l) => l.borrow().clone(),
        Value::Tuple(t) => t.to_vec(),
        Value::Str(s) => s.chars().map(|c| Value::from(c.to_string())).collect(),
        Value::Bytes(b) => b.iter().map(|c| Value::Int(i64::from(*c))).collect(),
        Value::Dict(d) => d.borrow().keys().cloned().collect(),
        Value::Set(s) => s.borrow().iter().cloned().collect(),
        Value::Range(r) => {
            if r.len() > MAX_MATERIALISED {
                return Err(Exception::new(
                    ExcType::MemoryError,
                    "range too large to materialise",
                ));
            }
            (0..r.len()).map(|i| Value::Int(r.nth(i))).collect()
        }
        Value::Iter(it) => it.borrow_mut().by_ref().collect(),
        Value::Class(c) if c.kind == ArchKind::Enum => match c.lookup("__members__") {
            Some(Value::List(l)) => l.borrow().clone(),
            _ => Vec::new(),
        },
        Value::Object(o) => o.iterate().ok_or_else(|| not_iterable(v))?,
        _ => return Err(not_iterable(v)),
    })
}

fn not_iterable(v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("'{}' object is not iterable", v.type_name()),
    )
}

/// Calls a builtin class: `int(x)`, `str(x)`, `list(it)`, `ValueError("m")` ...
pub fn construct(
    vm: &mut Interpreter,
    class: &Rc<Class>,
    bt: BuiltinType,
    args: Args,
) -> JacResult<Value> {
    let name = bt.name();
    let first = args.positional.first().cloned();
    Ok(match bt {
        BuiltinType::Exception(_) => Value::Instance(Rc::new(Instance::new(
            class.clone(),
            vec![("args".into(), Value::tuple(args.positional))],
        ))),
        BuiltinType::Object => Value::Instance(Rc::new(Instance::new(class.clone(), Vec::new()))),
        BuiltinType::Type => match first {
            Some(v) if args.len() == 1 => Value::Class(class_of(&v)),
            _ => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    "type() takes 1 argument",
                ));
            }
        },
        BuiltinType::NoneType => Value::None,
        BuiltinType::Bool => Value::Bool(match first {
            Some(v) => vm.truthy(&v)?,
            None => false,
        }),
        BuiltinType::Int => match (first, args.get(1, "base")) {
            (None, _) => Value::Int(0),
            (Some(Value::Str(s)), base) => {
                let base = base.and_then(|b| b.as_i64()).unwrap_or(10);
                let base = u32::try_from(base)
                    .map_err(|_| Exception::new(ExcType::ValueError, "invalid base"))?;
                match parse_int(&s, base) {
                    Some(n) => num::int_value(n),
                    None => {
                        return Err(Exception::new(
                            ExcType::ValueError,
                            format!(
                                "invalid literal for int() with base {base}: {}",
                                repr::repr_str(&s)
                            ),
                        ));
                    }
                }
            }
            (Some(v @ (Value::Int(_) | Value::BigInt(_))), _) => v,
            (Some(Value::Bool(b)), _) => Value::Int(i64::from(b)),
            (Some(Value::Float(f)), _) => {
                if !f.is_finite() {
                    return Err(Exception::new(
                        ExcType::OverflowError,
                        format!("cannot convert float {} to integer", num::float_repr(f)),
                    ));
                }
                num::int_value(num_bigint::BigInt::from_f64(f.trunc()).unwrap_or_default())
            }
            (Some(other), _) => return Err(conversion_error("int", &other)),
        },
        BuiltinType::Float => match first {
            None => Value::Float(0.0),
            Some(Value::Str(s)) => match parse_float(&s) {
                Some(f) => Value::Float(f),
                None => {
                    return Err(Exception::new(
                        ExcType::ValueError,
                        format!("could not convert string to float: {}", repr::repr_str(&s)),
                    ));
                }
            },
            Some(v) => match num::to_f64(&v) {
                Some(f) => Value::Float(f?),
                None => return Err(conversion_error("float", &v)),
            },
        },
        BuiltinType::Str => match first {
            None => Value::from(""),
            Some(Value::Bytes(b)) if args.len() > 1 || args.kw("encoding").is_some() => {
                Value::from(String::from_utf8_lossy(&b).into_owned())
            }
            Some(v) => Value::from(vm.str_of(&v)?),
        },
        BuiltinType::Bytes => match first {
            None => Value::Bytes(Vec::new().into()),
            Some(Value::Str(s)) => Value::Bytes(s.as_bytes().into()),
            Some(Value::Int(n)) => {
                Value::Bytes(vec![0u8; usize::try_from(n).unwrap_or(0).min(1 << 24)].into())
            }
            Some(v) => {
                let mut out = Vec::new();
                for item in vm.iterate(&v)? {
                    match item.as_i64().and_then(|i| u8::try_from(i).ok()) {
                        Some(b) => out.push(b),
                        None => {
                            return Err(Exception::new(
                                ExcType::ValueError,
                                "bytes must be in range(0, 256)",
                            ));
                        }
                    }
                }
                Value::Bytes(out.into())
            }
        },
        BuiltinType::List => Value::list(match first {
            Some(v) => vm.iterate(&v)?,
            None => Vec::new(),
        }),
        BuiltinType::Tuple => Value::tuple(match first {
            Some(v) => vm.iterate(&v)?,
            None => Vec::new(),
        }),
        BuiltinType::Set => Value::set(Set::from_values(match first {
            Some(v) => vm.iterate(&v)?,
            None => Vec::new(),
        })?),
        BuiltinType::Dict => {
            let mut d = Dict::new();
            if let Some(v) = first {
                let pairs = match v {
                    Value::Dict(_) => vm.mapping_items(&v)?,
                    other => methods::pairs_of(vm, &other)?,
                };
                for (k, v) in pairs {
                    d.insert(k, v)?;
                }
            }
            for (k, v) in args.keywords {
                d.insert_str(&k, v);
            }
            Value::dict(d)
        }
        BuiltinType::Range => {
            let ints: Vec<i64> = args
                .positional
                .iter()
                .map(|v| {
                    v.as_i64().ok_or_else(|| {
                        Exception::new(
                            ExcType::TypeError,
                            format!(
                                "'{}' object cannot be interpreted as an integer",
                                v.type_name()
                            ),
                        )
                    })
                })
                .collect::<JacResult<_>>()?;
            let (start, stop, step) = match ints.as_slice() {
                [stop] => (0, *stop, 1),
                [start, stop] => (*start, *stop, 1),
                [start, stop, step] => (*start, *stop, *step),
                _ => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!("{name} expected 1 to 3 arguments"),
                    ));
                }
            };
            if step == 0 {
                return Err(Exception::new(
                    ExcType::ValueError,
                    "range() arg 3 must not be zero",
                ));
            }
            Value::Range(Rc::new(Range { start, stop, step }))
        }
    })
}

fn conversion_error(target: &str, v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!(
            "{target}() argument must be a string or a real number, not '{}'",
            v.type_name()
        ),
    )
}

/// Modules the runtime itself provides (not stdlib): `jaclang` and its `JacRuntime`.
pub fn runtime_module(name: &str) -> Option<ModuleLoader> {
    match name {
        "jaclang" | "jaclang.runtimelib.builtin" | "jaclang.lib" => Some(functions::jaclang_module),
        _ => None,
    }
}
