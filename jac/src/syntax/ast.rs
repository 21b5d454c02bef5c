//! The Jac abstract syntax tree.
//!
//! Produced by [`crate::syntax::parse_module`] and consumed by the evaluator
//! and [`crate::describe`]. Design points:
//!
//! * Every node that can fail at run time carries a [`Span`] so errors name
//!   Jac lines.
//! * Names are shared `Rc<str>`; declarations the evaluator keeps alive
//!   (archetypes, functions, abilities, enums) are `Rc` so closures and
//!   classes can hold them without copying.
//! * Operators are resolved enums; legacy spellings (`&&`, `` `root ``,
//!   `(?:T)`, `` (`?T) ``, `can f()` methods, `perm_grant` ...) are normalised
//!   by the parser, so the evaluator sees one form per construct. Purely
//!   static syntax is checked and dropped: casts `x as T`, generic parameters
//!   `obj Box[T]`, typed edge endpoints; `type A = B;` becomes a `glob`,
//!   `import type from` a plain import, and a C-style `switch` a `match`.
//! * Type annotations are ordinary [`Expr`]s (`list[str]`, `A | None`,
//!   `Optional[int]`): the evaluator evaluates them when it needs a class,
//!   [`crate::describe`] reads them structurally.
//! * `impl` blocks and `.impl.jac` annexes are linked into their declarations
//!   by the loader ([`crate::syntax::load_program`]): a loaded [`Program`]
//!   contains no [`ItemKind::Impl`] items, and every declared-only ability or
//!   method has its body.

use std::rc::Rc;

use num_bigint::BigInt;

pub use super::span::{FileId, SourceMap, Span};

/// An identifier (shared).
pub type Name = Rc<str>;

// ----------------------------------------------------------------- program

/// A loaded multi-file program: the entry module plus every `.jac` module it
/// imports (transitively), with annexes merged in.
#[derive(Debug, Clone)]
pub struct Program {
    /// Every module, the entry module first; each is named by its dotted path
    /// relative to the app root (`app`, `models.user`), see [`Program::module`].
    pub modules: Vec<Module>,
    /// The source files, for rendering spans.
    pub sources: SourceMap,
}

impl Program {
    /// The entry module.
    pub fn entry(&self) -> &Module {
        &self.modules[0]
    }

    /// The module with this dotted name.
    pub fn module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| &*m.name == name)
    }
}

/// One parsed `.jac` module (with its `.impl.jac` annexes merged in once loaded).
#[derive(Debug, Clone)]
pub struct Module {
    /// Dotted module name relative to the app root (`app`, `pkg.models`).
    pub name: Name,
    /// The module's main file.
    pub file: FileId,
    /// The module docstring (a string literal as the first element).
    pub doc: Option<Rc<str>>,
    /// Top-level elements in source order (annex items appended).
    pub items: Vec<Item>,
}

