//! Statement execution and control flow.

use std::rc::Rc;

use crate::syntax::ast::{Block, ExceptHandler, Expr, ExprKind, Stmt, StmtKind};
use crate::value::ops::BinOp;
use crate::value::{Args, ExcType, Exception, JacResult, Value};

use super::Interpreter;
use super::env::Scope;

/// How a statement finished.
pub(crate) enum Flow {
    /// Fell through.
    Normal,
    /// `break`.
    Break,
    /// `continue`.
    Continue,
    /// `return` (also `skip` and `disengage`, which end the ability).
    Return(Value),
}

impl Interpreter {
    /// Runs a block.
    pub(crate) fn exec_block(&mut self, block: &Block, scope: &Rc<Scope>) -> JacResult<Flow> {
        for stmt in &block.stmts {
            match self.exec_stmt(stmt, scope)? {
                Flow::Normal => {}
                other => return Ok(other),
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_stmt(&mut self, stmt: &Stmt, scope: &Rc<Scope>) -> JacResult<Flow> {
        self.exec_stmt_kind(stmt, scope).map_err(|mut e| {
            e.note_line(stmt.span.line);
            e
        })
    }

    fn exec_stmt_kind(&mut self, stmt: &Stmt, scope: &Rc<Scope>) -> JacResult<Flow> {
        match &stmt.kind {
            StmtKind::Expr(e) => {
                self.eval(e, scope)?;
            }
            StmtKind::Assign { targets, value } => {
                let v = self.eval(value, scope)?;
                for t in targets {
                    self.assign_target(t, v.clone(), scope)?;
                }
            }
            StmtKind::AnnAssign { target, value, .. } => {
                if let Some(value) = value {
                    let v = self.eval(value, scope)?;
                    self.assign_target(target, v, scope)?;
                }
            }
            StmtKind::AugAssign { target, op, value } => {
                self.aug_assign(target, *op, value, scope)?
            }
            StmtKind::If { branches, orelse } => {
                for (cond, body) in branches {
                    let c = self.eval(cond, scope)?;
                    if self.truthy(&c)? {
                        return self.exec_block(body, scope);
                    }
                }
                if let Some(body) = orelse {
                    return self.exec_block(body, scope);
                }
            }
            StmtKind::For {
                target,
                iter,
                body,
                orelse,
                ..
            } => {
                let iterable = self.eval(iter, scope)?;
                return self.exec_for(target, &iterable, body, orelse.as_ref(), scope);
            }
            StmtKind::ForTo {
                init,
                cond,
                step,
                body,
            } => {
                self.exec_stmt(init, scope)?;
                loop {
                    let c = self.eval(cond, scope)?;
                    if !self.truthy(&c)? {
                        break;
                    }
                    match self.exec_block(body, scope)? {
                        Flow::Break => break,
                        Flow::Return(v) => return Ok(Flow::Return(v)),
                        Flow::Normal | Flow::Continue => {}
                    }
                    self.exec_stmt(step, scope)?;
                }
            }
            StmtKind::While { cond, body, orelse } => loop {
                let c = self.eval(cond, scope)?;
                if !self.truthy(&c)? {
                    if let Some(body) = orelse {
                        return self.exec_block(body, scope);
                    }
                    break;
                }
                match self.exec_block(body, scope)? {
                    Flow::Break => break,
                    Flow::Return(v) => return Ok(Flow::Return(v)),
                    Flow::Normal | Flow::Continue => {}
                }
            },
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                return self.exec_try(body, handlers, orelse.as_ref(), finally.as_ref(), scope);
            }
            StmtKind::Match { subject, cases } => {
                let v = self.eval(subject, scope)?;
                for case in cases {
                    if self.match_pattern(&case.pattern, &v, scope)? {
                        if let Some(guard) = &case.guard {
                            let g = self.eval(guard, scope)?;
                            if !self.truthy(&g)? {
                                continue;
                            }
                        }
                        return self.exec_block(&case.body, scope);
                    }
                }
            }
            StmtKind::With { items, body, .. } => return self.exec_with(items, body, scope),
            StmtKind::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e, scope)?,
                    None => Value::None,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Report(e) => self.report_expr(e, scope)?,
            StmtKind::Visit {
                index,
                target,
                orelse,
            } => {
                let t = self.eval(target, scope)?;
                let front = match index {
                    Some(i) => {
                        let i = self.eval(i, scope)?;
                        i.as_i64().is_some_and(|i| i >= 0)
                    }
                    None => false,
                };
                let queued = self.visit(&t, front)?;
                if !queued && let Some(body) = orelse {
                    return self.exec_block(body, scope);
                }
            }
            StmtKind::Disengage => {
                self.disengage();
                return Ok(Flow::Return(Value::None));
            }
            StmtKind::Skip => return Ok(Flow::Return(Value::None)),
            StmtKind::Break => return Ok(Flow::Break),
            StmtKind::Continue => return Ok(Flow::Continue),
            StmtKind::Del(targets) => {
                for t in targets {
                    self.delete_target(t, scope)?;
                }
            }
            StmtKind::Raise { exc, cause } => {
                return Err(self.make_raise(exc.as_ref(), cause.as_ref(), scope)?);
            }
            StmtKind::Assert { test, msg } => {
                let t = self.eval(test, scope)?;
                if !self.truthy(&t)? {
                    return Err(match msg {
                        Some(m) => {
                            let m = self.eval(m, scope)?;
                            Exception::with_arg(ExcType::AssertionError, m)
                        }
                        None => Exception::from_instance(Rc::new(crate::value::Instance::new(
                            ExcType::AssertionError.class(),
                            vec![("args".into(), Value::tuple(Vec::new()))],
                        ))),
                    });
                }
            }
            StmtKind::Global(names) => names.iter().for_each(|n| scope.declare_global(n)),
            StmtKind::Nonlocal(names) => names.iter().for_each(|n| scope.declare_nonlocal(n)),
            StmtKind::Function(def) => {
                let f = self.make_function(def, scope, None)?;
                scope.assign(&def.name, f);
            }
            StmtKind::Archetype(decl) => {
                let class = self.build_archetype(decl, scope)?;
                scope.assign(&decl.name, class);
            }
            StmtKind::Enum(decl) => {
                let class = self.build_enum(decl, scope)?;
                scope.assign(&decl.name, class);
            }
            StmtKind::Import(import) => self.exec_import(import, scope)?,
            StmtKind::TypedContext { ty, body } => {
                let t = self.eval(ty, scope)?;
                let here = self.lookup("here", scope)?;
                if self.isinstance(&here, &t)? {
                    return self.exec_block(body, scope);
                }
            }
        }
        Ok(Flow::Normal)
    }

    fn exec_for(
        &mut self,
        target: &Expr,
        iterable: &Value,
        body: &Block,
        orelse: Option<&Block>,
        scope: &Rc<Scope>,
    ) -> JacResult<Flow> {
        let run = |vm: &mut Self, item: Value| -> JacResult<Option<Flow>> {
            vm.assign_target(target, item, scope)?;
            Ok(match vm.exec_block(body, scope)? {
                Flow::Break => Some(Flow::Normal),
                Flow::Return(v) => Some(Flow::Return(v)),
                Flow::Normal | Flow::Continue => None,
            })
        };
        if let Value::Range(r) = iterable {
            for i in 0..r.len() {
                if let Some(flow) = run(self, Value::Int(r.nth(i)))? {
                    return Ok(flow);
                }
            }
        } else {
            for item in self.iterate(iterable)? {
                if let Some(flow) = run(self, item)? {
                    return Ok(flow);
                }
            }
        }
        match orelse {
            Some(body) => self.exec_block(body, scope),
            None => Ok(Flow::Normal),
        }
    }

    fn aug_assign(
        &mut self,
        target: &Expr,
        op: BinOp,
        value: &Expr,
        scope: &Rc<Scope>,
    ) -> JacResult<()> {
        match &target.kind {
            ExprKind::Name(name) => {
                let current = self.lookup(name, scope)?;
                let v = self.eval(value, scope)?;
                let result = self.inplace(op, &current, &v)?;
                scope.assign(name, result);
            }
            ExprKind::Attribute {
                value: obj, attr, ..
            } => {
                let o = self.eval(obj, scope)?;
                let current = self.get_attr(&o, attr)?;
                let v = self.eval(value, scope)?;
                let result = self.inplace(op, &current, &v)?;
                self.set_attr(&o, attr, result)?;
            }
            ExprKind::Index {
                value: obj, index, ..
            } => {
                let o = self.eval(obj, scope)?;
                let i = self.eval(index, scope)?;
                let current = self.get_item(&o, &i)?;
                let v = self.eval(value, scope)?;
                let result = self.inplace(op, &current, &v)?;
                self.set_item(&o, &i, result)?;
            }
            _ => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    "illegal expression for augmented assignment",
                ));
            }
        }
        Ok(())
    }

    /// In-place operators: mutable containers are updated in place (aliases see it).
    fn inplace(&mut self, op: BinOp, current: &Value, v: &Value) -> JacResult<Value> {
        match (op, current) {
            (BinOp::Add, Value::List(l)) => {
                let items = self.iterate(v)?;
                l.borrow_mut().extend(items);
                Ok(current.clone())
            }
            (BinOp::BitOr, Value::Dict(d)) if matches!(v, Value::Dict(_)) => {
                for (k, val) in self.mapping_items(v)? {
                    d.borrow_mut().insert(k, val)?;
                }
                Ok(current.clone())
            }
            (BinOp::BitOr, Value::Set(s)) if matches!(v, Value::Set(_)) => {
                for item in self.iterate(v)? {
                    s.borrow_mut().insert(item)?;
                }
                Ok(current.clone())
            }
            _ => self.binary(op, current, v),
        }
    }

    fn exec_try(
        &mut self,
        body: &Block,
        handlers: &[ExceptHandler],
        orelse: Option<&Block>,
        finally: Option<&Block>,
        scope: &Rc<Scope>,
    ) -> JacResult<Flow> {
        let result = match self.exec_block(body, scope) {
            Ok(Flow::Normal) => match orelse {
                Some(b) => self.exec_block(b, scope),
                None => Ok(Flow::Normal),
            },
            Ok(flow) => Ok(flow),
            Err(exc) => self.handle_exception(exc, handlers, scope),
        };
        match finally {
            Some(f) => match self.exec_block(f, scope)? {
                Flow::Normal => result,
                other => Ok(other),
            },
            None => result,
        }
    }

    fn handle_exception(
        &mut self,
        mut exc: Exception,
        handlers: &[ExceptHandler],
        scope: &Rc<Scope>,
    ) -> JacResult<Flow> {
        for h in handlers {
            let matches = match &h.ty {
                None => true,
                Some(t) => {
                    let t = self.eval(t, scope)?;
                    self.exception_matches(&exc, &t)?
                }
            };
            if !matches {
                continue;
            }
            exc.take_line();
            let value = exc.value();
            if let Some(name) = &h.name {
                scope.assign(name, value.clone());
            }
            self.handling.push(value);
            let r = self.exec_block(&h.body, scope);
            self.handling.pop();
            if let Some(name) = &h.name {
                scope.delete(name);
            }
            return r;
        }
        Err(exc)
    }

    fn exception_matches(&mut self, exc: &Exception, ty: &Value) -> JacResult<bool> {
        match ty {
            Value::Class(c) => Ok(exc.instance().class.is_subclass(c)),
            Value::Tuple(items) => {
                for t in items.iter() {
                    if self.exception_matches(exc, t)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            _ => Err(Exception::new(
                ExcType::TypeError,
                "catching classes that do not inherit from BaseException is not allowed",
            )),
        }
    }

    fn make_raise(
        &mut self,
        exc: Option<&Expr>,
        cause: Option<&Expr>,
        scope: &Rc<Scope>,
    ) -> JacResult<Exception> {
        let Some(exc) = exc else {
            return match self.handling.last() {
                Some(Value::Instance(i)) => Ok(Exception::from_instance(i.clone())),
                _ => Err(Exception::new(
                    ExcType::RuntimeError,
                    "No active exception to reraise",
                )),
            };
        };
        let v = self.eval(exc, scope)?;
        let inst = self.exception_instance(v)?;
        if let Some(c) = cause {
            let c = self.eval(c, scope)?;
            inst.set("__cause__", c);
        }
        Ok(Exception::from_instance(inst))
    }

    /// The exception instance for `raise v` (`v` may be a class to instantiate).
    pub(crate) fn exception_instance(&mut self, v: Value) -> JacResult<Rc<crate::value::Instance>> {
        let v = match v {
            Value::Class(c) => self.instantiate(&c, Args::default())?,
            other => other,
        };
        match v {
            Value::Instance(i) if i.class.exception_type().is_some() => Ok(i),
            _ => Err(Exception::new(
                ExcType::TypeError,
                "exceptions must derive from BaseException",
            )),
        }
    }

    fn exec_with(
        &mut self,
        items: &[crate::syntax::ast::WithItem],
        body: &Block,
        scope: &Rc<Scope>,
    ) -> JacResult<Flow> {
        let Some((first, rest)) = items.split_first() else {
            return self.exec_block(body, scope);
        };
        let ctx = self.eval(&first.context, scope)?;
        let has = |name: &str| matches!(&ctx, Value::Instance(i) if i.class.lookup(name).is_some());
        let entered = if has("__enter__") {
            self.call_method(&ctx, "__enter__", Args::default())?
        } else {
            ctx.clone()
        };
        if let Some(t) = &first.target {
            self.assign_target(t, entered, scope)?;
        }
        let result = self.exec_with(rest, body, scope);
        if has("__exit__") {
            let args = match &result {
                Err(e) => vec![
                    Value::Class(e.instance().class.clone()),
                    e.value(),
                    Value::None,
                ],
                Ok(_) => vec![Value::None, Value::None, Value::None],
            };
            let suppress = self.call_method(&ctx, "__exit__", Args::new(args))?;
            if result.is_err() && suppress.truthy() {
                return Ok(Flow::Normal);
            }
        }
        result
    }

    fn delete_target(&mut self, target: &Expr, scope: &Rc<Scope>) -> JacResult<()> {
        match &target.kind {
            ExprKind::Name(name) => {
                let current = scope.lookup(name);
                match current {
                    Some(v) if self.is_graph_object(&v) => self.destroy(&v),
                    Some(_) if scope.delete(name) => Ok(()),
                    _ => Err(Exception::new(
                        ExcType::NameError,
                        format!("name '{name}' is not defined"),
                    )),
                }
            }
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                for item in items {
                    self.delete_target(item, scope)?;
                }
                Ok(())
            }
            ExprKind::Index { value, index, .. } => {
                let o = self.eval(value, scope)?;
                let i = self.eval(index, scope)?;
                let item = crate::builtins::subscript::get_item(&o, &i).ok();
                match item {
                    Some(v) if self.is_graph_object(&v) && matches!(o, Value::List(_)) => {
                        self.destroy(&v)
                    }
                    _ => crate::builtins::subscript::del_item(&o, &i),
                }
            }
            ExprKind::Attribute { value, attr, .. } => {
                let o = self.eval(value, scope)?;
                match &o {
                    Value::Instance(i) if i.remove(attr) => Ok(()),
                    _ => Err(super::eval::attribute_error(&o, attr)),
                }
            }
            _ => {
                let v = self.eval(target, scope)?;
                self.destroy(&v)
            }
        }
    }
}
