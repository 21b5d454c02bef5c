//! Functions, objects and modules implemented in Rust: the builtins and the
//! stdlib subset plug into the interpreter through these types.
//!
//! A native function receives the interpreter (to call back into Jac code,
//! e.g. a `key=` function) and its [`Args`]. A stdlib module is registered in a
//! [`NativeRegistry`] as a loader that builds the [`Module`] on first import.

use std::any::Any;
use std::cmp::Ordering;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::ops::BinOp;
use super::{ExcType, Exception, JacResult, Module, Str, Value, repr};
use crate::interp::Interpreter;

/// The Rust body of a native function.
pub type NativeImpl = Rc<dyn Fn(&mut Interpreter, Args) -> JacResult<Value>>;

/// A builtin function or method implemented in Rust.
pub struct NativeFn {
    /// Name used in error messages and reprs.
    pub name: Str,
    /// The implementation.
    pub func: NativeImpl,
    /// For bound methods: the receiver, passed as the first positional argument.
    pub receiver: Option<Value>,
}

impl NativeFn {
    /// A native function value.
    pub fn value(
        name: &str,
        func: impl Fn(&mut Interpreter, Args) -> JacResult<Value> + 'static,
    ) -> Value {
        Value::Native(Rc::new(NativeFn {
            name: name.into(),
            func: Rc::new(func),
            receiver: None,
        }))
    }

    /// A native method bound to `receiver` (the receiver arrives as `args.positional[0]`).
    pub fn method(
        name: &str,
        receiver: Value,
        func: impl Fn(&mut Interpreter, Args) -> JacResult<Value> + 'static,
    ) -> Value {
        Value::Native(Rc::new(NativeFn {
            name: name.into(),
            func: Rc::new(func),
            receiver: Some(receiver),
        }))
    }

    /// Calls the function, prepending the receiver for bound methods.
    pub fn call(&self, vm: &mut Interpreter, mut args: Args) -> JacResult<Value> {
        if let Some(recv) = &self.receiver {
            args.positional.insert(0, recv.clone());
        }
        (self.func)(vm, args)
    }
}

/// Call arguments: positional values and keyword arguments in call order.
#[derive(Default, Clone)]
pub struct Args {
    /// Positional arguments.
    pub positional: Vec<Value>,
    /// Keyword arguments.
    pub keywords: Vec<(Str, Value)>,
}

impl Args {
    /// Positional-only arguments.
    pub fn new(positional: Vec<Value>) -> Self {
        Self {
            positional,
            keywords: Vec::new(),
        }
    }

    /// Number of positional arguments.
    pub fn len(&self) -> usize {
        self.positional.len()
    }

    /// Whether there are no arguments at all.
    pub fn is_empty(&self) -> bool {
        self.positional.is_empty() && self.keywords.is_empty()
    }

    /// Checks the positional count is within `min..=max` for function `fname`.
    pub fn check(&self, fname: &str, min: usize, max: usize) -> JacResult<()> {
        let n = self.positional.len();
        if n < min || n > max {
            let expected = if min == max {
                format!("{min}")
            } else {
                format!("{min} to {max}")
            };
            return Err(Exception::new(
                ExcType::TypeError,
                format!("{fname}() takes {expected} positional argument(s) but {n} were given"),
            ));
        }
        Ok(())
    }

    /// Positional argument `i`, or the keyword argument `name`.
    pub fn get(&self, i: usize, name: &str) -> Option<Value> {
        self.positional.get(i).cloned().or_else(|| self.kw(name))
    }

    /// Like [`Args::get`] but raising `TypeError` when missing.
    pub fn required(&self, i: usize, name: &str, fname: &str) -> JacResult<Value> {
        self.get(i, name).ok_or_else(|| {
            Exception::new(
                ExcType::TypeError,
                format!("{fname}() missing required argument: '{name}'"),
            )
        })
    }

    /// The keyword argument `name`.
    pub fn kw(&self, name: &str) -> Option<Value> {
        self.keywords
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.clone())
    }

    /// Raises `TypeError` if any keyword argument is not in `allowed`.
    pub fn allow_keywords(&self, fname: &str, allowed: &[&str]) -> JacResult<()> {
        match self.keywords.iter().find(|(k, _)| !allowed.contains(&&**k)) {
            Some((k, _)) => Err(Exception::new(
                ExcType::TypeError,
                format!("{fname}() got an unexpected keyword argument '{k}'"),
            )),
            None => Ok(()),
        }
    }
}

/// A stdlib object implemented in Rust (a datetime, a UUID, a regex match ...).
///
/// Only `type_name`, `repr` and `as_any` are required; the rest default to
/// Python's behaviour for a plain object (identity equality, no operators).
pub trait NativeObject: Any {
    /// `type(x).__name__`.
    fn type_name(&self) -> &str;
    /// `repr(x)`.
    fn repr(&self) -> String;
    /// `str(x)` (defaults to the repr).
    fn str(&self) -> String {
        self.repr()
    }
    /// Attribute lookup; `this` is the value wrapping `self`, for binding methods.
    fn get_attr(&self, _this: &Value, _name: &str) -> Option<Value> {
        None
    }
    /// `self == other` (identity is checked before this is called).
    fn eq(&self, _other: &Value) -> bool {
        false
    }
    /// `hash(x)` for objects equal by value; `None` hashes by identity.
    fn hash(&self) -> Option<u64> {
        None
    }
    /// Ordering against another value, if comparable.
    fn compare(&self, _other: &Value) -> Option<Ordering> {
        None
    }
    /// A binary operator with `self` on the left (or on the right when `reflected`).
    fn binary_op(&self, _op: BinOp, _other: &Value, _reflected: bool) -> Option<JacResult<Value>> {
        None
    }
    /// Truthiness.
    fn truthy(&self) -> bool {
        true
    }
    /// Iteration, if the object is iterable.
    fn iterate(&self) -> Option<Vec<Value>> {
        None
    }
    /// `format(x, spec)` / f-string `{x:spec}`, if the object has its own format language.
    fn format(&self, _spec: &str) -> Option<JacResult<String>> {
        None
    }
    /// The JSON form when the object is serialized in a response (defaults to `str(x)`).
    fn to_json(&self) -> serde_json::Value {
        serde_json::Value::String(self.str())
    }
    /// The class object of this value, for `isinstance` / `type(x)` (stdlib types).
    fn class(&self) -> Option<Rc<super::Class>> {
        None
    }
    /// Downcasting support.
    fn as_any(&self) -> &dyn Any;
}

/// Builds a native module for one interpreter.
pub type ModuleLoader = fn(&mut Interpreter) -> JacResult<Rc<Module>>;

/// The native modules an interpreter can import (the stdlib subset).
#[derive(Default, Clone)]
pub struct NativeRegistry {
    modules: FxHashMap<Str, ModuleLoader>,
}

impl NativeRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers module `name` (dotted, e.g. `"os.path"`).
    pub fn add_module(&mut self, name: &str, loader: ModuleLoader) {
        self.modules.insert(name.into(), loader);
    }

    /// The loader of module `name`.
    pub fn module(&self, name: &str) -> Option<ModuleLoader> {
        self.modules.get(name).copied()
    }
}

/// Raises `TypeError` naming the expected and actual type of argument `what`.
pub fn type_error(fname: &str, what: &str, got: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!(
            "{fname}() argument '{what}' has wrong type: {} ({})",
            got.type_name(),
            repr::repr(got)
        ),
    )
}