/// A top-level element.
#[derive(Debug, Clone)]
pub struct Item {
    /// What it is.
    pub kind: ItemKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of top-level element.
#[derive(Debug, Clone)]
pub enum ItemKind {
    /// `import ...;`, `import from m { ... }`, `include m;`.
    Import(Import),
    /// `obj|node|edge|walker|class Name { ... }`.
    Archetype(Rc<Archetype>),
    /// `enum Name { ... }`.
    Enum(Rc<EnumDecl>),
    /// `def f(...) { ... }` (also the legacy function-style `can f(...)`).
    Function(Rc<FunctionDef>),
    /// A module-level `can ... with T entry` ability (rare).
    Ability(Rc<Ability>),
    /// `glob x = 1, y: T = 2;`.
    Glob(Glob),
    /// `impl Target ... { ... }` (removed by the loader; see module docs).
    Impl(Rc<ImplBlock>),
    /// `with entry { ... }` / `with entry:__main__ { ... }`.
    Entry(EntryBlock),
    /// `test name { ... }` (never run when serving).
    Test(TestBlock),
}

// ----------------------------------------------------------------- imports

/// An import statement.
#[derive(Debug, Clone)]
pub struct Import {
    /// Which form.
    pub kind: ImportKind,
    /// Where it is.
    pub span: Span,
}

/// The import forms.
#[derive(Debug, Clone)]
pub enum ImportKind {
    /// `import a.b as c, d;` — binds `c` (or `a` when unaliased) and `d`.
    Modules(Vec<ImportModule>),
    /// `import from m { a, b as c }` — binds `a` and `c`.
    From {
        /// The module imported from.
        module: ModulePath,
        /// The imported names.
        items: Vec<ImportItem>,
    },
    /// `include m;` — every public name of `m` into this module.
    Include(ModulePath),
}

/// One module of `import a.b as c;`.
#[derive(Debug, Clone)]
pub struct ImportModule {
    /// The module path.
    pub module: ModulePath,
    /// `as` alias.
    pub alias: Option<Name>,
}

/// One name of `import from m { name as alias }`.
#[derive(Debug, Clone)]
pub struct ImportItem {
    /// The imported name.
    pub name: Name,
    /// `as` alias.
    pub alias: Option<Name>,
    /// Where it is.
    pub span: Span,
}

/// A (possibly relative) dotted module path.
#[derive(Debug, Clone)]
pub struct ModulePath {
    /// Number of leading dots (0 = absolute).
    pub level: u32,
    /// The dotted parts after the dots (may be empty for `from . { x }`).
    pub parts: Vec<Name>,
    /// Set by the loader: the [`Module::name`] of the app's `.jac` module this
    /// path refers to, or `None` for a runtime-provided (stdlib) module.
    pub resolved: Option<Name>,
    /// Where it is.
    pub span: Span,
}

impl ModulePath {
    /// The path as written, e.g. `..pkg.mod`.
    pub fn dotted(&self) -> String {
        let mut s = ".".repeat(self.level as usize);
        s.push_str(&self.parts.join("."));
        s
    }
}

// ----------------------------------------------------------------- declarations

/// Access modifier (`:pub`, `:priv`, `:protect`, or none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Access {
    /// No modifier (private for endpoints).
    #[default]
    Default,
    /// `:pub`.
    Public,
    /// `:priv`.
    Private,
    /// `:protect`.
    Protected,
}

/// The archetype kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchKind {
    /// `obj`.
    Obj,
    /// `class`.
    Class,
    /// `node`.
    Node,
    /// `edge`.
    Edge,
    /// `walker`.
    Walker,
}

impl ArchKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            ArchKind::Obj => "obj",
            ArchKind::Class => "class",
            ArchKind::Node => "node",
            ArchKind::Edge => "edge",
            ArchKind::Walker => "walker",
        }
    }
}

/// `[@dec]* [async] node|edge|walker|obj|class[:access] Name[(Bases)] { members }`.
#[derive(Debug, Clone)]
pub struct Archetype {
    /// The kind keyword.
    pub kind: ArchKind,
    /// The name.
    pub name: Name,
    /// Access modifier.
    pub access: Access,
    /// Base classes, as expressions (usually names).
    pub bases: Vec<Expr>,
    /// Decorators, outermost first (apply bottom-up).
    pub decorators: Vec<Expr>,
    /// `async walker`.
    pub is_async: bool,
    /// The docstring before the declaration.
    pub doc: Option<Rc<str>>,
    /// Members in source order (annex `impl Name { ... }` members appended).
    pub members: Vec<Member>,
    /// Where it is (the whole declaration).
    pub span: Span,
}

/// A member of an archetype body.
#[derive(Debug, Clone)]
pub struct Member {
    /// What it is.
    pub kind: MemberKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of archetype member.
#[derive(Debug, Clone)]
pub enum MemberKind {
    /// `[static] has x: T = d, y: U;`.
    Has(HasDecl),
    /// `can name with T entry { ... }`.
    Ability(Rc<Ability>),
    /// `def name(...) { ... }` (also the legacy `can name(...)` method form).
    Method(Rc<FunctionDef>),
    /// A nested archetype.
    Archetype(Rc<Archetype>),
    /// A nested enum.
    Enum(Rc<EnumDecl>),
    /// A nested `impl` (removed by the loader).
    Impl(Rc<ImplBlock>),
}

/// One `has` statement.
#[derive(Debug, Clone)]
pub struct HasDecl {
    /// `static has` (class variable).
    pub is_static: bool,
    /// Access modifier.
    pub access: Access,
    /// The declared fields, in order.
    pub vars: Vec<HasVar>,
    /// The docstring before the statement.
    pub doc: Option<Rc<str>>,
}

/// One field of a `has` statement.
#[derive(Debug, Clone)]
pub struct HasVar {
    /// Field name.
    pub name: Name,
    /// Declared type.
    pub ty: Expr,
    /// Default value expression (evaluated fresh per instance).
    pub default: Option<Expr>,
    /// `by postinit` / `postinit`: set by the `postinit` hook, not the constructor.
    pub postinit: bool,
    /// Where it is.
    pub span: Span,
}

/// Whether an ability fires on arrival or departure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    /// `entry`.
    Entry,
    /// `exit`.
    Exit,
}

