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
    let mut vars: Vec<(&String, &String)> = vm.env().vars.iter().collect();
    vars.sort();
    for (k, v) in vars {
        environ.insert_str(k, Value::from(v.as_str()));
    }
    module.set("environ", Value::dict(environ));
    module.set("sep", Value::from("/"));
    module.set("linesep", Value::from("\n"));
    Ok(module)
}
