//! Classes (archetypes, builtin types, exception types) and their instances.
//!
//! Archetype instances behave like Python dataclasses declared with
//! `eq=False` (as jaclang compiles them): fields in declaration order with
//! base-class fields first, identity equality and hashing, and a
//! `Name(field=value, ...)` repr.

use std::cell::RefCell;
use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::{ExcType, Module, Str, Value};
use crate::interp::{Ability, FieldDefault};
use crate::syntax::ast::Expr;

/// What kind of declaration a class comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArchKind {
    /// `obj`: a plain data class.
    Obj,
    /// `class`: a Python-style class.
    Class,
    /// `node`: a graph vertex.
    Node,
    /// `edge`: a graph connection type.
    Edge,
    /// `walker`: mobile computation.
    Walker,
    /// `enum`.
    Enum,
    /// A builtin type (`int`, `str`, `list`, exceptions ...).
    Builtin(BuiltinType),
}

impl ArchKind {
    /// The keyword used in JSON serialization (`_jac_archetype`).
    pub fn keyword(self) -> &'static str {
        match self {
            ArchKind::Obj => "obj",
            ArchKind::Class => "class",
            ArchKind::Node => "node",
            ArchKind::Edge => "edge",
            ArchKind::Walker => "walker",
            ArchKind::Enum => "enum",
            ArchKind::Builtin(_) => "builtin",
        }
    }
}

/// The builtin types that exist as class objects (`int`, `isinstance(x, str)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BuiltinType {
    /// `object`
    Object,
    /// `type`
    Type,
    /// `NoneType`
    NoneType,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `str`
    Str,
    /// `bytes`
    Bytes,
    /// `list`
    List,
    /// `tuple`
    Tuple,
    /// `dict`
    Dict,
    /// `set`
    Set,
    /// `range`
    Range,
    /// `BaseException` and its builtin subclasses.
    Exception(ExcType),
}

/// One `has` field of an archetype.
#[derive(Clone)]
pub struct Field {
    /// Field name.
    pub name: Str,
    /// How the value is produced when the constructor does not receive it.
    pub default: FieldDefault,
    /// The declared type annotation (for JSON hydration), if any.
    pub ty: Option<Rc<Expr>>,
}

/// A class object.
pub struct Class {
    /// Class name.
    pub name: Str,
    /// Declaration kind.
    pub kind: ArchKind,
    /// Direct bases.
    pub bases: Vec<Rc<Class>>,
    /// Ancestors in method-resolution order, excluding the class itself.
    pub mro: Vec<Rc<Class>>,
    /// Every instance field, base-class fields first.
    pub fields: Vec<Field>,
    /// The class namespace: methods, static fields, enum members.
    pub attrs: RefCell<FxHashMap<Str, Value>>,
    /// Abilities (`can ... with T entry|exit`), inherited ones first, overrides replacing by name.
    pub abilities: Vec<Rc<Ability>>,
    /// The globals of the module that declared the class (`None` for builtin classes).
    pub globals: Option<Rc<Module>>,
}

impl Class {
    /// A class with the given bases; computes the MRO (left-to-right depth-first, duplicates
    /// keep their last position, which equals C3 for the hierarchies Jac programs use).
    pub fn new(
        name: &str,
        kind: ArchKind,
        bases: Vec<Rc<Class>>,
        fields: Vec<Field>,
        abilities: Vec<Rc<Ability>>,
    ) -> Self {
        let mut mro: Vec<Rc<Class>> = Vec::new();
        for base in &bases {
            for c in std::iter::once(base).chain(base.mro.iter()) {
                mro.retain(|m| !Rc::ptr_eq(m, c));
                mro.push(c.clone());
            }
        }
        Self {
            name: name.into(),
            kind,
            bases,
            mro,
            fields,
            attrs: RefCell::new(FxHashMap::default()),
            abilities,
            globals: None,
        }
    }