/// `with [T | U | (A, B)] entry|exit`.
#[derive(Debug, Clone)]
pub struct EventClause {
    /// Trigger types; empty = untyped. `` `root `` is normalised to the name `Root`.
    pub triggers: Vec<Expr>,
    /// Entry or exit.
    pub kind: EventKind,
}

/// `[@dec]* [override] [static] [async] can [name] with T entry|exit { ... }`.
#[derive(Debug, Clone)]
pub struct Ability {
    /// Name (optional for `can with Root entry { }`).
    pub name: Option<Name>,
    /// Access modifier.
    pub access: Access,
    /// The event clause.
    pub event: EventClause,
    /// The body; `None` only before the loader links an `impl`.
    pub body: Option<Block>,
    /// `async can`.
    pub is_async: bool,
    /// `static can`.
    pub is_static: bool,
    /// `override can`.
    pub is_override: bool,
    /// Decorators, outermost first.
    pub decorators: Vec<Expr>,
    /// The docstring before the declaration.
    pub doc: Option<Rc<str>>,
    /// Where it is.
    pub span: Span,
}

/// How a parameter binds arguments (markers `/` and `*` are folded in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// Before `/`.
    PositionalOnly,
    /// Positional or keyword.
    Normal,
    /// `*args`.
    VarArgs,
    /// After `*` or `*args`.
    KeywordOnly,
    /// `**kwargs`.
    KwArgs,
}

/// One parameter.
#[derive(Debug, Clone)]
pub struct Param {
    /// Name.
    pub name: Name,
    /// Binding kind.
    pub kind: ParamKind,
    /// Type annotation.
    pub ty: Option<Expr>,
    /// Default value expression (evaluated once, at definition time, as in Python).
    pub default: Option<Expr>,
    /// Where it is.
    pub span: Span,
}

/// What a function's body is.
#[derive(Debug, Clone)]
pub enum FnBody {
    /// `{ ... }`.
    Block(Block),
    /// Lambda expression body `lambda x: expr`.
    Expr(Box<Expr>),
    /// `abs;` — abstract method.
    Abstract,
    /// `;` — declared here, implemented by an `impl` (only before linking).
    Declared,
}

/// A function, method or lambda.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    /// Name (`<lambda>` for lambdas).
    pub name: Name,
    /// Access modifier.
    pub access: Access,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// Return annotation.
    pub returns: Option<Expr>,
    /// The body.
    pub body: FnBody,
    /// `async def`.
    pub is_async: bool,
    /// `static def`.
    pub is_static: bool,
    /// `override def`.
    pub is_override: bool,
    /// Decorators, outermost first.
    pub decorators: Vec<Expr>,
    /// The docstring before the declaration.
    pub doc: Option<Rc<str>>,
    /// Where it is.
    pub span: Span,
}

/// `enum Name[(Base)] { A, B = 2, ... [members] }`.
#[derive(Debug, Clone)]
pub struct EnumDecl {
    /// Name.
    pub name: Name,
    /// Access modifier.
    pub access: Access,
    /// Bases.
    pub bases: Vec<Expr>,
    /// Decorators, outermost first.
    pub decorators: Vec<Expr>,
    /// The enumerators in order (`value` = `None` means auto-numbered from 1).
    pub items: Vec<EnumItem>,
    /// Methods and other members after the items.
    pub members: Vec<Member>,
    /// The docstring before the declaration.
    pub doc: Option<Rc<str>>,
    /// Where it is.
    pub span: Span,
}

/// One enumerator.
#[derive(Debug, Clone)]
pub struct EnumItem {
    /// Name.
    pub name: Name,
    /// `= value`.
    pub value: Option<Expr>,
    /// Where it is.
    pub span: Span,
}

