//! The endpoint manifest of a loaded program: every walker and every public
//! module-level function of the entry module, with JSON-schema'd inputs.
//!
//! Pure syntax work (no evaluation): types are read structurally from the
//! annotations, defaults are converted to JSON when they are literals. The
//! structs mirror the WIT `manifest` record without depending on WIT; the
//! guest glue converts them.

use std::collections::HashMap;
use std::rc::Rc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use crate::syntax::ast::*;
use crate::syntax::{Diagnostic, SourceMap};

/// Walker or free function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointKind {
    /// A walker (`POST /walker/<name>`).
    Walker,
    /// A module-level function (`POST /function/<name>`).
    Function,
}

/// How an endpoint is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Plain HTTP (default).
    Http,
    /// `@restspec(protocol=APIProtocol.WEBHOOK)` / `@restspec(webhook=True)`.
    Webhook,
    /// `@restspec(protocol=APIProtocol.WEBSOCKET)`.
    Websocket,
}

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET (arguments from the query string).
    Get,
    /// POST (default).
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

/// Who may call an endpoint over HTTP (the WIT `access` enum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndpointAccess {
    /// `:pub` — no token needed.
    Public,
    /// No modifier or `:protect` — a bearer token is required.
    Protected,
    /// `:priv` — not exposed over HTTP.
    Private,
}

/// One input: a walker `has` field or a function parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// Field / parameter name.
    pub name: String,
    /// JSON Schema of the value.
    pub schema: Json,
    /// Must the caller send it? (`false` when the declaration has a default.)
    pub required: bool,
    /// The default as JSON when it is a literal; `None` with `required == false`
    /// means the default is an expression the runtime evaluates.
    pub default: Option<Json>,
    /// The docstring of the declaring `has` statement.
    pub doc: Option<String>,
}

/// One walker or function as the host serves it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Endpoint {
    /// Walker or function name.
    pub name: String,
    /// Walker or function.
    pub kind: EndpointKind,
    /// HTTP, webhook or WebSocket.
    pub protocol: Protocol,
    /// HTTP method.
    pub method: HttpMethod,
    /// `@restspec(path=...)`, may hold `{field}` templates.
    pub path: Option<String>,
    /// Who may call it.
    pub access: EndpointAccess,
    /// `@restspec(broadcast=True)`.
    pub broadcast: bool,
    /// `async walker` / `async def`.
    pub is_async: bool,
    /// Inputs in declaration order (inherited walker fields first).
    pub fields: Vec<Field>,
    /// The docstring.
    pub doc: Option<String>,
}

/// Every endpoint of an app, in source order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The endpoints.
    pub endpoints: Vec<Endpoint>,
}

/// Why a manifest could not be built.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct DescribeError(pub Diagnostic);

/// How deep nested `obj` types are expanded before falling back to `{"type": "object"}`.
const MAX_SCHEMA_DEPTH: usize = 8;

/// Builds the manifest of `program`: the walkers in the entry module's
/// namespace (declared there, or imported from the app's own modules by name,
/// `include` or `{ * }`, as jac-scale's introspection sees them) and the
/// public functions declared in the entry module. `@schedule`d walkers and
/// functions are jobs, not endpoints.
pub fn describe(program: &Program) -> Result<Manifest, DescribeError> {
    let types = TypeTable::new(program);
    let ctx = Describer {
        types,
        sources: &program.sources,
    };
    let mut endpoints: Vec<Endpoint> = Vec::new();
    let mut add = |endpoint: Endpoint| match endpoints.iter_mut().find(|e| e.name == endpoint.name)
    {
        Some(slot) => *slot = endpoint,
        None => endpoints.push(endpoint),
    };
    for item in &program.entry().items {
        match &item.kind {
            ItemKind::Archetype(arch) if is_endpoint_walker(arch) => {
                add(ctx.walker(arch, &arch.name)?)
            }
            ItemKind::Function(func)
                if !func.name.starts_with('_') && !is_scheduled(&func.decorators) =>
            {
                add(ctx.function(func)?);
            }
            ItemKind::Import(import) => {
                for (name, arch) in imported_walkers(program, import) {
                    add(ctx.walker(&arch, &name)?);
                }
            }
            _ => {}
        }
    }
    Ok(Manifest { endpoints })
}

fn is_endpoint_walker(arch: &Archetype) -> bool {
    arch.kind == ArchKind::Walker && !is_scheduled(&arch.decorators)
}

