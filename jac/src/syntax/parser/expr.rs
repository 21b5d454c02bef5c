//! Expressions, by precedence level (language notes 4.1, loosest first):
//! lambda, ternary, walrus, pipes, `or`, `and`, `not`, comparisons, `|`, `^`,
//! `&`, shifts, `+ -`, `* / // % @`, `**` (right-assoc), unary `- + ~`
//! (tighter than `**`), connect/disconnect, `spawn`, `await`, postfix, atoms.

use std::rc::Rc;

use super::{PResult, Parser, kw_of};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::token::{FPiece, Kw, P, TokenKind};

fn boxed(e: Expr) -> Box<Expr> {
    Box::new(e)
}

impl Parser<'_> {
    fn mk(&self, kind: ExprKind, start: Span) -> Expr {
        Expr {
            kind,
            span: self.since(start),
        }
    }

    /// A full expression (no unparenthesised tuple).
    pub(crate) fn expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = if self.at_kw(Kw::Lambda) {
            self.lambda()
        } else {
            self.ternary()
        };
        self.leave();
        e
    }

    /// `a, b, *c` — a tuple when there is a comma, else the single expression.
    pub(crate) fn expr_list(&mut self) -> PResult<Expr> {
        let start = self.span();
        let first = self.starred_or_expr()?;
        if !self.at_p(P::Comma) {
            if matches!(first.kind, ExprKind::Starred(_)) {
                return Err(self.error_at(first.span, "can't use starred expression here"));
            }
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if !self.starts_expr() {
                break;
            }
            items.push(self.starred_or_expr()?);
        }
        Ok(self.mk(ExprKind::Tuple(items), start))
    }

    /// [`Self::expr_list`] or a `yield` expression (assignment right-hand sides).
    pub(super) fn expr_list_or_yield(&mut self) -> PResult<Expr> {
        if self.at_kw(Kw::Yield) {
            self.yield_expr()
        } else {
            self.expr_list()
        }
    }

    fn yield_expr(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        if self.eat_kw(Kw::From) {
            let value = self.expr()?;
            return Ok(self.mk(
                ExprKind::Yield {
                    value: Some(boxed(value)),
                    from: true,
                },
                start,
            ));
        }
        let value = if self.starts_expr() {
            Some(boxed(self.expr_list()?))
        } else {
            None
        };
        Ok(self.mk(ExprKind::Yield { value, from: false }, start))
    }

    /// Can the current token begin an expression?
    fn starts_expr(&self) -> bool {
        match self.kind() {
            TokenKind::Ident { kw: None, .. } => true,
            TokenKind::Ident { kw: Some(kw), .. } => {
                kw.is_soft()
                    || matches!(
                        kw,
                        Kw::True_
                            | Kw::False_
                            | Kw::None_
                            | Kw::Root
                            | Kw::Here
                            | Kw::Self_
                            | Kw::Visitor
                            | Kw::Super
                            | Kw::Init
                            | Kw::PostInit
                            | Kw::Not
                            | Kw::Lambda
                            | Kw::Await
                            | Kw::Spawn
                    )
            }
            TokenKind::Punct(p) => matches!(
                p,
                P::LParen
                    | P::LBracket
                    | P::LBrace
                    | P::Minus
                    | P::Plus
                    | P::Tilde
                    | P::Star
                    | P::Ellipsis
            ),
            TokenKind::Eof => false,
            _ => true,
        }
    }

    fn starred_or_expr(&mut self) -> PResult<Expr> {
        if self.at_p(P::Star) {
            let start = self.advance().span;
            let inner = self.bitor()?;
            return Ok(self.mk(ExprKind::Starred(boxed(inner)), start));
        }
        self.expr()
    }

    /// Assignment / loop targets: `a`, `a, b`, `(a, b)`, `*rest` (no comparisons,
    /// so `for x in xs` stops before `in`).
    pub(super) fn target_list(&mut self) -> PResult<Expr> {
        let start = self.span();
        let item = |p: &mut Self| -> PResult<Expr> {
            if p.at_p(P::Star) {
                let s = p.advance().span;
                let inner = p.bitor()?;
                return Ok(p.mk(ExprKind::Starred(boxed(inner)), s));
            }
            p.bitor()
        };
        let first = item(self)?;
        if !self.at_p(P::Comma) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.at_kw(Kw::In) || self.at_p(P::Assign) {
                break;
            }
            items.push(item(self)?);
        }
        Ok(self.mk(ExprKind::Tuple(items), start))
    }

    /// A type annotation (`int`, `list[str]`, `A | None`).
    pub(super) fn type_expr(&mut self) -> PResult<Expr> {
        self.enter()?;
        let e = self.or_expr();
        self.leave();
        e
    }

    // ------------------------------------------------------------- lambda .. not

    fn lambda(&mut self) -> PResult<Expr> {
        let start = self.advance().span; // lambda
        let params = if self.at_p(P::LParen) {
            self.params()?
        } else {
            let save = (self.pos, self.last_end, self.depth);
            match self.typed_lambda_params() {
                Ok(params) => params,
                Err(_) => {
                    (self.pos, self.last_end, self.depth) = save;
                    self.untyped_lambda_params()?
                }
            }
        };
        let returns = if self.eat_p(P::Arrow) {
            Some(self.type_expr()?)
        } else {
            None
        };
        let body = if self.at_p(P::LBrace) {
            FnBody::Block(self.block()?)
        } else {
            self.expect_p(P::Colon, "before the lambda body")?;
            FnBody::Expr(boxed(self.expr()?))
        };
        Ok(self.mk(
            ExprKind::Lambda(Rc::new(FunctionDef {
                name: "<lambda>".into(),
                access: Access::Default,
                params,
                returns,
                body,
                is_async: false,
                is_static: false,
                is_override: false,
                decorators: Vec::new(),
                doc: None,
                span: self.since(start),
            })),
            start,
        ))
    }

    /// Jac's typed form `lambda x: int, y: int : body`; fails (for backtracking)
    /// unless followed by the body's `:`, `->` or `{`.
    fn typed_lambda_params(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        while self.at_name() {
            let (name, start) = self.name("a parameter name")?;
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
                kind: ParamKind::Normal,
                ty,
                default,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        if self.at_p(P::Colon) || self.at_p(P::Arrow) || self.at_p(P::LBrace) {
            Ok(params)
        } else {
            Err(self.error_here("expected ':' before the lambda body"))
        }
    }

    /// Python's form `lambda a, b=1: body`.
    fn untyped_lambda_params(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        while !self.at_p(P::Colon) {
            let start = self.span();
            let kind = if self.eat_p(P::Pow) {
                ParamKind::KwArgs
            } else if self.eat_p(P::Star) {
                ParamKind::VarArgs
            } else {
                ParamKind::Normal
            };
            let (name, _) = self.name("a parameter name")?;
            let default = if self.eat_p(P::Assign) {
                Some(self.expr()?)
            } else {
                None
            };
            params.push(Param {
                name,
                kind,
                ty: None,
                default,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        Ok(params)
    }

    /// An expression in which `as` belongs to the enclosing statement
    /// (`except T as e`, `with ctx as name`), not to a cast.
    pub(super) fn expr_before_as(&mut self) -> PResult<Expr> {
        let outer = std::mem::replace(&mut self.no_cast, true);
        let e = self.expr();
        self.no_cast = outer;
        e
    }

    fn ternary(&mut self) -> PResult<Expr> {
        let start = self.span();
        let then = self.walrus()?;
        // `x as T` (>= 0.16) only informs the type checker: the value is `x`.
        while !self.no_cast && self.eat_kw(Kw::As) {
            self.pipe_forward()?;
        }
        if !self.at_kw(Kw::If) {
            return Ok(then);
        }
        self.advance();
        let cond = self.walrus()?;
        self.expect_kw(Kw::Else, "in conditional expression")?;
        let orelse = self.expr()?;
        Ok(self.mk(
            ExprKind::Ternary {
                cond: boxed(cond),
                then: boxed(then),
                orelse: boxed(orelse),
            },
            start,
        ))
    }

    fn walrus(&mut self) -> PResult<Expr> {
        if self.at_name() && self.at_p_ahead(1, P::Walrus) {
            let (name, start) = self.name("a name")?;
            self.advance();
            let value = self.walrus()?;
            return Ok(self.mk(
                ExprKind::Walrus {
                    name,
                    value: boxed(value),
                },
                start,
            ));
        }
        self.pipe_forward()
    }

    /// `x |> f` = `f(x)`.
    fn pipe_forward(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.pipe_backward()?;
        while self.eat_p(P::PipeFwd) {
            let func = self.pipe_backward()?;
            left = self.mk(
                ExprKind::Call {
                    func: boxed(func),
                    args: vec![Arg::Positional(left)],
                },
                start,
            );
        }
        Ok(left)
    }

    /// `f <| x` = `f(x)`.
    fn pipe_backward(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.or_expr()?;
        while self.eat_p(P::PipeBwd) {
            let arg = self.or_expr()?;
            left = self.mk(
                ExprKind::Call {
                    func: boxed(left),
                    args: vec![Arg::Positional(arg)],
                },
                start,
            );
        }
        Ok(left)
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        self.bool_chain(BoolOp::Or, Kw::Or, P::OrOr, Self::and_expr)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        self.bool_chain(BoolOp::And, Kw::And, P::AndAnd, Self::not_expr)
    }

    fn bool_chain(
        &mut self,
        op: BoolOp,
        kw: Kw,
        alias: P,
        next: fn(&mut Self) -> PResult<Expr>,
    ) -> PResult<Expr> {
        let start = self.span();
        let first = next(self)?;
        if !self.at_kw(kw) && !self.at_p(alias) {
            return Ok(first);
        }
        let mut values = vec![first];
        while self.eat_kw(kw) || self.eat_p(alias) {
            values.push(next(self)?);
        }
        Ok(self.mk(ExprKind::BoolOp { op, values }, start))
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.at_kw(Kw::Not) {
            let start = self.advance().span;
            self.enter()?;
            let operand = self.not_expr()?;
            self.leave();
            return Ok(self.mk(
                ExprKind::Unary {
                    op: UnaryOp::Not,
                    operand: boxed(operand),
                },
                start,
            ));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let start = self.span();
        let left = self.bitor()?;
        let mut rest = Vec::new();
        while let Some(op) = self.cmp_op() {
            rest.push((op, self.bitor()?));
        }
        if rest.is_empty() {
            return Ok(left);
        }
        Ok(self.mk(
            ExprKind::Compare {
                left: boxed(left),
                rest,
            },
            start,
        ))
    }

    /// Consumes a comparison operator if one is next.
    fn cmp_op(&mut self) -> Option<CmpOp> {
        let op = match self.kind() {
            TokenKind::Punct(P::EqEq) => CmpOp::Eq,
            TokenKind::Punct(P::NotEq) => CmpOp::NotEq,
            TokenKind::Punct(P::Lt) => CmpOp::Lt,
            TokenKind::Punct(P::LtEq) => CmpOp::LtE,
            TokenKind::Punct(P::Gt) => CmpOp::Gt,
            TokenKind::Punct(P::GtEq) => CmpOp::GtE,
            TokenKind::Ident {
                kw: Some(Kw::In), ..
            } => CmpOp::In,
            TokenKind::Ident {
                kw: Some(Kw::Not), ..
            } if self.at_kw_ahead(1, Kw::In) => {
                self.advance();
                CmpOp::NotIn
            }
            TokenKind::Ident {
                kw: Some(Kw::Is), ..
            } => {
                if self.at_kw_ahead(1, Kw::Not) {
                    self.advance();
                    CmpOp::IsNot
                } else {
                    CmpOp::Is
                }
            }
            _ => return None,
        };
        self.advance();
        Some(op)
    }

    // ------------------------------------------------------------- binary arithmetic

    /// The binary operator at the current token with its precedence
    /// (`|` 1, `^` 2, `&` 3, shifts 4, `+ -` 5, `* / // % @` 6).
    fn binop_at(&self) -> Option<(BinOp, u8)> {
        let TokenKind::Punct(p) = self.kind() else {
            return None;
        };
        Some(match p {
            P::Pipe => (BinOp::BitOr, 1),
            P::Caret => (BinOp::BitXor, 2),
            P::Amp => (BinOp::BitAnd, 3),
            P::Shl => (BinOp::LShift, 4),
            P::Shr => (BinOp::RShift, 4),
            P::Plus => (BinOp::Add, 5),
            P::Minus => (BinOp::Sub, 5),
            P::Star => (BinOp::Mul, 6),
            P::Slash => (BinOp::Div, 6),
            P::FloorDiv => (BinOp::FloorDiv, 6),
            P::Percent => (BinOp::Mod, 6),
            P::At => (BinOp::MatMul, 6),
            _ => return None,
        })
    }

    /// Left-associative binary operators binding at least as tightly as
    /// `min_prec`, by precedence climbing (one native frame per operand level
    /// instead of one per precedence level keeps deep nesting cheap).
    fn binary(&mut self, min_prec: u8) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.power()?;
        while let Some((op, prec)) = self.binop_at().filter(|&(_, prec)| prec >= min_prec) {
            self.advance();
            let right = self.binary(prec + 1)?;
            left = self.mk(
                ExprKind::Binary {
                    op,
                    left: boxed(left),
                    right: boxed(right),
                },
                start,
            );
        }
        Ok(left)
    }

    /// `a | b ^ c & d << e + f * g` and tighter.
    pub(super) fn bitor(&mut self) -> PResult<Expr> {
        self.binary(1)
    }

    /// `a + b * c` and tighter.
    pub(super) fn arith_expr(&mut self) -> PResult<Expr> {
        self.binary(5)
    }

    /// `unary ** power` — right-associative, and unary minus binds tighter
    /// (`-2 ** 2 == 4` in Jac).
    fn power(&mut self) -> PResult<Expr> {
        let start = self.span();
        let base = self.unary()?;
        if !self.eat_p(P::Pow) {
            return Ok(base);
        }
        self.enter()?;
        let exp = self.power()?;
        self.leave();
        Ok(self.mk(
            ExprKind::Binary {
                op: BinOp::Pow,
                left: boxed(base),
                right: boxed(exp),
            },
            start,
        ))
    }

    fn unary(&mut self) -> PResult<Expr> {
        let op = match self.kind() {
            TokenKind::Punct(P::Minus) => UnaryOp::Neg,
            TokenKind::Punct(P::Plus) => UnaryOp::Pos,
            TokenKind::Punct(P::Tilde) => UnaryOp::Invert,
            _ => return self.connect(),
        };
        let start = self.advance().span;
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        // Fold `-<literal>` so `-9223372036854775808` and `-1` are plain constants.
        let kind = match (op, &operand.kind) {
            (UnaryOp::Neg, ExprKind::Int(i)) => ExprKind::Int(-i),
            (UnaryOp::Neg, ExprKind::Float(f)) => ExprKind::Float(-f),
            (UnaryOp::Neg, ExprKind::BigInt(b)) => {
                let neg = -(**b).clone();
                match i64::try_from(&neg) {
                    Ok(i) => ExprKind::Int(i),
                    Err(_) => ExprKind::BigInt(Rc::new(neg)),
                }
            }
            _ => ExprKind::Unary {
                op,
                operand: boxed(operand),
            },
        };
        Ok(self.mk(kind, start))
    }

    // ------------------------------------------------------------- OSP operators

    fn at_edge_op(&self) -> bool {
        matches!(
            self.kind(),
            TokenKind::Punct(P::EdgeOut | P::EdgeIn | P::EdgeAny | P::EdgeOutOpen | P::EdgeInOpen)
        )
    }

    /// `spawn_expr (connect_op spawn_expr)*`, left-associative.
    fn connect(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = self.spawn_expr()?;
        loop {
            if self.at_kw(Kw::Del)
                && matches!(
                    self.kind_at(1),
                    TokenKind::Punct(
                        P::EdgeOut | P::EdgeIn | P::EdgeAny | P::EdgeOutOpen | P::EdgeInOpen
                    )
                )
            {
                self.advance();
                let op = self.edge_op()?;
                let right = self.spawn_expr()?;
                left = self.mk(
                    ExprKind::Disconnect {
                        left: boxed(left),
                        op,
                        right: boxed(right),
                    },
                    start,
                );
                continue;
            }
            let Some(op) = self.connect_op()? else {
                return Ok(left);
            };
            let right = self.spawn_expr()?;
            left = self.mk(
                ExprKind::Connect {
                    left: boxed(left),
                    op,
                    right: boxed(right),
                },
                start,
            );
        }
    }

    fn connect_op(&mut self) -> PResult<Option<ConnectOp>> {
        let simple = |dir| {
            Some(ConnectOp {
                dir,
                edge: None,
                attrs: Vec::new(),
            })
        };
        let op = match self.kind() {
            TokenKind::Punct(P::ConnFwd) => simple(ConnectDir::Forward),
            TokenKind::Punct(P::ConnBwd) => simple(ConnectDir::Backward),
            TokenKind::Punct(P::ConnUndir) => simple(ConnectDir::Undirected),
            TokenKind::Punct(open @ (P::ConnFwdOpen | P::ConnBwdOpen)) => {
                let forward = *open == P::ConnFwdOpen;
                self.advance();
                let edge = self.postfix_expr()?;
                let mut attrs = Vec::new();
                if self.eat_p(P::Colon) {
                    loop {
                        let (name, _) = self.any_name("an edge attribute name")?;
                        self.expect_p(P::Assign, "after the edge attribute name")?;
                        attrs.push((name, self.bitor()?));
                        if !self.eat_p(P::Comma) {
                            break;
                        }
                    }
                }
                let dir = match (forward, self.kind()) {
                    (true, TokenKind::Punct(P::ConnFwdClose)) => ConnectDir::Forward,
                    (false, TokenKind::Punct(P::ConnBwdClose)) => ConnectDir::Backward,
                    (false, TokenKind::Punct(P::ConnFwdClose)) => ConnectDir::Undirected,
                    (true, _) => {
                        return Err(
                            self.error_here("expected ':+>' to close the typed connect operator")
                        );
                    }
                    (false, _) => {
                        return Err(self.error_here(
                            "expected ':<+' or ':+>' to close the typed connect operator",
                        ));
                    }
                };
                self.advance();
                return Ok(Some(ConnectOp {
                    dir,
                    edge: Some(boxed(edge)),
                    attrs,
                }));
            }
            _ => return Ok(None),
        };
        self.advance();
        Ok(op)
    }

    /// `-->`, `<--`, `<-->`, `->:E:cond:->`, `<-:E:<-`, `<-:E:->`.
    fn edge_op(&mut self) -> PResult<EdgeOp> {
        let start = self.span();
        let (dir, typed_open) = match self.kind() {
            TokenKind::Punct(P::EdgeOut) => (EdgeDir::Out, false),
            TokenKind::Punct(P::EdgeIn) => (EdgeDir::In, false),
            TokenKind::Punct(P::EdgeAny) => (EdgeDir::Any, false),
            TokenKind::Punct(P::EdgeOutOpen) => (EdgeDir::Out, true),
            TokenKind::Punct(P::EdgeInOpen) => (EdgeDir::In, true),
            _ => {
                return Err(self.error_here(
                    "expected an edge operator ('-->', '<--', '<-->', '->:E:->', '<-:E:<-')",
                ));
            }
        };
        self.advance();
        if !typed_open {
            return Ok(EdgeOp {
                dir,
                edge_type: None,
                conds: Vec::new(),
                span: self.since(start),
            });
        }
        let edge_type = if self.at_name() || self.at_kw(Kw::Root) {
            Some(boxed(self.type_atom()?))
        } else {
            None
        };
        let conds = if self.eat_p(P::Colon) {
            self.cmp_list()?
        } else {
            Vec::new()
        };
        let dir = match (dir, self.kind()) {
            (EdgeDir::Out, TokenKind::Punct(P::EdgeOutClose)) => EdgeDir::Out,
            (EdgeDir::In, TokenKind::Punct(P::EdgeInClose)) => EdgeDir::In,
            (EdgeDir::In, TokenKind::Punct(P::EdgeOutClose)) => EdgeDir::Any,
            (EdgeDir::Out, _) => {
                return Err(self.error_here("expected ':->' to close the edge operator"));
            }
            _ => return Err(self.error_here("expected ':<-' or ':->' to close the edge operator")),
        };
        self.advance();
        Ok(EdgeOp {
            dir,
            edge_type,
            conds,
            span: self.since(start),
        })
    }

    /// `field OP value, ...` (filter and typed-edge predicates).
    fn cmp_list(&mut self) -> PResult<Vec<FilterCond>> {
        let mut conds = Vec::new();
        loop {
            let (field, start) = self.any_name("a field name in the filter")?;
            let Some(op) = self.cmp_op() else {
                return Err(
                    self.error_here(format!("expected a comparison operator after '{field}'"))
                );
            };
            let value = self.bitor()?;
            conds.push(FilterCond {
                field,
                op,
                value,
                span: self.since(start),
            });
            if !self.eat_p(P::Comma) {
                return Ok(conds);
            }
        }
    }

    /// The part of a filter after `?`, up to and including `close`.
    fn filter_body(&mut self, close: P) -> PResult<Filter> {
        let mut types = Vec::new();
        let mut conds = Vec::new();
        if self.eat_p(P::Colon) {
            loop {
                types.push(self.type_atom()?);
                if !self.eat_p(P::Pipe) {
                    break;
                }
            }
            if self.eat_p(P::Comma) {
                conds = self.cmp_list()?;
            }
        } else {
            conds = self.cmp_list()?;
        }
        self.expect_p(close, "to close the filter")?;
        Ok(Filter { types, conds })
    }

    /// The legacy `` (`?Type: cond) `` body after `` `? ``.
    fn legacy_filter_body(&mut self) -> PResult<Filter> {
        let types = if self.at_name() || self.at_kw(Kw::Root) {
            vec![self.type_atom()?]
        } else {
            Vec::new()
        };
        let conds = if self.eat_p(P::Colon) || (types.is_empty() && !self.at_p(P::RParen)) {
            self.cmp_list()?
        } else {
            Vec::new()
        };
        self.expect_p(P::RParen, "to close the filter")?;
        Ok(Filter { types, conds })
    }

    /// `w spawn n` (left-assoc) and prefix `spawn w`.
    fn spawn_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut left = if self.at_kw(Kw::Spawn) {
            self.advance();
            let right = self.await_expr()?;
            self.mk(
                ExprKind::Spawn {
                    left: None,
                    right: boxed(right),
                },
                start,
            )
        } else {
            self.await_expr()?
        };
        while self.eat_kw(Kw::Spawn) {
            let right = self.await_expr()?;
            left = self.mk(
                ExprKind::Spawn {
                    left: Some(boxed(left)),
                    right: boxed(right),
                },
                start,
            );
        }
        Ok(left)
    }

    fn await_expr(&mut self) -> PResult<Expr> {
        if self.at_kw(Kw::Await) {
            let start = self.advance().span;
            self.enter()?;
            let inner = self.await_expr()?;
            self.leave();
            return Ok(self.mk(ExprKind::Await(boxed(inner)), start));
        }
        self.postfix_expr()
    }

    // ------------------------------------------------------------- postfix

    /// `atom trailer*`.
    pub(crate) fn postfix_expr(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut e = self.atom()?;
        loop {
            match self.kind() {
                TokenKind::Punct(P::Dot) => {
                    self.advance();
                    let (attr, _) = self.any_name("an attribute name after '.'")?;
                    e = self.mk(
                        ExprKind::Attribute {
                            value: boxed(e),
                            attr,
                            null_safe: false,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::Question) if self.at_p_ahead(1, P::Dot) => {
                    self.advance();
                    self.advance();
                    let (attr, _) = self.any_name("an attribute name after '?.'")?;
                    e = self.mk(
                        ExprKind::Attribute {
                            value: boxed(e),
                            attr,
                            null_safe: true,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::Question) if self.at_p_ahead(1, P::LBracket) => {
                    self.advance();
                    self.advance();
                    let index = self.subscript()?;
                    e = self.mk(
                        ExprKind::Index {
                            value: boxed(e),
                            index: boxed(index),
                            null_safe: true,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LBracket) if self.at_p_ahead(1, P::Question) => {
                    self.advance();
                    self.advance();
                    let filter = self.filter_body(P::RBracket)?;
                    e = self.mk(
                        ExprKind::Filter {
                            value: boxed(e),
                            filter,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LBracket) => {
                    self.advance();
                    let index = self.subscript()?;
                    e = self.mk(
                        ExprKind::Index {
                            value: boxed(e),
                            index: boxed(index),
                            null_safe: false,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LParen) if self.at_p_ahead(1, P::Question) => {
                    self.advance();
                    self.advance();
                    let filter = self.filter_body(P::RParen)?;
                    e = self.mk(
                        ExprKind::Filter {
                            value: boxed(e),
                            filter,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LParen)
                    if self.at_p_ahead(1, P::Backtick) && self.at_p_ahead(2, P::Question) =>
                {
                    self.advance();
                    self.advance();
                    self.advance();
                    let filter = self.legacy_filter_body()?;
                    e = self.mk(
                        ExprKind::Filter {
                            value: boxed(e),
                            filter,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LParen) if self.at_p_ahead(1, P::Assign) => {
                    self.advance();
                    self.advance();
                    let mut assigns = Vec::new();
                    loop {
                        let (name, _) = self.any_name("a field name")?;
                        self.expect_p(P::Assign, "after the field name")?;
                        assigns.push((name, self.expr()?));
                        if !self.eat_p(P::Comma) || self.at_p(P::RParen) {
                            break;
                        }
                    }
                    self.expect_p(P::RParen, "to close the assign comprehension")?;
                    e = self.mk(
                        ExprKind::AssignComp {
                            value: boxed(e),
                            assigns,
                        },
                        start,
                    );
                }
                TokenKind::Punct(P::LParen) => {
                    self.advance();
                    let args = self.call_args()?;
                    // Legacy `root()` is just `root`.
                    if args.is_empty() && matches!(e.kind, ExprKind::Special(SpecialRef::Root)) {
                        e.span = self.since(start);
                        continue;
                    }
                    e = self.mk(
                        ExprKind::Call {
                            func: boxed(e),
                            args,
                        },
                        start,
                    );
                }
                _ => return Ok(e),
            }
        }
    }

    /// Call arguments after `(`, through `)`.
    fn call_args(&mut self) -> PResult<Vec<Arg>> {
        let mut args = Vec::new();
        while !self.at_p(P::RParen) {
            if self.eat_p(P::Star) {
                args.push(Arg::Star(self.expr()?));
            } else if self.eat_p(P::Pow) {
                args.push(Arg::DoubleStar(self.expr()?));
            } else if matches!(self.kind(), TokenKind::Ident { .. })
                && self.at_p_ahead(1, P::Assign)
            {
                let (name, _) = self.any_name("an argument name")?;
                self.advance();
                args.push(Arg::Keyword(name, self.expr()?));
            } else {
                let start = self.span();
                let value = self.expr()?;
                if self.at_comp_for() {
                    let generators = self.comp_clauses()?;
                    args.push(Arg::Positional(self.mk(
                        ExprKind::GenExp {
                            elt: boxed(value),
                            generators,
                        },
                        start,
                    )));
                } else {
                    args.push(Arg::Positional(value));
                }
            }
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_p(P::RParen, "to close the argument list")?;
        Ok(args)
    }

    /// The inside of `[...]` after `[`, through `]`: index, slice, or tuple of them.
    fn subscript(&mut self) -> PResult<Expr> {
        let start = self.span();
        let mut items = vec![self.slice_item()?];
        let mut trailing_comma = false;
        while self.eat_p(P::Comma) {
            trailing_comma = true;
            if self.at_p(P::RBracket) {
                break;
            }
            trailing_comma = false;
            items.push(self.slice_item()?);
        }
        self.expect_p(P::RBracket, "to close the subscript")?;
        if items.len() == 1 && !trailing_comma {
            return Ok(items.pop().expect("one item"));
        }
        Ok(self.mk(ExprKind::Tuple(items), start))
    }

    fn slice_item(&mut self) -> PResult<Expr> {
        let start = self.span();
        let lower = if self.at_p(P::Colon) {
            None
        } else {
            Some(self.expr()?)
        };
        if !self.eat_p(P::Colon) {
            return lower.ok_or_else(|| self.error_here("expected an index"));
        }
        let bound = |p: &mut Self| -> PResult<Option<Box<Expr>>> {
            if p.at_p(P::Colon) || p.at_p(P::RBracket) || p.at_p(P::Comma) {
                Ok(None)
            } else {
                Ok(Some(boxed(p.expr()?)))
            }
        };
        let upper = bound(self)?;
        let step = if self.eat_p(P::Colon) {
            bound(self)?
        } else {
            None
        };
        Ok(self.mk(
            ExprKind::Slice {
                lower: lower.map(boxed),
                upper,
                step,
            },
            start,
        ))
    }

    /// Does a comprehension clause (`for` / `async for`) start here?
    fn at_comp_for(&self) -> bool {
        self.at_kw(Kw::For) || (self.at_kw(Kw::Async) && self.at_kw_ahead(1, Kw::For))
    }

    /// `for t in it if c ...` clauses.
    fn comp_clauses(&mut self) -> PResult<Vec<Comprehension>> {
        let mut generators = Vec::new();
        loop {
            let is_async = self.eat_kw(Kw::Async);
            if !self.eat_kw(Kw::For) {
                break;
            }
            let target = self.target_list()?;
            self.expect_kw(Kw::In, "in comprehension")?;
            let iter = self.or_expr()?;
            let mut ifs = Vec::new();
            while self.eat_kw(Kw::If) {
                ifs.push(self.walrus()?);
            }
            generators.push(Comprehension {
                target,
                iter,
                ifs,
                is_async,
            });
        }
        Ok(generators)
    }

    // ------------------------------------------------------------- atoms

    fn atom(&mut self) -> PResult<Expr> {
        let start = self.span();
        let kind = match self.kind().clone() {
            TokenKind::Ident { name, kw } => match kw {
                None => {
                    self.advance();
                    ExprKind::Name(name)
                }
                Some(kw) if kw.is_soft() => {
                    self.advance();
                    ExprKind::Name(name)
                }
                Some(Kw::True_) => self.advance_with(ExprKind::Bool(true)),
                Some(Kw::False_) => self.advance_with(ExprKind::Bool(false)),
                Some(Kw::None_) => self.advance_with(ExprKind::None),
                Some(Kw::Root) => self.advance_with(ExprKind::Special(SpecialRef::Root)),
                Some(Kw::Here) => self.advance_with(ExprKind::Special(SpecialRef::Here)),
                Some(Kw::Self_) => self.advance_with(ExprKind::Special(SpecialRef::SelfRef)),
                Some(Kw::Visitor) => self.advance_with(ExprKind::Special(SpecialRef::Visitor)),
                Some(Kw::Super) => self.advance_with(ExprKind::Special(SpecialRef::Super)),
                Some(Kw::Init) => self.advance_with(ExprKind::Special(SpecialRef::Init)),
                Some(Kw::PostInit) => self.advance_with(ExprKind::Special(SpecialRef::PostInit)),
                Some(Kw::Lambda) => return self.lambda(),
                Some(Kw::Yield) => {
                    return Err(self
                        .error_here("'yield' must be parenthesised here; expected an expression"));
                }
                Some(_) => return Err(self.error_here("expected an expression")),
            },
            TokenKind::Int(i) => self.advance_with(ExprKind::Int(i)),
            TokenKind::BigInt(b) => self.advance_with(ExprKind::BigInt(b)),
            TokenKind::Float(f) => self.advance_with(ExprKind::Float(f)),
            TokenKind::Str(_) | TokenKind::FStr(_) => self.string_run()?,
            TokenKind::Bytes(_) => self.bytes_run()?,
            TokenKind::Punct(P::Ellipsis) => self.advance_with(ExprKind::Ellipsis),
            TokenKind::Punct(P::LParen) => return self.paren_atom(),
            TokenKind::Punct(P::LBracket) => return self.bracket_atom(),
            TokenKind::Punct(P::LBrace) => return self.brace_atom(),
            _ => return Err(self.error_here("expected an expression")),
        };
        Ok(self.mk(kind, start))
    }

    fn advance_with(&mut self, kind: ExprKind) -> ExprKind {
        self.advance();
        kind
    }

    /// Adjacent string / f-string literals, concatenated.
    fn string_run(&mut self) -> PResult<ExprKind> {
        let mut parts: Vec<FStringPart> = Vec::new();
        let mut is_f = false;
        loop {
            match self.kind().clone() {
                TokenKind::Str(s) => {
                    self.advance();
                    push_literal(&mut parts, &s);
                }
                TokenKind::FStr(pieces) => {
                    self.advance();
                    is_f = true;
                    for part in self.fstring_parts(&pieces)? {
                        match part {
                            FStringPart::Literal(s) => push_literal(&mut parts, &s),
                            field => parts.push(field),
                        }
                    }
                }
                TokenKind::Bytes(_) => {
                    return Err(self.error_here("cannot mix bytes and nonbytes literals"));
                }
                _ => break,
            }
        }
        if is_f {
            return Ok(ExprKind::FString(parts));
        }
        Ok(ExprKind::Str(match parts.pop() {
            Some(FStringPart::Literal(s)) => s,
            _ => "".into(),
        }))
    }

    fn fstring_parts(&mut self, pieces: &[FPiece]) -> PResult<Vec<FStringPart>> {
        let mut parts = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match piece {
                FPiece::Lit(s) => parts.push(FStringPart::Literal(s.as_str().into())),
                FPiece::Field {
                    start,
                    end,
                    debug,
                    conversion,
                    spec,
                } => {
                    let mut sub = self.sub_parser(*start, *end)?;
                    sub.depth = self.depth;
                    let expr = sub.expr_list()?;
                    if !sub.at_eof() {
                        return Err(sub.error_here("f-string: expected '}' after the expression"));
                    }
                    let spec = match spec {
                        Some(s) => Some(self.fstring_parts(s)?),
                        None => None,
                    };
                    parts.push(FStringPart::Field {
                        expr: boxed(expr),
                        debug_text: debug.as_deref().map(Into::into),
                        conversion: *conversion,
                        spec,
                    });
                }
            }
        }
        Ok(parts)
    }

    fn bytes_run(&mut self) -> PResult<ExprKind> {
        let mut out = Vec::new();
        loop {
            match self.kind() {
                TokenKind::Bytes(b) => {
                    out.extend_from_slice(b);
                    self.advance();
                }
                TokenKind::Str(_) | TokenKind::FStr(_) => {
                    return Err(self.error_here("cannot mix bytes and nonbytes literals"));
                }
                _ => return Ok(ExprKind::Bytes(out.into())),
            }
        }
    }

    /// `()`, `(e)`, `(a, b)`, `(x for ...)`, `(yield x)`.
    fn paren_atom(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        self.enter()?;
        if self.eat_p(P::RParen) {
            self.leave();
            return Ok(self.mk(ExprKind::Tuple(Vec::new()), start));
        }
        if self.at_kw(Kw::Yield) {
            let e = self.yield_expr()?;
            self.expect_p(P::RParen, "to close the parenthesis")?;
            self.leave();
            return Ok(e);
        }
        let first = self.starred_or_expr()?;
        if self.at_comp_for() {
            let generators = self.comp_clauses()?;
            self.expect_p(P::RParen, "to close the generator expression")?;
            self.leave();
            return Ok(self.mk(
                ExprKind::GenExp {
                    elt: boxed(first),
                    generators,
                },
                start,
            ));
        }
        if self.at_p(P::Comma) {
            let mut items = vec![first];
            while self.eat_p(P::Comma) {
                if self.at_p(P::RParen) {
                    break;
                }
                items.push(self.starred_or_expr()?);
            }
            self.expect_p(P::RParen, "to close the tuple")?;
            self.leave();
            return Ok(self.mk(ExprKind::Tuple(items), start));
        }
        self.expect_p(P::RParen, "to close the parenthesis")?;
        self.leave();
        if matches!(first.kind, ExprKind::Starred(_)) {
            return Err(self.error_at(first.span, "can't use starred expression here"));
        }
        Ok(first)
    }

    /// `[...]`: list display, list comprehension, or edge reference.
    fn bracket_atom(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        self.enter()?;
        let result = self.bracket_inner(start);
        self.leave();
        result
    }

    fn bracket_inner(&mut self, start: Span) -> PResult<Expr> {
        if self.eat_p(P::RBracket) {
            return Ok(self.mk(ExprKind::List(Vec::new()), start));
        }
        // `[edge ...]` / `[node ...]` result markers.
        let marker = match kw_of(self.kind()) {
            Some(kw @ (Kw::Edge | Kw::Node))
                if matches!(
                    self.kind_at(1),
                    TokenKind::Punct(
                        P::EdgeOut | P::EdgeIn | P::EdgeAny | P::EdgeOutOpen | P::EdgeInOpen
                    ) | TokenKind::Ident { .. }
                ) =>
            {
                Some(if kw == Kw::Edge {
                    EdgeRefKind::Edges
                } else {
                    EdgeRefKind::Nodes
                })
            }
            _ => None,
        };
        if let Some(kind) = marker {
            self.advance();
            let origin = if self.at_edge_op() {
                None
            } else {
                Some(boxed(self.postfix_expr()?))
            };
            return self.edge_ref_rest(kind, origin, start);
        }
        if self.at_edge_op() {
            return self.edge_ref_rest(EdgeRefKind::Nodes, None, start);
        }
        let first = self.starred_or_expr()?;
        if self.at_edge_op() {
            if matches!(first.kind, ExprKind::Starred(_)) {
                return Err(self.error_at(first.span, "an edge reference origin cannot be starred"));
            }
            return self.edge_ref_rest(EdgeRefKind::Nodes, Some(boxed(first)), start);
        }
        if self.at_comp_for() {
            let generators = self.comp_clauses()?;
            self.expect_p(P::RBracket, "to close the list comprehension")?;
            return Ok(self.mk(
                ExprKind::ListComp {
                    elt: boxed(first),
                    generators,
                },
                start,
            ));
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.at_p(P::RBracket) {
                break;
            }
            items.push(self.starred_or_expr()?);
        }
        self.expect_p(P::RBracket, "to close the list")?;
        Ok(self.mk(ExprKind::List(items), start))
    }

    /// Hops of an edge reference, through the closing `]`.
    fn edge_ref_rest(
        &mut self,
        kind: EdgeRefKind,
        origin: Option<Box<Expr>>,
        start: Span,
    ) -> PResult<Expr> {
        let mut hops = Vec::new();
        while self.at_edge_op() {
            let op = self.edge_op()?;
            let target = if self.at_p(P::LBracket) && self.at_p_ahead(1, P::Question) {
                self.advance();
                self.advance();
                Some(HopTarget::Filter(self.filter_body(P::RBracket)?))
            } else if self.at_p(P::LParen) && self.at_p_ahead(1, P::Question) {
                self.advance();
                self.advance();
                Some(HopTarget::Filter(self.filter_body(P::RParen)?))
            } else if self.at_p(P::LParen)
                && self.at_p_ahead(1, P::Backtick)
                && self.at_p_ahead(2, P::Question)
            {
                self.advance();
                self.advance();
                self.advance();
                Some(HopTarget::Filter(self.legacy_filter_body()?))
            } else if self.at_p(P::RBracket) || self.at_edge_op() {
                None
            } else {
                Some(HopTarget::Dest(boxed(self.postfix_expr()?)))
            };
            hops.push(EdgeHop { op, target });
        }
        if hops.is_empty() {
            return Err(self.error_here("expected an edge operator in the edge reference"));
        }
        self.expect_p(P::RBracket, "to close the edge reference")?;
        Ok(self.mk(
            ExprKind::EdgeRef(Box::new(EdgeRef { kind, origin, hops })),
            start,
        ))
    }

    /// `{...}`: dict or set display or comprehension.
    fn brace_atom(&mut self) -> PResult<Expr> {
        let start = self.advance().span;
        self.enter()?;
        let result = self.brace_inner(start);
        self.leave();
        result
    }

    fn brace_inner(&mut self, start: Span) -> PResult<Expr> {
        if self.eat_p(P::RBrace) {
            return Ok(self.mk(ExprKind::Dict(Vec::new()), start));
        }
        if self.at_p(P::Pow) {
            return self.dict_rest(Vec::new(), start);
        }
        let first = self.starred_or_expr()?;
        if self.eat_p(P::Colon) {
            let value = self.expr()?;
            if self.at_comp_for() {
                let generators = self.comp_clauses()?;
                self.expect_p(P::RBrace, "to close the dict comprehension")?;
                return Ok(self.mk(
                    ExprKind::DictComp {
                        key: boxed(first),
                        value: boxed(value),
                        generators,
                    },
                    start,
                ));
            }
            return self.dict_rest(vec![DictEntry::Pair(first, value)], start);
        }
        if self.at_comp_for() {
            let generators = self.comp_clauses()?;
            self.expect_p(P::RBrace, "to close the set comprehension")?;
            return Ok(self.mk(
                ExprKind::SetComp {
                    elt: boxed(first),
                    generators,
                },
                start,
            ));
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.at_p(P::RBrace) {
                break;
            }
            items.push(self.starred_or_expr()?);
        }
        self.expect_p(P::RBrace, "to close the set")?;
        Ok(self.mk(ExprKind::Set(items), start))
    }

    /// Remaining dict entries (after any already parsed), through `}`.
    fn dict_rest(&mut self, mut entries: Vec<DictEntry>, start: Span) -> PResult<Expr> {
        loop {
            if !entries.is_empty() && !self.eat_p(P::Comma) {
                break;
            }
            if self.at_p(P::RBrace) {
                break;
            }
            if self.eat_p(P::Pow) {
                entries.push(DictEntry::Spread(self.bitor()?));
            } else {
                let key = self.expr()?;
                self.expect_p(P::Colon, "after the dict key")?;
                let value = self.expr()?;
                entries.push(DictEntry::Pair(key, value));
            }
        }
        self.expect_p(P::RBrace, "to close the dict")?;
        Ok(self.mk(ExprKind::Dict(entries), start))
    }
}

/// Appends literal text, merging with a preceding literal part.
fn push_literal(parts: &mut Vec<FStringPart>, s: &str) {
    if let Some(FStringPart::Literal(prev)) = parts.last_mut() {
        let mut joined = String::with_capacity(prev.len() + s.len());
        joined.push_str(prev);
        joined.push_str(s);
        *prev = joined.into();
    } else {
        parts.push(FStringPart::Literal(s.into()));
    }
}
