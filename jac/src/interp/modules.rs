//! Module loading: executing a Jac module's top-level items once, and the
//! `import` forms over Jac modules of the program and native modules.

use std::rc::Rc;

use crate::syntax::ast::{Import, ImportKind, Item, ItemKind, ModulePath};
use crate::value::{ExcType, Exception, JacResult, Module, Value};

use super::Interpreter;
use super::env::Scope;

impl Interpreter {
    /// Loads (once) the module `name`: a Jac module of the program or a native one.
    pub(crate) fn load_module(&mut self, name: &str) -> JacResult<Rc<Module>> {
        if let Some(m) = self.modules.get(name) {
            return Ok(m.clone());
        }
        let program = self.program.clone();
        if let Some(module) = program.module(name) {
            let globals = Rc::new(Module::new(name));
            globals.set("__name__", Value::from(name));
            self.modules.insert(name.into(), globals.clone());
            let scope = Scope::module(globals.clone());
            for item in &module.items {
                self.exec_item(item, &scope)
                    .map_err(|e| self.add_frame(e, item.span, "<module>"))?;
            }
            return Ok(globals);
        }
        if let Some(loader) = self
            .env
            .natives
            .module(name)
            .or_else(|| crate::builtins::runtime_module(name))
        {
            let m = loader(self)?;
            self.modules.insert(name.into(), m.clone());
            return Ok(m);
        }
        Err(Exception::new(
            ExcType::ModuleNotFoundError,
            format!("No module named '{name}'"),
        ))
    }

    fn exec_item(&mut self, item: &Item, scope: &Rc<Scope>) -> JacResult<()> {
        match &item.kind {
            ItemKind::Import(import) => self.exec_import(import, scope),
            ItemKind::Archetype(decl) => {
                let class = self.build_archetype(decl, scope)?;
                scope.assign(&decl.name, class);
                Ok(())
            }
            ItemKind::Enum(decl) => {
                let class = self.build_enum(decl, scope)?;
                scope.assign(&decl.name, class);
                Ok(())
            }
            ItemKind::Function(def) => {
                let f = self.make_function(def, scope, None)?;
                scope.assign(&def.name, f);
                Ok(())
            }
            ItemKind::Glob(glob) => {
                for var in &glob.vars {
                    if let Some(e) = &var.value {
                        let v = self.eval(e, scope)?;
                        scope.assign(&var.name, v);
                    }
                }
                Ok(())
            }
            ItemKind::Entry(entry) => {
                let runs = match entry.name.as_deref() {
                    None => true,
                    Some("__main__") => self.env.cli_mode,
                    Some(_) => false,
                };
                if runs {
                    self.exec_block(&entry.body, scope).map(|_| ())
                } else {
                    Ok(())
                }
            }
            // Module-level abilities only fire for module-level walkers (unused by
            // backend apps); impls are linked by the loader; tests never run here.
            ItemKind::Ability(_) | ItemKind::Impl(_) | ItemKind::Test(_) => Ok(()),
        }
    }

    fn module_name(path: &ModulePath) -> String {
        match &path.resolved {
            Some(name) => name.to_string(),
            None => path.parts.join("."),
        }
    }

    /// Executes an `import` statement, binding names in `scope`.
    pub(crate) fn exec_import(&mut self, import: &Import, scope: &Rc<Scope>) -> JacResult<()> {
        match &import.kind {
            ImportKind::Modules(modules) => {
                for m in modules {
                    let name = Self::module_name(&m.module);
                    let module = self.load_module(&name)?;
                    match &m.alias {
                        Some(alias) => scope.assign(alias, Value::Module(module)),
                        None => {
                            let first = name.split('.').next().unwrap_or(&name).to_string();
                            let top = if first == name {
                                module
                            } else {
                                self.load_module(&first).unwrap_or(module)
                            };
                            scope.assign(&first.as_str().into(), Value::Module(top));
                        }
                    }
                }
            }
            ImportKind::From { module, items } => {
                let name = Self::module_name(module);
                let m = self.load_module(&name)?;
                for item in items {
                    let value = match m.get(&item.name) {
                        Some(v) => v,
                        None => match self.load_module(&format!("{name}.{}", item.name)) {
                            Ok(sub) => Value::Module(sub),
                            Err(_) => {
                                return Err(Exception::new(
                                    ExcType::ImportError,
                                    format!("cannot import name '{}' from '{name}'", item.name),
                                ));
                            }
                        },
                    };
                    scope.assign(item.alias.as_ref().unwrap_or(&item.name), value);
                }
            }
            ImportKind::Include(path) => {
                let m = self.load_module(&Self::module_name(path))?;
                let attrs: Vec<_> = m
                    .attrs
                    .borrow()
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                for (k, v) in attrs {
                    if !k.starts_with('_') {
                        scope.assign(&k, v);
                    }
                }
            }
        }
        Ok(())
    }
}

impl Interpreter {
    /// The `glob` variables of every loaded Jac module, keyed `"<module>.<name>"`,
    /// serialized like reports (unset globs are left out). Hosts that run each call
    /// in a fresh instance save these after a call and restore them before the next.
    pub fn globals_json(&mut self) -> serde_json::Map<String, serde_json::Value> {
        let program = self.program.clone();
        let mut out = serde_json::Map::new();
        for module in &program.modules {
            let Some(globals) = self.modules.get(&module.name).cloned() else {
                continue;
            };
            for item in &module.items {
                let ItemKind::Glob(glob) = &item.kind else {
                    continue;
                };
                for var in &glob.vars {
                    if let Some(v) = globals.get(&var.name) {
                        out.insert(format!("{}.{}", module.name, var.name), self.to_json(&v));
                    }
                }
            }
        }
        out
    }

    /// Restores globals saved by [`Interpreter::globals_json`]; unknown keys are ignored.
    pub fn restore_globals(
        &mut self,
        saved: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), super::Failure> {
        for (key, json) in saved {
            let Some((module, name)) = key.rsplit_once('.') else {
                continue;
            };
            let Some(globals) = self.modules.get(module).cloned() else {
                continue;
            };
            // A value whose JSON did not change keeps its identity (a `store()` or
            // `kvstore()` handle has no JSON form to be rebuilt from).
            if let Some(current) = globals.get(name)
                && self.to_json(&current) == *json
            {
                continue;
            }
            let value = self
                .value_from_stored(json)
                .map_err(|e| super::Failure::raised(super::FailureKind::Load, &e))?;
            globals.set(name, value);
        }
        self.end_call();
        Ok(())
    }
}