/// `@schedule(...)` turns a walker or function into a scheduled job.
fn is_scheduled(decorators: &[Expr]) -> bool {
    decorators.iter().any(|d| {
        let callee = match &d.kind {
            ExprKind::Call { func, .. } => func,
            _ => d,
        };
        type_name(callee) == Some("schedule")
    })
}

/// Walkers an import binds in the entry module, with the names they are bound to.
fn imported_walkers(program: &Program, import: &Import) -> Vec<(Rc<str>, Rc<Archetype>)> {
    let walkers_of = |path: &ModulePath| -> Vec<Rc<Archetype>> {
        let Some(module) = path.resolved.as_deref().and_then(|m| program.module(m)) else {
            return Vec::new();
        };
        module
            .items
            .iter()
            .filter_map(|i| match &i.kind {
                ItemKind::Archetype(a) if is_endpoint_walker(a) => Some(a.clone()),
                _ => None,
            })
            .collect()
    };
    match &import.kind {
        ImportKind::From { module, items } => {
            let walkers = walkers_of(module);
            items
                .iter()
                .filter_map(|item| {
                    let arch = walkers.iter().find(|w| w.name == item.name)?;
                    Some((
                        item.alias.clone().unwrap_or_else(|| item.name.clone()),
                        arch.clone(),
                    ))
                })
                .collect()
        }
        ImportKind::Include(module) => walkers_of(module)
            .into_iter()
            .map(|w| (w.name.clone(), w))
            .collect(),
        ImportKind::Modules(_) => Vec::new(),
    }
}

/// A named declaration a type annotation can refer to.
#[derive(Clone)]
enum TypeDecl {
    Arch(Rc<Archetype>),
    Enum(Rc<EnumDecl>),
}

/// Archetypes and enums by name: those of the entry module, then those of every
/// other module (under their own names and import aliases).
struct TypeTable {
    by_name: HashMap<Rc<str>, TypeDecl>,
}

impl TypeTable {
    fn new(program: &Program) -> Self {
        let mut by_name = HashMap::new();
        let decls = |m: &Module| -> Vec<(Rc<str>, TypeDecl)> {
            m.items
                .iter()
                .filter_map(|i| match &i.kind {
                    ItemKind::Archetype(a) => Some((a.name.clone(), TypeDecl::Arch(a.clone()))),
                    ItemKind::Enum(e) => Some((e.name.clone(), TypeDecl::Enum(e.clone()))),
                    _ => None,
                })
                .collect()
        };
        // Other modules first so the entry module's own names win.
        for module in program.modules.iter().skip(1) {
            by_name.extend(decls(module));
        }
        // Import aliases in the entry module (`import from models { User as U }`).
        for item in &program.entry().items {
            let ItemKind::Import(Import {
                kind: ImportKind::From { module, items },
                ..
            }) = &item.kind
            else {
                continue;
            };
            let Some(source) = module.resolved.as_deref().and_then(|m| program.module(m)) else {
                continue;
            };
            let exported: HashMap<Rc<str>, TypeDecl> = decls(source).into_iter().collect();
            for imported in items {
                if let Some(decl) = exported.get(&imported.name) {
                    by_name.insert(
                        imported
                            .alias
                            .clone()
                            .unwrap_or_else(|| imported.name.clone()),
                        decl.clone(),
                    );
                }
            }
        }
        by_name.extend(decls(program.entry()));
        TypeTable { by_name }
    }

    fn get(&self, name: &str) -> Option<&TypeDecl> {
        self.by_name.get(name)
    }
}

struct Describer<'p> {
    types: TypeTable,
    sources: &'p SourceMap,
}