    /// Records the module that declared the class.
    #[must_use]
    pub fn with_globals(mut self, globals: Rc<Module>) -> Self {
        self.globals = Some(globals);
        self
    }

    /// Whether `self` is `other` or a subclass of it.
    pub fn is_subclass(&self, other: &Class) -> bool {
        std::ptr::eq(self, other) || self.mro.iter().any(|c| std::ptr::eq(&**c, other))
    }

    /// Looks an attribute up along the MRO.
    pub fn lookup(&self, name: &str) -> Option<Value> {
        if let Some(v) = self.attrs.borrow().get(name) {
            return Some(v.clone());
        }
        self.mro
            .iter()
            .find_map(|c| c.attrs.borrow().get(name).cloned())
    }

    /// Looks an attribute up starting after `after` in the MRO (for `super`).
    pub fn lookup_after(&self, after: &Class, name: &str) -> Option<Value> {
        let chain: Vec<&Class> = std::iter::once(self)
            .chain(self.mro.iter().map(|c| &**c))
            .collect();
        let start = chain
            .iter()
            .position(|c| std::ptr::eq(*c, after))
            .map_or(0, |i| i + 1);
        chain[start..]
            .iter()
            .find_map(|c| c.attrs.borrow().get(name).cloned())
    }

    /// Sets an attribute in the class namespace.
    pub fn set_attr(&self, name: &str, value: Value) {
        self.attrs.borrow_mut().insert(name.into(), value);
    }

    /// The builtin exception type this class is or derives from, if any.
    pub fn exception_type(&self) -> Option<ExcType> {
        std::iter::once(self)
            .chain(self.mro.iter().map(|c| &**c))
            .find_map(|c| match c.kind {
                ArchKind::Builtin(BuiltinType::Exception(e)) => Some(e),
                _ => None,
            })
    }

    /// The archetype kind, looking through to the nearest archetype base for
    /// classes that only inherit (e.g. a `class` deriving from a `node`).
    pub fn is_kind(&self, kind: ArchKind) -> bool {
        self.kind == kind || self.mro.iter().any(|c| c.kind == kind)
    }
}

/// Graph identity of an archetype instance.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// 32-hex id.
    pub id: Str,
    /// Whether the graph holds the object (set when a node is connected or loaded).
    pub persisted: bool,
    /// For edges: the endpoints and direction.
    pub edge: Option<EdgeEnds>,
}

/// The endpoints of an edge instance.
#[derive(Debug, Clone)]
pub struct EdgeEnds {
    /// Source node id.
    pub source: Str,
    /// Target node id.
    pub target: Str,
    /// Whether the edge is traversable both ways.
    pub undirected: bool,
}

/// An instance of an archetype or exception class.
pub struct Instance {
    /// Its class.
    pub class: Rc<Class>,
    /// Field values (declared fields first, then any attribute set later), in order.
    fields: RefCell<Vec<(Str, Value)>>,
    /// Graph identity (nodes, edges; any archetype once `jid` is asked).
    pub anchor: RefCell<Option<Anchor>>,
}

impl Instance {
    /// An instance with the given field values.
    pub fn new(class: Rc<Class>, fields: Vec<(Str, Value)>) -> Self {
        Self {
            class,
            fields: RefCell::new(fields),
            anchor: RefCell::new(None),
        }
    }