/// `glob[:access] a: T = e, b = f;`.
#[derive(Debug, Clone)]
pub struct Glob {
    /// Access modifier.
    pub access: Access,
    /// The variables in order.
    pub vars: Vec<GlobVar>,
}

/// One variable of a `glob`.
#[derive(Debug, Clone)]
pub struct GlobVar {
    /// Name.
    pub name: Name,
    /// Type annotation.
    pub ty: Option<Expr>,
    /// Initial value (`None` binds nothing until assigned).
    pub value: Option<Expr>,
    /// Where it is.
    pub span: Span,
}

/// `impl Target... { ... }`.
#[derive(Debug, Clone)]
pub struct ImplBlock {
    /// The dotted target (`W.ability`, `Obj.method`, `Obj`).
    pub target: Vec<Name>,
    /// Decorators written on the `impl` (the loader appends them to the declaration's).
    pub decorators: Vec<Expr>,
    /// What is being implemented.
    pub kind: ImplKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of `impl`.
#[derive(Debug, Clone)]
pub enum ImplKind {
    /// `impl Obj.method[(params)] [-> T] { body }`.
    Function {
        /// Parameters if written (they replace the declaration's).
        params: Option<Vec<Param>>,
        /// Return annotation if written.
        returns: Option<Expr>,
        /// The body.
        body: Block,
    },
    /// `impl W.ability with T entry { body }`.
    Ability {
        /// The event clause as written.
        event: EventClause,
        /// The body.
        body: Block,
    },
    /// `impl Obj { members }` — members appended to the archetype.
    Members(Vec<Member>),
    /// `impl MyEnum { A = 1, B = 2 }` — enumerators of a declared-only enum.
    EnumItems(Vec<EnumItem>),
}

/// `with entry[:name] { ... }`.
#[derive(Debug, Clone)]
pub struct EntryBlock {
    /// `:__main__` etc.; `None` = always run at module load.
    pub name: Option<Name>,
    /// The body.
    pub body: Block,
}

/// `test [name] { ... }`.
#[derive(Debug, Clone)]
pub struct TestBlock {
    /// Test name, if any.
    pub name: Option<Rc<str>>,
    /// The body.
    pub body: Block,
}

// ----------------------------------------------------------------- statements

/// `{ stmt* }`.
#[derive(Debug, Clone, Default)]
pub struct Block {
    /// The statements.
    pub stmts: Vec<Stmt>,
    /// Where it is (braces included).
    pub span: Span,
}

/// A statement.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// What it is.
    pub kind: StmtKind,
    /// Where it is.
    pub span: Span,
}

