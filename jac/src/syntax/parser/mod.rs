//! Recursive-descent parser for Jac (the jac-scale 0.2.x / jaclang 0.12-0.16
//! dialect plus the legacy aliases of the language notes, section 10).
//!
//! Declarations live here, statements in [`stmt`], expressions (precedence
//! climbing per notes 4.1) in [`expr`]. Anything outside the supported dialect
//! is a [`Diagnostic`] naming the construct; nothing is skipped silently except
//! client-only (`cl`) sections, `sem` strings and `test` bodies' execution.

mod decl;
mod expr;
mod pattern;
mod stmt;

use super::ast::{Module, Name};
use super::diagnostic::Diagnostic;
use super::lexer::{Lexer, LineIndex};
use super::span::{FileId, Span};
use super::token::{Kw, P, Token, TokenKind};

/// Result of a parse step; diagnostics are boxed to keep `Result` small.
pub(crate) type PResult<T> = Result<T, Box<Diagnostic>>;

/// Maximum nesting of blocks and expressions, counted in parser recursion
/// units (a bracketed sub-expression costs two): about 32 nested brackets.
/// Real code stays far below; the bound keeps the parser (and any recursive
/// walk of the tree) inside a 1 MiB wasm stack, since each level of bracket
/// nesting costs several KiB of native stack.
const MAX_DEPTH: u32 = 64;

/// Parses one source file into a [`Module`]. `file` is the id the spans will
/// carry and `file_name` (relative to the app root, e.g. `app.jac` or
/// `pkg/models.jac`) names it in diagnostics; the module name is derived from
/// it (`pkg.models`).
pub fn parse_module(source: &str, file: FileId, file_name: &str) -> Result<Module, Diagnostic> {
    let lines = LineIndex::new(source);
    let tokens = Lexer::new(source, 0, source.len(), file, file_name, &lines)
        .tokenize()
        .map_err(|d| *d)?;
    let mut parser = Parser::new(source, file, file_name, &lines, tokens);
    let (doc, items) = parser.module().map_err(|d| *d)?;
    Ok(Module {
        name: module_name_of(file_name).into(),
        file,
        doc,
        items,
    })
}

/// The dotted module name of a file path: `pkg/models.jac` -> `pkg.models`,
/// `pkg/__init__.jac` -> `pkg`, `app.impl.jac` -> `app.impl`.
pub fn module_name_of(file_name: &str) -> String {
    let stem = file_name.strip_suffix(".jac").unwrap_or(file_name);
    let stem = stem.strip_suffix("/__init__").unwrap_or(stem);
    stem.trim_start_matches("./").replace('/', ".")
}

/// Parser state over one token vector.
pub(crate) struct Parser<'a> {
    src: &'a str,
    file: FileId,
    file_name: &'a str,
    lines: &'a LineIndex,
    toks: Vec<Token>,
    pos: usize,
    /// End of the most recently consumed token.
    last_end: u32,
    depth: u32,
    /// Set while parsing `except T as e` / `with x as y`, where `as` is not a cast.
    no_cast: bool,
}

impl<'a> Parser<'a> {
    fn new(
        src: &'a str,
        file: FileId,
        file_name: &'a str,
        lines: &'a LineIndex,
        toks: Vec<Token>,
    ) -> Self {
        Parser {
            src,
            file,
            file_name,
            lines,
            toks,
            pos: 0,
            last_end: 0,
            depth: 0,
            no_cast: false,
        }
    }

