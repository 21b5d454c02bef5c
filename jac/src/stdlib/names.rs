//! Name-only modules: `typing` (annotation names, subscriptable), `http`
//! (`HTTPMethod`, `HTTPStatus` codes used by apps, `UploadFile`), `fastapi`
//! (`UploadFile`), `enum` (`Enum` bases,
//! `auto`) and `dataclasses` (`dataclass` as a no-op decorator: archetypes are
//! already dataclasses).

use std::rc::Rc;

use super::{def, type_object};
use crate::builtins::functions::enum_class;
use crate::data::upload::upload_file_class;
use crate::interp::Interpreter;
use crate::value::class::{ArchKind, BuiltinType};
use crate::value::{Class, JacResult, Module, Value};

/// Builds the `typing` module.
pub(super) fn typing_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("typing"));
    let builtin_aliases = [
        ("List", BuiltinType::List),
        ("Dict", BuiltinType::Dict),
        ("Tuple", BuiltinType::Tuple),
        ("Set", BuiltinType::Set),
        ("FrozenSet", BuiltinType::Set),
        ("Type", BuiltinType::Type),
        ("Text", BuiltinType::Str),
    ];
    for (name, ty) in builtin_aliases {
        module.set(name, Value::Class(ty.class()));
    }
    // Special forms: classes so `Optional[int]` evaluates (subscripting a class yields it).
    for name in [
        "Any",
        "Optional",
        "Union",
        "Callable",
        "Generator",
        "AsyncGenerator",
        "Iterator",
        "AsyncIterator",
        "Iterable",
        "Sequence",
        "Mapping",
        "MutableMapping",
        "Awaitable",
        "Coroutine",
        "Literal",
        "ClassVar",
        "Final",
        "Annotated",
        "NoReturn",
        "Never",
        "Self",
        "TypedDict",
        "Protocol",
        "Generic",
    ] {
        module.set(name, Value::Class(type_object(name)));
    }
    module.set("TYPE_CHECKING", Value::Bool(false));
    def(&module, "cast", |_, args| args.required(1, "val", "cast"));
    def(&module, "TypeVar", |_, args| {
        let name = super::arg_str(&args, 0, "name", "TypeVar")?;
        Ok(Value::Class(type_object(&name)))
    });
    Ok(module)
}

/// Builds the `http` module.
pub(super) fn http_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("http"));
    let methods = [
        "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE",
    ];
    let members: Vec<(&str, Value)> = methods.iter().map(|m| (*m, Value::from(*m))).collect();
    module.set(
        "HTTPMethod",
        Value::Class(enum_class("HTTPMethod", &members)),
    );
    let statuses: [(&str, i64); 12] = [
        ("OK", 200),
        ("CREATED", 201),
        ("ACCEPTED", 202),
        ("NO_CONTENT", 204),
        ("BAD_REQUEST", 400),
        ("UNAUTHORIZED", 401),
        ("FORBIDDEN", 403),
        ("NOT_FOUND", 404),
        ("CONFLICT", 409),
        ("UNPROCESSABLE_ENTITY", 422),
        ("INTERNAL_SERVER_ERROR", 500),
        ("SERVICE_UNAVAILABLE", 503),
    ];
    let members: Vec<(&str, Value)> = statuses.iter().map(|(n, c)| (*n, Value::Int(*c))).collect();
    module.set(
        "HTTPStatus",
        Value::Class(enum_class("HTTPStatus", &members)),
    );
    module.set("UploadFile", Value::Class(upload_file_class()));
    Ok(module)
}

/// Builds the `fastapi` module: only `UploadFile`, the annotation of multipart
/// file fields in FastAPI-era apps (the host fills such fields).
pub(super) fn fastapi_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("fastapi"));
    module.set("UploadFile", Value::Class(upload_file_class()));
    Ok(module)
}

/// Builds the `enum` module.
pub(super) fn enum_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("enum"));
    for name in ["Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"] {
        let base = Class::new(name, ArchKind::Enum, Vec::new(), Vec::new(), Vec::new());
        module.set(name, Value::Class(Rc::new(base)));
    }
    // `auto()` leaves the value to the enum's automatic numbering (an enumerator without a value).
    def(&module, "auto", |_, _| Ok(Value::None));
    def(&module, "unique", |_, args| {
        args.required(0, "enumeration", "unique")
    });
    Ok(module)
}

/// Builds the `dataclasses` module.
pub(super) fn dataclasses_module(_vm: &mut Interpreter) -> JacResult<Rc<Module>> {
    let module = Rc::new(Module::new("dataclasses"));
    def(&module, "dataclass", |_, args| {
        args.required(0, "cls", "dataclass")
    });
    Ok(module)
}
