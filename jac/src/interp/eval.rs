//! Expression evaluation: literals, names, operators with Python semantics
//! (and user dunder methods), calls, attributes, subscripts, comprehensions,
//! lambdas and f-strings. OSP expressions are delegated to [`super::osp`].

use std::cell::OnceCell;
use std::rc::Rc;

use crate::syntax::ast::{
    self, Arg, BoolOp, CmpOp, DictEntry, Expr, ExprKind, FStringPart, SpecialRef, UnaryOp,
};
use crate::value::format::format_value;
use crate::value::ops::{self, BinOp};
use crate::value::{
    Args, BoundMethod, Dict, ExcType, Exception, JacResult, NativeObject, Set, Slice, Value, repr,
};

use super::Interpreter;
use super::env::Scope;
use super::function::Function;

/// `super` / `super()`: attribute lookups start after the defining class in the receiver's MRO.
struct SuperProxy {
    owner: Rc<crate::value::Class>,
    receiver: Value,
}

impl NativeObject for SuperProxy {
    fn type_name(&self) -> &str {
        "super"
    }
    fn repr(&self) -> String {
        format!("<super: <class '{}'>>", self.owner.name)
    }
    fn get_attr(&self, _this: &Value, name: &str) -> Option<Value> {
        let class = match &self.receiver {
            Value::Instance(i) => i.class.clone(),
            Value::Class(c) => c.clone(),
            _ => return None,
        };
        let found = class.lookup_after(&self.owner, name);
        let function = match found {
            Some(f) => f,
            // A dataclass base without an explicit `init`: its generated constructor.
            None if name == "init" || name == "__init__" => {
                let base = class
                    .mro
                    .iter()
                    .skip_while(|c| !Rc::ptr_eq(c, &self.owner))
                    .nth(1)
                    .cloned()?;
                return Some(super::classes::field_initializer(
                    base,
                    self.receiver.clone(),
                ));
            }
            None => return None,
        };
        Some(match function {
            Value::Function(ref f) if !f.is_static() => Value::BoundMethod(Rc::new(BoundMethod {
                receiver: self.receiver.clone(),
                function,
            })),
            other => other,
        })
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Interpreter {
    /// Evaluates an expression.
    pub(crate) fn eval(&mut self, expr: &Expr, scope: &Rc<Scope>) -> JacResult<Value> {
        match &expr.kind {
            ExprKind::None | ExprKind::Ellipsis => Ok(Value::None),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Int(i) => Ok(Value::Int(*i)),
            ExprKind::BigInt(b) => Ok(Value::BigInt(b.clone())),
            ExprKind::Float(f) => Ok(Value::Float(*f)),
            ExprKind::Str(s) => Ok(Value::Str(s.clone())),
            ExprKind::Bytes(b) => Ok(Value::Bytes(b.clone())),
            ExprKind::FString(parts) => Ok(Value::from(self.eval_fstring(parts, scope)?)),
            ExprKind::Name(name) => self.lookup(name, scope),
            ExprKind::Special(r) => self.eval_special(*r, scope),
            ExprKind::List(items) => Ok(Value::list(self.eval_items(items, scope)?)),
            ExprKind::Tuple(items) => Ok(Value::tuple(self.eval_items(items, scope)?)),
            ExprKind::Set(items) => Ok(Value::set(Set::from_values(
                self.eval_items(items, scope)?,
            )?)),
            ExprKind::Dict(entries) => self.eval_dict(entries, scope),
            ExprKind::ListComp { elt, generators } => {
                let mut out = Vec::new();
                self.comprehension(generators, scope, &mut |vm, s| {
                    out.push(vm.eval(elt, s)?);
                    Ok(())
                })?;
                Ok(Value::list(out))
            }
            ExprKind::GenExp { elt, generators } => {
                let mut out = Vec::new();
                self.comprehension(generators, scope, &mut |vm, s| {
                    out.push(vm.eval(elt, s)?);
                    Ok(())
                })?;
                Ok(Value::iter(out))
            }
            ExprKind::SetComp { elt, generators } => {
                let mut out = Set::new();
                self.comprehension(generators, scope, &mut |vm, s| {
                    out.insert(vm.eval(elt, s)?)?;
                    Ok(())
                })?;
                Ok(Value::set(out))
            }
            ExprKind::DictComp {
                key,
                value,
                generators,
            } => {
                let mut out = Dict::new();
                self.comprehension(generators, scope, &mut |vm, s| {
                    let k = vm.eval(key, s)?;
                    let v = vm.eval(value, s)?;
                    out.insert(k, v)
                })?;
                Ok(Value::dict(out))
            }
            ExprKind::Starred(_) => Err(Exception::new(
                ExcType::TypeError,
                "can't use starred expression here",
            )),
            ExprKind::Unary { op, operand } => {
                let v = self.eval(operand, scope)?;
                match op {
                    UnaryOp::Not => Ok(Value::Bool(!self.truthy(&v)?)),
                    UnaryOp::Neg => self
                        .unary_dunder(&v, "__neg__")
                        .unwrap_or_else(|| ops::neg(&v)),
                    UnaryOp::Pos => self
                        .unary_dunder(&v, "__pos__")
                        .unwrap_or_else(|| ops::pos(&v)),
                    UnaryOp::Invert => self
                        .unary_dunder(&v, "__invert__")
                        .unwrap_or_else(|| ops::invert(&v)),
                }
            }
            ExprKind::Binary { op, left, right } => {
                let a = self.eval(left, scope)?;
                let b = self.eval(right, scope)?;
                self.binary(*op, &a, &b)
            }
            ExprKind::BoolOp { op, values } => {
                let mut last = Value::None;
                for (i, e) in values.iter().enumerate() {
                    last = self.eval(e, scope)?;
                    if i + 1 == values.len() {
                        break;
                    }
                    let t = self.truthy(&last)?;
                    if (*op == BoolOp::And && !t) || (*op == BoolOp::Or && t) {
                        break;
                    }
                }
                Ok(last)
            }
            ExprKind::Compare { left, rest } => {
                let mut a = self.eval(left, scope)?;
                for (op, e) in rest {
                    let b = self.eval(e, scope)?;
                    if !self.compare(*op, &a, &b)? {
                        return Ok(Value::Bool(false));
                    }
                    a = b;
                }
                Ok(Value::Bool(true))
            }
            ExprKind::Ternary { cond, then, orelse } => {
                let c = self.eval(cond, scope)?;
                if self.truthy(&c)? {
                    self.eval(then, scope)
                } else {
                    self.eval(orelse, scope)
                }
            }
            ExprKind::Walrus { name, value } => {
                let v = self.eval(value, scope)?;
                scope.assign(name, v.clone());
                Ok(v)
            }
            ExprKind::Lambda(def) => self.make_function(def, scope, None),
            ExprKind::Call { func, args } => self.eval_call(func, args, scope),
            ExprKind::Attribute {
                value,
                attr,
                null_safe,
            } => {
                let v = self.eval(value, scope)?;
                if *null_safe && matches!(v, Value::None) {
                    return Ok(Value::None);
                }
                self.get_attr(&v, attr)
            }
            ExprKind::Index {
                value,
                index,
                null_safe,
            } => {
                let v = self.eval(value, scope)?;
                if *null_safe && matches!(v, Value::None) {
                    return Ok(Value::None);
                }
                let i = self.eval(index, scope)?;
                match self.get_item(&v, &i) {
                    Err(e)
                        if *null_safe && (e.is(ExcType::KeyError) || e.is(ExcType::IndexError)) =>
                    {
                        Ok(Value::None)
                    }
                    other => other,
                }
            }
            ExprKind::Slice { lower, upper, step } => {
                let mut part = |e: &Option<Box<Expr>>| -> JacResult<Value> {
                    match e {
                        Some(e) => self.eval(e, scope),
                        None => Ok(Value::None),
                    }
                };
                Ok(Value::Slice(Rc::new(Slice {
                    start: part(lower)?,
                    stop: part(upper)?,
                    step: part(step)?,
                })))
            }
            ExprKind::Await(inner) => self.eval(inner, scope),
            ExprKind::Yield { value, from } => {
                let v = match value {
                    Some(e) => self.eval(e, scope)?,
                    None => Value::None,
                };
                let items = if *from { self.iterate(&v)? } else { vec![v] };
                if self.yield_values(items) {
                    Ok(Value::None)
                } else {
                    Err(Exception::new(
                        ExcType::RuntimeError,
                        "'yield' outside function",
                    ))
                }
            }
            ExprKind::Spawn { left, right } => self.eval_spawn(left.as_deref(), right, scope),
            ExprKind::Connect { left, op, right } => self.eval_connect(left, op, right, scope),
            ExprKind::Disconnect { left, op, right } => {
                self.eval_disconnect(left, op, right, scope)
            }
            ExprKind::EdgeRef(r) => self.eval_edge_ref(r, scope),
            ExprKind::Filter { value, filter } => {
                let v = self.eval(value, scope)?;
                self.apply_filter(&v, filter, scope)
            }
            ExprKind::AssignComp { value, assigns } => {
                let v = self.eval(value, scope)?;
                self.assign_comprehension(&v, assigns, scope)
            }
        }
    }

    /// Resolves a name: locals, enclosing scopes, globals, builtins.
    pub(crate) fn lookup(&mut self, name: &str, scope: &Scope) -> JacResult<Value> {
        if let Some(v) = scope.lookup(name) {
            return Ok(v);
        }
        if let Some(v) = self.builtins.get(name) {
            return Ok(v);
        }
        Err(Exception::new(
            ExcType::NameError,
            format!("name '{name}' is not defined"),
        ))
    }

    fn eval_special(&mut self, r: SpecialRef, scope: &Rc<Scope>) -> JacResult<Value> {
        match r {
            SpecialRef::Root => self.root_value(),
            SpecialRef::Here => self.lookup("here", scope),
            SpecialRef::SelfRef => self.lookup("self", scope),
            SpecialRef::Visitor => self.lookup("visitor", scope),
            SpecialRef::Init => self.lookup("init", scope),
            SpecialRef::PostInit => self.lookup("postinit", scope),
            SpecialRef::Super => {
                let owner = match scope.lookup("__class__") {
                    Some(Value::Class(c)) => c,
                    _ => {
                        return Err(Exception::new(
                            ExcType::RuntimeError,
                            "super(): no enclosing class",
                        ));
                    }
                };
                let receiver = self.lookup("self", scope)?;
                Ok(Value::Object(Rc::new(SuperProxy { owner, receiver })))
            }
        }
    }

    /// Evaluates display items, expanding `*x`.
    pub(crate) fn eval_items(
        &mut self,
        items: &[Expr],
        scope: &Rc<Scope>,
    ) -> JacResult<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            match &item.kind {
                ExprKind::Starred(inner) => {
                    let v = self.eval(inner, scope)?;
                    out.extend(self.iterate(&v)?);
                }
                _ => out.push(self.eval(item, scope)?),
            }
        }
        Ok(out)
    }