/// The statement forms.
#[derive(Debug, Clone)]
pub enum StmtKind {
    /// An expression evaluated for effect.
    Expr(Expr),
    /// `t1 = t2 = value;` (targets left to right; each may be a tuple/list/starred
    /// pattern, attribute, index or name).
    Assign {
        /// The targets.
        targets: Vec<Expr>,
        /// The value.
        value: Expr,
    },
    /// `target: T [= value];`.
    AnnAssign {
        /// The target.
        target: Expr,
        /// The annotation.
        ty: Expr,
        /// The value, if any.
        value: Option<Expr>,
    },
    /// `target op= value;`.
    AugAssign {
        /// The target (name, attribute or index).
        target: Expr,
        /// The arithmetic operator.
        op: BinOp,
        /// The value.
        value: Expr,
    },
    /// `if c { } elif c { } else { }`.
    If {
        /// `(condition, body)` for `if` and each `elif`.
        branches: Vec<(Expr, Block)>,
        /// The `else` body.
        orelse: Option<Block>,
    },
    /// `for target in iter { } [else { }]`.
    For {
        /// Loop target pattern.
        target: Expr,
        /// The iterable.
        iter: Expr,
        /// The body.
        body: Block,
        /// Runs when the loop ends without `break`.
        orelse: Option<Block>,
        /// `async for`.
        is_async: bool,
    },
    /// `for init to cond by step { }`.
    ForTo {
        /// Initialising assignment.
        init: Box<Stmt>,
        /// Loop condition (checked before each iteration).
        cond: Expr,
        /// Step assignment (run after each iteration).
        step: Box<Stmt>,
        /// The body.
        body: Block,
    },
    /// `while cond { } [else { }]`.
    While {
        /// The condition.
        cond: Expr,
        /// The body.
        body: Block,
        /// Runs when the loop ends without `break`.
        orelse: Option<Block>,
    },
    /// `try { } except ... { } else { } finally { }`.
    Try {
        /// The protected body.
        body: Block,
        /// Handlers in order.
        handlers: Vec<ExceptHandler>,
        /// Runs when no exception was raised.
        orelse: Option<Block>,
        /// Always runs.
        finally: Option<Block>,
    },
    /// `match subject { case pat [if guard]: stmts ... }`.
    Match {
        /// The subject.
        subject: Expr,
        /// The cases in order.
        cases: Vec<MatchCase>,
    },
    /// `[async] with ctx as target, ... { }`.
    With {
        /// The context managers.
        items: Vec<WithItem>,
        /// The body.
        body: Block,
        /// `async with`.
        is_async: bool,
    },
    /// `return [value];`.
    Return(Option<Expr>),
    /// `report value;`.
    Report(Expr),
    /// `visit [:index:] target [else { }];`.
    Visit {
        /// `:0:` inserts at the queue front; `None` appends.
        index: Option<Expr>,
        /// A node, edge or list of them.
        target: Expr,
        /// Runs if nothing was queued.
        orelse: Option<Block>,
    },
    /// `disengage;`.
    Disengage,
    /// `skip;`.
    Skip,
    /// `break;`.
    Break,
    /// `continue;`.
    Continue,
    /// `del a, b[0], c.d;` (a node/edge value deletes it from the graph).
    Del(Vec<Expr>),
    /// `raise [exc [from cause]];`.
    Raise {
        /// The exception (re-raise the current one when `None`).
        exc: Option<Expr>,
        /// `from` cause.
        cause: Option<Expr>,
    },
    /// `assert test[, msg];`.
    Assert {
        /// The condition.
        test: Expr,
        /// The message.
        msg: Option<Expr>,
    },
    /// `global a, b;`.
    Global(Vec<Name>),
    /// `nonlocal a, b;`.
    Nonlocal(Vec<Name>),
    /// A nested `def` (binds its name in the current scope).
    Function(Rc<FunctionDef>),
    /// A nested archetype declaration.
    Archetype(Rc<Archetype>),
    /// A nested enum declaration.
    Enum(Rc<EnumDecl>),
    /// An import inside a block.
    Import(Import),
    /// `->T { ... }` typed context block: run only if `here` is a `T`.
    TypedContext {
        /// The type.
        ty: Expr,
        /// The body.
        body: Block,
    },
}

/// `except [T [as name]] { body }`.
#[derive(Debug, Clone)]
pub struct ExceptHandler {
    /// Exception type (or tuple of types); `None` = bare `except`.
    pub ty: Option<Expr>,
    /// `as` name.
    pub name: Option<Name>,
    /// The body.
    pub body: Block,
    /// Where it is.
    pub span: Span,
}

/// `case pattern [if guard]: stmts`.
#[derive(Debug, Clone)]
pub struct MatchCase {
    /// The pattern.
    pub pattern: Pattern,
    /// The guard.
    pub guard: Option<Expr>,
    /// The statements up to the next `case` / `}`.
    pub body: Block,
    /// Where it is.
    pub span: Span,
}

/// `ctx [as target]` of a `with` statement.
#[derive(Debug, Clone)]
pub struct WithItem {
    /// Context manager expression.
    pub context: Expr,
    /// `as` target.
    pub target: Option<Expr>,
}

/// A `match` pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    /// What it is.
    pub kind: PatternKind,
    /// Where it is.
    pub span: Span,
}

/// Python structural patterns.
#[derive(Debug, Clone)]
pub enum PatternKind {
    /// `_`.
    Wildcard,
    /// `name` — binds the subject.
    Capture(Name),
    /// A literal or dotted constant (`1`, `"a"`, `None`, `Color.RED`), compared with `==`
    /// (`is` for `None`/`True`/`False`).
    Value(Expr),
    /// `[p, q, *rest]` / `(p, q)`.
    Sequence(Vec<Pattern>),
    /// `*name` / `*_` inside a sequence (`None` = `*_`).
    Star(Option<Name>),
    /// `{"k": p, **rest}`.
    Mapping {
        /// Key expressions (literals/constants) and their patterns.
        entries: Vec<(Expr, Pattern)>,
        /// `**rest`.
        rest: Option<Name>,
    },
    /// `Cls(p, k=q)`.
    Class {
        /// The class expression (name or dotted).
        cls: Expr,
        /// Positional sub-patterns.
        args: Vec<Pattern>,
        /// Keyword sub-patterns.
        kwargs: Vec<(Name, Pattern)>,
    },
    /// `p | q`.
    Or(Vec<Pattern>),
    /// `p as name`.
    As {
        /// The inner pattern.
        pattern: Box<Pattern>,
        /// The bound name.
        name: Name,
    },
}

