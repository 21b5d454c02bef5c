//! Objects and their text: `print`, `len`, `repr`, `isinstance`, `getattr`, `hash`, ...

use crate::interp::Interpreter;
use crate::value::format::format_value;
use crate::value::{Args, ExcType, Exception, JacResult, Value};

use super::{Builtin, int_arg};

pub(super) const TABLE: &[(&str, Builtin)] = &[
    ("print", print),
    ("len", len),
    ("repr", repr),
    ("ascii", ascii),
    ("isinstance", isinstance),
    ("issubclass", issubclass),
    ("hasattr", hasattr),
    ("getattr", getattr),
    ("setattr", setattr),
    ("callable", callable),
    ("format", format),
    ("hash", hash),
    ("id", id),
];

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

fn len(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    a.check("len", 1, 1)?;
    Ok(Value::Int(len_of(vm, &a.positional[0])?))
}

fn repr(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::from(vm.repr_of(&a.required(0, "obj", "repr")?)?))
}

fn ascii(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::from(vm.repr_of(&a.required(0, "obj", "ascii")?)?))
}

fn isinstance(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    a.check("isinstance", 2, 2)?;
    Ok(Value::Bool(
        vm.isinstance(&a.positional[0], &a.positional[1])?,
    ))
}

fn issubclass(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    match (a.get(0, "cls"), a.get(1, "classinfo")) {
        (Some(Value::Class(c)), Some(Value::Class(p))) => Ok(Value::Bool(c.is_subclass(&p))),
        _ => Err(Exception::new(
            ExcType::TypeError,
            "issubclass() arguments must be classes",
        )),
    }
}

fn hasattr(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let obj = a.required(0, "obj", "hasattr")?;
    let name = a.required(1, "name", "hasattr")?;
    let name = name.as_str().unwrap_or_default().to_string();
    Ok(Value::Bool(vm.get_attr(&obj, &name).is_ok()))
}

fn setattr(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    a.check("setattr", 3, 3)?;
    let name = a.positional[1].as_str().unwrap_or_default().to_string();
    vm.set_attr(&a.positional[0], &name, a.positional[2].clone())?;
    Ok(Value::None)
}

fn callable(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::Bool(matches!(
        a.required(0, "obj", "callable")?,
        Value::Function(_) | Value::BoundMethod(_) | Value::Native(_) | Value::Class(_)
    )))
}

fn hash(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::Int(
        crate::value::dict::hash_value(&a.required(0, "obj", "hash")?)? as i64 >> 1,
    ))
}

fn id(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::Int(
        (crate::value::dict::hash_value(&a.required(0, "obj", "id")?).unwrap_or(0) >> 2) as i64,
    ))
}

fn format(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let v = a.required(0, "value", "format")?;
    let spec = a
        .get(1, "format_spec")
        .and_then(|s| s.as_str().map(str::to_string))
        .unwrap_or_default();
    Ok(Value::from(format_value(&v, &spec)?))
}
