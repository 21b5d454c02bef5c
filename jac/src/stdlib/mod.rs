//! The Python stdlib subset real jac-scale apps import (language notes §9):
//! `datetime`, `time`, `uuid`, `json`, `random`, `math`, `re`, `os`
//! (`getenv` only, host-granted values), `asyncio` (`sleep`), `typing`
//! (names only), `http` (`HTTPMethod`, `UploadFile`), `enum`, and `fastapi`
//! (`UploadFile` only, for field annotations).
//!
//! [`registry`] registers each module by dotted name; the interpreter builds a
//! module on first import, so state such as the `random` generator is per
//! interpreter, never global. Importing any other module raises
//! `ModuleNotFoundError: No module named '...'` (the interpreter's default).

mod datetime;
mod json;
mod math;
mod names;
pub(crate) mod os;
mod random;
mod re;
mod time;
mod uuid;

use std::rc::Rc;

use crate::interp::Interpreter;
use crate::value::class::ArchKind;
use crate::value::native::{ModuleLoader, type_error};
use crate::value::{
    Args, Class, ExcType, Exception, JacResult, Module, NativeFn, NativeRegistry, Value,
};

/// Every stdlib module: dotted name and the loader that builds it.
const MODULES: &[(&str, ModuleLoader)] = &[
    ("asyncio", time::asyncio_module),
    ("dataclasses", names::dataclasses_module),
    ("datetime", datetime::module),
    ("enum", names::enum_module),
    ("fastapi", names::fastapi_module),
    ("http", names::http_module),
    ("jac_scale.lib", crate::data::kvstore::module),
    ("json", json::module),
    ("math", math::module),
    ("os", os::module),
    ("random", random::module),
    ("re", re::module),
    ("time", time::time_module),
    ("typing", names::typing_module),
    ("uuid", uuid::module),
];

/// Every stdlib module, registered by dotted name.
pub fn registry() -> NativeRegistry {
    let mut registry = NativeRegistry::new();
    for (name, loader) in MODULES {
        registry.add_module(name, *loader);
    }
    registry
}

/// The dotted names [`registry`] provides, sorted.
pub fn module_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(name, _)| *name)
}

// ----------------------------------------------------------------- helpers for the modules

/// Adds native function `name` to `module` (its repr name is `module.name`).
fn def(
    module: &Module,
    name: &str,
    func: impl Fn(&mut Interpreter, Args) -> JacResult<Value> + 'static,
) {
    module.set(name, NativeFn::value(name, func));
}

/// A class object for a stdlib type. Its native `__new__` (set with
/// [`def_static`]) is the constructor; other static methods are added the same way.
fn type_object(name: &str) -> Rc<Class> {
    Rc::new(Class::new(
        name,
        ArchKind::Class,
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ))
}

/// Adds static method `name` to a stdlib class object.
fn def_static(
    class: &Class,
    name: &str,
    func: impl Fn(&mut Interpreter, Args) -> JacResult<Value> + 'static,
) {
    class.set_attr(name, NativeFn::value(name, func));
}

/// Argument `i` / `name` as a float (ints accepted).
fn arg_f64(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<f64> {
    let v = args.required(i, name, fname)?;
    as_f64(&v).ok_or_else(|| type_error(fname, name, &v))?
}

/// A number as `f64` (`None` if not a number).
fn as_f64(v: &Value) -> Option<JacResult<f64>> {
    crate::value::num::to_f64(v)
}

/// Argument `i` / `name` as an `i64`.
fn arg_i64(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<i64> {
    let v = args.required(i, name, fname)?;
    v.as_i64().ok_or_else(|| type_error(fname, name, &v))
}

/// Optional argument `i` / `name` as an `i64`.
fn opt_i64(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<Option<i64>> {
    match args.get(i, name) {
        None | Some(Value::None) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| type_error(fname, name, &v)),
    }
}

/// Argument `i` / `name` as a string.
fn arg_str(args: &Args, i: usize, name: &str, fname: &str) -> JacResult<Rc<str>> {
    match args.required(i, name, fname)? {
        Value::Str(s) => Ok(s),
        other => Err(type_error(fname, name, &other)),
    }
}

fn value_error(msg: impl Into<String>) -> Exception {
    Exception::new(ExcType::ValueError, msg)
}
