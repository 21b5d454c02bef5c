//! `match` / `case` patterns (Python structural pattern matching).

use super::{PResult, Parser};
use crate::syntax::ast::*;
use crate::syntax::span::Span;
use crate::syntax::token::{Kw, P, TokenKind};

impl Parser<'_> {
    /// The pattern after `case`: an open sequence `a, b` is a sequence pattern.
    pub(super) fn case_pattern(&mut self) -> PResult<Pattern> {
        let start = self.span();
        let first = self.as_pattern()?;
        if !self.at_p(P::Comma) {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.eat_p(P::Comma) {
            if self.at_p(P::Colon) || self.at_kw(Kw::If) {
                break;
            }
            items.push(self.as_pattern()?);
        }
        Ok(Pattern {
            kind: PatternKind::Sequence(items),
            span: self.since(start),
        })
    }

    fn as_pattern(&mut self) -> PResult<Pattern> {
        let start = self.span();
        let pattern = self.or_pattern()?;
        if self.eat_kw(Kw::As) {
            let (name, _) = self.name("a name after 'as'")?;
            return Ok(Pattern {
                kind: PatternKind::As {
                    pattern: Box::new(pattern),
                    name,
                },
                span: self.since(start),
            });
        }
        Ok(pattern)
    }

    fn or_pattern(&mut self) -> PResult<Pattern> {
        let start = self.span();
        let first = self.closed_pattern()?;
        if !self.at_p(P::Pipe) {
            return Ok(first);
        }
        let mut alts = vec![first];
        while self.eat_p(P::Pipe) {
            alts.push(self.closed_pattern()?);
        }
        Ok(Pattern {
            kind: PatternKind::Or(alts),
            span: self.since(start),
        })
    }

    fn closed_pattern(&mut self) -> PResult<Pattern> {
        let start = self.span();
        self.enter()?;
        let kind = match self.kind().clone() {
            TokenKind::Punct(P::Star) => {
                self.advance();
                let (name, _) = self.name("a name after '*'")?;
                PatternKind::Star((&*name != "_").then_some(name))
            }
            TokenKind::Punct(P::LBracket) => {
                self.advance();
                PatternKind::Sequence(self.pattern_items(P::RBracket)?)
            }
            TokenKind::Punct(P::LParen) => {
                self.advance();
                if self.eat_p(P::RParen) {
                    PatternKind::Sequence(Vec::new())
                } else {
                    let first = self.as_pattern()?;
                    if self.eat_p(P::RParen) {
                        self.leave();
                        return Ok(first);
                    }
                    self.expect_p(P::Comma, "or ')' in pattern")?;
                    let mut items = vec![first];
                    items.extend(self.pattern_items(P::RParen)?);
                    PatternKind::Sequence(items)
                }
            }
            TokenKind::Punct(P::LBrace) => {
                self.advance();
                self.mapping_pattern()?
            }
            TokenKind::Ident { ref name, kw } if kw.is_none_or(Kw::is_soft) => {
                if &**name == "_" && !self.at_p_ahead(1, P::Dot) && !self.at_p_ahead(1, P::LParen) {
                    self.advance();
                    PatternKind::Wildcard
                } else if self.at_p_ahead(1, P::Dot) || self.at_p_ahead(1, P::LParen) {
                    let cls = self.type_atom()?;
                    if self.eat_p(P::LParen) {
                        self.class_pattern(cls)?
                    } else {
                        PatternKind::Value(cls)
                    }
                } else {
                    self.advance();
                    PatternKind::Capture(name.clone())
                }
            }
            _ => PatternKind::Value(self.literal_pattern_value()?),
        };
        self.leave();
        Ok(Pattern {
            kind,
            span: self.since(start),
        })
    }

    /// Literal values: numbers (optionally negative / complex-free), strings, None, True, False.
    fn literal_pattern_value(&mut self) -> PResult<Expr> {
        let start = self.span();
        let ok = match self.kind() {
            TokenKind::Int(_)
            | TokenKind::BigInt(_)
            | TokenKind::Float(_)
            | TokenKind::Str(_)
            | TokenKind::Bytes(_) => true,
            TokenKind::Punct(P::Minus) => matches!(
                self.kind_at(1),
                TokenKind::Int(_) | TokenKind::BigInt(_) | TokenKind::Float(_)
            ),
            TokenKind::Ident {
                kw: Some(Kw::None_ | Kw::True_ | Kw::False_),
                ..
            } => true,
            _ => false,
        };
        if !ok {
            return Err(self.error_here("expected a pattern"));
        }
        let value = self.arith_expr()?;
        Ok(Expr {
            kind: value.kind,
            span: Span {
                end: value.span.end,
                ..start
            },
        })
    }

    fn pattern_items(&mut self, close: P) -> PResult<Vec<Pattern>> {
        let mut items = Vec::new();
        while !self.at_p(close) {
            items.push(self.as_pattern()?);
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_p(close, "to close the pattern")?;
        Ok(items)
    }

    fn mapping_pattern(&mut self) -> PResult<PatternKind> {
        let mut entries = Vec::new();
        let mut rest = None;
        while !self.at_p(P::RBrace) {
            if self.eat_p(P::Pow) {
                rest = Some(self.name("a name after '**'")?.0);
            } else {
                let key = if matches!(self.kind(), TokenKind::Ident { kw: None, .. }) {
                    self.type_atom()?
                } else {
                    self.literal_pattern_value()?
                };
                self.expect_p(P::Colon, "after the mapping pattern key")?;
                entries.push((key, self.as_pattern()?));
            }
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_p(P::RBrace, "to close the mapping pattern")?;
        Ok(PatternKind::Mapping { entries, rest })
    }

    fn class_pattern(&mut self, cls: Expr) -> PResult<PatternKind> {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        while !self.at_p(P::RParen) {
            if matches!(self.kind(), TokenKind::Ident { .. }) && self.at_p_ahead(1, P::Assign) {
                let (name, _) = self.any_name("a field name")?;
                self.advance();
                kwargs.push((name, self.as_pattern()?));
            } else {
                if !kwargs.is_empty() {
                    return Err(
                        self.error_here("positional patterns must come before keyword patterns")
                    );
                }
                args.push(self.as_pattern()?);
            }
            if !self.eat_p(P::Comma) {
                break;
            }
        }
        self.expect_p(P::RParen, "to close the class pattern")?;
        Ok(PatternKind::Class { cls, args, kwargs })
    }
}
