//! Builtin functions, one file per topic: [`objects`] (`print`, `len`, `repr`,
//! `isinstance`, `getattr`, ...), [`numbers`] (`abs`, `min`, `round`, ...), [`iteration`]
//! (`sorted`, `zip`, `map`, ...) and [`runtime`] (the Jac runtime's `jid`, `jobj`,
//! `allroots`, `grant`, `commit`, `restspec`, ... and the `jaclang` module).

mod iteration;
mod numbers;
mod objects;
mod runtime;

use std::rc::Rc;

use crate::interp::Interpreter;
use crate::value::class::BuiltinType;
use crate::value::{
    ArchKind, Args, Class, ExcType, Exception, Instance, JacResult, Module, NativeFn, Value,
};

pub use runtime::jaclang_module;

/// A builtin function as the tables list it.
type Builtin = fn(&mut Interpreter, Args) -> JacResult<Value>;

/// Registers the builtin functions and constants.
pub fn install(builtins: &Module) {
    let tables = objects::TABLE
        .iter()
        .chain(numbers::TABLE)
        .chain(iteration::TABLE)
        .chain(runtime::table());
    for &(name, f) in tables {
        builtins.set(name, NativeFn::value(name, f));
    }
    runtime::install_constants(builtins);
    builtins.set("NoneType", Value::Class(BuiltinType::NoneType.class()));
}

fn int_arg(v: &Value, fname: &str) -> JacResult<i64> {
    v.as_i64().ok_or_else(|| {
        Exception::new(
            ExcType::TypeError,
            format!(
                "{fname}(): '{}' object cannot be interpreted as an integer",
                v.type_name()
            ),
        )
    })
}

/// An enum class with the given `(name, value)` members (for runtime-provided enums).
pub fn enum_class(name: &str, members: &[(&str, Value)]) -> Rc<Class> {
    let class = Rc::new(Class::new(
        name,
        ArchKind::Enum,
        Vec::new(),
        Vec::new(),
        Vec::new(),
    ));
    let mut list = Vec::with_capacity(members.len());
    for (member, value) in members {
        let inst = Value::Instance(Rc::new(Instance::new(
            class.clone(),
            vec![
                ("name".into(), Value::from(*member)),
                ("value".into(), value.clone()),
            ],
        )));
        class.set_attr(member, inst.clone());
        list.push(inst);
    }
    class.set_attr("__members__", Value::list(list));
    class
}
