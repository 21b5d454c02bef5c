//! Archetypes and enums become classes; classes are instantiated with
//! dataclass rules; JSON request arguments are hydrated into instances
//! following the declared field and parameter types.

use std::cell::OnceCell;
use std::rc::Rc;

use serde_json::Value as Json;

use crate::syntax::ast::{self, Expr, ExprKind, MemberKind};
use crate::value::json::from_json_plain;
use crate::value::{
    ArchKind, Args, Class, ExcType, Exception, Field, Instance, JacResult, Module, NativeFn, Str,
    Value,
};

use super::Interpreter;
use super::env::Scope;
use super::function::{Ability, FieldDefault, Function};

/// A builtin archetype with no fields (`Root`, `GenericEdge`).
pub(crate) fn builtin_archetype(name: &str, kind: ArchKind) -> Class {
    Class::new(name, kind, Vec::new(), Vec::new(), Vec::new())
}

/// A callable that runs the dataclass constructor of `class` on `receiver` (`super.init(...)`).
pub(crate) fn field_initializer(class: Rc<Class>, receiver: Value) -> Value {
    NativeFn::value("__init__", move |vm, args| {
        if let Value::Instance(inst) = &receiver {
            vm.init_fields(inst, &class, args)?;
        }
        Ok(Value::None)
    })
}

fn arch_kind(kind: ast::ArchKind) -> ArchKind {
    match kind {
        ast::ArchKind::Obj => ArchKind::Obj,
        ast::ArchKind::Class => ArchKind::Class,
        ast::ArchKind::Node => ArchKind::Node,
        ast::ArchKind::Edge => ArchKind::Edge,
        ast::ArchKind::Walker => ArchKind::Walker,
    }
}

fn merge_field(fields: &mut Vec<Field>, field: Field) {
    match fields.iter_mut().find(|f| f.name == field.name) {
        Some(slot) => *slot = field,
        None => fields.push(field),
    }
}

