//! Statements and blocks.

use super::{PResult, Parser, kw_of};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::token::{Kw, P, TokenKind};

impl Parser<'_> {
    /// `{ stmt* }`.
    pub(super) fn block(&mut self) -> PResult<Block> {
        let start = self.expect_p(P::LBrace, "to open a block")?;
        self.enter()?;
        let mut stmts = Vec::new();
        while !self.at_p(P::RBrace) {
            if self.at_eof() {
                return Err(self.error_at(start, "unclosed '{': expected '}' before end of file"));
            }
            if let Some(stmt) = self.stmt()? {
                stmts.push(stmt);
            }
        }
        self.advance();
        self.leave();
        Ok(Block {
            stmts,
            span: self.since(start),
        })
    }

    /// Statements up to (not including) the next `case`/`default`/`}` (match arms).
    fn case_body(&mut self) -> PResult<Block> {
        let start = self.span();
        let mut stmts = Vec::new();
        while !self.at_p(P::RBrace) && !self.at_kw(Kw::Case) && !self.at_eof() {
            if let Some(stmt) = self.stmt()? {
                stmts.push(stmt);
            }
        }
        Ok(Block {
            stmts,
            span: self.since(start),
        })
    }

    /// One statement; `None` for an empty statement `;` or a stray docstring.
    pub(super) fn stmt(&mut self) -> PResult<Option<Stmt>> {
        let start = self.span();
        if self.eat_p(P::Semi) {
            return Ok(None);
        }
        let kind = match kw_of(self.kind()) {
            Some(Kw::If) => self.if_stmt()?,
            Some(Kw::For) => self.for_stmt(false)?,
            Some(Kw::While) => self.while_stmt()?,
            Some(Kw::Try) => self.try_stmt()?,
            Some(Kw::With) => self.with_stmt(false)?,
            Some(Kw::Async) if self.at_kw_ahead(1, Kw::For) => {
                self.advance();
                self.for_stmt(true)?
            }
            Some(Kw::Async) if self.at_kw_ahead(1, Kw::With) => {
                self.advance();
                self.with_stmt(true)?
            }
            Some(Kw::Match) if self.looks_like_match() => self.match_stmt()?,
            Some(Kw::Switch) if self.looks_like_switch() => self.switch_stmt()?,
            Some(Kw::Visit) => self.visit_stmt()?,
            Some(Kw::Return) => {
                self.advance();
                let value = if self.at_p(P::Semi) {
                    None
                } else {
                    Some(self.expr_list()?)
                };
                self.expect_semi("return")?;
                StmtKind::Return(value)
            }
            Some(Kw::Report) => {
                self.advance();
                let value = self.expr_list()?;
                self.expect_semi("report")?;
                StmtKind::Report(value)
            }
            Some(Kw::Disengage) => self.keyword_stmt(StmtKind::Disengage, "disengage")?,
            Some(Kw::Skip) if self.at_p_ahead(1, P::Semi) => {
                self.keyword_stmt(StmtKind::Skip, "skip")?
            }
            Some(Kw::Break) => self.keyword_stmt(StmtKind::Break, "break")?,
            Some(Kw::Continue) => self.keyword_stmt(StmtKind::Continue, "continue")?,
            Some(Kw::Del) => {
                self.advance();
                let mut targets = vec![self.expr()?];
                while self.eat_p(P::Comma) {
                    targets.push(self.expr()?);
                }
                self.expect_semi("del")?;
                StmtKind::Del(targets)
            }
            Some(Kw::Raise) => {
                self.advance();
                let exc = if self.at_p(P::Semi) {
                    None
                } else {
                    Some(self.expr()?)
                };
                let cause = if exc.is_some() && self.eat_kw(Kw::From) {
                    Some(self.expr()?)
                } else {
                    None
                };
                self.expect_semi("raise")?;
                StmtKind::Raise { exc, cause }
            }
            Some(Kw::Assert) => {
                self.advance();
                let test = self.expr()?;
                let msg = if self.eat_p(P::Comma) {
                    Some(self.expr()?)
                } else {
                    None
                };
                self.expect_semi("assert")?;
                StmtKind::Assert { test, msg }
            }
            Some(kw @ (Kw::Global | Kw::Nonlocal)) => {
                self.advance();
                let mut names = vec![self.name("a variable name")?.0];
                while self.eat_p(P::Comma) {
                    names.push(self.name("a variable name")?.0);
                }
                self.expect_semi(kw.as_str())?;
                if kw == Kw::Global {
                    StmtKind::Global(names)
                } else {
                    StmtKind::Nonlocal(names)
                }
            }
            Some(Kw::Import | Kw::Include) => StmtKind::Import(self.import()?),
            Some(Kw::Can) if !self.at_p_ahead(1, P::Assign) => {
                return Err(self.error_here(
                    "abilities ('can') must be declared in an archetype; expected a statement",
                ));
            }
            Some(Kw::Has) => {
                return Err(self.error_here(
                    "'has' fields must be declared in an archetype; expected a statement",
                ));
            }
            _ if self.at_decl_start() => self.block_decl(None)?,
            // Legacy (<= 0.8) `:g: a, b;` = `global a, b;`.
            _ if self.at_p(P::Colon)
                && matches!(self.kind_at(1), TokenKind::Ident { name, kw: None } if &**name == "g")
                && self.at_p_ahead(2, P::Colon) =>
            {
                self.advance();
                self.advance();
                self.advance();
                let mut names = vec![self.name("a variable name")?.0];
                while self.eat_p(P::Comma) {
                    names.push(self.name("a variable name")?.0);
                }
                self.expect_semi("':g:'")?;
                StmtKind::Global(names)
            }
            // Legacy `let x = 1;` = `x = 1;`.
            _ if matches!(self.kind(), TokenKind::Ident { name, kw: None } if &**name == "let")
                && matches!(self.kind_at(1), TokenKind::Ident { .. }) =>
            {
                self.advance();
                self.simple_stmt()?
            }
            _ if self.at_p(P::Arrow) => {
                self.advance();
                let ty = self.type_expr()?;
                StmtKind::TypedContext {
                    ty,
                    body: self.block()?,
                }
            }
            _ if matches!(self.kind(), TokenKind::Str(_)) => {
                // A docstring before a nested declaration, or a string expression statement.
                let save = self.pos;
                let doc = self.docstring();
                if self.at_decl_start() {
                    self.block_decl(doc)?
                } else if matches!(self.kind(), TokenKind::Ident { kw, .. }
                    if !matches!(kw, Some(Kw::In | Kw::Not | Kw::If | Kw::And | Kw::Or | Kw::Is)))
                {
                    // A docstring-style string before a statement: a stray expression, dropped.
                    return Ok(None);
                } else {
                    self.pos = save;
                    self.simple_stmt()?
                }
            }
            _ => self.simple_stmt()?,
        };
        Ok(Some(Stmt {
            kind,
            span: self.since(start),
        }))
    }

    fn keyword_stmt(&mut self, kind: StmtKind, word: &str) -> PResult<StmtKind> {
        self.advance();
        self.expect_semi(word)?;
        Ok(kind)
    }

    /// Expression statement or assignment, with its `;`.
    fn simple_stmt(&mut self) -> PResult<StmtKind> {
        let kind = self.assignment_or_expr()?;
        let what = match kind {
            StmtKind::Expr(_) => "expression",
            _ => "assignment",
        };
        self.expect_semi(what)?;
        Ok(kind)
    }

    /// `target: T = v`, `a = b = v`, `a += v`, or an expression (no `;`).
    fn assignment_or_expr(&mut self) -> PResult<StmtKind> {
        let first = self.expr_list_or_yield()?;
        if self.eat_p(P::Colon) {
            self.check_target(&first)?;
            let ty = self.type_expr()?;
            let value = if self.eat_p(P::Assign) {
                Some(self.expr_list_or_yield()?)
            } else {
                None
            };
            return Ok(StmtKind::AnnAssign {
                target: first,
                ty,
                value,
            });
        }
        if self.at_p(P::Assign) {
            let mut targets = vec![first];
            let mut value;
            loop {
                self.advance(); // =
                value = self.expr_list_or_yield()?;
                if !self.at_p(P::Assign) {
                    break;
                }
                targets.push(value);
            }
            for t in &targets {
                self.check_target(t)?;
            }
            return Ok(StmtKind::Assign { targets, value });
        }
        if let TokenKind::Punct(p) = self.kind()
            && let Some(op) = aug_op(*p)
        {
            self.check_target(&first)?;
            if matches!(first.kind, ExprKind::Tuple(_) | ExprKind::List(_)) {
                return Err(self.error_at(first.span, "illegal target for augmented assignment"));
            }
            self.advance();
            let value = self.expr_list_or_yield()?;
            return Ok(StmtKind::AugAssign {
                target: first,
                op,
                value,
            });
        }
        Ok(StmtKind::Expr(first))
    }

    /// Rejects expressions that cannot be assigned to.
    fn check_target(&self, target: &Expr) -> PResult<()> {
        match &target.kind {
            ExprKind::Name(_)
            | ExprKind::Attribute {
                null_safe: false, ..
            }
            | ExprKind::Index {
                null_safe: false, ..
            }
            | ExprKind::Special(SpecialRef::SelfRef) => Ok(()),
            ExprKind::Tuple(items) | ExprKind::List(items) => {
                items.iter().try_for_each(|t| self.check_target(t))
            }
            ExprKind::Starred(inner) => self.check_target(inner),
            _ => Err(self.error_at(target.span, "cannot assign to this expression")),
        }
    }

    fn if_stmt(&mut self) -> PResult<StmtKind> {
        self.advance(); // if
        let mut branches = vec![(self.expr()?, self.block()?)];
        let mut orelse = None;
        loop {
            if self.eat_kw(Kw::Elif) {
                branches.push((self.expr()?, self.block()?));
            } else if self.eat_kw(Kw::Else) {
                if self.at_kw(Kw::If) {
                    // `else if` is accepted as `elif`.
                    let start = self.span();
                    let nested = self.if_stmt()?;
                    let span = self.since(start);
                    orelse = Some(Block {
                        stmts: vec![Stmt { kind: nested, span }],
                        span,
                    });
                } else {
                    orelse = Some(self.block()?);
                }
                break;
            } else {
                break;
            }
        }
        Ok(StmtKind::If { branches, orelse })
    }

    fn for_stmt(&mut self, is_async: bool) -> PResult<StmtKind> {
        self.advance(); // for
        let target = self.target_list()?;
        if self.at_p(P::Assign) {
            // `for i = 0 to i < n by i += 1 { }`
            if is_async {
                return Err(self.error_here("'async for' needs 'in'"));
            }
            let init_start = target.span;
            self.advance();
            let value = self.expr()?;
            self.check_target(&target)?;
            let init = Stmt {
                kind: StmtKind::Assign {
                    targets: vec![target],
                    value,
                },
                span: self.since(init_start),
            };
            self.expect_kw(Kw::To, "in 'for ... to ... by ...' loop")?;
            let cond = self.expr()?;
            self.expect_kw(Kw::By, "in 'for ... to ... by ...' loop")?;
            let step_start = self.span();
            let step_kind = self.assignment_or_expr()?;
            let step = Stmt {
                kind: step_kind,
                span: self.since(step_start),
            };
            let body = self.block()?;
            return Ok(StmtKind::ForTo {
                init: Box::new(init),
                cond,
                step: Box::new(step),
                body,
            });
        }
        self.check_target(&target)?;
        self.expect_kw(Kw::In, "after the loop variable")?;
        let iter = self.expr_list()?;
        let body = self.block()?;
        let orelse = if self.eat_kw(Kw::Else) {
            Some(self.block()?)
        } else {
            None
        };
        Ok(StmtKind::For {
            target,
            iter,
            body,
            orelse,
            is_async,
        })
    }

    fn while_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let cond = self.expr()?;
        let body = self.block()?;
        let orelse = if self.eat_kw(Kw::Else) {
            Some(self.block()?)
        } else {
            None
        };
        Ok(StmtKind::While { cond, body, orelse })
    }

    fn try_stmt(&mut self) -> PResult<StmtKind> {
        self.advance();
        let body = self.block()?;
        let mut handlers = Vec::new();
        while self.at_kw(Kw::Except) {
            let start = self.advance().span;
            let ty = if self.at_p(P::LBrace) {
                None
            } else {
                Some(self.expr_before_as()?)
            };
            let name = if self.eat_kw(Kw::As) {
                Some(self.name("a name after 'as'")?.0)
            } else {
                None
            };
            let body = self.block()?;
            handlers.push(ExceptHandler {
                ty,
                name,
                body,
                span: self.since(start),
            });
        }
        let orelse = if self.eat_kw(Kw::Else) {
            Some(self.block()?)
        } else {
            None
        };
        let finally = if self.eat_kw(Kw::Finally) {
            Some(self.block()?)
        } else {
            None
        };
        if handlers.is_empty() && finally.is_none() {
            return Err(self.error_here("expected 'except' or 'finally' after 'try' block"));
        }
        Ok(StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        })
    }

    fn with_stmt(&mut self, is_async: bool) -> PResult<StmtKind> {
        self.advance(); // with
        let mut items = Vec::new();
        loop {
            let context = self.expr_before_as()?;
            let target = if self.eat_kw(Kw::As) {
                Some(self.target_list()?)
            } else {
                None
            };
            items.push(WithItem { context, target });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        let body = self.block()?;
        Ok(StmtKind::With {
            items,
            body,
            is_async,
        })
    }

    fn visit_stmt(&mut self) -> PResult<StmtKind> {
        self.advance(); // visit
        let index = if self.eat_p(P::Colon) {
            let index = self.expr()?;
            self.expect_p(P::Colon, "after the visit index")?;
            Some(index)
        } else {
            None
        };
        let target = self.expr()?;
        let orelse = if self.eat_kw(Kw::Else) {
            Some(self.block()?)
        } else {
            self.expect_semi("visit")?;
            None
        };
        Ok(StmtKind::Visit {
            index,
            target,
            orelse,
        })
    }

    /// `match` is a soft keyword: a statement only if `match subject { case` follows.
    fn looks_like_match(&mut self) -> bool {
        let save = (self.pos, self.last_end, self.depth);
        self.advance();
        let ok = self.expr_list().is_ok() && self.eat_p(P::LBrace) && self.at_kw(Kw::Case);
        (self.pos, self.last_end, self.depth) = save;
        ok
    }

    /// `switch` is a soft keyword too: `switch subject { case|default`.
    fn looks_like_switch(&mut self) -> bool {
        let save = (self.pos, self.last_end, self.depth);
        self.advance();
        let ok = self.expr_list().is_ok()
            && self.eat_p(P::LBrace)
            && (self.at_kw(Kw::Case) || self.at_kw(Kw::Default));
        (self.pos, self.last_end, self.depth) = save;
        ok
    }

    /// C-style `switch` with fall-through, desugared to `match`: each arm's body
    /// runs on into the following arms up to the first top-level `break;`, and
    /// `default` becomes a final wildcard case.
    fn switch_stmt(&mut self) -> PResult<StmtKind> {
        self.advance(); // switch
        let subject = self.expr_list()?;
        self.expect_p(P::LBrace, "to open the switch body")?;
        let mut arms: Vec<(Option<Pattern>, Vec<Stmt>, Span)> = Vec::new();
        while self.at_kw(Kw::Case) || self.at_kw(Kw::Default) {
            let start = self.span();
            let pattern = if self.eat_kw(Kw::Default) {
                None
            } else {
                self.advance();
                let mut alts = Vec::new();
                loop {
                    let value = self.bitor()?;
                    alts.push(Pattern {
                        span: value.span,
                        kind: PatternKind::Value(value),
                    });
                    if !self.eat_p(P::Comma) {
                        break;
                    }
                }
                Some(if alts.len() == 1 {
                    alts.pop().expect("one alternative")
                } else {
                    Pattern {
                        kind: PatternKind::Or(alts),
                        span: self.since(start),
                    }
                })
            };
            self.expect_p(P::Colon, "after the switch case")?;
            let mut body = Vec::new();
            while !self.at_p(P::RBrace)
                && !self.at_kw(Kw::Case)
                && !self.at_kw(Kw::Default)
                && !self.at_eof()
            {
                if let Some(stmt) = self.stmt()? {
                    reject_nested_break(&stmt, self)?;
                    body.push(stmt);
                }
            }
            arms.push((pattern, body, self.since(start)));
        }
        self.expect_p(P::RBrace, "or 'case' in switch body")?;
        let mut cases = Vec::with_capacity(arms.len());
        let mut default = None;
        for (i, (pattern, _, span)) in arms.iter().enumerate() {
            // Fall through the following arms until a top-level `break`.
            let stmts: Vec<Stmt> = arms[i..]
                .iter()
                .flat_map(|(_, body, _)| body.iter())
                .take_while(|s| !matches!(s.kind, StmtKind::Break))
                .cloned()
                .collect();
            let case = MatchCase {
                pattern: pattern.clone().unwrap_or(Pattern {
                    kind: PatternKind::Wildcard,
                    span: *span,
                }),
                guard: None,
                body: Block { stmts, span: *span },
                span: *span,
            };
            if pattern.is_some() {
                cases.push(case);
            } else {
                default = Some(case);
            }
        }
        cases.extend(default);
        Ok(StmtKind::Match { subject, cases })
    }

    fn match_stmt(&mut self) -> PResult<StmtKind> {
        self.advance(); // match
        let subject = self.expr_list()?;
        self.expect_p(P::LBrace, "to open the match body")?;
        let mut cases = Vec::new();
        while self.at_kw(Kw::Case) {
            let start = self.advance().span;
            let pattern = self.case_pattern()?;
            let guard = if self.eat_kw(Kw::If) {
                Some(self.expr()?)
            } else {
                None
            };
            self.expect_p(P::Colon, "after the case pattern")?;
            let body = self.case_body()?;
            cases.push(MatchCase {
                pattern,
                guard,
                body,
                span: self.since(start),
            });
        }
        self.expect_p(P::RBrace, "or 'case' in match body")?;
        Ok(StmtKind::Match { subject, cases })
    }
}