impl Describer<'_> {
    fn error(&self, span: Span, msg: impl Into<String>) -> DescribeError {
        DescribeError(Diagnostic::at(self.sources, span, msg))
    }

    /// The endpoint of walker `arch`, served under `name` (its name in the entry module).
    fn walker(&self, arch: &Archetype, name: &str) -> Result<Endpoint, DescribeError> {
        let mut endpoint = Endpoint {
            name: name.to_string(),
            kind: EndpointKind::Walker,
            protocol: Protocol::Http,
            method: HttpMethod::Post,
            path: None,
            access: access(arch.access),
            broadcast: false,
            is_async: arch.is_async,
            fields: Vec::new(),
            doc: arch.doc.as_deref().map(str::to_string),
        };
        self.apply_restspec(&arch.decorators, &mut endpoint)?;
        let mut visiting = Vec::new();
        endpoint.fields = self
            .has_fields(arch, &mut visiting)
            .into_iter()
            .map(|(var, doc)| {
                self.field(
                    &var.name,
                    Some(&var.ty),
                    var.default.as_ref(),
                    doc,
                    0,
                    &mut Vec::new(),
                )
            })
            .collect();
        Ok(endpoint)
    }

    fn function(&self, func: &FunctionDef) -> Result<Endpoint, DescribeError> {
        let mut endpoint = Endpoint {
            name: func.name.to_string(),
            kind: EndpointKind::Function,
            protocol: Protocol::Http,
            method: HttpMethod::Post,
            path: None,
            access: access(func.access),
            broadcast: false,
            is_async: func.is_async,
            fields: Vec::new(),
            doc: func.doc.as_deref().map(str::to_string),
        };
        self.apply_restspec(&func.decorators, &mut endpoint)?;
        endpoint.fields = func
            .params
            .iter()
            .filter(|p| {
                matches!(
                    p.kind,
                    ParamKind::Normal | ParamKind::KeywordOnly | ParamKind::PositionalOnly
                )
            })
            .map(|p| {
                self.field(
                    &p.name,
                    p.ty.as_ref(),
                    p.default.as_ref(),
                    None,
                    0,
                    &mut Vec::new(),
                )
            })
            .collect();
        Ok(endpoint)
    }

    /// Instance `has` fields of `arch` including inherited ones, base-first; a
    /// redeclared field keeps its base position and takes the new declaration.
    fn has_fields(
        &self,
        arch: &Archetype,
        visiting: &mut Vec<Rc<str>>,
    ) -> Vec<(HasVar, Option<String>)> {
        let mut fields: Vec<(HasVar, Option<String>)> = Vec::new();
        if visiting.contains(&arch.name) {
            return fields; // inheritance cycle: stop
        }
        visiting.push(arch.name.clone());
        for base in &arch.bases {
            if let Some(TypeDecl::Arch(base)) = type_name(base).and_then(|n| self.types.get(n)) {
                let base = base.clone();
                for (var, doc) in self.has_fields(&base, visiting) {
                    upsert(&mut fields, var, doc);
                }
            }
        }
        for member in &arch.members {
            if let MemberKind::Has(has) = &member.kind
                && !has.is_static
            {
                for var in has.vars.iter().filter(|v| !v.postinit) {
                    upsert(
                        &mut fields,
                        var.clone(),
                        has.doc.as_deref().map(str::to_string),
                    );
                }
            }
        }
        visiting.pop();
        fields
    }

    fn field(
        &self,
        name: &str,
        ty: Option<&Expr>,
        default: Option<&Expr>,
        doc: Option<String>,
        depth: usize,
        stack: &mut Vec<Rc<str>>,
    ) -> Field {
        Field {
            name: name.to_string(),
            schema: ty.map_or_else(|| json!({}), |t| self.schema(t, depth, stack)),
            required: default.is_none(),
            default: default.and_then(literal_json),
            doc,
        }
    }

    // ------------------------------------------------------------- schemas

    /// JSON Schema of a type annotation.
    fn schema(&self, ty: &Expr, depth: usize, stack: &mut Vec<Rc<str>>) -> Json {
        match &ty.kind {
            ExprKind::None => json!({"type": "null"}),
            ExprKind::Str(name) => self.named_schema(name, depth, stack),
            ExprKind::Name(name) => self.named_schema(name, depth, stack),
            ExprKind::Attribute { attr, .. } => self.named_schema(attr, depth, stack),
            ExprKind::Binary {
                op: BinOp::BitOr,
                left,
                right,
            } => {
                let mut alts = Vec::new();
                self.union_alternatives(left, depth, stack, &mut alts);
                self.union_alternatives(right, depth, stack, &mut alts);
                json!({"anyOf": alts})
            }
            ExprKind::Index { value, index, .. } => {
                let args: Vec<&Expr> = match &index.kind {
                    ExprKind::Tuple(items) => items.iter().collect(),
                    _ => vec![index],
                };
                let generic = type_name(value).unwrap_or("");
                self.generic_schema(generic, &args, depth, stack)
            }
            _ => json!({}),
        }
    }

    fn union_alternatives(
        &self,
        ty: &Expr,
        depth: usize,
        stack: &mut Vec<Rc<str>>,
        out: &mut Vec<Json>,
    ) {
        if let ExprKind::Binary {
            op: BinOp::BitOr,
            left,
            right,
        } = &ty.kind
        {
            self.union_alternatives(left, depth, stack, out);
            self.union_alternatives(right, depth, stack, out);
        } else {
            out.push(self.schema(ty, depth, stack));
        }
    }

    fn generic_schema(
        &self,
        generic: &str,
        args: &[&Expr],
        depth: usize,
        stack: &mut Vec<Rc<str>>,
    ) -> Json {
        let arg =
            |i: usize, stack: &mut Vec<Rc<str>>| args.get(i).map(|a| self.schema(a, depth, stack));
        match generic {
            "list" | "List" | "Sequence" | "Iterable" => match arg(0, stack) {
                Some(items) => json!({"type": "array", "items": items}),
                None => json!({"type": "array"}),
            },
            "set" | "Set" | "frozenset" => match arg(0, stack) {
                Some(items) => json!({"type": "array", "items": items, "uniqueItems": true}),
                None => json!({"type": "array", "uniqueItems": true}),
            },
            "tuple" | "Tuple" => {
                let is_variadic = args.len() == 2 && matches!(args[1].kind, ExprKind::Ellipsis);
                if is_variadic {
                    json!({"type": "array", "items": arg(0, stack)})
                } else {
                    let items: Vec<Json> =
                        args.iter().map(|a| self.schema(a, depth, stack)).collect();
                    json!({"type": "array", "prefixItems": items, "minItems": items.len(), "maxItems": items.len()})
                }
            }
            "dict" | "Dict" | "Mapping" => match arg(1, stack) {
                Some(values) => json!({"type": "object", "additionalProperties": values}),
                None => json!({"type": "object"}),
            },
            "Optional" => {
                let inner = arg(0, stack).unwrap_or_else(|| json!({}));
                json!({"anyOf": [inner, {"type": "null"}]})
            }
            "Union" => {
                let mut alts = Vec::new();
                for a in args {
                    self.union_alternatives(a, depth, stack, &mut alts);
                }
                json!({"anyOf": alts})
            }
            "Literal" => {
                let values: Vec<Json> = args.iter().filter_map(|a| literal_json(a)).collect();
                json!({"enum": values})
            }
            _ => json!({}),
        }
    }

    fn named_schema(&self, name: &str, depth: usize, stack: &mut Vec<Rc<str>>) -> Json {
        match name {
            "str" => json!({"type": "string"}),
            "int" => json!({"type": "integer"}),
            "float" => json!({"type": "number"}),
            "bool" => json!({"type": "boolean"}),
            "bytes" => json!({"type": "string", "format": "byte"}),
            "None" | "NoneType" => json!({"type": "null"}),
            "list" | "List" | "tuple" | "Tuple" => json!({"type": "array"}),
            "set" | "Set" => json!({"type": "array", "uniqueItems": true}),
            "dict" | "Dict" => json!({"type": "object"}),
            "datetime" => json!({"type": "string", "format": "date-time"}),
            "date" => json!({"type": "string", "format": "date"}),
            "UploadFile" => json!({"type": "string", "format": "binary"}),
            _ => match self.types.get(name) {
                Some(TypeDecl::Arch(arch)) => self.object_schema(&arch.clone(), depth, stack),
                Some(TypeDecl::Enum(decl)) => enum_schema(decl),
                None => json!({}),
            },
        }
    }

    /// An `obj` (or other archetype) as an object schema; recursion is cut at
    /// the first repeat of a type on the current path and at [`MAX_SCHEMA_DEPTH`].
    fn object_schema(&self, arch: &Archetype, depth: usize, stack: &mut Vec<Rc<str>>) -> Json {
        if depth >= MAX_SCHEMA_DEPTH || stack.contains(&arch.name) {
            return json!({"type": "object", "title": &*arch.name});
        }
        stack.push(arch.name.clone());
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (var, doc) in self.has_fields(arch, &mut Vec::new()) {
            let field = self.field(
                &var.name,
                Some(&var.ty),
                var.default.as_ref(),
                doc,
                depth + 1,
                stack,
            );
            let mut schema = field.schema;
            if let (Some(default), Json::Object(map)) = (field.default, &mut schema) {
                map.insert("default".into(), default);
            }
            if field.required {
                required.push(Json::String(field.name.clone()));
            }
            properties.insert(field.name, schema);
        }
        stack.pop();
        json!({"type": "object", "title": &*arch.name, "properties": properties, "required": required})
    }

    // ------------------------------------------------------------- @restspec

    fn apply_restspec(
        &self,
        decorators: &[Expr],
        endpoint: &mut Endpoint,
    ) -> Result<(), DescribeError> {
        for decorator in decorators {
            let ExprKind::Call { func, args } = &decorator.kind else {
                continue;
            };
            if type_name(func) != Some("restspec") {
                continue;
            }
            for arg in args {
                let Arg::Keyword(key, value) = arg else {
                    return Err(
                        self.error(decorator.span, "@restspec takes keyword arguments only")
                    );
                };
                match &**key {
                    "method" => endpoint.method = self.method(value)?,
                    "path" => match &value.kind {
                        ExprKind::Str(path) => endpoint.path = Some(path.to_string()),
                        _ => {
                            return Err(self.error(
                                value.span,
                                "@restspec(path=...) must be a string literal",
                            ));
                        }
                    },
                    "protocol" => endpoint.protocol = self.protocol(value)?,
                    "webhook" => {
                        if self.flag(value)? {
                            endpoint.protocol = Protocol::Webhook;
                        }
                    }
                    "broadcast" => endpoint.broadcast = self.flag(value)?,
                    other => {
                        return Err(
                            self.error(value.span, format!("unknown @restspec option '{other}'"))
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn method(&self, value: &Expr) -> Result<HttpMethod, DescribeError> {
        let word = match &value.kind {
            ExprKind::Str(s) => s.to_string(),
            _ => type_name(value).unwrap_or("").to_string(),
        };
        Ok(match word.to_ascii_uppercase().as_str() {
            "GET" => HttpMethod::Get,
            "POST" => HttpMethod::Post,
            "PUT" => HttpMethod::Put,
            "PATCH" => HttpMethod::Patch,
            "DELETE" => HttpMethod::Delete,
            _ => {
                return Err(self.error(
                    value.span,
                    "@restspec(method=...) must be HTTPMethod.GET, POST, PUT, PATCH or DELETE",
                ));
            }
        })
    }

    fn protocol(&self, value: &Expr) -> Result<Protocol, DescribeError> {
        Ok(
            match type_name(value).map(str::to_ascii_uppercase).as_deref() {
                Some("HTTP") => Protocol::Http,
                Some("WEBHOOK") => Protocol::Webhook,
                Some("WEBSOCKET") => Protocol::Websocket,
                _ => {
                    return Err(self.error(
                        value.span,
                        "@restspec(protocol=...) must be APIProtocol.HTTP, WEBHOOK or WEBSOCKET",
                    ));
                }
            },
        )
    }

    fn flag(&self, value: &Expr) -> Result<bool, DescribeError> {
        match value.kind {
            ExprKind::Bool(b) => Ok(b),
            _ => Err(self.error(value.span, "expected True or False")),
        }
    }
}

fn access(access: Access) -> EndpointAccess {
    match access {
        Access::Public => EndpointAccess::Public,
        Access::Default | Access::Protected => EndpointAccess::Protected,
        Access::Private => EndpointAccess::Private,
    }
}

/// Adds or replaces (in place) a field by name.
fn upsert(fields: &mut Vec<(HasVar, Option<String>)>, var: HasVar, doc: Option<String>) {
    match fields.iter_mut().find(|(f, _)| f.name == var.name) {
        Some(slot) => *slot = (var, doc),
        None => fields.push((var, doc)),
    }
}

/// The last name of a (dotted) name expression: `HTTPMethod.GET` -> `GET`.
fn type_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        ExprKind::Attribute { attr, .. } => Some(attr),
        _ => None,
    }
}

fn enum_schema(decl: &EnumDecl) -> Json {
    let values: Option<Vec<Json>> = decl
        .items
        .iter()
        .map(|item| item.value.as_ref().and_then(literal_json))
        .collect();
    match values {
        Some(values) if !values.is_empty() => json!({"enum": values, "title": &*decl.name}),
        // Auto-numbered enumerators.
        _ => json!({"enum": (1..=decl.items.len()).collect::<Vec<_>>(), "title": &*decl.name}),
    }
}

/// The JSON value of a literal expression (numbers, strings, bools, None, and
/// lists / tuples / string-keyed dicts of literals); `None` otherwise.
pub fn literal_json(e: &Expr) -> Option<Json> {
    Some(match &e.kind {
        ExprKind::None => Json::Null,
        ExprKind::Bool(b) => Json::Bool(*b),
        ExprKind::Int(i) => Json::from(*i),
        ExprKind::Float(f) => Json::from(serde_json::Number::from_f64(*f)?),
        ExprKind::Str(s) => Json::String(s.to_string()),
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            Json::Array(items.iter().map(literal_json).collect::<Option<Vec<_>>>()?)
        }
        ExprKind::Dict(entries) => {
            let mut map = Map::new();
            for entry in entries {
                let DictEntry::Pair(k, v) = entry else {
                    return None;
                };
                let ExprKind::Str(key) = &k.kind else {
                    return None;
                };
                map.insert(key.to_string(), literal_json(v)?);
            }
            Json::Object(map)
        }
        _ => return None,
    })
}
