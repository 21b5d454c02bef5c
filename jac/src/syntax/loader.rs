//! Multi-file program loading: the entry module, every `.jac` module it
//! imports (transitively), and `x.impl.jac` annexes; then `impl` linking.
//!
//! Imports are resolved wherever they appear (module level, `with entry`,
//! function and ability bodies). Files are read through a [`SourceProvider`] so the same loader works on a
//! real directory ([`DirSources`]) and on an in-memory file set inside wasm
//! ([`MemorySources`]). Imports that do not name a `.jac` file of the app are
//! left unresolved ([`ModulePath::resolved`] = `None`): they are runtime
//! (stdlib) modules, checked by the evaluator.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::rc::Rc;

use super::ast::*;
use super::diagnostic::Diagnostic;
use super::parser::{module_name_of, parse_module};

/// Where the loader reads `.jac` files from. Paths are `/`-separated and
/// relative to the app root (`app.jac`, `pkg/models.jac`).
pub trait SourceProvider {
    /// The file's text, or `Ok(None)` if there is no such file.
    fn read(&self, path: &str) -> std::io::Result<Option<String>>;
}

/// Sources in a directory on disk (or a WASI preopen).
#[derive(Debug, Clone)]
pub struct DirSources {
    root: PathBuf,
}

impl DirSources {
    /// Sources under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        DirSources { root: root.into() }
    }
}

impl SourceProvider for DirSources {
    fn read(&self, path: &str) -> std::io::Result<Option<String>> {
        match std::fs::read_to_string(self.root.join(path)) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// An in-memory file set (path -> text).
#[derive(Debug, Clone, Default)]
pub struct MemorySources {
    files: BTreeMap<String, String>,
}

impl MemorySources {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, path: impl Into<String>, text: impl Into<String>) -> &mut Self {
        self.files.insert(path.into(), text.into());
        self
    }
}

impl SourceProvider for MemorySources {
    fn read(&self, path: &str) -> std::io::Result<Option<String>> {
        Ok(self.files.get(path).cloned())
    }
}

/// Loads the program whose entry file is `entry` (e.g. `app.jac`).
pub fn load_program(provider: &dyn SourceProvider, entry: &str) -> Result<Program, Diagnostic> {
    let mut sources = SourceMap::default();
    let mut modules = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut queue = VecDeque::from([entry.trim_start_matches("./").to_string()]);
    seen.insert(queue[0].clone());
    while let Some(path) = queue.pop_front() {
        let text = read(provider, &path)?
            .ok_or_else(|| Diagnostic::without_position(&path, "no such file"))?;
        let file = sources.add(&path, &text);
        let mut module = parse_module(&text, file, &path)?;
        let annex = format!("{}.impl.jac", path.strip_suffix(".jac").unwrap_or(&path));
        if let Some(annex_text) = read(provider, &annex)? {
            let annex_file = sources.add(&annex, &annex_text);
            let annexed = parse_module(&annex_text, annex_file, &annex)?;
            module.items.extend(annexed.items);
        }
        let mut imports = Vec::new();
        collect_imports(&mut module.items, &mut imports);
        for import in imports {
            for target in import_paths(import) {
                if let Some(found) = resolve(provider, &path, target)? {
                    target.resolved = Some(module_name_of(&found).into());
                    if seen.insert(found.clone()) {
                        queue.push_back(found);
                    }
                }
            }
        }
        link_impls(&mut module, &sources)?;
        modules.push(module);
    }
    Ok(Program { modules, sources })
}

fn read(provider: &dyn SourceProvider, path: &str) -> Result<Option<String>, Diagnostic> {
    provider
        .read(path)
        .map_err(|e| Diagnostic::without_position(path, format!("cannot read file: {e}")))
}

/// Every import of a module: top-level ones and those inside `with entry`
/// blocks, functions, abilities and methods (at any depth).
fn collect_imports<'m>(items: &'m mut [Item], out: &mut Vec<&'m mut Import>) {
    for item in items {
        match &mut item.kind {
            ItemKind::Import(import) => out.push(import),
            ItemKind::Entry(entry) => block_imports(&mut entry.body, out),
            ItemKind::Test(test) => block_imports(&mut test.body, out),
            ItemKind::Function(f) => function_imports(Rc::make_mut(f), out),
            ItemKind::Ability(a) => ability_imports(Rc::make_mut(a), out),
            ItemKind::Archetype(a) => member_imports(&mut Rc::make_mut(a).members, out),
            ItemKind::Enum(e) => member_imports(&mut Rc::make_mut(e).members, out),
            ItemKind::Impl(i) => impl_imports(Rc::make_mut(i), out),
            ItemKind::Glob(_) => {}
        }
    }
}

