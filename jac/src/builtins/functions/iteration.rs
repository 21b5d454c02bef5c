//! Iteration: `sorted`, `reversed`, `enumerate`, `zip`, `map`, `filter`, `any`/`all`,
//! `iter`/`next`, `slice`.

use crate::interp::Interpreter;
use crate::value::{Args, ExcType, Exception, JacResult, Value};

use super::{Builtin, int_arg};
use crate::builtins::methods::sort_values;

pub(super) const TABLE: &[(&str, Builtin)] = &[
    ("sorted", sorted),
    ("reversed", reversed),
    ("enumerate", enumerate),
    ("zip", zip),
    ("map", map),
    ("filter", filter),
    ("any", any),
    ("all", all),
    ("iter", iter),
    ("next", next),
    ("slice", slice),
];

fn sorted(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let mut items = vm.iterate(&a.required(0, "iterable", "sorted")?)?;
    let reverse = a.kw("reverse").is_some_and(|v| v.truthy());
    sort_values(vm, &mut items, a.kw("key").as_ref(), reverse)?;
    Ok(Value::list(items))
}

fn reversed(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let mut items = vm.iterate(&a.required(0, "sequence", "reversed")?)?;
    items.reverse();
    Ok(Value::iter(items))
}

fn enumerate(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
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
}

fn zip(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
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
}

fn map(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
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
}

fn filter(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
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
}

fn any(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    for item in vm.iterate(&a.required(0, "iterable", "any")?)? {
        if vm.truthy(&item)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn all(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    for item in vm.iterate(&a.required(0, "iterable", "all")?)? {
        if !vm.truthy(&item)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn iter(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    Ok(Value::iter(vm.iterate(&a.required(0, "object", "iter")?)?))
}

fn next(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
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
}

fn slice(_vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let part = |i: usize| a.positional.get(i).cloned().unwrap_or(Value::None);
    Ok(match a.len() {
        1 => crate::builtins::subscript::slice(Value::None, part(0), Value::None),
        _ => crate::builtins::subscript::slice(part(0), part(1), part(2)),
    })
}
