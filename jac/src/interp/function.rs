//! User functions, abilities and field defaults, and Python's argument
//! binding rules (positional, keyword, defaults, `*args`, `**kwargs`).

use std::cell::OnceCell;
use std::rc::Rc;

use crate::syntax::ast::{self, Expr, FunctionDef, ParamKind};
use crate::value::{Args, Class, Dict, ExcType, Exception, JacResult, Module, Str, Value};

use super::env::Scope;

/// A user function, method or lambda: its definition plus what it closed over.
pub struct Function {
    /// The definition.
    pub def: Rc<FunctionDef>,
    /// The enclosing function scope (closures); `None` at module or class level.
    pub closure: Option<Rc<Scope>>,
    /// The globals of the defining module.
    pub globals: Rc<Module>,
    /// Parameter defaults, evaluated once at definition time (as in Python).
    pub defaults: Vec<Option<Value>>,
    /// The class the function was defined in (for `super`).
    pub owner: OnceCell<Rc<Class>>,
}

impl Function {
    /// The function's name.
    pub fn name(&self) -> &str {
        &self.def.name
    }

    /// Whether it is a `static def` (no implicit `self`).
    pub fn is_static(&self) -> bool {
        self.def.is_static
    }
}

/// An ability (`can name with T entry|exit`) attached to a class.
pub struct Ability {
    /// The declaration.
    pub decl: Rc<ast::Ability>,
    /// The globals of the declaring module (trigger types resolve there).
    pub globals: Rc<Module>,
    /// The trigger classes, resolved on first dispatch (they may be declared later in the file).
    pub triggers: OnceCell<Vec<Rc<Class>>>,
    /// The class that declared the ability.
    pub owner: OnceCell<Rc<Class>>,
}

impl Ability {
    /// Whether the ability has no trigger types (`with entry`).
    pub fn is_untyped(&self) -> bool {
        self.decl.event.triggers.is_empty()
    }

    /// Whether it fires on entry (else on exit).
    pub fn is_entry(&self) -> bool {
        self.decl.event.kind == ast::EventKind::Entry
    }

    /// The name used in tracebacks.
    pub fn name(&self) -> Str {
        self.decl.name.clone().unwrap_or_else(|| "<ability>".into())
    }
}

/// How a field gets its value when the constructor does not pass one.
#[derive(Clone)]
pub enum FieldDefault {
    /// No default: the constructor must receive it.
    Required,
    /// Evaluate this expression (in the declaring module) for every new instance.
    Expr(Rc<Expr>, Rc<Module>),
    /// A fixed value (builtin classes).
    Value(Value),
    /// Set by the `postinit` hook; starts as `None`.
    PostInit,
}

/// Binds call arguments to a function's parameters in `scope`.
///
/// `receiver` is the implicit `self` of methods (bound as the parameter named
/// `self` if declared, else as a hidden local `self`).
pub fn bind_params(
    func: &Function,
    receiver: Option<Value>,
    mut args: Args,
    scope: &Scope,
) -> JacResult<()> {
    let params = &func.def.params;
    let fname = func.name();
    let mut positional = std::mem::take(&mut args.positional).into_iter();
    if let Some(recv) = receiver {
        let explicit_self = params.first().is_some_and(|p| &*p.name == "self");
        if !explicit_self {
            scope.assign(&Str::from("self"), recv);
        } else {
            positional = std::iter::once(recv)
                .chain(positional)
                .collect::<Vec<_>>()
                .into_iter();
        }
    }
    let mut keywords = std::mem::take(&mut args.keywords);
    let mut extra_kw: Option<Dict> = None;
    let mut bound = vec![false; params.len()];
    for (i, param) in params.iter().enumerate() {
        match param.kind {
            ParamKind::PositionalOnly | ParamKind::Normal => {
                if let Some(v) = positional.next() {
                    scope.assign(&param.name, v);
                    bound[i] = true;
                }
            }
            ParamKind::VarArgs => {
                scope.assign(&param.name, Value::tuple(positional.by_ref().collect()));
                bound[i] = true;
            }
            ParamKind::KwArgs => {
                extra_kw = Some(Dict::new());
                bound[i] = true;
            }
            ParamKind::KeywordOnly => {}
        }
    }
    let leftover = positional.count();
    if leftover > 0 {
        let max = params
            .iter()
            .filter(|p| matches!(p.kind, ParamKind::PositionalOnly | ParamKind::Normal))
            .count();
        return Err(Exception::new(
            ExcType::TypeError,
            format!(
                "{fname}() takes {max} positional argument(s) but {} were given",
                max + leftover
            ),
        ));
    }
    for (name, value) in keywords.drain(..) {
        let target = params.iter().position(|p| {
            p.name == name && matches!(p.kind, ParamKind::Normal | ParamKind::KeywordOnly)
        });
        match target {
            Some(i) if bound[i] => {
                return Err(Exception::new(
                    ExcType::TypeError,
                    format!("{fname}() got multiple values for argument '{name}'"),
                ));
            }
            Some(i) => {
                scope.assign(&params[i].name, value);
                bound[i] = true;
            }
            None => match &mut extra_kw {
                Some(d) => d.insert_str(&name, value),
                None => {
                    return Err(Exception::new(
                        ExcType::TypeError,
                        format!("{fname}() got an unexpected keyword argument '{name}'"),
                    ));
                }
            },
        }
    }
    let mut missing = Vec::new();
    for (i, param) in params.iter().enumerate() {
        if param.kind == ParamKind::KwArgs {
            scope.assign(
                &param.name,
                Value::dict(extra_kw.take().unwrap_or_default()),
            );
            continue;
        }
        if bound[i] {
            continue;
        }
        match func.defaults.get(i).cloned().flatten() {
            Some(v) => scope.assign(&param.name, v),
            None => missing.push(format!("'{}'", param.name)),
        }
    }
    if !missing.is_empty() {
        return Err(Exception::new(
            ExcType::TypeError,
            format!(
                "{fname}() missing {} required argument(s): {}",
                missing.len(),
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}