fn member_imports<'m>(members: &'m mut [Member], out: &mut Vec<&'m mut Import>) {
    for member in members {
        match &mut member.kind {
            MemberKind::Method(f) => function_imports(Rc::make_mut(f), out),
            MemberKind::Ability(a) => ability_imports(Rc::make_mut(a), out),
            MemberKind::Archetype(a) => member_imports(&mut Rc::make_mut(a).members, out),
            MemberKind::Enum(e) => member_imports(&mut Rc::make_mut(e).members, out),
            MemberKind::Impl(i) => impl_imports(Rc::make_mut(i), out),
            MemberKind::Has(_) => {}
        }
    }
}

fn function_imports<'m>(f: &'m mut FunctionDef, out: &mut Vec<&'m mut Import>) {
    if let FnBody::Block(body) = &mut f.body {
        block_imports(body, out);
    }
}

fn ability_imports<'m>(a: &'m mut Ability, out: &mut Vec<&'m mut Import>) {
    if let Some(body) = &mut a.body {
        block_imports(body, out);
    }
}

fn impl_imports<'m>(i: &'m mut ImplBlock, out: &mut Vec<&'m mut Import>) {
    match &mut i.kind {
        ImplKind::Function { body, .. } | ImplKind::Ability { body, .. } => {
            block_imports(body, out)
        }
        ImplKind::Members(members) => member_imports(members, out),
        ImplKind::EnumItems(_) => {}
    }
}

fn block_imports<'m>(block: &'m mut Block, out: &mut Vec<&'m mut Import>) {
    for stmt in &mut block.stmts {
        match &mut stmt.kind {
            StmtKind::Import(import) => out.push(import),
            StmtKind::If { branches, orelse } => {
                for (_, b) in branches {
                    block_imports(b, out);
                }
                if let Some(b) = orelse {
                    block_imports(b, out);
                }
            }
            StmtKind::For { body, orelse, .. } | StmtKind::While { body, orelse, .. } => {
                block_imports(body, out);
                if let Some(b) = orelse {
                    block_imports(b, out);
                }
            }
            StmtKind::ForTo { body, .. }
            | StmtKind::With { body, .. }
            | StmtKind::TypedContext { body, .. } => block_imports(body, out),
            StmtKind::Try {
                body,
                handlers,
                orelse,
                finally,
            } => {
                block_imports(body, out);
                for h in handlers {
                    block_imports(&mut h.body, out);
                }
                for b in [orelse, finally].into_iter().flatten() {
                    block_imports(b, out);
                }
            }
            StmtKind::Match { cases, .. } => {
                for c in cases {
                    block_imports(&mut c.body, out);
                }
            }
            StmtKind::Visit {
                orelse: Some(b), ..
            } => block_imports(b, out),
            StmtKind::Function(f) => function_imports(Rc::make_mut(f), out),
            StmtKind::Archetype(a) => member_imports(&mut Rc::make_mut(a).members, out),
            StmtKind::Enum(e) => member_imports(&mut Rc::make_mut(e).members, out),
            _ => {}
        }
    }
}

fn import_paths(import: &mut Import) -> Vec<&mut ModulePath> {
    match &mut import.kind {
        ImportKind::Modules(mods) => mods.iter_mut().map(|m| &mut m.module).collect(),
        ImportKind::From { module, .. } | ImportKind::Include(module) => vec![module],
    }
}

