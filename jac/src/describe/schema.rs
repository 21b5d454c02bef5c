//! JSON Schemas of type annotations (`has` fields and function parameters).

use std::rc::Rc;

use serde_json::{Map, Value as Json, json};

use super::literal::literal_json;
use super::types::TypeDecl;
use super::{Describer, MAX_SCHEMA_DEPTH};
use crate::syntax::ast::*;

impl Describer<'_> {
    /// JSON Schema of a type annotation.
    pub(super) fn schema(&self, ty: &Expr, depth: usize, stack: &mut Vec<Rc<str>>) -> Json {
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

    pub(super) fn union_alternatives(
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

    pub(super) fn generic_schema(
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

    pub(super) fn named_schema(&self, name: &str, depth: usize, stack: &mut Vec<Rc<str>>) -> Json {
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
    pub(super) fn object_schema(
        &self,
        arch: &Archetype,
        depth: usize,
        stack: &mut Vec<Rc<str>>,
    ) -> Json {
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
}

/// The last name of a (dotted) name expression: `HTTPMethod.GET` -> `GET`.
pub(super) fn type_name(e: &Expr) -> Option<&str> {
    match &e.kind {
        ExprKind::Name(n) => Some(n),
        ExprKind::Attribute { attr, .. } => Some(attr),
        _ => None,
    }
}

pub(super) fn enum_schema(decl: &EnumDecl) -> Json {
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
