//! Streamed generators: a walker or function that reports (or returns) a generator
//! answers with one event per yielded value, sent while the call runs.
//!
//! Generators otherwise run eagerly (a call that yielded returns an iterator over what
//! it yielded). When the embedding can stream ([`HostEnv::stream`](super::HostEnv)) and
//! the call has not streamed yet, `report f(...)` of a user function runs `f` in *emit
//! mode*: each value its body yields goes to the host at once (so a generator that
//! sleeps between yields, or never ends, streams as it goes). A reported or returned
//! iterator (a generator called earlier) streams its remaining values. One stream per
//! call, as the original takes the first reported generator.

use std::rc::Rc;

use super::Interpreter;
use super::env::Scope;
use super::function::Function;
use crate::syntax::ast::{Arg, Expr, ExprKind, SpecialRef};
use crate::value::{JacResult, Value};

/// What one active function call does with the values it yields.
pub(super) enum GeneratorFrame {
    /// Keeps them (eager generators); `None` until the first yield.
    Collect(Option<Vec<Value>>),
    /// Sends each to the host as it is yielded.
    Emit,
}

impl Interpreter {
    /// Whether a generator reported now would stream.
    fn can_stream(&self) -> bool {
        self.env.stream.is_some() && !self.streamed
    }

    /// `report e`: streams a reported generator call when it can, reports `e` otherwise.
    pub(super) fn report_expr(&mut self, e: &Expr, scope: &Rc<Scope>) -> JacResult<()> {
        let value = match &e.kind {
            ExprKind::Call { func, args }
                if self.can_stream()
                    && !matches!(func.kind, ExprKind::Special(SpecialRef::Super)) =>
            {
                let before = self.streamed;
                let value = self.call_streaming(func, args, scope)?;
                if self.streamed && !before {
                    return Ok(());
                }
                value
            }
            _ => self.eval(e, scope)?,
        };
        self.report(value);
        Ok(())
    }

    /// Evaluates the call `func(args)` as `eval` does, running a user function in emit mode.
    fn call_streaming(&mut self, func: &Expr, args: &[Arg], scope: &Rc<Scope>) -> JacResult<Value> {
        if let ExprKind::Attribute {
            value,
            attr,
            null_safe,
        } = &func.kind
        {
            let Some((recv, args)) = self.method_call_parts(value, *null_safe, args, scope)? else {
                return Ok(Value::None);
            };
            let method = match &recv {
                Value::Instance(inst) if inst.get(attr).is_none() => {
                    match inst.class.lookup(attr) {
                        Some(Value::Function(f)) => Some(f),
                        _ => None,
                    }
                }
                _ => None,
            };
            return match method {
                Some(f) => {
                    let receiver = (!f.is_static()).then(|| recv.clone());
                    self.call_emitting(&f, receiver, args)
                }
                None => self.call_method(&recv, attr, args),
            };
        }
        let callee = self.eval(func, scope)?;
        let args = self.eval_args(args, scope)?;
        match &callee {
            Value::Function(f) => self.call_emitting(f, None, args),
            Value::BoundMethod(m) => match &m.function {
                Value::Function(f) => self.call_emitting(f, Some(m.receiver.clone()), args),
                _ => self.call_value(&callee, args),
            },
            _ => self.call_value(&callee, args),
        }
    }

    /// Calls `f` with its yields sent to the host (see [`GeneratorFrame::Emit`]).
    pub(super) fn call_emitting(
        &mut self,
        f: &Rc<Function>,
        receiver: Option<Value>,
        args: crate::value::Args,
    ) -> JacResult<Value> {
        self.emit_next_call = true;
        let result = self.call_function_value(f, receiver, args);
        self.emit_next_call = false;
        result
    }

    /// The frame of a function call starting now.
    pub(super) fn next_generator_frame(&mut self) -> GeneratorFrame {
        if std::mem::take(&mut self.emit_next_call) {
            GeneratorFrame::Emit
        } else {
            GeneratorFrame::Collect(None)
        }
    }

    /// `yield` of `items` in the innermost function call.
    pub(super) fn yield_values(&mut self, items: Vec<Value>) -> bool {
        match self.generator_frames.last_mut() {
            Some(GeneratorFrame::Collect(kept)) => {
                kept.get_or_insert_with(Vec::new).extend(items);
                true
            }
            Some(GeneratorFrame::Emit) => {
                for item in &items {
                    self.emit(item);
                }
                true
            }
            None => false,
        }
    }

    /// Streams the remaining values of an iterator a walker reports or a function
    /// returns; `false` (and the value untouched) when it does not stream.
    pub(super) fn stream_iterator(&mut self, value: &Value) -> bool {
        let Value::Iter(it) = value else {
            return false;
        };
        if !self.can_stream() {
            return false;
        }
        let items: Vec<Value> = it.borrow_mut().by_ref().collect();
        self.streamed = true;
        for item in &items {
            self.emit(item);
        }
        true
    }

    /// Sends one value to the host's stream.
    fn emit(&mut self, value: &Value) {
        let json = self.to_json(value);
        if let Some(send) = self.env.stream {
            send(&json);
        }
        self.streamed = true;
    }
}