/// The app file a module path refers to, if it names one (`a/b.jac`, or a
/// package's `a/b/__init__.jac`). Relative paths resolve against the importing
/// file's directory; absolute ones against the importing file's directory
/// first, then the app root.
fn resolve(
    provider: &dyn SourceProvider,
    importer: &str,
    target: &ModulePath,
) -> Result<Option<String>, Diagnostic> {
    if target.parts.is_empty() {
        return Ok(None);
    }
    let mut dir: Vec<&str> = importer.split('/').collect();
    dir.pop(); // the file name
    let tail = target.parts.join("/");
    let mut candidates = Vec::new();
    if target.level > 0 {
        for _ in 1..target.level {
            if dir.pop().is_none() {
                return Ok(None);
            }
        }
        candidates.extend([join(&dir, &tail), join(&dir, &format!("{tail}/__init__"))]);
    } else {
        candidates.extend([
            join(&dir, &tail),
            join(&dir, &format!("{tail}/__init__")),
            format!("{tail}.jac"),
            format!("{tail}/__init__.jac"),
        ]);
    }
    for candidate in candidates {
        if read(provider, &candidate)?.is_some() {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

fn join(dir: &[&str], tail: &str) -> String {
    if dir.is_empty() {
        format!("{tail}.jac")
    } else {
        format!("{}/{tail}.jac", dir.join("/"))
    }
}

// ----------------------------------------------------------------- impl linking

/// A declaration an `impl` can complete.
enum Target<'a> {
    Arch(&'a mut Archetype),
    Enum(&'a mut EnumDecl),
    Func(&'a mut FunctionDef),
    Ability(&'a mut Ability),
}

fn top_target<'a>(items: &'a mut [Item], name: &str) -> Option<Target<'a>> {
    items.iter_mut().find_map(|item| match &mut item.kind {
        ItemKind::Archetype(a) if &*a.name == name => Some(Target::Arch(Rc::make_mut(a))),
        ItemKind::Enum(e) if &*e.name == name => Some(Target::Enum(Rc::make_mut(e))),
        ItemKind::Function(f) if &*f.name == name => Some(Target::Func(Rc::make_mut(f))),
        ItemKind::Ability(a) if a.name.as_deref() == Some(name) => {
            Some(Target::Ability(Rc::make_mut(a)))
        }
        _ => None,
    })
}

fn member_target<'a>(members: &'a mut [Member], name: &str) -> Option<Target<'a>> {
    members
        .iter_mut()
        .find_map(|member| match &mut member.kind {
            MemberKind::Archetype(a) if &*a.name == name => Some(Target::Arch(Rc::make_mut(a))),
            MemberKind::Enum(e) if &*e.name == name => Some(Target::Enum(Rc::make_mut(e))),
            MemberKind::Method(f) if &*f.name == name => Some(Target::Func(Rc::make_mut(f))),
            MemberKind::Ability(a) if a.name.as_deref() == Some(name) => {
                Some(Target::Ability(Rc::make_mut(a)))
            }
            _ => None,
        })
}

fn find_target<'a>(items: &'a mut [Item], path: &[Name]) -> Option<Target<'a>> {
    let (first, rest) = path.split_first()?;
    let mut target = top_target(items, first)?;
    for segment in rest {
        target = match target {
            Target::Arch(a) => member_target(&mut a.members, segment)?,
            Target::Enum(e) => member_target(&mut e.members, segment)?,
            Target::Func(_) | Target::Ability(_) => return None,
        };
    }
    Some(target)
}

