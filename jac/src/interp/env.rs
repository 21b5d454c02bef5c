//! Variable scopes with Python rules: a function's locals, the enclosing
//! functions' locals (closures, read through; written with `nonlocal`), the
//! module globals (read through; written with `global`), then the builtins.

use std::cell::RefCell;
use std::rc::Rc;

use crate::value::{Module, Str, Value};

/// One function activation's (or comprehension's) local variables.
pub struct Scope {
    vars: RefCell<Vec<(Str, Value)>>,
    /// The enclosing function scope, for closures.
    pub parent: Option<Rc<Scope>>,
    /// The module globals.
    pub globals: Rc<Module>,
    declared_global: RefCell<Vec<Str>>,
    declared_nonlocal: RefCell<Vec<Str>>,
    module_level: bool,
}

impl Scope {
    /// A new scope inside `parent` (or directly in the module when `None`).
    pub fn new(globals: Rc<Module>, parent: Option<Rc<Scope>>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::new(Vec::with_capacity(4)),
            parent,
            globals,
            declared_global: RefCell::new(Vec::new()),
            declared_nonlocal: RefCell::new(Vec::new()),
            module_level: false,
        })
    }

    /// The scope of module-level code (`glob`, `with entry`): binds globals directly.
    pub fn module(globals: Rc<Module>) -> Rc<Scope> {
        Rc::new(Scope {
            vars: RefCell::new(Vec::new()),
            parent: None,
            globals,
            declared_global: RefCell::new(Vec::new()),
            declared_nonlocal: RefCell::new(Vec::new()),
            module_level: true,
        })
    }

    /// Whether this is the module-level scope.
    pub fn is_module_level(&self) -> bool {
        self.module_level
    }

    /// The local value of `name`, if bound here.
    pub fn local(&self, name: &str) -> Option<Value> {
        self.vars
            .borrow()
            .iter()
            .find(|(k, _)| &**k == name)
            .map(|(_, v)| v.clone())
    }

    /// Resolves `name` through locals, enclosing scopes and globals (not builtins).
    pub fn lookup(&self, name: &str) -> Option<Value> {
        let mut scope = self;
        loop {
            if let Some(v) = scope.local(name) {
                return Some(v);
            }
            match &scope.parent {
                Some(p) => scope = p,
                None => return self.globals.get(name),
            }
        }
    }

    fn set_local(&self, name: &Str, value: Value) {
        let mut vars = self.vars.borrow_mut();
        match vars.iter_mut().find(|(k, _)| **k == **name) {
            Some(slot) => slot.1 = value,
            None => vars.push((name.clone(), value)),
        }
    }

    /// Binds `name` following `global` / `nonlocal` declarations.
    pub fn assign(&self, name: &Str, value: Value) {
        if self.module_level || self.is_declared(&self.declared_global, name) {
            self.globals.set(name, value);
            return;
        }
        if self.is_declared(&self.declared_nonlocal, name) {
            let mut scope = self.parent.clone();
            while let Some(s) = scope {
                if s.local(name).is_some() {
                    s.set_local(name, value);
                    return;
                }
                scope = s.parent.clone();
            }
        }
        self.set_local(name, value);
    }

    /// Unbinds `name`; returns whether it was bound.
    pub fn delete(&self, name: &str) -> bool {
        if self.module_level || self.is_declared(&self.declared_global, name) {
            return self.globals.attrs.borrow_mut().shift_remove(name).is_some();
        }
        let mut vars = self.vars.borrow_mut();
        let before = vars.len();
        vars.retain(|(k, _)| &**k != name);
        vars.len() != before
    }

    fn is_declared(&self, list: &RefCell<Vec<Str>>, name: &str) -> bool {
        let list = list.borrow();
        !list.is_empty() && list.iter().any(|n| &**n == name)
    }

    /// `global name;`
    pub fn declare_global(&self, name: &Str) {
        self.declared_global.borrow_mut().push(name.clone());
    }

    /// `nonlocal name;`
    pub fn declare_nonlocal(&self, name: &Str) {
        self.declared_nonlocal.borrow_mut().push(name.clone());
    }
}