// ----------------------------------------------------------------- expressions

/// An expression.
#[derive(Debug, Clone)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// Binary arithmetic / bitwise operators (also used by augmented assignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `//`
    FloorDiv,
    /// `%`
    Mod,
    /// `**`
    Pow,
    /// `@`
    MatMul,
    /// `<<`
    LShift,
    /// `>>`
    RShift,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::FloorDiv => "//",
            BinOp::Mod => "%",
            BinOp::Pow => "**",
            BinOp::MatMul => "@",
            BinOp::LShift => "<<",
            BinOp::RShift => ">>",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
        }
    }
}

/// Prefix operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    /// `-x`
    Neg,
    /// `+x`
    Pos,
    /// `~x`
    Invert,
    /// `not x`
    Not,
}

/// Short-circuit operators (`&&`/`||` are parsed as these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoolOp {
    /// `and`
    And,
    /// `or`
    Or,
}

/// Comparison operators (chainable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtE,
    /// `>`
    Gt,
    /// `>=`
    GtE,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `is`
    Is,
    /// `is not`
    IsNot,
}

impl CmpOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::NotEq => "!=",
            CmpOp::Lt => "<",
            CmpOp::LtE => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtE => ">=",
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Is => "is",
            CmpOp::IsNot => "is not",
        }
    }
}

/// Special references (keywords that evaluate to context objects).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialRef {
    /// `root` (the legacy call form `root()` is parsed as plain `root`).
    Root,
    /// `here`.
    Here,
    /// `self`.
    SelfRef,
    /// `visitor`.
    Visitor,
    /// `super`.
    Super,
    /// `init` (as a name: `super.init(...)`).
    Init,
    /// `postinit`.
    PostInit,
}

/// One argument of a call.
#[derive(Debug, Clone)]
pub enum Arg {
    /// `expr`.
    Positional(Expr),
    /// `name=expr`.
    Keyword(Name, Expr),
    /// `*expr`.
    Star(Expr),
    /// `**expr`.
    DoubleStar(Expr),
}

/// One entry of a dict display.
#[derive(Debug, Clone)]
pub enum DictEntry {
    /// `key: value`.
    Pair(Expr, Expr),
    /// `**mapping`.
    Spread(Expr),
}

/// One `for ... in ... if ...` clause of a comprehension.
#[derive(Debug, Clone)]
pub struct Comprehension {
    /// Loop target pattern.
    pub target: Expr,
    /// The iterable.
    pub iter: Expr,
    /// Filters (all must hold).
    pub ifs: Vec<Expr>,
    /// `async for`.
    pub is_async: bool,
}

/// One piece of an f-string.
#[derive(Debug, Clone)]
pub enum FStringPart {
    /// Literal text (`{{`/`}}` already unescaped).
    Literal(Rc<str>),
    /// `{expr[=][!conv][:spec]}`.
    Field {
        /// The expression.
        expr: Box<Expr>,
        /// `=` debug form: the expression text (with spacing) to print before the value.
        debug_text: Option<Rc<str>>,
        /// `!r` / `!s` / `!a`.
        conversion: Option<char>,
        /// The format spec, itself possibly containing `{fields}`.
        spec: Option<Vec<FStringPart>>,
    },
}

/// Direction of a connect operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectDir {
    /// `a ++> b`: edge a -> b.
    Forward,
    /// `a <++ b`: edge b -> a.
    Backward,
    /// `a <++> b`: one undirected edge.
    Undirected,
}