/// Moves every `impl` (top level, and inside archetype bodies at any depth, where
/// the target is relative to the enclosing archetype) into its declaration, then checks that no
/// declared-only ability or function is left without a body.
fn link_impls(module: &mut Module, sources: &SourceMap) -> Result<(), Diagnostic> {
    let mut impls: Vec<(Vec<Name>, Rc<ImplBlock>)> = Vec::new();
    module.items.retain(|item| match &item.kind {
        ItemKind::Impl(imp) => {
            impls.push((Vec::new(), imp.clone()));
            false
        }
        _ => true,
    });
    for item in &mut module.items {
        if let ItemKind::Archetype(arch) = &mut item.kind {
            take_member_impls(arch, &mut Vec::new(), &mut impls);
        }
    }
    for (prefix, imp) in impls {
        let path: Vec<Name> = prefix
            .into_iter()
            .chain(imp.target.iter().cloned())
            .collect();
        let shown = path.join(".");
        let Some(target) = find_target(&mut module.items, &path) else {
            return Err(Diagnostic::at(
                sources,
                imp.span,
                format!("impl target '{shown}' is not declared in this module"),
            ));
        };
        let mismatch =
            |what: &str| Diagnostic::at(sources, imp.span, format!("impl '{shown}': {what}"));
        match (&imp.kind, target) {
            (ImplKind::Ability { body, .. }, Target::Ability(ability))
            | (
                ImplKind::Function {
                    body,
                    params: None,
                    returns: None,
                },
                Target::Ability(ability),
            ) => {
                ability.decorators.extend(imp.decorators.iter().cloned());
                ability.body = Some(body.clone());
            }
            (
                ImplKind::Function {
                    params,
                    returns,
                    body,
                },
                Target::Func(func),
            ) => {
                func.decorators.extend(imp.decorators.iter().cloned());
                if let Some(params) = params {
                    func.params = params.clone();
                }
                if let Some(returns) = returns {
                    func.returns = Some(returns.clone());
                }
                func.body = FnBody::Block(body.clone());
            }
            // `impl f { }`: an empty body reads as an empty member list.
            (ImplKind::Members(members), Target::Func(func)) if members.is_empty() => {
                func.body = FnBody::Block(Block {
                    stmts: Vec::new(),
                    span: imp.span,
                });
            }
            (ImplKind::Members(members), Target::Ability(ability)) if members.is_empty() => {
                ability.body = Some(Block {
                    stmts: Vec::new(),
                    span: imp.span,
                });
            }
            (ImplKind::Members(members), Target::Arch(arch)) => {
                arch.members.extend(members.iter().cloned())
            }
            (ImplKind::Members(members), Target::Enum(decl)) => {
                decl.members.extend(members.iter().cloned())
            }
            (ImplKind::EnumItems(items), Target::Enum(decl)) => {
                decl.items.extend(items.iter().cloned())
            }
            (ImplKind::Ability { .. }, _) => return Err(mismatch("the target is not an ability")),
            (ImplKind::Function { .. }, _) => {
                return Err(mismatch("the target is not a function or method"));
            }
            (ImplKind::Members(_), _) => {
                return Err(mismatch(
                    "members can only be added to an archetype or enum",
                ));
            }
            (ImplKind::EnumItems(_), _) => {
                return Err(mismatch("enumerators can only be added to an enum"));
            }
        }
    }
    for item in &module.items {
        match &item.kind {
            ItemKind::Archetype(a) => check_members(&a.members, sources)?,
            ItemKind::Enum(e) => check_members(&e.members, sources)?,
            ItemKind::Function(f) => check_function(f, sources)?,
            ItemKind::Ability(a) => check_ability(a, sources)?,
            _ => {}
        }
    }
    Ok(())
}

/// Removes `impl` members from `arch` and its nested archetypes, recording
/// each with the path of its enclosing archetype (targets are relative to it).
fn take_member_impls(
    arch: &mut Rc<Archetype>,
    prefix: &mut Vec<Name>,
    out: &mut Vec<(Vec<Name>, Rc<ImplBlock>)>,
) {
    let has_impls = |a: &Archetype| {
        a.members
            .iter()
            .any(|m| matches!(m.kind, MemberKind::Impl(_) | MemberKind::Archetype(_)))
    };
    if !has_impls(arch) {
        return;
    }
    let arch = Rc::make_mut(arch);
    prefix.push(arch.name.clone());
    arch.members.retain(|m| match &m.kind {
        MemberKind::Impl(imp) => {
            out.push((prefix.clone(), imp.clone()));
            false
        }
        _ => true,
    });
    for member in &mut arch.members {
        if let MemberKind::Archetype(nested) = &mut member.kind {
            take_member_impls(nested, prefix, out);
        }
    }
    prefix.pop();
}

fn check_members(members: &[Member], sources: &SourceMap) -> Result<(), Diagnostic> {
    for member in members {
        match &member.kind {
            MemberKind::Archetype(a) => check_members(&a.members, sources)?,
            MemberKind::Enum(e) => check_members(&e.members, sources)?,
            MemberKind::Method(f) => check_function(f, sources)?,
            MemberKind::Ability(a) => check_ability(a, sources)?,
            MemberKind::Has(_) | MemberKind::Impl(_) => {}
        }
    }
    Ok(())
}

fn check_function(f: &FunctionDef, sources: &SourceMap) -> Result<(), Diagnostic> {
    if matches!(f.body, FnBody::Declared) {
        return Err(Diagnostic::at(
            sources,
            f.span,
            format!(
                "'{}' is declared but never implemented (no matching 'impl')",
                f.name
            ),
        ));
    }
    Ok(())
}

fn check_ability(a: &Ability, sources: &SourceMap) -> Result<(), Diagnostic> {
    if a.body.is_none() {
        let name = a.name.as_deref().unwrap_or("<anonymous>");
        return Err(Diagnostic::at(
            sources,
            a.span,
            format!("ability '{name}' is declared but never implemented (no matching 'impl')"),
        ));
    }
    Ok(())
}
