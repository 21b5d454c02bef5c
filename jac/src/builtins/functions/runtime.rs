//! The Jac runtime builtins: `jid`, `jobj`, `allroots`, the permission functions
//! (`grant`/`perm_grant`, `revoke`/`perm_revoke`, `allow_root`, `disallow_root`),
//! `commit`, `save`, `store`, the `@restspec`/`@schedule` decorators, and the `jaclang`
//! module that offers them as `JacRuntime` (alias `Jac`).

use std::rc::Rc;

use crate::interp::Interpreter;
use crate::value::{ArchKind, Args, Class, ExcType, Exception, JacResult, Module, NativeFn, Value};

use super::{Builtin, enum_class};

/// What `JacRuntime` offers (and the builtins namespace too).
const RUNTIME: &[(&str, Builtin)] = &[
    ("jid", jid),
    ("jobj", jobj),
    ("allroots", allroots),
    ("grant", grant),
    ("perm_grant", grant),
    ("revoke", revoke),
    ("perm_revoke", revoke),
    ("allow_root", allow_root),
    ("disallow_root", disallow_root),
    ("commit", commit),
    ("save", save),
    ("restspec", passthrough_decorator),
];

/// The builtins of this topic that `JacRuntime` does not offer.
const BUILTINS_ONLY: &[(&str, Builtin)] = &[
    ("store", crate::data::storage::store),
    ("schedule", passthrough_decorator),
];

/// Every runtime builtin.
pub(super) fn table() -> impl Iterator<Item = &'static (&'static str, Builtin)> {
    RUNTIME.iter().chain(BUILTINS_ONLY)
}

fn level_of(args: &Args, i: usize, default: &str) -> JacResult<crate::graph::AccessLevel> {
    match args.get(i, "level") {
        Some(v) => crate::interp::access_level(&v),
        None => crate::interp::access_level(&Value::from(default)),
    }
}

fn graph_call<T>(r: crate::graph::GraphResult<T>) -> JacResult<T> {
    r.map_err(crate::interp::graph_error)
}

fn root_id_arg(vm: &mut Interpreter, v: &Value) -> JacResult<String> {
    Ok(vm.node_id_of(v)?.to_string())
}

/// Applies an access change; without WRITE access it is refused like any write (a
/// no-op listed in the call's warnings, as jaclang skips it), not an exception.
fn access_change(
    vm: &mut Interpreter,
    name: &str,
    id: &str,
    change: impl FnOnce(&mut dyn crate::graph::Graph) -> crate::graph::GraphResult<()>,
) -> JacResult<Value> {
    match change(vm.graph()) {
        Ok(()) => Ok(Value::None),
        Err(crate::graph::GraphError::AccessDenied(_)) => {
            vm.warnings
                .push(format!("{name} on {id} refused: no WRITE access"));
            Ok(Value::None)
        }
        Err(e) => Err(crate::interp::graph_error(e)),
    }
}

fn grant(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "grant")?)?;
    let level = level_of(&args, 1, "CONNECT")?;
    access_change(vm, "grant", &id, |g| g.grant(&id, level))
}

fn revoke(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "revoke")?)?;
    access_change(vm, "revoke", &id, |g| g.revoke(&id))
}

fn allow_root(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "allow_root")?)?;
    let root = root_id_arg(vm, &args.required(1, "root_id", "allow_root")?)?;
    let level = level_of(&args, 2, "READ")?;
    access_change(vm, "allow_root", &id, |g| g.allow_root(&id, &root, level))
}

fn disallow_root(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    let id = vm.node_id_of(&args.required(0, "obj", "disallow_root")?)?;
    let root = root_id_arg(vm, &args.required(1, "root_id", "disallow_root")?)?;
    access_change(vm, "disallow_root", &id, |g| g.disallow_root(&id, &root))
}

fn allroots(vm: &mut Interpreter, _args: Args) -> JacResult<Value> {
    let ids = graph_call(vm.graph().all_roots())?;
    let roots = ids
        .iter()
        .map(|id| vm.root_node(id))
        .collect::<JacResult<_>>()?;
    Ok(Value::list(roots))
}

fn jobj(vm: &mut Interpreter, args: Args) -> JacResult<Value> {
    match args.required(0, "id", "jobj")? {
        Value::Str(id) => Ok(vm.readable_node(&id)?.unwrap_or(Value::None)),
        other => Err(Exception::new(
            ExcType::TypeError,
            format!("jobj() needs an id string, not {}", other.type_name()),
        )),
    }
}

fn jid(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    vm.jid(&a.required(0, "obj", "jid")?)
}

fn commit(vm: &mut Interpreter, _a: Args) -> JacResult<Value> {
    vm.flush()?;
    Ok(Value::None)
}

fn save(vm: &mut Interpreter, a: Args) -> JacResult<Value> {
    let v = a.required(0, "obj", "save")?;
    if let Value::Instance(i) = &v
        && i.class.is_kind(ArchKind::Node)
    {
        vm.node_id_of(&v)?;
    }
    Ok(v)
}

/// `@restspec(...)` and `@schedule(...)`: HTTP/scheduling metadata read by the
/// host from the source; at run time the decorator returns its target unchanged.
fn passthrough_decorator(_vm: &mut Interpreter, _args: Args) -> JacResult<Value> {
    Ok(NativeFn::value("decorator", |_vm, args| {
        args.required(0, "target", "decorator")
    }))
}

fn access_level_enum() -> Rc<Class> {
    enum_class(
        "AccessLevel",
        &[
            ("NO_ACCESS", Value::Int(-1)),
            ("READ", Value::Int(0)),
            ("CONNECT", Value::Int(1)),
            ("WRITE", Value::Int(2)),
        ],
    )
}

/// Sets the runtime's constants: `AccessLevel` and its aliases (`ReadPerm`, `READ`, ...),
/// `APIProtocol`, `ScheduleTrigger`.
pub(super) fn install_constants(builtins: &Module) {
    let levels = access_level_enum();
    for (alias, member) in [
        ("NoPerm", "NO_ACCESS"),
        ("ReadPerm", "READ"),
        ("ConnectPerm", "CONNECT"),
        ("WritePerm", "WRITE"),
        ("READ", "READ"),
        ("CONNECT", "CONNECT"),
        ("WRITE", "WRITE"),
    ] {
        if let Some(v) = levels.lookup(member) {
            builtins.set(alias, v);
        }
    }
    builtins.set("AccessLevel", Value::Class(levels));
    let protocol = enum_class(
        "APIProtocol",
        &[
            ("HTTP", Value::from("http")),
            ("WEBHOOK", Value::from("webhook")),
            ("WEBSOCKET", Value::from("websocket")),
        ],
    );
    builtins.set("APIProtocol", Value::Class(protocol));
    let trigger = enum_class(
        "ScheduleTrigger",
        &[
            ("STATIC", Value::from("static")),
            ("DYNAMIC", Value::from("dynamic")),
        ],
    );
    builtins.set("ScheduleTrigger", Value::Class(trigger));
}

/// The `jaclang` module: `JacRuntime` (alias `Jac`) with the permission and graph helpers.
pub fn jaclang_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let runtime = Rc::new(Module::new("JacRuntime"));
    for &(name, f) in RUNTIME {
        runtime.set(name, NativeFn::value(name, f));
    }
    let module = Module::new("jaclang");
    module.set("JacRuntime", Value::Module(runtime.clone()));
    module.set("Jac", Value::Module(runtime));
    module.set(
        "restspec",
        NativeFn::value("restspec", passthrough_decorator),
    );
    Ok(Rc::new(module))
}