/// A connect operator, possibly typed (`+>:E(args):+>`, `<+:E:<+`, `<+:E:+>`).
#[derive(Debug, Clone)]
pub struct ConnectOp {
    /// Direction.
    pub dir: ConnectDir,
    /// The edge expression: a type (`E`) or constructor call (`E(x=1)`); `None` = generic edge.
    pub edge: Option<Box<Expr>>,
    /// Legacy attribute list `+>:E:a=1,b=2:+>` (set on the new edge).
    pub attrs: Vec<(Name, Expr)>,
}

/// Direction of an edge traversal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeDir {
    /// `-->` / `->:E:->`.
    Out,
    /// `<--` / `<-:E:<-`.
    In,
    /// `<-->` / `<-:E:->`.
    Any,
}

/// One edge operator inside an edge reference (or after `del`).
#[derive(Debug, Clone)]
pub struct EdgeOp {
    /// Direction.
    pub dir: EdgeDir,
    /// Edge type filter (subtypes match).
    pub edge_type: Option<Box<Expr>>,
    /// Edge-field predicates (AND).
    pub conds: Vec<FilterCond>,
    /// Where it is.
    pub span: Span,
}

/// What an edge reference yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeRefKind {
    /// Nodes (default, or `[node ...]`).
    Nodes,
    /// The edge objects (`[edge ...]`).
    Edges,
}

/// One hop of an edge reference.
#[derive(Debug, Clone)]
pub struct EdgeHop {
    /// The edge operator.
    pub op: EdgeOp,
    /// What follows the operator inside the hop, if anything.
    pub target: Option<HopTarget>,
}

/// A filter applied to the nodes reached by a hop.
#[derive(Debug, Clone)]
pub enum HopTarget {
    /// `-->[?:T, c]` / `-->(?:T)` / `` -->(`?T) ``.
    Filter(Filter),
    /// `[a --> b]`: keep only destinations in / equal to `b`.
    Dest(Box<Expr>),
}

/// `[origin? hop+]`, `[edge ...]`, `[node ...]`.
#[derive(Debug, Clone)]
pub struct EdgeRef {
    /// Nodes or edges.
    pub kind: EdgeRefKind,
    /// The origin; `None` = `here` in walker abilities, `self` elsewhere.
    pub origin: Option<Box<Expr>>,
    /// One or more hops.
    pub hops: Vec<EdgeHop>,
}

/// A filter comprehension: type alternatives plus field predicates.
#[derive(Debug, Clone)]
pub struct Filter {
    /// Type alternatives (`isinstance` any); empty = no type test.
    pub types: Vec<Expr>,
    /// Field predicates (AND).
    pub conds: Vec<FilterCond>,
}

/// `field OP value` inside a filter: `field` is read on each candidate, `value`
/// is evaluated in the enclosing scope.
#[derive(Debug, Clone)]
pub struct FilterCond {
    /// Candidate field name.
    pub field: Name,
    /// Comparison.
    pub op: CmpOp,
    /// Right-hand side.
    pub value: Expr,
    /// Where it is.
    pub span: Span,
}

