//! The endpoint manifest of a loaded program: every walker and every public
//! module-level function of the entry module, with JSON-schema'd inputs.
//!
//! Pure syntax work (no evaluation): types are read structurally from the
//! annotations, defaults are converted to JSON when they are literals. The
//! structs mirror the WIT `manifest` record without depending on WIT; the
//! guest glue converts them.
//!
//! [`manifest`] holds the types, [`types`] the names annotations refer to, [`schema`] the
//! JSON Schemas of annotations, [`restspec`] the `@restspec` decorator and [`literal`]
//! the literal defaults.

mod literal;
mod manifest;
mod restspec;
mod schedule;
mod schema;
mod types;

use std::rc::Rc;

use serde_json::json;

use crate::syntax::ast::*;
use crate::syntax::{Diagnostic, SourceMap};
use schema::type_name;
use types::TypeDecl;
use types::TypeTable;

pub use literal::literal_json;
pub use manifest::{
    DescribeError, Endpoint, EndpointAccess, EndpointKind, Field, HttpMethod, Job, Manifest,
    Protocol, Trigger,
};

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
    let mut jobs: Vec<Job> = Vec::new();
    let mut add = |endpoint: Endpoint| match endpoints.iter_mut().find(|e| e.name == endpoint.name)
    {
        Some(slot) => *slot = endpoint,
        None => endpoints.push(endpoint),
    };
    for item in &program.entry().items {
        let (decorators, name, kind) = match &item.kind {
            ItemKind::Archetype(arch) if arch.kind == ArchKind::Walker => {
                (&arch.decorators[..], &*arch.name, EndpointKind::Walker)
            }
            ItemKind::Function(func) => (&func.decorators[..], &*func.name, EndpointKind::Function),
            _ => (&[][..], "", EndpointKind::Function),
        };
        if let Some(trigger) = ctx.schedule(decorators)? {
            jobs.push(Job {
                name: name.to_string(),
                kind,
                trigger,
            });
            continue;
        }
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
    Ok(Manifest { endpoints, jobs })
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