    /// Reads a field or instance attribute.
    pub fn get(&self, name: &str) -> Option<Value> {
        self.fields
            .borrow()
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.clone())
    }

    /// Writes a field or instance attribute (adding it if new).
    pub fn set(&self, name: &str, value: Value) {
        let mut fields = self.fields.borrow_mut();
        match fields.iter_mut().find(|(k, _)| &**k == name) {
            Some(slot) => slot.1 = value,
            None => fields.push((name.into(), value)),
        }
    }

    /// Removes an attribute; returns whether it existed.
    pub fn remove(&self, name: &str) -> bool {
        let mut fields = self.fields.borrow_mut();
        let before = fields.len();
        fields.retain(|(k, _)| &**k != name);
        fields.len() != before
    }

    /// Calls `f` with each declared (dataclass) field (its index in `class.fields`, name and
    /// value), in declaration order,
    /// without copying; stops early when `f` returns `false`. Returns whether it ran to the end.
    pub fn all_declared(&self, mut f: impl FnMut(usize, &Str, &Value) -> bool) -> bool {
        let fields = self.fields.borrow();
        self.class.fields.iter().enumerate().all(|(index, decl)| {
            match fields.iter().find(|(k, _)| *k == decl.name) {
                Some((k, v)) => f(index, k, v),
                None => true,
            }
        })
    }

    /// A snapshot of every field, in order.
    pub fn fields(&self) -> Vec<(Str, Value)> {
        self.fields.borrow().clone()
    }

    /// The declared (dataclass) fields, in declaration order, for repr and serialization.
    pub fn declared_fields(&self) -> Vec<(Str, Value)> {
        let fields = self.fields.borrow();
        self.class
            .fields
            .iter()
            .filter_map(|f| fields.iter().find(|(k, _)| k == &f.name).cloned())
            .collect()
    }

    /// The graph id, if assigned.
    pub fn id(&self) -> Option<Str> {
        self.anchor.borrow().as_ref().map(|a| a.id.clone())
    }

    /// Whether the instance is stored in the graph.
    pub fn is_persisted(&self) -> bool {
        self.anchor.borrow().as_ref().is_some_and(|a| a.persisted)
    }

    /// For enum members: `(name, value)`.
    pub fn enum_member(&self) -> Option<(Value, Value)> {
        if self.class.kind != ArchKind::Enum {
            return None;
        }
        Some((self.get("name")?, self.get("value")?))
    }
}

thread_local! {
    static BUILTIN_CLASSES: RefCell<FxHashMap<BuiltinType, Rc<Class>>> = RefCell::new(FxHashMap::default());
}

impl BuiltinType {
    /// The Python name of the type.
    pub fn name(self) -> &'static str {
        match self {
            BuiltinType::Object => "object",
            BuiltinType::Type => "type",
            BuiltinType::NoneType => "NoneType",
            BuiltinType::Bool => "bool",
            BuiltinType::Int => "int",
            BuiltinType::Float => "float",
            BuiltinType::Str => "str",
            BuiltinType::Bytes => "bytes",
            BuiltinType::List => "list",
            BuiltinType::Tuple => "tuple",
            BuiltinType::Dict => "dict",
            BuiltinType::Set => "set",
            BuiltinType::Range => "range",
            BuiltinType::Exception(e) => e.name(),
        }
    }

    fn base(self) -> Option<BuiltinType> {
        match self {
            BuiltinType::Object => None,
            BuiltinType::Bool => Some(BuiltinType::Int),
            BuiltinType::Exception(e) => Some(
                e.parent()
                    .map_or(BuiltinType::Object, BuiltinType::Exception),
            ),
            _ => Some(BuiltinType::Object),
        }
    }

    /// The shared class object of this builtin type (one per thread).
    pub fn class(self) -> Rc<Class> {
        if let Some(c) = BUILTIN_CLASSES.with(|m| m.borrow().get(&self).cloned()) {
            return c;
        }
        let bases: Vec<Rc<Class>> = self.base().map(BuiltinType::class).into_iter().collect();
        let class = Rc::new(Class::new(
            self.name(),
            ArchKind::Builtin(self),
            bases,
            Vec::new(),
            Vec::new(),
        ));
        BUILTIN_CLASSES.with(|m| m.borrow_mut().insert(self, class.clone()));
        class
    }
}

impl Class {
    /// The builtin type this class object stands for, if any.
    pub fn builtin(&self) -> Option<BuiltinType> {
        match self.kind {
            ArchKind::Builtin(b) => Some(b),
            _ => None,
        }
    }
}
