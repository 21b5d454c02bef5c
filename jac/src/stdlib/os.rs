//! `os`: `getenv` and `environ`, which see only the variables the embedder
//! grants ([`crate::interp::HostEnv::vars`]), never the process environment.

use std::rc::Rc;

use super::{arg_str, def};
use crate::interp::Interpreter;
use crate::value::{Dict, JacResult, Module, Value};

/// Builds the `os` module.
pub(super) fn module(vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("os"));
    def(&module, "getenv", |vm, args| {
        let key = arg_str(&args, 0, "key", "getenv")?;
        Ok(match vm.env().vars.get(&*key) {
            Some(v) => Value::from(v.as_str()),
            None => args.get(1, "default").unwrap_or(Value::None),
        })
    });
    let mut environ = Dict::new();
    fill_environ(&mut environ, &vm.env().vars);
    module.set("environ", Value::dict(environ));
    module.set("sep", Value::from("/"));
    module.set("linesep", Value::from("\n"));
    Ok(module)
}

/// `environ` (an imported `os` module's dict, changed in place so every binding of it
/// sees the change) made equal to `vars`, sorted by name.
pub(crate) fn fill_environ(environ: &mut Dict, vars: &rustc_hash::FxHashMap<String, String>) {
    environ.clear();
    let mut vars: Vec<(&String, &String)> = vars.iter().collect();
    vars.sort();
    for (k, v) in vars {
        environ.insert_str(k, Value::from(v.as_str()));
    }
}