/// The expression forms.
#[derive(Debug, Clone)]
pub enum ExprKind {
    /// `None`.
    None,
    /// `True` / `False`.
    Bool(bool),
    /// An int literal that fits in `i64`.
    Int(i64),
    /// A larger int literal.
    BigInt(Rc<BigInt>),
    /// A float literal.
    Float(f64),
    /// A string literal (adjacent literals already concatenated).
    Str(Rc<str>),
    /// A bytes literal.
    Bytes(Rc<[u8]>),
    /// `...`.
    Ellipsis,
    /// An f-string (adjacent plain strings folded in as literal parts).
    FString(Vec<FStringPart>),
    /// An identifier (also builtin type words and backtick-escaped keywords).
    Name(Name),
    /// `root`, `here`, `self`, `visitor`, `super`, `init`, `postinit`.
    Special(SpecialRef),
    /// `[a, *b]`.
    List(Vec<Expr>),
    /// `(a, b)`, `a, b`.
    Tuple(Vec<Expr>),
    /// `{a, b}`.
    Set(Vec<Expr>),
    /// `{k: v, **d}`.
    Dict(Vec<DictEntry>),
    /// `[elt for ...]`.
    ListComp {
        /// Element.
        elt: Box<Expr>,
        /// Clauses.
        generators: Vec<Comprehension>,
    },
    /// `{elt for ...}`.
    SetComp {
        /// Element.
        elt: Box<Expr>,
        /// Clauses.
        generators: Vec<Comprehension>,
    },
    /// `(elt for ...)` (also a bare generator argument `f(x for x in y)`).
    GenExp {
        /// Element.
        elt: Box<Expr>,
        /// Clauses.
        generators: Vec<Comprehension>,
    },
    /// `{k: v for ...}`.
    DictComp {
        /// Key.
        key: Box<Expr>,
        /// Value.
        value: Box<Expr>,
        /// Clauses.
        generators: Vec<Comprehension>,
    },
    /// `*x` in a display or assignment target.
    Starred(Box<Expr>),
    /// `-x`, `+x`, `~x`, `not x`.
    Unary {
        /// Operator.
        op: UnaryOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `a op b`.
    Binary {
        /// Operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `a and b and c` / `a or b`.
    BoolOp {
        /// Operator.
        op: BoolOp,
        /// Two or more operands.
        values: Vec<Expr>,
    },
    /// `a < b <= c` (Python chaining).
    Compare {
        /// First operand.
        left: Box<Expr>,
        /// The remaining `(op, operand)` pairs.
        rest: Vec<(CmpOp, Expr)>,
    },
    /// `then if cond else orelse`.
    Ternary {
        /// Condition.
        cond: Box<Expr>,
        /// Value when true.
        then: Box<Expr>,
        /// Value when false.
        orelse: Box<Expr>,
    },
    /// `name := value`.
    Walrus {
        /// Bound name.
        name: Name,
        /// Value.
        value: Box<Expr>,
    },
    /// `lambda ...` (body is [`FnBody::Expr`] or [`FnBody::Block`]).
    Lambda(Rc<FunctionDef>),
    /// `f(args)` (pipes `x |> f` / `f <| x` are parsed as calls).
    Call {
        /// Callee.
        func: Box<Expr>,
        /// Arguments.
        args: Vec<Arg>,
    },
    /// `x.attr` / `x?.attr`.
    Attribute {
        /// Object.
        value: Box<Expr>,
        /// Attribute name.
        attr: Name,
        /// `?.`: yields `None` when `value` is `None`.
        null_safe: bool,
    },
    /// `x[i]`, `x[a:b]`, `x[i, j]` (the index is a `Tuple` then) / `x?[i]`.
    Index {
        /// Object.
        value: Box<Expr>,
        /// Index (may be a [`ExprKind::Slice`]).
        index: Box<Expr>,
        /// `?[`: yields `None` when `value` is `None` (or the key is missing).
        null_safe: bool,
    },
    /// `lower:upper:step` (only as an index).
    Slice {
        /// Start.
        lower: Option<Box<Expr>>,
        /// Stop.
        upper: Option<Box<Expr>>,
        /// Step.
        step: Option<Box<Expr>>,
    },
    /// `await x`.
    Await(Box<Expr>),
    /// `yield [x]` / `yield from x`.
    Yield {
        /// Value.
        value: Option<Box<Expr>>,
        /// `yield from`.
        from: bool,
    },
    /// `left spawn right`: one side is the walker, the other the location
    /// (decided at run time; prefix `spawn W()` has `left` = `None` and means `here`).
    Spawn {
        /// Left operand (`None` for prefix form).
        left: Option<Box<Expr>>,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `left ++> right` and friends. Value: list of target-side nodes.
    Connect {
        /// Left operand (node or list).
        left: Box<Expr>,
        /// Operator.
        op: ConnectOp,
        /// Right operand (node or list).
        right: Box<Expr>,
    },
    /// `left del --> right`: remove connections matching `op` between them.
    Disconnect {
        /// Left operand.
        left: Box<Expr>,
        /// Edge operator.
        op: EdgeOp,
        /// Right operand.
        right: Box<Expr>,
    },
    /// `[-->]`, `[edge a ->:E:-> b]`, ... — always a list.
    EdgeRef(Box<EdgeRef>),
    /// `value[?:T, cond]`, `value(?:T)`, `` value(`?T) `` — keep matching elements.
    Filter {
        /// The list (or iterable) filtered.
        value: Box<Expr>,
        /// The filter.
        filter: Filter,
    },
    /// `value(=a=1, b=2)` — set fields on every element, yield the elements.
    AssignComp {
        /// The list (or object) updated.
        value: Box<Expr>,
        /// The assignments.
        assigns: Vec<(Name, Expr)>,
    },
}
