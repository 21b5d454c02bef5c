//! Declarations: module items, archetypes, members, abilities, functions,
//! parameters, enums, globs, imports, `impl`, `with entry`, `test`.

use std::rc::Rc;

use super::{PResult, Parser, kw_of};
use crate::syntax::ast::*;
use crate::syntax::token::{Kw, P, TokenKind};

/// Modifiers collected before an ability / function / archetype.
#[derive(Default)]
struct Prelude {
    decorators: Vec<Expr>,
    doc: Option<Rc<str>>,
    is_async: bool,
    is_static: bool,
    is_override: bool,
}

/// A declaration that may appear both at module level and inside blocks or bodies.
enum Decl {
    Impl(Rc<ImplBlock>),
    Archetype(Rc<Archetype>),
    Enum(Rc<EnumDecl>),
    Function(Rc<FunctionDef>),
    Ability(Rc<Ability>),
}

impl Parser<'_> {
    // ------------------------------------------------------------- module

    pub(super) fn module(&mut self) -> PResult<(Option<Rc<str>>, Vec<Item>)> {
        let doc = self.docstring();
        let mut items = Vec::new();
        while !self.at_eof() {
            // `to sv:` / `to na:` section markers (0.10-0.34); the lexer drops `to cl:` sections.
            if self.at_kw(Kw::To) && matches!(kw_of(self.kind_at(1)), Some(Kw::Sv | Kw::Na)) {
                self.advance();
                self.advance();
                self.expect_p(P::Colon, "after section marker")?;
                continue;
            }
            self.toplevel(&mut items)?;
        }
        Ok((doc, items))
    }

    /// A string literal used as a docstring, if one is next.
    pub(super) fn docstring(&mut self) -> Option<Rc<str>> {
        let TokenKind::Str(s) = self.kind() else {
            return None;
        };
        let doc = s.clone();
        self.advance();
        Some(doc)
    }

    /// One top-level element (pushes zero or more items).
    fn toplevel(&mut self, items: &mut Vec<Item>) -> PResult<()> {
        let start = self.span();
        if self.eat_p(P::Semi) {
            return Ok(());
        }
        if matches!(self.kind(), TokenKind::Str(_)) {
            let doc = self.docstring();
            if self.eat_p(P::Semi) || self.at_eof() {
                return Ok(()); // stray module-level string
            }
            return self.toplevel_decl(items, doc, start);
        }
        if self.at_p(P::Colon) && self.at_p_ahead(1, P::Colon) {
            return Err(self.unsupported("inline Python ('::py::')"));
        }
        // Placement markers: `sv`/`na` content is server code, `cl` content is dropped.
        if matches!(kw_of(self.kind()), Some(Kw::Cl | Kw::Sv | Kw::Na))
            && !self.at_p_ahead(1, P::Assign)
            && !self.at_p_ahead(1, P::Dot)
        {
            let client = self.at_kw(Kw::Cl);
            self.advance();
            let mark = items.len();
            if self.eat_p(P::LBrace) {
                while !self.at_p(P::RBrace) {
                    if self.at_eof() {
                        return Err(self.error_here("expected '}' to close the placement block"));
                    }
                    self.toplevel(items)?;
                }
                self.advance();
            } else {
                self.toplevel(items)?;
            }
            if client {
                items.truncate(mark);
            }
            return Ok(());
        }
        self.toplevel_decl(items, None, start)
    }

    fn toplevel_decl(
        &mut self,
        items: &mut Vec<Item>,
        doc: Option<Rc<str>>,
        start: Span,
    ) -> PResult<()> {
        let kind = match kw_of(self.kind()) {
            Some(Kw::Import | Kw::Include) => ItemKind::Import(self.import()?),
            Some(Kw::Glob) => ItemKind::Glob(self.glob()?),
            _ if self.at_type_alias() => ItemKind::Glob(self.type_alias()?),
            Some(Kw::Impl) => ItemKind::Impl(self.impl_block(Vec::new())?),
            Some(Kw::With) if self.at_kw_ahead(1, Kw::Entry) => {
                ItemKind::Entry(self.entry_block()?)
            }
            Some(Kw::Test) if !self.at_p_ahead(1, P::Assign) => ItemKind::Test(self.test_block()?),
            Some(Kw::Sem) => {
                self.sem_decl()?;
                return Ok(());
            }
            _ if self.at_decl_start() => match self.decl(doc)? {
                Decl::Impl(i) => ItemKind::Impl(i),
                Decl::Archetype(a) => ItemKind::Archetype(a),
                Decl::Enum(e) => ItemKind::Enum(e),
                Decl::Function(f) => ItemKind::Function(f),
                Decl::Ability(a) => ItemKind::Ability(a),
            },
            _ => {
                return Err(self.error_here(
                    "expected a declaration at module level (import, node, edge, walker, obj, def, glob, \
                     impl, with entry; statements must be inside 'with entry { }')",
                ));
            }
        };
        items.push(Item {
            kind,
            span: self.since(start),
        });
        Ok(())
    }

    /// `type Name ... =` (the word `type` is otherwise an ordinary name).
    fn at_type_alias(&self) -> bool {
        matches!(self.kind(), TokenKind::Ident { name, kw: None } if &**name == "type")
            && (matches!(self.kind_at(1), TokenKind::Ident { kw: None, .. })
                || self.at_p_ahead(1, P::Colon))
    }

    /// Does a declaration (archetype, enum, def, can, decorator, modifiers) start here?
    pub(super) fn at_decl_start(&self) -> bool {
        match kw_of(self.kind()) {
            Some(Kw::Def | Kw::Can) => true,
            // `override = ...` / `static` as plain names: modifiers precede a declaration keyword.
            Some(Kw::Static | Kw::Override | Kw::Async) => matches!(
                kw_of(self.kind_at(1)),
                Some(
                    Kw::Def
                        | Kw::Can
                        | Kw::Static
                        | Kw::Override
                        | Kw::Async
                        | Kw::Has
                        | Kw::Obj
                        | Kw::Class
                        | Kw::Node
                        | Kw::Edge
                        | Kw::Walker
                        | Kw::Enum
                )
            ),
            Some(Kw::Obj | Kw::Class | Kw::Node | Kw::Edge | Kw::Walker | Kw::Enum) => {
                // `node = ...`, `node.x` or `walker spawn n` use a soft keyword as a name;
                // a declaration names a (non-keyword) archetype or has an access modifier.
                matches!(self.kind_at(1), TokenKind::Ident { kw: None, .. })
                    || self.at_p_ahead(1, P::Colon)
            }
            _ => self.at_p(P::At),
        }
    }

    /// Parses a declaration at the current position (after an optional docstring).
    fn decl(&mut self, doc: Option<Rc<str>>) -> PResult<Decl> {
        let start = self.span();
        let mut pre = Prelude {
            doc,
            ..Prelude::default()
        };
        while self.eat_p(P::At) {
            pre.decorators.push(self.postfix_expr()?);
        }
        loop {
            match kw_of(self.kind()) {
                Some(Kw::Async) if !pre.is_async => pre.is_async = true,
                Some(Kw::Static) if !pre.is_static => pre.is_static = true,
                Some(Kw::Override) if !pre.is_override => pre.is_override = true,
                _ => break,
            }
            self.advance();
        }
        match kw_of(self.kind()) {
            Some(Kw::Obj) => self
                .archetype(ArchKind::Obj, pre, start)
                .map(Decl::Archetype),
            Some(Kw::Class) => self
                .archetype(ArchKind::Class, pre, start)
                .map(Decl::Archetype),
            Some(Kw::Node) => self
                .archetype(ArchKind::Node, pre, start)
                .map(Decl::Archetype),
            Some(Kw::Edge) => self
                .archetype(ArchKind::Edge, pre, start)
                .map(Decl::Archetype),
            Some(Kw::Walker) => self
                .archetype(ArchKind::Walker, pre, start)
                .map(Decl::Archetype),
            Some(Kw::Enum) => self.enum_decl(pre, start).map(Decl::Enum),
            Some(Kw::Def) => self.def_decl(pre, start).map(Decl::Function),
            Some(Kw::Can) => self.can_decl(pre, start),
            Some(Kw::Impl) if !pre.is_async && !pre.is_static && !pre.is_override => {
                self.impl_block(pre.decorators).map(Decl::Impl)
            }
            _ => Err(self.error_here(
                "expected a declaration (def, can, obj, node, edge, walker, class, enum)",
            )),
        }
    }

    /// Generic parameters `[T, U: Bound = Default]` after an archetype name:
    /// static typing only, so they are checked for shape and dropped.
    fn skip_type_params(&mut self) -> PResult<()> {
        if !self.eat_p(P::LBracket) {
            return Ok(());
        }
        loop {
            self.name("a type parameter name")?;
            if self.eat_p(P::Colon) {
                self.type_expr()?;
            }
            if self.eat_p(P::Assign) {
                self.type_expr()?;
            }
            if !self.eat_p(P::Comma) || self.at_p(P::RBracket) {
                break;
            }
        }
        self.expect_p(P::RBracket, "to close the type parameters")?;
        Ok(())
    }

    /// `type Name[T] = T | None;` — a type alias, bound like a `glob`.
    fn type_alias(&mut self) -> PResult<Glob> {
        self.advance(); // type
        let access = self.access()?;
        let (name, start) = self.name("a type alias name")?;
        self.skip_type_params()?;
        self.expect_p(P::Assign, "in type alias")?;
        let value = self.type_expr()?;
        self.expect_semi("type alias")?;
        Ok(Glob {
            access,
            vars: vec![GlobVar {
                name,
                ty: None,
                value: Some(value),
                span: self.since(start),
            }],
        })
    }

    fn access(&mut self) -> PResult<Access> {
        if self.at_p(P::Colon) {
            let access = match kw_of(self.kind_at(1)) {
                Some(Kw::Pub) => Access::Public,
                Some(Kw::Priv) => Access::Private,
                Some(Kw::Protect) => Access::Protected,
                _ => return Ok(Access::Default),
            };
            self.advance();
            self.advance();
            return Ok(access);
        }
        Ok(Access::Default)
    }

    // ------------------------------------------------------------- archetypes

    fn archetype(&mut self, kind: ArchKind, pre: Prelude, start: Span) -> PResult<Rc<Archetype>> {
        self.advance(); // kind keyword
        let access = self.access()?;
        let (name, _) = self.name(&format!("a name for the {}", kind.keyword()))?;
        self.skip_type_params()?;
        let mut bases = Vec::new();
        if self.eat_p(P::LParen) {
            while !self.at_p(P::RParen) {
                bases.push(self.postfix_expr()?);
                if !self.eat_p(P::Comma) {
                    break;
                }
            }
            self.expect_p(P::RParen, "to close the base class list")?;
        }
        if kind == ArchKind::Edge && self.eat_p(P::Colon) {
            // `edge Follow: Profile --> Profile` (>= 0.16.4): endpoint types only
            // constrain connects; they are checked by the type checker, not at run time.
            self.type_atom()?;
            if !self.eat_p(P::EdgeOut) && !self.eat_p(P::EdgeAny) {
                return Err(
                    self.error_here("expected '-->' or '<-->' between the edge endpoint types")
                );
            }
            self.type_atom()?;
        }
        let members = if self.eat_p(P::Semi) {
            Vec::new()
        } else {
            self.expect_p(
                P::LBrace,
                &format!("to open the body of {} '{name}'", kind.keyword()),
            )?;
            self.members()?
        };
        if pre.is_static || pre.is_override {
            return Err(self.error_at(start, "'static'/'override' cannot modify an archetype"));
        }
        Ok(Rc::new(Archetype {
            kind,
            name,
            access,
            bases,
            decorators: pre.decorators,
            is_async: pre.is_async,
            doc: pre.doc,
            members,
            span: self.since(start),
        }))
    }

    /// Members up to and including the closing `}`.
    fn members(&mut self) -> PResult<Vec<Member>> {
        let mut members = Vec::new();
        self.enter()?;
        loop {
            if self.eat_p(P::RBrace) {
                break;
            }
            if self.eat_p(P::Semi) {
                continue;
            }
            let start = self.span();
            let doc = self.docstring();
            if self.at_p(P::RBrace) {
                continue;
            }
            let kind = if self.at_kw(Kw::Has)
                || (self.at_kw(Kw::Static) && self.at_kw_ahead(1, Kw::Has))
            {
                MemberKind::Has(self.has_decl(doc)?)
            } else if self.at_kw(Kw::Impl) {
                MemberKind::Impl(self.impl_block(Vec::new())?)
            } else if self.at_decl_start() {
                match self.decl(doc)? {
                    Decl::Impl(i) => MemberKind::Impl(i),
                    Decl::Archetype(a) => MemberKind::Archetype(a),
                    Decl::Enum(e) => MemberKind::Enum(e),
                    Decl::Function(f) => MemberKind::Method(f),
                    Decl::Ability(a) => MemberKind::Ability(a),
                }
            } else if self.at_kw(Kw::With) {
                return Err(self.unsupported("a 'with entry' block inside an archetype body"));
            } else if self.at_eof() {
                return Err(self.error_here("expected '}' to close the body"));
            } else {
                return Err(
                    self.error_here("expected a member (has, can, def, or a nested declaration)")
                );
            };
            members.push(Member {
                kind,
                span: self.since(start),
            });
        }
        self.leave();
        Ok(members)
    }

    fn has_decl(&mut self, doc: Option<Rc<str>>) -> PResult<HasDecl> {
        let is_static = self.eat_kw(Kw::Static);
        self.expect_kw(Kw::Has, "to declare fields")?;
        let access = self.access()?;
        let mut vars = Vec::new();
        loop {
            let (name, start) = self.any_name("a field name")?;
            self.expect_p(P::Colon, &format!("and a type after field '{name}'"))?;
            let ty = self.type_expr()?;
            let mut default = None;
            let mut postinit = false;
            if self.eat_p(P::Assign) {
                default = Some(self.expr()?);
            } else if self.at_kw(Kw::By) && self.at_kw_ahead(1, Kw::PostInit) {
                self.advance();
                self.advance();
                postinit = true;
            } else if self.eat_kw(Kw::PostInit) {
                postinit = true;
            }
            if self.at_p(P::LBrace) {
                return Err(self.unsupported(
                    "property accessors on 'has' fields ('{ getter ...; setter ... }')",
                ));
            }
            vars.push(HasVar {
                name,
                ty,
                default,
                postinit,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_semi("'has' fields")?;
        Ok(HasDecl {
            is_static,
            access,
            vars,
            doc,
        })
    }

    // ------------------------------------------------------------- abilities and functions

    fn can_decl(&mut self, pre: Prelude, start: Span) -> PResult<Decl> {
        self.advance(); // can
        let access = self.access()?;
        let name = if self.at_kw(Kw::With) {
            None
        } else {
            Some(self.any_name("an ability name")?.0)
        };
        if !self.at_kw(Kw::With) {
            // Legacy function-style `can f(params) -> T { }` = a method.
            let Some(name) = name else {
                unreachable!("name read above")
            };
            return self
                .function_rest(name, access, pre, start)
                .map(Decl::Function);
        }
        let event = self.event_clause()?;
        let body = if self.eat_p(P::Semi) {
            None
        } else {
            Some(self.block()?)
        };
        Ok(Decl::Ability(Rc::new(Ability {
            name,
            access,
            event,
            body,
            is_async: pre.is_async,
            is_static: pre.is_static,
            is_override: pre.is_override,
            decorators: pre.decorators,
            doc: pre.doc,
            span: self.since(start),
        })))
    }

    /// `with [trigger] entry|exit`.
    fn event_clause(&mut self) -> PResult<EventClause> {
        self.expect_kw(Kw::With, "to start the event clause")?;
        let mut triggers = Vec::new();
        if !self.at_kw(Kw::Entry) && !self.at_kw(Kw::Exit) {
            if self.eat_p(P::LParen) {
                loop {
                    triggers.push(self.type_atom()?);
                    if !self.eat_p(P::Comma) {
                        break;
                    }
                }
                self.expect_p(P::RParen, "to close the trigger type list")?;
            } else {
                loop {
                    triggers.push(self.type_atom()?);
                    if !self.eat_p(P::Pipe) {
                        break;
                    }
                }
            }
        }
        let kind = if self.eat_kw(Kw::Entry) {
            EventKind::Entry
        } else if self.eat_kw(Kw::Exit) {
            EventKind::Exit
        } else {
            return Err(self.error_here("expected 'entry' or 'exit'"));
        };
        Ok(EventClause { triggers, kind })
    }

    /// A type name in a trigger or filter: a dotted name; `` `root `` and
    /// `root` mean the `Root` type.
    pub(super) fn type_atom(&mut self) -> PResult<Expr> {
        let start = self.span();
        if self.at_kw(Kw::Root)
            || matches!(self.kind(), TokenKind::Ident { name, kw: None } if &**name == "root")
        {
            self.advance();
            return Ok(Expr {
                kind: ExprKind::Name("Root".into()),
                span: start,
            });
        }
        let (first, span) = self.name("a type name")?;
        let mut expr = Expr {
            kind: ExprKind::Name(first),
            span,
        };
        while self.at_p(P::Dot) && matches!(self.kind_at(1), TokenKind::Ident { .. }) {
            self.advance();
            let (attr, _) = self.any_name("a name after '.'")?;
            expr = Expr {
                kind: ExprKind::Attribute {
                    value: Box::new(expr),
                    attr,
                    null_safe: false,
                },
                span: self.since(start),
            };
        }
        Ok(expr)
    }

    fn def_decl(&mut self, pre: Prelude, start: Span) -> PResult<Rc<FunctionDef>> {
        self.advance(); // def
        let access = self.access()?;
        let (name, _) = self.any_name("a function name")?;
        self.function_rest(name, access, pre, start)
    }

    /// `[(params)] [-> T] (block | abs; | ;)` after a function name.
    fn function_rest(
        &mut self,
        name: Name,
        access: Access,
        pre: Prelude,
        start: Span,
    ) -> PResult<Rc<FunctionDef>> {
        let params = if self.at_p(P::LParen) {
            self.params()?
        } else {
            Vec::new()
        };
        let returns = if self.eat_p(P::Arrow) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let body = if self.at_p(P::LBrace) {
            FnBody::Block(self.block()?)
        } else if self.at_kw(Kw::Abs) {
            self.advance();
            self.expect_semi("'abs'")?;
            FnBody::Abstract
        } else if self.eat_p(P::Semi) {
            FnBody::Declared
        } else if self.at_kw(Kw::By) {
            return Err(self.unsupported("LLM delegation ('by llm()')"));
        } else {
            return Err(self.error_here(format!("expected '{{' to open the body of '{name}'")));
        };
        Ok(Rc::new(FunctionDef {
            name,
            access,
            params,
            returns,
            body,
            is_async: pre.is_async,
            is_static: pre.is_static,
            is_override: pre.is_override,
            decorators: pre.decorators,
            doc: pre.doc,
            span: self.since(start),
        }))
    }

    /// `( param, ... )` with `/`, `*`, `*args`, `**kwargs`.
    pub(super) fn params(&mut self) -> PResult<Vec<Param>> {
        self.expect_p(P::LParen, "to open the parameter list")?;
        let mut params: Vec<Param> = Vec::new();
        let mut kind = ParamKind::Normal;
        while !self.at_p(P::RParen) {
            let start = self.span();
            if self.eat_p(P::Slash) {
                for p in &mut params {
                    p.kind = ParamKind::PositionalOnly;
                }
            } else if self.eat_p(P::Pow) {
                let (name, _) = self.any_name("a name after '**'")?;
                let ty = if self.eat_p(P::Colon) {
                    Some(self.type_expr()?)
                } else {
                    None
                };
                params.push(Param {
                    name,
                    kind: ParamKind::KwArgs,
                    ty,
                    default: None,
                    span: self.since(start),
                });
            } else if self.eat_p(P::Star) {
                kind = ParamKind::KeywordOnly;
                if matches!(self.kind(), TokenKind::Ident { .. }) {
                    let (name, _) = self.any_name("a name after '*'")?;
                    let ty = if self.eat_p(P::Colon) {
                        Some(self.type_expr()?)
                    } else {
                        None
                    };
                    params.push(Param {
                        name,
                        kind: ParamKind::VarArgs,
                        ty,
                        default: None,
                        span: self.since(start),
                    });
                }
            } else {
                let (name, _) = self.any_name("a parameter name")?;
                let ty = if self.eat_p(P::Colon) {
                    Some(self.type_expr()?)
                } else {
                    None
                };
                let default = if self.eat_p(P::Assign) {
                    Some(self.expr()?)
                } else {
                    None
                };
                params.push(Param {
                    name,
                    kind,
                    ty,
                    default,
                    span: self.since(start),
                });
            }
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_p(P::RParen, "to close the parameter list")?;
        Ok(params)
    }

    // ------------------------------------------------------------- enums, globs

    fn enum_decl(&mut self, pre: Prelude, start: Span) -> PResult<Rc<EnumDecl>> {
        self.advance(); // enum
        let access = self.access()?;
        let (name, _) = self.name("an enum name")?;
        let mut bases = Vec::new();
        if self.eat_p(P::LParen) {
            while !self.at_p(P::RParen) {
                bases.push(self.postfix_expr()?);
                if !self.eat_p(P::Comma) {
                    break;
                }
            }
            self.expect_p(P::RParen, "to close the base list")?;
        } else if self.eat_p(P::Colon) {
            bases.push(self.type_expr()?);
        }
        let (items, members) = if self.eat_p(P::Semi) {
            (Vec::new(), Vec::new())
        } else {
            self.expect_p(P::LBrace, &format!("to open the body of enum '{name}'"))?;
            self.enum_body()?
        };
        Ok(Rc::new(EnumDecl {
            name,
            access,
            bases,
            decorators: pre.decorators,
            items,
            members,
            doc: pre.doc,
            span: self.since(start),
        }))
    }

    /// Enumerators then members, up to and including `}`.
    fn enum_body(&mut self) -> PResult<(Vec<EnumItem>, Vec<Member>)> {
        let mut items = Vec::new();
        loop {
            if self.at_p(P::RBrace)
                || self.at_decl_start()
                || matches!(self.kind(), TokenKind::Str(_))
            {
                break;
            }
            let (name, start) = self.any_name("an enumerator name")?;
            let value = if self.eat_p(P::Assign) {
                Some(self.expr()?)
            } else {
                None
            };
            items.push(EnumItem {
                name,
                value,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) && !self.eat_p(P::Semi) {
                break;
            }
        }
        let members = self.members()?;
        Ok((items, members))
    }

    fn glob(&mut self) -> PResult<Glob> {
        self.advance(); // glob
        let access = self.access()?;
        let mut vars = Vec::new();
        loop {
            let (name, start) = self.name("a global variable name")?;
            let ty = if self.eat_p(P::Colon) {
                Some(self.type_expr()?)
            } else {
                None
            };
            let value = if self.eat_p(P::Assign) {
                Some(self.expr()?)
            } else {
                None
            };
            vars.push(GlobVar {
                name,
                ty,
                value,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_semi("'glob' declaration")?;
        Ok(Glob { access, vars })
    }

    /// `sem Name.field = "...";` (also `is`, `;` optional) — semantic strings for
    /// LLM prompts; ignored.
    fn sem_decl(&mut self) -> PResult<()> {
        self.advance();
        self.any_name("the name the semantic string describes")?;
        while self.eat_p(P::Dot) {
            self.any_name("a name after '.'")?;
        }
        if !self.eat_p(P::Assign) && !self.eat_kw(Kw::Is) {
            return Err(self.error_here("expected '=' or 'is' in 'sem' declaration"));
        }
        while matches!(self.kind(), TokenKind::Str(_)) {
            self.advance();
        }
        self.eat_p(P::Semi);
        Ok(())
    }

    // ------------------------------------------------------------- impl, entry, test

    fn impl_block(&mut self, decorators: Vec<Expr>) -> PResult<Rc<ImplBlock>> {
        let start = self.advance().span; // impl
        if self.at_p(P::Colon) {
            return Err(self.unsupported("the legacy ':obj:Name:can:ability' impl syntax"));
        }
        let mut target = vec![self.any_name("the name of what is implemented")?.0];
        while self.eat_p(P::Dot) {
            target.push(self.any_name("a name after '.'")?.0);
        }
        let kind = if self.at_kw(Kw::With) {
            let event = self.event_clause()?;
            ImplKind::Ability {
                event,
                body: self.block()?,
            }
        } else if self.at_p(P::LParen) || self.at_p(P::Arrow) {
            let params = if self.at_p(P::LParen) {
                Some(self.params()?)
            } else {
                None
            };
            let returns = if self.eat_p(P::Arrow) {
                Some(self.type_expr()?)
            } else {
                None
            };
            ImplKind::Function {
                params,
                returns,
                body: self.block()?,
            }
        } else if target.len() > 1 {
            ImplKind::Function {
                params: None,
                returns: None,
                body: self.block()?,
            }
        } else {
            let open = self.pos;
            self.expect_p(P::LBrace, "to open the impl body")?;
            let members_like = self.at_p(P::RBrace)
                || self.at_decl_start()
                || self.at_kw(Kw::Has)
                || self.at_kw(Kw::Impl)
                || matches!(self.kind(), TokenKind::Str(_));
            let enum_like = matches!(self.kind(), TokenKind::Ident { .. })
                && !self.at_decl_start()
                && !self.at_kw(Kw::Has)
                && (self.at_p_ahead(1, P::Assign)
                    || self.at_p_ahead(1, P::Comma)
                    || self.at_p_ahead(1, P::RBrace));
            if !members_like && !enum_like {
                // `impl f { stmts }`: the body of a parameterless function.
                self.pos = open;
                return Ok(Rc::new(ImplBlock {
                    target,
                    decorators,
                    kind: ImplKind::Function {
                        params: None,
                        returns: None,
                        body: self.block()?,
                    },
                    span: self.since(start),
                }));
            }
            if enum_like {
                let (items, members) = self.enum_body()?;
                if !members.is_empty() {
                    return Err(
                        self.error_at(members[0].span, "an enum impl may only list enumerators")
                    );
                }
                ImplKind::EnumItems(items)
            } else {
                ImplKind::Members(self.members()?)
            }
        };
        Ok(Rc::new(ImplBlock {
            target,
            decorators,
            kind,
            span: self.since(start),
        }))
    }

    fn entry_block(&mut self) -> PResult<EntryBlock> {
        self.advance(); // with
        self.advance(); // entry
        let name = if self.eat_p(P::Colon) {
            Some(self.any_name("an entry name")?.0)
        } else {
            None
        };
        Ok(EntryBlock {
            name,
            body: self.block()?,
        })
    }

    fn test_block(&mut self) -> PResult<TestBlock> {
        self.advance(); // test
        let name = match self.kind().clone() {
            TokenKind::Str(s) => {
                self.advance();
                Some(s)
            }
            TokenKind::Ident { name, .. } => {
                self.advance();
                Some(name)
            }
            _ => None,
        };
        Ok(TestBlock {
            name,
            body: self.block()?,
        })
    }

    // ------------------------------------------------------------- imports

    pub(super) fn import(&mut self) -> PResult<Import> {
        let start = self.span();
        if self.eat_kw(Kw::Include) {
            let module = self.module_path()?;
            self.expect_semi("'include'")?;
            return Ok(Import {
                kind: ImportKind::Include(module),
                span: self.since(start),
            });
        }
        self.expect_kw(Kw::Import, "")?;
        // `import type from m { T }`: a typing-only import, bound like any other.
        if matches!(self.kind(), TokenKind::Ident { name, kw: None } if &**name == "type")
            && (self.at_kw_ahead(1, Kw::From) || matches!(self.kind_at(1), TokenKind::Ident { .. }))
        {
            self.advance();
        }
        // Legacy language tag: `import:py os;` / `import:jac from x { }`.
        if self.at_p(P::Colon) && matches!(self.kind_at(1), TokenKind::Ident { .. }) {
            self.advance();
            self.advance();
        }
        if self.eat_kw(Kw::From) {
            let module = self.module_path()?;
            self.expect_p(P::LBrace, "to open the list of imported names")?;
            if self.at_p(P::Star) && self.at_p_ahead(1, P::RBrace) {
                // `import from m { * }` imports every public name, like `include m;`.
                self.advance();
                self.advance();
                self.eat_p(P::Semi);
                return Ok(Import {
                    kind: ImportKind::Include(module),
                    span: self.since(start),
                });
            }
            let mut items = Vec::new();
            while !self.at_p(P::RBrace) {
                let (name, span) = self.any_name("an imported name")?;
                let alias = if self.eat_kw(Kw::As) {
                    Some(self.any_name("an alias")?.0)
                } else {
                    None
                };
                items.push(ImportItem {
                    name,
                    alias,
                    span: self.since(span),
                });
                if !self.eat_p(P::Comma) {
                    break;
                }
            }
            self.expect_p(P::RBrace, "to close the list of imported names")?;
            self.eat_p(P::Semi);
            return Ok(Import {
                kind: ImportKind::From { module, items },
                span: self.since(start),
            });
        }
        let mut modules = Vec::new();
        loop {
            let module = self.module_path()?;
            let alias = if self.eat_kw(Kw::As) {
                Some(self.any_name("an alias")?.0)
            } else {
                None
            };
            modules.push(ImportModule { module, alias });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_semi("import")?;
        Ok(Import {
            kind: ImportKind::Modules(modules),
            span: self.since(start),
        })
    }

    fn module_path(&mut self) -> PResult<ModulePath> {
        let start = self.span();
        let mut level = 0;
        loop {
            if self.eat_p(P::Dot) {
                level += 1;
            } else if self.eat_p(P::Ellipsis) {
                level += 3;
            } else {
                break;
            }
        }
        let mut parts = Vec::new();
        if level == 0 || matches!(self.kind(), TokenKind::Ident { .. }) {
            parts.push(self.any_name("a module name")?.0);
            while self.at_p(P::Dot) && matches!(self.kind_at(1), TokenKind::Ident { .. }) {
                self.advance();
                parts.push(self.any_name("a module name")?.0);
            }
        }
        Ok(ModulePath {
            level,
            parts,
            resolved: None,
            span: self.since(start),
        })
    }

    /// A declaration inside a block: nested def / archetype / enum.
    pub(super) fn block_decl(&mut self, doc: Option<Rc<str>>) -> PResult<StmtKind> {
        match self.decl(doc)? {
            Decl::Impl(i) => Err(self.error_at(
                i.span,
                "'impl' blocks must be at module level or in an archetype",
            )),
            Decl::Archetype(a) => Ok(StmtKind::Archetype(a)),
            Decl::Enum(e) => Ok(StmtKind::Enum(e)),
            Decl::Function(f) => Ok(StmtKind::Function(f)),
            Decl::Ability(a) => Err(self.error_at(
                a.span,
                "abilities ('can ... with ...') must be declared in an archetype",
            )),
        }
    }
}