/// A `break` that leaves a switch must be a top-level statement of its arm
/// (breaks inside nested loops belong to those loops and are fine).
fn reject_nested_break(stmt: &Stmt, p: &Parser<'_>) -> PResult<()> {
    let blocks: Vec<&Block> = match &stmt.kind {
        StmtKind::If { branches, orelse } => {
            branches.iter().map(|(_, b)| b).chain(orelse).collect()
        }
        StmtKind::Try {
            body,
            handlers,
            orelse,
            finally,
        } => std::iter::once(body)
            .chain(handlers.iter().map(|h| &h.body))
            .chain(orelse)
            .chain(finally)
            .collect(),
        StmtKind::With { body, .. } | StmtKind::TypedContext { body, .. } => vec![body],
        StmtKind::Match { cases, .. } => cases.iter().map(|c| &c.body).collect(),
        _ => return Ok(()),
    };
    for block in blocks {
        for inner in &block.stmts {
            if matches!(inner.kind, StmtKind::Break) {
                return Err(p.error_at(
                    inner.span,
                    "a 'break' nested inside a switch case is not supported (put it at the end of the case)",
                ));
            }
            reject_nested_break(inner, p)?;
        }
    }
    Ok(())
}

fn aug_op(p: P) -> Option<BinOp> {
    Some(match p {
        P::PlusEq => BinOp::Add,
        P::MinusEq => BinOp::Sub,
        P::StarEq => BinOp::Mul,
        P::SlashEq => BinOp::Div,
        P::FloorDivEq => BinOp::FloorDiv,
        P::PercentEq => BinOp::Mod,
        P::PowEq => BinOp::Pow,
        P::AtEq => BinOp::MatMul,
        P::ShlEq => BinOp::LShift,
        P::ShrEq => BinOp::RShift,
        P::AmpEq => BinOp::BitAnd,
        P::PipeEq => BinOp::BitOr,
        P::CaretEq => BinOp::BitXor,
        _ => return None,
    })
}