    fn eval_dict(&mut self, entries: &[DictEntry], scope: &Rc<Scope>) -> JacResult<Value> {
        let mut d = Dict::new();
        for entry in entries {
            match entry {
                DictEntry::Pair(k, v) => {
                    let k = self.eval(k, scope)?;
                    let v = self.eval(v, scope)?;
                    d.insert(k, v)?;
                }
                DictEntry::Spread(e) => {
                    let v = self.eval(e, scope)?;
                    for (k, v) in self.mapping_items(&v)? {
                        d.insert(k, v)?;
                    }
                }
            }
        }
        Ok(Value::dict(d))
    }

    /// The `(key, value)` pairs of a mapping (`**m`, `dict(m)`).
    pub(crate) fn mapping_items(&mut self, v: &Value) -> JacResult<Vec<(Value, Value)>> {
        match v {
            Value::Dict(d) => Ok(d
                .borrow()
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()),
            other => Err(Exception::new(
                ExcType::TypeError,
                format!("'{}' object is not a mapping", other.type_name()),
            )),
        }
    }

    /// Runs the `for`/`if` clauses of a comprehension, calling `body` for each element.
    pub(crate) fn comprehension(
        &mut self,
        generators: &[ast::Comprehension],
        scope: &Rc<Scope>,
        body: &mut dyn FnMut(&mut Self, &Rc<Scope>) -> JacResult<()>,
    ) -> JacResult<()> {
        let inner = Scope::new(scope.globals.clone(), Some(scope.clone()));
        self.comprehension_level(generators, &inner, body)
    }