    /// A parser for the expression text `src[start..end]` (f-string fields).
    fn sub_parser(&self, start: usize, end: usize) -> PResult<Parser<'a>> {
        let toks =
            Lexer::new(self.src, start, end, self.file, self.file_name, self.lines).tokenize()?;
        Ok(Parser::new(
            self.src,
            self.file,
            self.file_name,
            self.lines,
            toks,
        ))
    }

    // ------------------------------------------------------------- token access

    fn kind(&self) -> &TokenKind {
        &self.toks[self.pos].kind
    }

    fn kind_at(&self, ahead: usize) -> &TokenKind {
        let i = (self.pos + ahead).min(self.toks.len() - 1);
        &self.toks[i].kind
    }

    fn span(&self) -> Span {
        self.toks[self.pos].span
    }

    fn advance(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        self.last_end = t.span.end;
        t
    }

    /// The span from `start` to the end of the last consumed token.
    fn since(&self, start: Span) -> Span {
        Span {
            end: self.last_end.max(start.start),
            ..start
        }
    }

    fn at_eof(&self) -> bool {
        matches!(self.kind(), TokenKind::Eof)
    }

    fn at_p(&self, p: P) -> bool {
        matches!(self.kind(), TokenKind::Punct(q) if *q == p)
    }

    fn at_p_ahead(&self, ahead: usize, p: P) -> bool {
        matches!(self.kind_at(ahead), TokenKind::Punct(q) if *q == p)
    }

    fn eat_p(&mut self, p: P) -> bool {
        if self.at_p(p) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_p(&mut self, p: P, context: &str) -> PResult<Span> {
        if self.at_p(p) {
            Ok(self.advance().span)
        } else {
            Err(self.error_here(format!("expected '{}' {context}", p.as_str())))
        }
    }

    fn at_kw(&self, kw: Kw) -> bool {
        kw_of(self.kind()) == Some(kw)
    }

    fn at_kw_ahead(&self, ahead: usize, kw: Kw) -> bool {
        kw_of(self.kind_at(ahead)) == Some(kw)
    }

    fn eat_kw(&mut self, kw: Kw) -> bool {
        if self.at_kw(kw) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_kw(&mut self, kw: Kw, context: &str) -> PResult<Span> {
        if self.at_kw(kw) {
            Ok(self.advance().span)
        } else {
            Err(self.error_here(format!("expected '{}' {context}", kw.as_str())))
        }
    }

    fn expect_semi(&mut self, after: &str) -> PResult<()> {
        if self.eat_p(P::Semi) {
            Ok(())
        } else {
            Err(self.error_after_last(format!("expected ';' after {after}")))
        }
    }

    /// True when the current token is a name usable as an identifier
    /// (not a keyword, or a soft keyword).
    fn at_name(&self) -> bool {
        matches!(self.kind(), TokenKind::Ident { kw, .. } if kw.is_none_or(Kw::is_soft))
    }

    /// Consumes an identifier (soft keywords allowed).
    fn name(&mut self, what: &str) -> PResult<(Name, Span)> {
        if self.at_name() {
            let t = self.advance();
            let TokenKind::Ident { name, .. } = t.kind else {
                unreachable!("checked by at_name")
            };
            Ok((name, t.span))
        } else {
            Err(self.error_here(format!("expected {what}")))
        }
    }

    /// Consumes any identifier, keywords included (attribute names, keyword
    /// arguments, parameter names such as `self`).
    fn any_name(&mut self, what: &str) -> PResult<(Name, Span)> {
        if let TokenKind::Ident { name, .. } = self.kind() {
            let name = name.clone();
            Ok((name, self.advance().span))
        } else {
            Err(self.error_here(format!("expected {what}")))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here("nesting too deep"));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ------------------------------------------------------------- diagnostics

    fn error_at(&self, span: Span, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::in_source(self.file_name, self.src, span, msg))
    }

    /// An error at the current token: `expected X, found Y`.
    fn error_here(&self, expected: impl Into<String>) -> Box<Diagnostic> {
        let msg = format!("{}, found {}", expected.into(), describe(self.kind()));
        self.error_at(self.span(), msg)
    }

    /// An error just after the last consumed token (for a missing `;`).
    fn error_after_last(&self, msg: impl Into<String>) -> Box<Diagnostic> {
        let at = self.last_end as usize;
        let (line, col) = self.lines.locate(self.src, at);
        let span = Span {
            file: self.file,
            start: self.last_end,
            end: self.last_end + 1,
            line,
            col,
        };
        self.error_at(span, msg)
    }

    fn unsupported(&self, what: &str) -> Box<Diagnostic> {
        self.error_at(self.span(), format!("{what} is not supported"))
    }
}

fn kw_of(kind: &TokenKind) -> Option<Kw> {
    match kind {
        TokenKind::Ident { kw, .. } => *kw,
        _ => None,
    }
}

/// Human description of a token for messages.
fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Ident { name, kw: Some(_) } => format!("keyword '{name}'"),
        TokenKind::Ident { name, kw: None } => format!("identifier '{name}'"),
        TokenKind::Int(_) | TokenKind::BigInt(_) | TokenKind::Float(_) => "number".to_string(),
        TokenKind::Str(_) => "string literal".to_string(),
        TokenKind::Bytes(_) => "bytes literal".to_string(),
        TokenKind::FStr(_) => "f-string".to_string(),
        TokenKind::Punct(p) => format!("'{}'", p.as_str()),
        TokenKind::Eof => "end of file".to_string(),
    }
}
