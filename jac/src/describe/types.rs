//! The archetypes and enums a type annotation can name.

use std::collections::HashMap;
use std::rc::Rc;

use crate::syntax::ast::*;

/// A named declaration a type annotation can refer to.
#[derive(Clone)]
pub(super) enum TypeDecl {
    Arch(Rc<Archetype>),
    Enum(Rc<EnumDecl>),
}

/// Archetypes and enums by name: those of the entry module, then those of every
/// other module (under their own names and import aliases).
pub(super) struct TypeTable {
    by_name: HashMap<Rc<str>, TypeDecl>,
}

impl TypeTable {
    pub(super) fn new(program: &Program) -> Self {
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

    pub(super) fn get(&self, name: &str) -> Option<&TypeDecl> {
        self.by_name.get(name)
    }
}