    fn comprehension_level(
        &mut self,
        generators: &[ast::Comprehension],
        scope: &Rc<Scope>,
        body: &mut dyn FnMut(&mut Self, &Rc<Scope>) -> JacResult<()>,
    ) -> JacResult<()> {
        let Some((first, rest)) = generators.split_first() else {
            return body(self, scope);
        };
        let iterable = self.eval(&first.iter, scope)?;
        'items: for item in self.iterate(&iterable)? {
            self.assign_target(&first.target, item, scope)?;
            for cond in &first.ifs {
                let c = self.eval(cond, scope)?;
                if !self.truthy(&c)? {
                    continue 'items;
                }
            }
            self.comprehension_level(rest, scope, body)?;
        }
        Ok(())
    }

    /// Creates a function value from a definition in `scope`.
    pub(crate) fn make_function(
        &mut self,
        def: &Rc<ast::FunctionDef>,
        scope: &Rc<Scope>,
        owner: Option<&Rc<crate::value::Class>>,
    ) -> JacResult<Value> {
        let mut defaults = Vec::with_capacity(def.params.len());
        for p in &def.params {
            defaults.push(match &p.default {
                Some(e) => Some(self.eval(e, scope)?),
                None => None,
            });
        }
        let closure = if scope.is_module_level() {
            None
        } else {
            Some(scope.clone())
        };
        let owner_cell = OnceCell::new();
        if let Some(c) = owner {
            let _ = owner_cell.set(c.clone());
        }
        let func = Rc::new(Function {
            def: def.clone(),
            closure,
            globals: scope.globals.clone(),
            defaults,
            owner: owner_cell,
        });
        let mut value = Value::Function(func);
        for dec in def.decorators.iter().rev() {
            let d = self.eval(dec, scope)?;
            value = self.call_value(&d, Args::new(vec![value]))?;
        }
        Ok(value)
    }

    pub(super) fn eval_args(&mut self, args: &[Arg], scope: &Rc<Scope>) -> JacResult<Args> {
        let mut out = Args::default();
        for arg in args {
            match arg {
                Arg::Positional(e) => out.positional.push(self.eval(e, scope)?),
                Arg::Keyword(name, e) => {
                    let v = self.eval(e, scope)?;
                    out.keywords.push((name.clone(), v));
                }
                Arg::Star(e) => {
                    let v = self.eval(e, scope)?;
                    out.positional.extend(self.iterate(&v)?);
                }
                Arg::DoubleStar(e) => {
                    let v = self.eval(e, scope)?;
                    for (k, v) in self.mapping_items(&v)? {
                        match k {
                            Value::Str(s) => out.keywords.push((s, v)),
                            _ => {
                                return Err(Exception::new(
                                    ExcType::TypeError,
                                    "keywords must be strings",
                                ));
                            }
                        }
                    }
                }
            }
        }
        Ok(out)
    }

    /// The receiver and arguments of the method call `value.attr(args)`, evaluated in
    /// order; `None` when `null_safe` (`value?.attr(...)`) and the receiver is `None`, so
    /// the call is skipped and its arguments are not evaluated.
    pub(super) fn method_call_parts(
        &mut self,
        value: &Expr,
        null_safe: bool,
        args: &[Arg],
        scope: &Rc<Scope>,
    ) -> JacResult<Option<(Value, Args)>> {
        let recv = self.eval(value, scope)?;
        if null_safe && matches!(recv, Value::None) {
            return Ok(None);
        }
        let args = self.eval_args(args, scope)?;
        Ok(Some((recv, args)))
    }

    fn eval_call(&mut self, func: &Expr, args: &[Arg], scope: &Rc<Scope>) -> JacResult<Value> {
        if let ExprKind::Attribute {
            value,
            attr,
            null_safe,
        } = &func.kind
        {
            return match self.method_call_parts(value, *null_safe, args, scope)? {
                Some((recv, args)) => self.call_method(&recv, attr, args),
                None => Ok(Value::None),
            };
        }
        if let ExprKind::Special(SpecialRef::Super) = func.kind {
            return self.eval_special(SpecialRef::Super, scope);
        }
        if let [Arg::Positional(arg)] = args
            && self.is_builtin(func, "len", scope)
            && let Some(count) = self.count_edge_ref(arg, scope)?
        {
            return Ok(Value::Int(count));
        }
        let callee = self.eval(func, scope)?;
        let args = self.eval_args(args, scope)?;
        self.call_value(&callee, args)
    }

    /// Whether `func` is a plain name bound to the builtin function `name` (not shadowed).
    fn is_builtin(&mut self, func: &Expr, name: &str, scope: &Rc<Scope>) -> bool {
        let ExprKind::Name(used) = &func.kind else {
            return false;
        };
        if &**used != name {
            return false;
        }
        match (self.lookup(used, scope), self.builtins.get(name)) {
            (Ok(Value::Native(found)), Some(Value::Native(builtin))) => {
                Rc::ptr_eq(&found, &builtin)
            }
            _ => false,
        }
    }

    /// Calls `recv.name(args)` without materialising a bound method when possible.
    pub fn call_method(&mut self, recv: &Value, name: &str, args: Args) -> JacResult<Value> {
        if let Value::Instance(inst) = recv {
            if let Some(v) = inst.get(name) {
                return self.call_value(&v, args);
            }
            if let Some(Value::Function(f)) = inst.class.lookup(name) {
                let receiver = (!f.is_static()).then(|| recv.clone());
                return self.call_function_value(&f, receiver, args);
            }
        } else if let Some(r) =
            crate::builtins::methods::call_method(self, recv, name, args.clone())
        {
            return r;
        }
        let method = self.get_attr(recv, name)?;
        self.call_value(&method, args)
    }

    /// Calls any callable value.
    pub fn call_value(&mut self, callee: &Value, args: Args) -> JacResult<Value> {
        match callee {
            Value::Function(f) => self.call_function_value(f, None, args),
            Value::BoundMethod(m) => match &m.function {
                Value::Function(f) => self.call_function_value(f, Some(m.receiver.clone()), args),
                other => {
                    let mut args = args;
                    args.positional.insert(0, m.receiver.clone());
                    self.call_value(other, args)
                }
            },
            Value::Native(n) => {
                let n = n.clone();
                n.call(self, args)
            }
            Value::Class(c) => self.instantiate(c, args),
            Value::Instance(i) => match i.class.lookup("__call__") {
                Some(Value::Function(f)) => {
                    self.call_function_value(&f, Some(callee.clone()), args)
                }
                _ => Err(not_callable(callee)),
            },
            other => Err(not_callable(other)),
        }
    }

    /// Calls a user function (with `receiver` as `self` for methods).
    pub(crate) fn call_function_value(
        &mut self,
        f: &Rc<Function>,
        receiver: Option<Value>,
        args: Args,
    ) -> JacResult<Value> {
        let frame = self.next_generator_frame();
        self.nested(|vm| {
            let scope = Scope::new(f.globals.clone(), f.closure.clone());
            if let Some(owner) = f.owner.get() {
                scope.assign(&vm.names.class_cell, Value::Class(owner.clone()));
            }
            super::function::bind_params(f, receiver, args, &scope)?;
            vm.generator_frames.push(frame);
            let result = match &f.def.body {
                ast::FnBody::Block(block) => vm.exec_block(block, &scope).map(|flow| match flow {
                    super::exec::Flow::Return(v) => v,
                    _ => Value::None,
                }),
                ast::FnBody::Expr(e) => vm.eval(e, &scope),
                ast::FnBody::Abstract | ast::FnBody::Declared => Err(Exception::new(
                    ExcType::NotImplementedError,
                    format!("{}() is abstract", f.name()),
                )),
            };
            // Generators run eagerly: a call that yielded returns an iterator over what it yielded.
            let yielded = match vm.generator_frames.pop() {
                Some(super::stream::GeneratorFrame::Collect(kept)) => kept,
                _ => None,
            };
            match (result, yielded) {
                (Ok(_), Some(items)) => Ok(Value::iter(items)),
                (result, _) => result.map_err(|e| vm.add_frame(e, f.def.span, f.name())),
            }
        })
    }

    /// Records the frame of `function` (declared at `decl`) on an exception leaving it.
    pub(crate) fn add_frame(
        &self,
        mut e: Exception,
        decl: crate::syntax::Span,
        function: &str,
    ) -> Exception {
        let line = e.take_line().unwrap_or(decl.line);
        e.push_frame(crate::value::TraceEntry {
            file: self.file_name(decl.file),
            line,
            function: function.into(),
        });
        e
    }

    /// Attribute lookup with Python rules (instance, class, builtin methods, modules, objects).
    pub fn get_attr(&mut self, value: &Value, name: &str) -> JacResult<Value> {
        let found = match value {
            Value::Instance(inst) => {
                if let Some(v) = inst.get(name) {
                    return Ok(v);
                }
                if let Some(v) = self.special_instance_attr(inst, name)? {
                    return Ok(v);
                }
                match inst.class.lookup(name) {
                    Some(Value::Function(f)) if !f.is_static() => {
                        Some(Value::BoundMethod(Rc::new(BoundMethod {
                            receiver: value.clone(),
                            function: Value::Function(f),
                        })))
                    }
                    other => other,
                }
            }
            Value::Class(c) => match name {
                "__name__" => Some(Value::Str(c.name.clone())),
                _ => c
                    .lookup(name)
                    .or_else(|| crate::builtins::class_attr(c, name)),
            },
            Value::Module(m) => m.get(name),
            Value::Object(o) => o.get_attr(value, name),
            Value::Function(f) if name == "__name__" => Some(Value::from(f.name())),
            Value::Native(n) if name == "__name__" => Some(Value::Str(n.name.clone())),
            _ => crate::builtins::methods::get_method(value, name),
        };
        found.ok_or_else(|| attribute_error(value, name))
    }

    /// Sets an attribute on an instance, class or module.
    pub fn set_attr(&mut self, target: &Value, name: &str, value: Value) -> JacResult<()> {
        match target {
            Value::Instance(inst) => {
                inst.set(name, value);
                Ok(())
            }
            Value::Class(c) if c.globals.is_some() => {
                c.set_attr(name, value);
                Ok(())
            }
            Value::Module(m) => {
                m.set(name, value);
                Ok(())
            }
            other => Err(Exception::new(
                ExcType::AttributeError,
                format!(
                    "'{}' object attribute '{name}' is read-only",
                    other.type_name()
                ),
            )),
        }
    }

    /// `value[index]`.
    pub fn get_item(&mut self, value: &Value, index: &Value) -> JacResult<Value> {
        if let Value::Instance(inst) = value
            && let Some(Value::Function(f)) = inst.class.lookup("__getitem__")
        {
            return self.call_function_value(
                &f,
                Some(value.clone()),
                Args::new(vec![index.clone()]),
            );
        }
        if let Value::Class(c) = value
            && c.kind != crate::value::ArchKind::Enum
        {
            // Generic aliases in annotations (`list[str]`) evaluate to the class itself.
            return Ok(value.clone());
        }
        crate::builtins::subscript::get_item(value, index)
    }

    /// `value[index] = item`.
    pub fn set_item(&mut self, value: &Value, index: &Value, item: Value) -> JacResult<()> {
        if let Value::Instance(inst) = value
            && let Some(Value::Function(f)) = inst.class.lookup("__setitem__")
        {
            self.call_function_value(
                &f,
                Some(value.clone()),
                Args::new(vec![index.clone(), item]),
            )?;
            return Ok(());
        }
        crate::builtins::subscript::set_item(value, index, item)
    }

    /// Python truthiness, honouring `__bool__` / `__len__` on instances.
    pub fn truthy(&mut self, v: &Value) -> JacResult<bool> {
        if let Value::Instance(inst) = v {
            if let Some(Value::Function(f)) = inst.class.lookup("__bool__") {
                return Ok(self
                    .call_function_value(&f, Some(v.clone()), Args::default())?
                    .truthy());
            }
            if let Some(Value::Function(f)) = inst.class.lookup("__len__") {
                return Ok(self
                    .call_function_value(&f, Some(v.clone()), Args::default())?
                    .truthy());
            }
        }
        Ok(v.truthy())
    }

    fn unary_dunder(&mut self, v: &Value, dunder: &str) -> Option<JacResult<Value>> {
        let Value::Instance(inst) = v else {
            return None;
        };
        match inst.class.lookup(dunder) {
            Some(Value::Function(f)) => {
                Some(self.call_function_value(&f, Some(v.clone()), Args::default()))
            }
            _ => None,
        }
    }

    /// A binary operator, trying `__op__` / `__rop__` on instances first.
    pub fn binary(&mut self, op: BinOp, a: &Value, b: &Value) -> JacResult<Value> {
        if let Value::Instance(inst) = a
            && let Some(Value::Function(f)) = inst.class.lookup(ops::dunder(op))
        {
            return self.call_function_value(&f, Some(a.clone()), Args::new(vec![b.clone()]));
        }
        if let Value::Instance(inst) = b {
            let rname = format!("__r{}", &ops::dunder(op)[2..]);
            if let Some(Value::Function(f)) = inst.class.lookup(&rname) {
                return self.call_function_value(&f, Some(b.clone()), Args::new(vec![a.clone()]));
            }
        }
        ops::binary(op, a, b)
    }

    /// Equality, honouring `__eq__` on instances.
    pub fn values_eq(&mut self, a: &Value, b: &Value) -> JacResult<bool> {
        for (x, y) in [(a, b), (b, a)] {
            if let Value::Instance(inst) = x
                && let Some(Value::Function(f)) = inst.class.lookup("__eq__")
            {
                let r =
                    self.call_function_value(&f, Some(x.clone()), Args::new(vec![y.clone()]))?;
                return self.truthy(&r);
            }
        }
        Ok(ops::eq(a, b))
    }

    /// Evaluates one comparison operator.
    pub fn compare(&mut self, op: CmpOp, a: &Value, b: &Value) -> JacResult<bool> {
        match op {
            CmpOp::Eq => self.values_eq(a, b),
            CmpOp::NotEq => Ok(!self.values_eq(a, b)?),
            CmpOp::Is => Ok(a.is(b)),
            CmpOp::IsNot => Ok(!a.is(b)),
            CmpOp::In => self.contains(b, a),
            CmpOp::NotIn => Ok(!self.contains(b, a)?),
            CmpOp::Lt | CmpOp::LtE | CmpOp::Gt | CmpOp::GtE => {
                let dunder = match op {
                    CmpOp::Lt => ("__lt__", "__gt__"),
                    CmpOp::LtE => ("__le__", "__ge__"),
                    CmpOp::Gt => ("__gt__", "__lt__"),
                    _ => ("__ge__", "__le__"),
                };
                for (x, y, name) in [(a, b, dunder.0), (b, a, dunder.1)] {
                    if let Value::Instance(inst) = x
                        && let Some(Value::Function(f)) = inst.class.lookup(name)
                    {
                        let r = self.call_function_value(
                            &f,
                            Some(x.clone()),
                            Args::new(vec![y.clone()]),
                        )?;
                        return self.truthy(&r);
                    }
                }
                Ok(ops::ordering_holds(op, ops::compare(a, b, op)?))
            }
        }
    }

    /// `item in container`, honouring `__contains__` on instances.
    pub fn contains(&mut self, container: &Value, item: &Value) -> JacResult<bool> {
        if let Value::Instance(inst) = container
            && let Some(Value::Function(f)) = inst.class.lookup("__contains__")
        {
            let r = self.call_function_value(
                &f,
                Some(container.clone()),
                Args::new(vec![item.clone()]),
            )?;
            return self.truthy(&r);
        }
        if matches!(item, Value::Instance(_)) {
            // Identity or user `__eq__` against each element.
            for v in self.iterate(container)? {
                if self.values_eq(&v, item)? {
                    return Ok(true);
                }
            }
            return Ok(false);
        }
        ops::contains(container, item)
    }

    /// The values an iterable yields.
    pub fn iterate(&mut self, v: &Value) -> JacResult<Vec<Value>> {
        if let Value::Instance(inst) = v
            && let Some(Value::Function(f)) = inst.class.lookup("__iter__")
        {
            let it = self.call_function_value(&f, Some(v.clone()), Args::default())?;
            return crate::builtins::iterate(&it);
        }
        crate::builtins::iterate(v)
    }

    /// `str(v)`, honouring `__str__` / `__repr__` on instances.
    pub fn str_of(&mut self, v: &Value) -> JacResult<String> {
        if let Value::Instance(inst) = v {
            for name in ["__str__", "__repr__"] {
                if let Some(Value::Function(f)) = inst.class.lookup(name) {
                    return Ok(repr::str(&self.call_function_value(
                        &f,
                        Some(v.clone()),
                        Args::default(),
                    )?));
                }
            }
        }
        Ok(repr::str(v))
    }

    /// `repr(v)`, honouring `__repr__` on instances.
    pub fn repr_of(&mut self, v: &Value) -> JacResult<String> {
        if let Value::Instance(inst) = v
            && let Some(Value::Function(f)) = inst.class.lookup("__repr__")
        {
            return Ok(repr::str(&self.call_function_value(
                &f,
                Some(v.clone()),
                Args::default(),
            )?));
        }
        Ok(repr::repr(v))
    }

    fn eval_fstring(&mut self, parts: &[FStringPart], scope: &Rc<Scope>) -> JacResult<String> {
        let mut out = String::new();
        for part in parts {
            match part {
                FStringPart::Literal(s) => out.push_str(s),
                FStringPart::Field {
                    expr,
                    debug_text,
                    conversion,
                    spec,
                } => {
                    let v = self.eval(expr, scope)?;
                    if let Some(t) = debug_text {
                        out.push_str(t);
                    }
                    let spec_text = match spec {
                        Some(parts) => self.eval_fstring(parts, scope)?,
                        None => String::new(),
                    };
                    let conversion =
                        conversion.or(debug_text.as_ref().filter(|_| spec.is_none()).map(|_| 'r'));
                    let text = match conversion {
                        Some('r' | 'a') => {
                            format_value(&Value::from(self.repr_of(&v)?), &spec_text)?
                        }
                        Some(_) => format_value(&Value::from(self.str_of(&v)?), &spec_text)?,
                        None if spec_text.is_empty() => self.str_of(&v)?,
                        None => format_value(&v, &spec_text)?,
                    };
                    out.push_str(&text);
                }
            }
        }
        Ok(out)
    }

    /// Binds a value to an assignment target (name, tuple/list pattern, attribute, item).
    pub(crate) fn assign_target(
        &mut self,
        target: &Expr,
        value: Value,
        scope: &Rc<Scope>,
    ) -> JacResult<()> {
        match &target.kind {
            ExprKind::Name(name) => {
                scope.assign(name, value);
                Ok(())
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                let values = self.iterate(&value)?;
                let star = items
                    .iter()
                    .position(|e| matches!(e.kind, ExprKind::Starred(_)));
                match star {
                    None => {
                        if values.len() != items.len() {
                            return Err(unpack_error(items.len(), values.len()));
                        }
                        for (t, v) in items.iter().zip(values) {
                            self.assign_target(t, v, scope)?;
                        }
                    }
                    Some(s) => {
                        let after = items.len() - s - 1;
                        if values.len() < items.len() - 1 {
                            return Err(Exception::new(
                                ExcType::ValueError,
                                format!(
                                    "not enough values to unpack (expected at least {}, got {})",
                                    items.len() - 1,
                                    values.len()
                                ),
                            ));
                        }
                        let mut values = values;
                        let tail = values.split_off(values.len() - after);
                        let middle = values.split_off(s);
                        for (t, v) in items[..s].iter().zip(values) {
                            self.assign_target(t, v, scope)?;
                        }
                        if let ExprKind::Starred(inner) = &items[s].kind {
                            self.assign_target(inner, Value::list(middle), scope)?;
                        }
                        for (t, v) in items[s + 1..].iter().zip(tail) {
                            self.assign_target(t, v, scope)?;
                        }
                    }
                }
                Ok(())
            }
            ExprKind::Attribute {
                value: obj, attr, ..
            } => {
                let o = self.eval(obj, scope)?;
                self.set_attr(&o, attr, value)
            }
            ExprKind::Index {
                value: obj, index, ..
            } => {
                let o = self.eval(obj, scope)?;
                let i = self.eval(index, scope)?;
                self.set_item(&o, &i, value)
            }
            ExprKind::Special(SpecialRef::SelfRef | SpecialRef::Here) => Err(Exception::new(
                ExcType::TypeError,
                "cannot assign to a special reference",
            )),
            _ => Err(Exception::new(
                ExcType::TypeError,
                "cannot assign to expression",
            )),
        }
    }
}

fn unpack_error(expected: usize, got: usize) -> Exception {
    if got > expected {
        Exception::new(
            ExcType::ValueError,
            format!("too many values to unpack (expected {expected})"),
        )
    } else {
        Exception::new(
            ExcType::ValueError,
            format!("not enough values to unpack (expected {expected}, got {got})"),
        )
    }
}

fn not_callable(v: &Value) -> Exception {
    Exception::new(
        ExcType::TypeError,
        format!("'{}' object is not callable", v.type_name()),
    )
}

/// `AttributeError` with Python's wording.
pub(crate) fn attribute_error(value: &Value, name: &str) -> Exception {
    let msg = match value {
        Value::Class(c) => format!("type object '{}' has no attribute '{name}'", c.name),
        Value::Module(m) => format!("module '{}' has no attribute '{name}'", m.name),
        other => format!("'{}' object has no attribute '{name}'", other.type_name()),
    };
    Exception::new(ExcType::AttributeError, msg)
}