impl Interpreter {
    fn eval_bases(&mut self, bases: &[Expr], scope: &Rc<Scope>) -> JacResult<Vec<Rc<Class>>> {
        let mut out = Vec::with_capacity(bases.len());
        for b in bases {
            match self.eval(b, scope)? {
                Value::Class(c) => out.push(c),
                other => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!("base must be a class, not {}", other.type_name()),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Builds the class of an `obj`/`node`/`edge`/`walker`/`class` declaration.
    pub(crate) fn build_archetype(
        &mut self,
        decl: &Rc<ast::Archetype>,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let bases = self.eval_bases(&decl.bases, scope)?;
        let globals = scope.globals.clone();
        let mut fields: Vec<Field> = Vec::new();
        for base in bases.iter().rev() {
            for f in &base.fields {
                merge_field(&mut fields, f.clone());
            }
        }
        let mut abilities: Vec<Rc<Ability>> = Vec::new();
        for base in &bases {
            for a in &base.abilities {
                if !abilities.iter().any(|x| Rc::ptr_eq(x, a)) {
                    abilities.push(a.clone());
                }
            }
        }
        let mut statics: Vec<(Str, Value)> = Vec::new();
        let mut methods: Vec<(Str, Value)> = Vec::new();
        for member in &decl.members {
            match &member.kind {
                MemberKind::Has(has) => {
                    for var in &has.vars {
                        if has.is_static {
                            let v = match &var.default {
                                Some(e) => self.eval(e, scope)?,
                                None => Value::None,
                            };
                            statics.push((var.name.clone(), v));
                            continue;
                        }
                        let default = match (&var.default, var.postinit) {
                            (_, true) => FieldDefault::PostInit,
                            (Some(e), false) => {
                                FieldDefault::Expr(Rc::new(e.clone()), globals.clone())
                            }
                            (None, false) => FieldDefault::Required,
                        };
                        merge_field(
                            &mut fields,
                            Field {
                                name: var.name.clone(),
                                default,
                                ty: Some(Rc::new(var.ty.clone())),
                            },
                        );
                    }
                }
                MemberKind::Ability(a) => {
                    let ability = Rc::new(Ability {
                        decl: a.clone(),
                        globals: globals.clone(),
                        triggers: OnceCell::new(),
                        owner: OnceCell::new(),
                    });
                    let slot = a.name.as_ref().and_then(|n| {
                        abilities
                            .iter()
                            .position(|x| x.decl.name.as_deref() == Some(&**n))
                    });
                    match slot {
                        Some(i) => abilities[i] = ability,
                        None => abilities.push(ability),
                    }
                }
                MemberKind::Method(def) => {
                    let f = self.make_function(def, scope, None)?;
                    methods.push((def.name.clone(), f));
                }
                MemberKind::Archetype(inner) => {
                    let c = self.build_archetype(inner, scope)?;
                    statics.push((inner.name.clone(), c));
                }
                MemberKind::Enum(inner) => {
                    let c = self.build_enum(inner, scope)?;
                    statics.push((inner.name.clone(), c));
                }
                MemberKind::Impl(_) => {}
            }
        }
        let class = Rc::new(
            Class::new(&decl.name, arch_kind(decl.kind), bases, fields, abilities)
                .with_globals(globals),
        );
        for a in &class.abilities {
            let _ = a.owner.set(class.clone());
        }
        for (name, f) in methods {
            if let Value::Function(func) = &f {
                let _ = func.owner.set(class.clone());
            }
            class.set_attr(&name, f);
        }
        for (name, v) in statics {
            class.set_attr(&name, v);
        }
        if matches!(
            class.kind,
            ArchKind::Node | ArchKind::Edge | ArchKind::Obj | ArchKind::Walker
        ) {
            self.classes
                .entry(class.name.clone())
                .or_insert_with(|| class.clone());
        }
        let mut value = Value::Class(class);
        for dec in decl.decorators.iter().rev() {
            let d = self.eval(dec, scope)?;
            value = self.call_value(&d, Args::new(vec![value]))?;
        }
        Ok(value)
    }

    /// Builds an `enum` class with its members.
    pub(crate) fn build_enum(
        &mut self,
        decl: &Rc<ast::EnumDecl>,
        scope: &Rc<Scope>,
    ) -> JacResult<Value> {
        let bases = self.eval_bases(&decl.bases, scope)?;
        let class = Rc::new(
            Class::new(&decl.name, ArchKind::Enum, bases, Vec::new(), Vec::new())
                .with_globals(scope.globals.clone()),
        );
        let mut members = Vec::new();
        let mut next_auto = 1i64;
        for item in &decl.items {
            let value = match &item.value {
                Some(e) => self.eval(e, scope)?,
                None => Value::Int(next_auto),
            };
            if let Some(i) = value.as_i64() {
                next_auto = i + 1;
            }
            let member = Value::Instance(Rc::new(Instance::new(
                class.clone(),
                vec![
                    ("name".into(), Value::Str(item.name.clone())),
                    ("value".into(), value),
                ],
            )));
            class.set_attr(&item.name, member.clone());
            members.push(member);
        }
        class.set_attr("__members__", Value::list(members));
        for member in &decl.members {
            if let MemberKind::Method(def) = &member.kind {
                let f = self.make_function(def, scope, Some(&class))?;
                class.set_attr(&def.name, f);
            }
        }
        Ok(Value::Class(class))
    }

    /// Calls a class: builtin constructors, enum lookup, or a new instance.
    pub fn instantiate(&mut self, class: &Rc<Class>, args: Args) -> JacResult<Value> {
        if let Some(Value::Native(ctor)) = class.lookup("__new__") {
            return ctor.call(self, args);
        }
        if let Some(bt) = class.builtin() {
            return crate::builtins::construct(self, class, bt, args);
        }
        if class.kind == ArchKind::Enum {
            let wanted = args.required(0, "value", &class.name)?;
            if let Some(Value::List(members)) = class.lookup("__members__") {
                for m in members.borrow().iter() {
                    if let Value::Instance(i) = m
                        && i.get("value")
                            .is_some_and(|v| crate::value::ops::eq(&v, &wanted))
                    {
                        return Ok(m.clone());
                    }
                }
            }
            return Err(Exception::new(
                ExcType::ValueError,
                format!(
                    "{} is not a valid {}",
                    crate::value::repr::repr(&wanted),
                    class.name
                ),
            ));
        }
        let inst = Rc::new(Instance::new(class.clone(), Vec::new()));
        let init = class.lookup("init").or_else(|| class.lookup("__init__"));
        let is_exception = class.exception_type().is_some();
        if is_exception {
            inst.set("args", Value::tuple(args.positional.clone()));
        }
        match init {
            Some(Value::Function(f)) => {
                self.apply_defaults(&inst, class, true)?;
                self.call_function_value(&f, Some(Value::Instance(inst.clone())), args)?;
            }
            _ if is_exception && class.fields.is_empty() => {}
            _ => self.init_fields(&inst, class, args)?,
        }
        if class.is_kind(ArchKind::Walker) && inst.get("reports").is_none() {
            inst.set("reports", Value::list(Vec::new()));
        }
        if let Some(Value::Function(f)) = class
            .lookup("postinit")
            .or_else(|| class.lookup("__post_init__"))
        {
            self.call_function_value(&f, Some(Value::Instance(inst.clone())), Args::default())?;
        }
        Ok(Value::Instance(inst))
    }

    /// Evaluates a field default for a new instance.
    fn field_default(&mut self, field: &Field) -> JacResult<Option<Value>> {
        Ok(match &field.default {
            FieldDefault::Required => None,
            FieldDefault::PostInit => Some(Value::None),
            FieldDefault::Value(v) => Some(v.clone()),
            FieldDefault::Expr(e, globals) => {
                let scope = Scope::module(globals.clone());
                Some(self.eval(e, &scope)?)
            }
        })
    }

    fn apply_defaults(
        &mut self,
        inst: &Instance,
        class: &Class,
        only_missing: bool,
    ) -> JacResult<()> {
        for field in &class.fields {
            if only_missing && inst.get(&field.name).is_some() {
                continue;
            }
            if let Some(v) = self.field_default(field)? {
                inst.set(&field.name, v);
            }
        }
        Ok(())
    }

    /// The generated dataclass constructor: binds positional and keyword
    /// arguments to fields in order, evaluating defaults for the rest.
    pub(crate) fn init_fields(
        &mut self,
        inst: &Instance,
        class: &Class,
        args: Args,
    ) -> JacResult<()> {
        let fname = format!("{}.__init__", class.name);
        let params: Vec<&Field> = class
            .fields
            .iter()
            .filter(|f| !matches!(f.default, FieldDefault::PostInit))
            .collect();
        if args.positional.len() > params.len() {
            let required = params
                .iter()
                .filter(|f| matches!(f.default, FieldDefault::Required))
                .count();
            let takes = if required == params.len() {
                format!("{}", params.len() + 1)
            } else {
                format!("from {} to {}", required + 1, params.len() + 1)
            };
            return Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "{fname}() takes {takes} positional arguments but {} were given",
                    args.positional.len() + 1
                ),
            ));
        }
        let mut values: Vec<Option<Value>> = vec![None; class.fields.len()];
        let index_of = |name: &str| class.fields.iter().position(|f| &*f.name == name);
        for (field, v) in params.iter().zip(args.positional) {
            if let Some(i) = index_of(&field.name) {
                values[i] = Some(v);
            }
        }
        for (name, v) in args.keywords {
            match index_of(&name)
                .filter(|i| !matches!(class.fields[*i].default, FieldDefault::PostInit))
            {
                Some(i) if values[i].is_some() => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!("{fname}() got multiple values for argument '{name}'"),
                    ));
                }
                Some(i) => values[i] = Some(v),
                None => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!("{fname}() got an unexpected keyword argument '{name}'"),
                    ));
                }
            }
        }
        let mut missing = Vec::new();
        for (i, field) in class.fields.iter().enumerate() {
            let v = match values[i].take() {
                Some(v) => v,
                None => match self.field_default(field)? {
                    Some(v) => v,
                    None => {
                        missing.push(format!("'{}'", field.name));
                        continue;
                    }
                },
            };
            inst.set(&field.name, v);
        }
        if !missing.is_empty() {
            let plural = if missing.len() == 1 {
                "argument"
            } else {
                "arguments"
            };
            return Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "{fname}() missing {} required positional {plural}: {}",
                    missing.len(),
                    missing.join(" and ")
                ),
            ));
        }
        Ok(())
    }

    /// `isinstance(value, ty)` where `ty` is a class or a tuple of classes.
    pub fn isinstance(&mut self, value: &Value, ty: &Value) -> JacResult<bool> {
        match ty {
            Value::Class(c) => Ok(crate::builtins::class_of(value).is_subclass(c)),
            Value::Tuple(items) => {
                for t in items.iter() {
                    if self.isinstance(value, t)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Value::None => Ok(matches!(value, Value::None)),
            other => Err(Exception::new(
                ExcType::TypeError,
                format!(
                    "isinstance() arg 2 must be a type, not {}",
                    other.type_name()
                ),
            )),
        }
    }

    /// A walker (or any archetype) built from a JSON object of its fields.
    pub(crate) fn construct_from_json(
        &mut self,
        class: &Rc<Class>,
        args: &Json,
    ) -> JacResult<Value> {
        let mut call = Args::default();
        match args {
            Json::Null => {}
            Json::Object(map) => {
                for field in &class.fields {
                    if let Some(j) = map.get(&*field.name) {
                        let v = self.hydrate(j, field.ty.as_deref(), class.globals.as_ref())?;
                        call.keywords.push((field.name.clone(), v));
                    }
                }
            }
            other => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!("arguments must be a JSON object, not {other}"),
                ));
            }
        }
        self.instantiate(class, call)
    }

    /// Call arguments for a function from a JSON object keyed by parameter name.
    pub(crate) fn args_from_json(&mut self, func: &Function, args: &Json) -> JacResult<Args> {
        let mut call = Args::default();
        let map = match args {
            Json::Null => return Ok(call),
            Json::Object(map) => map,
            other => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!("arguments must be a JSON object, not {other}"),
                ));
            }
        };
        for param in &func.def.params {
            if let Some(j) = map.get(&*param.name) {
                let v = self.hydrate(j, param.ty.as_ref(), Some(&func.globals))?;
                call.keywords.push((param.name.clone(), v));
            }
        }
        Ok(call)
    }

    /// JSON to value following a type annotation: `obj` types (also inside
    /// `list[T]`, `dict[K, V]`, `T | None`, `Optional[T]`) become instances.
    pub(crate) fn hydrate(
        &mut self,
        json: &Json,
        ty: Option<&Expr>,
        globals: Option<&Rc<Module>>,
    ) -> JacResult<Value> {
        let (Some(ty), Some(globals)) = (ty, globals) else {
            return Ok(from_json_plain(json));
        };
        match (&ty.kind, json) {
            (ExprKind::Index { value, index, .. }, Json::Array(items))
                if is_name(value, &["list", "List", "set", "tuple"]) =>
            {
                let elem = match &index.kind {
                    ExprKind::Tuple(parts) => parts.first(),
                    _ => Some(&**index),
                };
                let values = items
                    .iter()
                    .map(|j| self.hydrate(j, elem, Some(globals)))
                    .collect::<JacResult<Vec<_>>>()?;
                Ok(Value::list(values))
            }
            (ExprKind::Index { value, index, .. }, Json::Object(map))
                if is_name(value, &["dict", "Dict"]) =>
            {
                let elem = match &index.kind {
                    ExprKind::Tuple(parts) => parts.get(1),
                    _ => None,
                };
                let mut d = crate::value::Dict::new();
                for (k, j) in map {
                    d.insert_str(k, self.hydrate(j, elem, Some(globals))?);
                }
                Ok(Value::dict(d))
            }
            (ExprKind::Index { value, index, .. }, _) if is_name(value, &["Optional"]) => {
                self.hydrate(json, Some(index), Some(globals))
            }
            (
                ExprKind::Binary {
                    op: crate::syntax::ast::BinOp::BitOr,
                    left,
                    right,
                },
                _,
            ) => {
                if matches!(json, Json::Null) {
                    return Ok(Value::None);
                }
                let pick = if matches!(left.kind, ExprKind::None) {
                    right
                } else {
                    left
                };
                self.hydrate(json, Some(pick), Some(globals))
            }
            (ExprKind::Name(name), Json::Object(_)) => {
                let scope = Scope::module(globals.clone());
                match self.lookup(name, &scope) {
                    Ok(Value::Class(c)) if c.globals.is_some() && c.kind != ArchKind::Enum => {
                        self.construct_from_json(&c, json)
                    }
                    // Stdlib types built from a JSON object (`UploadFile`).
                    Ok(Value::Class(c)) if c.lookup("__from_json__").is_some() => {
                        let build = c.lookup("__from_json__").unwrap_or(Value::None);
                        self.call_value(&build, Args::new(vec![from_json_plain(json)]))
                    }
                    _ => Ok(from_json_plain(json)),
                }
            }
            _ => Ok(from_json_plain(json)),
        }
    }
}

fn is_name(e: &Expr, names: &[&str]) -> bool {
    matches!(&e.kind, ExprKind::Name(n) if names.contains(&&**n))
}
