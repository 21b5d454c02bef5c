//! Runtime values with Python semantics.
//!
//! [`Value`] is a cheap-to-clone handle: scalars are stored inline, strings,
//! tuples and bytes are immutable shared slices, and every mutable container
//! (`list`, `dict`, `set`) and every archetype instance is shared by reference
//! (`Rc<RefCell<..>>`), so mutation through one alias is visible through all of
//! them, exactly as in Python.
//!
//! The submodules hold the pieces: numbers ([`num`]), insertion-ordered dicts
//! and sets ([`dict`]), classes and instances ([`class`]), exceptions
//! ([`exception`]), native functions/objects/modules for builtins and the
//! stdlib ([`native`]), `repr`/`str` ([`repr`]), format specs ([`format`]),
//! operators ([`ops`]) and JSON conversion ([`json`]).

pub mod class;
pub mod dict;
pub mod exception;
pub mod format;
pub mod json;
pub mod native;
pub mod num;
pub mod ops;
pub mod repr;

use std::cell::RefCell;
use std::rc::Rc;

use num_bigint::BigInt;

pub use class::{Anchor, ArchKind, BuiltinType, Class, Field, Instance};
pub use dict::{Dict, HashKey, Set};
pub use exception::{ExcType, Exception, JacResult, TraceEntry};
pub use native::{Args, NativeFn, NativeImpl, NativeObject, NativeRegistry};

use crate::interp::Function;

/// Shared immutable string.
pub type Str = Rc<str>;

/// A Jac (Python) runtime value.
#[derive(Clone)]
pub enum Value {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits (the fast path).
    Int(i64),
    /// An `int` outside the `i64` range; never holds a value that fits in `i64`.
    BigInt(Rc<BigInt>),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(Str),
    /// A `bytes` value.
    Bytes(Rc<[u8]>),
    /// A `list` (shared, mutable).
    List(Rc<RefCell<Vec<Value>>>),
    /// A `tuple`.
    Tuple(Rc<[Value]>),
    /// A `dict` (shared, mutable, insertion-ordered).
    Dict(Rc<RefCell<Dict>>),
    /// A `set` (shared, mutable, insertion-ordered for stable output).
    Set(Rc<RefCell<Set>>),
    /// A `range` object.
    Range(Rc<Range>),
    /// A one-shot iterator (results of `enumerate`, `zip`, `iter`, generator expressions ...).
    Iter(Rc<RefCell<Iter>>),
    /// A slice object (`a[1:2]` passes one to `__getitem__`-like natives).
    Slice(Rc<Slice>),
    /// A user function or lambda (a closure over its defining scope).
    Function(Rc<Function>),
    /// A method bound to its receiver.
    BoundMethod(Rc<BoundMethod>),
    /// A builtin or stdlib function implemented in Rust.
    Native(Rc<NativeFn>),
    /// A class: archetype, builtin type or exception type.
    Class(Rc<Class>),
    /// An instance of an archetype or of an exception class.
    Instance(Rc<Instance>),
    /// A module (Jac or native).
    Module(Rc<Module>),
    /// A stdlib object implemented in Rust (datetime, uuid, regex match ...).
    Object(Rc<dyn NativeObject>),
}

/// `range(start, stop, step)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First value.
    pub start: i64,
    /// Exclusive bound.
    pub stop: i64,
    /// Non-zero step.
    pub step: i64,
}

impl Range {
    /// Number of values the range yields.
    pub fn len(&self) -> i64 {
        if self.step > 0 && self.start < self.stop {
            (self.stop - self.start - 1) / self.step + 1
        } else if self.step < 0 && self.start > self.stop {
            (self.start - self.stop - 1) / (-self.step) + 1
        } else {
            0
        }
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`th value (caller checks bounds).
    pub fn nth(&self, i: i64) -> i64 {
        self.start + i * self.step
    }
}

/// A materialised one-shot iterator.
pub struct Iter {
    items: std::vec::IntoIter<Value>,
}

impl Iter {
    /// An iterator over `items`.
    pub fn new(items: Vec<Value>) -> Self {
        Self {
            items: items.into_iter(),
        }
    }

    /// The items not consumed yet.
    pub fn remaining(&self) -> &[Value] {
        self.items.as_slice()
    }
}

impl Iterator for Iter {
    type Item = Value;
    fn next(&mut self) -> Option<Value> {
        self.items.next()
    }
}

/// A slice `start:stop:step` with optional parts.
#[derive(Clone)]
pub struct Slice {
    /// Start index or `None`.
    pub start: Value,
    /// Stop index or `None`.
    pub stop: Value,
    /// Step or `None`.
    pub step: Value,
}

/// A function bound to its receiver (`obj.method`).
pub struct BoundMethod {
    /// The receiver, passed as the first argument.
    pub receiver: Value,
    /// The underlying function.
    pub function: Value,
}

/// A module: a named namespace.
pub struct Module {
    /// Dotted module name.
    pub name: Str,
    /// Its attributes.
    pub attrs: RefCell<indexmap::IndexMap<Str, Value, rustc_hash::FxBuildHasher>>,
}

impl Module {
    /// An empty module called `name`.
    pub fn new(name: &str) -> Self {
        Self {
            name: name.into(),
            attrs: RefCell::new(Default::default()),
        }
    }

    /// Adds or replaces an attribute.
    pub fn set(&self, name: &str, value: Value) {
        self.attrs.borrow_mut().insert(name.into(), value);
    }

    /// Looks an attribute up.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.attrs.borrow().get(name).cloned()
    }
}

impl Value {
    /// A `str` value.
    pub fn str(s: &str) -> Value {
        Value::Str(s.into())
    }

    /// A new `list`.
    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Rc::new(RefCell::new(items)))
    }

    /// A `tuple`.
    pub fn tuple(items: Vec<Value>) -> Value {
        Value::Tuple(items.into())
    }

    /// A new `dict`.
    pub fn dict(dict: Dict) -> Value {
        Value::Dict(Rc::new(RefCell::new(dict)))
    }

    /// A new `set`.
    pub fn set(set: Set) -> Value {
        Value::Set(Rc::new(RefCell::new(set)))
    }

    /// A one-shot iterator value over `items`.
    pub fn iter(items: Vec<Value>) -> Value {
        Value::Iter(Rc::new(RefCell::new(Iter::new(items))))
    }

    /// Python truthiness.
    pub fn truthy(&self) -> bool {
        match self {
            Value::None => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::BigInt(_) => true,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::Bytes(b) => !b.is_empty(),
            Value::List(l) => !l.borrow().is_empty(),
            Value::Tuple(t) => !t.is_empty(),
            Value::Dict(d) => !d.borrow().is_empty(),
            Value::Set(s) => !s.borrow().is_empty(),
            Value::Range(r) => !r.is_empty(),
            Value::Object(o) => o.truthy(),
            _ => true,
        }
    }

    /// The Python type name (`type(x).__name__`).
    pub fn type_name(&self) -> String {
        match self {
            Value::None => "NoneType".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) | Value::BigInt(_) => "int".into(),
            Value::Float(_) => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes(_) => "bytes".into(),
            Value::List(_) => "list".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::Dict(_) => "dict".into(),
            Value::Set(_) => "set".into(),
            Value::Range(_) => "range".into(),
            Value::Iter(_) => "iterator".into(),
            Value::Slice(_) => "slice".into(),
            Value::Function(_) => "function".into(),
            Value::BoundMethod(_) => "method".into(),
            Value::Native(_) => "builtin_function_or_method".into(),
            Value::Class(_) => "type".into(),
            Value::Instance(i) => i.class.name.to_string(),
            Value::Module(_) => "module".into(),
            Value::Object(o) => o.type_name().to_string(),
        }
    }

    /// Whether two values are the same object (`is`).
    pub fn is(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::BigInt(a), Value::BigInt(b)) => Rc::ptr_eq(a, b),
            (Value::Float(a), Value::Float(b)) => a.to_bits() == b.to_bits(),
            (Value::Str(a), Value::Str(b)) => Rc::ptr_eq(a, b) || (a.len() <= 1 && a == b),
            (Value::Bytes(a), Value::Bytes(b)) => Rc::ptr_eq(a, b),
            (Value::List(a), Value::List(b)) => Rc::ptr_eq(a, b),
            (Value::Tuple(a), Value::Tuple(b)) => {
                Rc::ptr_eq(a, b) || (a.is_empty() && b.is_empty())
            }
            (Value::Dict(a), Value::Dict(b)) => Rc::ptr_eq(a, b),
            (Value::Set(a), Value::Set(b)) => Rc::ptr_eq(a, b),
            (Value::Range(a), Value::Range(b)) => Rc::ptr_eq(a, b),
            (Value::Iter(a), Value::Iter(b)) => Rc::ptr_eq(a, b),
            (Value::Slice(a), Value::Slice(b)) => Rc::ptr_eq(a, b),
            (Value::Function(a), Value::Function(b)) => Rc::ptr_eq(a, b),
            (Value::BoundMethod(a), Value::BoundMethod(b)) => Rc::ptr_eq(a, b),
            (Value::Native(a), Value::Native(b)) => Rc::ptr_eq(a, b),
            (Value::Class(a), Value::Class(b)) => Rc::ptr_eq(a, b),
            (Value::Instance(a), Value::Instance(b)) => Rc::ptr_eq(a, b),
            (Value::Module(a), Value::Module(b)) => Rc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => std::ptr::addr_eq(Rc::as_ptr(a), Rc::as_ptr(b)),
            _ => false,
        }
    }

    /// The string if this is a `str`.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as an `i64` if it is an `int` (or `bool`) that fits.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}

impl std::fmt::Debug for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&repr::repr(self))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Value::Float(f)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s.into())
    }
}
