//! The hand-written Jac lexer.
//!
//! Produces the whole token vector up front (the parser looks ahead freely).
//! Arrow and connect operators are matched longest-first; f-strings are split
//! into literal pieces and the *source ranges* of their replacement fields,
//! which the parser lexes and parses in place (so spans stay exact).

use std::rc::Rc;

use num_bigint::BigInt;
use num_traits::Num;

use super::diagnostic::Diagnostic;
use super::span::{FileId, Span};
use super::token::{FPiece, Kw, P, Token, TokenKind};

/// Byte offsets of line starts, for offset -> (line, col).
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<u32>,
}

impl LineIndex {
    /// Indexes `source`.
    pub fn new(source: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            source
                .bytes()
                .enumerate()
                .filter(|&(_, b)| b == b'\n')
                .map(|(i, _)| i as u32 + 1),
        );
        LineIndex { starts }
    }

    /// 1-based (line, column-in-characters) of byte offset `pos`.
    pub fn locate(&self, source: &str, pos: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s as usize <= pos);
        let start = self.starts[line - 1] as usize;
        let col = source
            .get(start..pos)
            .map_or(pos - start, |s| s.chars().count());
        (line as u32, col as u32 + 1)
    }
}

/// Lexes `source[start..end]` of file `file` (`name` is used in diagnostics).
pub(crate) struct Lexer<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    file: FileId,
    name: &'a str,
    lines: &'a LineIndex,
}

type LexResult<T> = Result<T, Box<Diagnostic>>;

impl<'a> Lexer<'a> {
    /// A lexer over `src[start..end]`.
    pub(crate) fn new(
        src: &'a str,
        start: usize,
        end: usize,
        file: FileId,
        name: &'a str,
        lines: &'a LineIndex,
    ) -> Self {
        Lexer {
            src,
            bytes: src.as_bytes(),
            pos: start,
            end,
            file,
            name,
            lines,
        }
    }

    /// Lexes to the end of the range; the last token is `Eof`.
    pub(crate) fn tokenize(mut self) -> LexResult<Vec<Token>> {
        let mut out: Vec<Token> = Vec::with_capacity((self.end - self.pos) / 4 + 1);
        let mut depth = 0usize;
        loop {
            self.skip_trivia()?;
            if self.pos >= self.end {
                out.push(Token {
                    kind: TokenKind::Eof,
                    span: self.span(self.end, self.end),
                });
                return Ok(out);
            }
            let token = self.token()?;
            match token.kind {
                TokenKind::Punct(P::LBrace) => depth += 1,
                TokenKind::Punct(P::RBrace) => depth = depth.saturating_sub(1),
                TokenKind::Ident {
                    kw: Some(Kw::Cl), ..
                } if depth == 0 && self.at_section_colon(&out) => {
                    // `to cl:` section: drop it up to the next `to sv:` / `to na:`.
                    out.pop();
                    let rest = &self.src[self.pos..self.end];
                    let next = ["to sv:", "to na:"]
                        .iter()
                        .filter_map(|m| rest.find(m))
                        .min();
                    self.pos = next.map_or(self.end, |i| self.pos + i);
                    continue;
                }
                TokenKind::Ident {
                    kw: Some(Kw::Cl), ..
                } if depth == 0 && at_statement_start(out.last()) => {
                    // Client-only code (often JSX) is dropped unparsed.
                    self.skip_client_code(token.span.start as usize)?;
                    continue;
                }
                _ => {}
            }
            out.push(token);
        }
    }

    /// Is this `cl` the middle of a `to cl:` section marker at statement start?
    fn at_section_colon(&self, out: &[Token]) -> bool {
        let prev_is_to = matches!(
            out.last(),
            Some(Token {
                kind: TokenKind::Ident {
                    kw: Some(Kw::To),
                    ..
                },
                ..
            })
        );
        prev_is_to
            && at_statement_start(out.len().checked_sub(2).map(|i| &out[i]))
            && self.src[self.pos..self.end].trim_start().starts_with(':')
    }

    /// Skips the client-only code after a top-level `cl` marker: `cl { ... }`
    /// or one declaration (`cl def f() { ... }`, `cl import ...;`).
    fn skip_client_code(&mut self, marker: usize) -> LexResult<()> {
        // Raw brace matching: JSX text may hold quotes that are not strings.
        let mut depth = 0usize;
        while self.pos < self.end {
            match self.bytes[self.pos] {
                b';' if depth == 0 => {
                    self.pos += 1;
                    return Ok(());
                }
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        self.pos += 1;
                        return Ok(());
                    }
                }
                _ => {}
            }
            self.pos += 1;
        }
        Err(self.error(marker, marker + 2, "unclosed client ('cl') block"))
    }

    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        let (line, col) = self.lines.locate(self.src, start);
        Span {
            file: self.file,
            start: start as u32,
            end: end as u32,
            line,
            col,
        }
    }

    fn error(&self, start: usize, end: usize, msg: impl Into<String>) -> Box<Diagnostic> {
        Box::new(Diagnostic::in_source(
            self.name,
            self.src,
            self.span(start, end),
            msg,
        ))
    }

    fn peek(&self, ahead: usize) -> u8 {
        let i = self.pos + ahead;
        if i < self.end { self.bytes[i] } else { 0 }
    }

    fn skip_trivia(&mut self) -> LexResult<()> {
        while self.pos < self.end {
            match self.bytes[self.pos] {
                b' ' | b'\t' | b'\r' | b'\n' | b'\x0c' => self.pos += 1,
                b'\\' if matches!(self.peek(1), b'\n' | b'\r') => self.pos += 2,
                b'#' if self.peek(1) == b'*' => {
                    let start = self.pos;
                    match self.src[self.pos + 2..self.end].find("*#") {
                        Some(i) => self.pos += 2 + i + 2,
                        None => {
                            return Err(self.error(
                                start,
                                start + 2,
                                "unterminated block comment '#*'",
                            ));
                        }
                    }
                }
                b'#' => {
                    self.pos = self.src[self.pos..self.end]
                        .find('\n')
                        .map_or(self.end, |i| self.pos + i);
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn token(&mut self) -> LexResult<Token> {
        let start = self.pos;
        let c = self.bytes[start];
        let kind = if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 {
            if let Some(kind) = self.string_with_prefix()? {
                kind
            } else {
                let name = self.ident();
                if name.is_empty() {
                    let ch = self.src[start..].chars().next().unwrap_or('?');
                    return Err(self.error(
                        start,
                        start + ch.len_utf8(),
                        format!("unexpected character {ch:?}"),
                    ));
                }
                TokenKind::Ident {
                    kw: Kw::lookup(name),
                    name: name.into(),
                }
            }
        } else if c.is_ascii_digit() || (c == b'.' && self.peek(1).is_ascii_digit()) {
            self.number()?
        } else if c == b'"' || c == b'\'' {
            self.string(start, Prefix::default())?
        } else if c == b'`' && (self.peek(1) == b'_' || self.peek(1).is_ascii_alphabetic()) {
            self.pos += 1;
            let name = self.ident();
            TokenKind::Ident {
                name: name.into(),
                kw: None,
            }
        } else {
            let rest = &self.src[start..self.end];
            let p = P::BY_LENGTH
                .iter()
                .copied()
                .find(|p| rest.starts_with(p.as_str()))
                .ok_or_else(|| {
                    let ch = rest.chars().next().unwrap_or('?');
                    self.error(
                        start,
                        start + ch.len_utf8(),
                        format!("unexpected character {ch:?}"),
                    )
                })?;
            self.pos += p.as_str().len();
            TokenKind::Punct(p)
        };
        Ok(Token {
            kind,
            span: self.span(start, self.pos),
        })
    }

    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        while self.pos < self.end {
            let c = self.bytes[self.pos];
            if c == b'_' || c.is_ascii_alphanumeric() {
                self.pos += 1;
            } else if c >= 0x80 {
                let ch = self.src[self.pos..].chars().next().expect("in bounds");
                if !ch.is_alphanumeric() {
                    break;
                }
                self.pos += ch.len_utf8();
            } else {
                break;
            }
        }
        &self.src[start..self.pos]
    }

    /// A string literal with a prefix (`r"..."`, `f'...'`, `rb"""..."""`), if one starts here.
    fn string_with_prefix(&mut self) -> LexResult<Option<TokenKind>> {
        let start = self.pos;
        let mut prefix = Prefix::default();
        let mut i = 0;
        while i < 3 {
            match self.peek(i).to_ascii_lowercase() {
                b'r' if !prefix.raw => prefix.raw = true,
                b'b' if !prefix.bytes && !prefix.format => prefix.bytes = true,
                b'f' if !prefix.format && !prefix.bytes => prefix.format = true,
                b'u' if i == 0 => {}
                _ => break,
            }
            i += 1;
        }
        if i == 0 || !matches!(self.peek(i), b'"' | b'\'') {
            return Ok(None);
        }
        self.pos += i;
        self.string(start, prefix).map(Some)
    }

    fn string(&mut self, start: usize, prefix: Prefix) -> LexResult<TokenKind> {
        let quote = self.bytes[self.pos];
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        let delim_len = if triple { 3 } else { 1 };
        self.pos += delim_len;
        let body_start = self.pos;
        // Find the closing delimiter, skipping escaped characters. Inside an
        // f-string replacement field, quotes open nested strings (Python 3.12).
        let mut field_depth = 0u32;
        loop {
            if self.pos >= self.end {
                return Err(self.error(start, body_start, "unterminated string literal"));
            }
            let c = self.bytes[self.pos];
            if c == b'\\' {
                self.pos += 2;
                continue;
            }
            if prefix.format {
                match c {
                    b'{' if field_depth == 0 && self.peek(1) == b'{' => {
                        self.pos += 2;
                        continue;
                    }
                    b'{' => field_depth += 1,
                    b'}' if field_depth > 0 => field_depth -= 1,
                    b'"' | b'\'' if field_depth > 0 => {
                        self.skip_nested_string(c, start, body_start)?;
                        continue;
                    }
                    _ => {}
                }
            }
            if c == b'\n' && !triple && field_depth == 0 {
                return Err(self.error(
                    start,
                    body_start,
                    "unterminated string literal (end of line)",
                ));
            }
            if field_depth == 0
                && c == quote
                && (!triple || (self.peek(1) == quote && self.peek(2) == quote))
            {
                break;
            }
            self.pos += 1;
        }
        let body_end = self.pos;
        self.pos += delim_len;
        let body = &self.src[body_start..body_end];
        if prefix.format {
            return Ok(TokenKind::FStr(
                self.fstring_pieces(body_start, body_end, prefix.raw, 0)?,
            ));
        }
        if prefix.bytes {
            if let Some(ch) = body.chars().find(|c| !c.is_ascii()) {
                return Err(self.error(
                    start,
                    self.pos,
                    format!("bytes literal contains non-ASCII character {ch:?}"),
                ));
            }
            let text = if prefix.raw {
                body.as_bytes().to_vec()
            } else {
                unescape(body, true)
                    .map_err(|(off, msg)| self.error(body_start + off, body_start + off + 1, msg))?
            };
            return Ok(TokenKind::Bytes(text.into()));
        }
        let text = if prefix.raw || !body.contains('\\') {
            body.to_string()
        } else {
            let bytes = unescape(body, false)
                .map_err(|(off, msg)| self.error(body_start + off, body_start + off + 1, msg))?;
            String::from_utf8(bytes).expect("unescape of str yields UTF-8")
        };
        Ok(TokenKind::Str(text.into()))
    }

    /// Skips a string literal nested in an f-string field (at its opening `quote`).
    fn skip_nested_string(&mut self, quote: u8, start: usize, body_start: usize) -> LexResult<()> {
        let triple = self.peek(1) == quote && self.peek(2) == quote;
        self.pos += if triple { 3 } else { 1 };
        loop {
            if self.pos >= self.end {
                return Err(self.error(start, body_start, "unterminated string literal"));
            }
            match self.bytes[self.pos] {
                b'\\' => self.pos += 2,
                c if c == quote
                    && (!triple || (self.peek(1) == quote && self.peek(2) == quote)) =>
                {
                    self.pos += if triple { 3 } else { 1 };
                    return Ok(());
                }
                _ => self.pos += 1,
            }
        }
    }

    /// Splits an f-string body `src[start..end]` into pieces. `depth` > 0 when
    /// lexing a nested format spec.
    fn fstring_pieces(
        &self,
        start: usize,
        end: usize,
        raw: bool,
        depth: u32,
    ) -> LexResult<Vec<FPiece>> {
        let mut pieces = Vec::new();
        let mut lit_start = start;
        let mut lit = String::new();
        let mut i = start;
        // Appends the literal text `src[from..to]` (escapes processed) to `lit`.
        let flush = |lit: &mut String, from: usize, to: usize| -> LexResult<()> {
            let chunk = &self.src[from..to];
            if raw || !chunk.contains('\\') {
                lit.push_str(chunk);
            } else {
                let bytes = unescape(chunk, false)
                    .map_err(|(off, msg)| self.error(from + off, from + off + 1, msg))?;
                lit.push_str(&String::from_utf8(bytes).expect("unescape of str yields UTF-8"));
            }
            Ok(())
        };
        while i < end {
            match self.bytes[i] {
                b'\\' => i += 2,
                b'{' if depth == 0 && self.bytes.get(i + 1) == Some(&b'{') => {
                    flush(&mut lit, lit_start, i + 1)?;
                    i += 2;
                    lit_start = i;
                }
                b'}' if depth == 0 && self.bytes.get(i + 1) == Some(&b'}') => {
                    flush(&mut lit, lit_start, i + 1)?;
                    i += 2;
                    lit_start = i;
                }
                b'}' => return Err(self.error(i, i + 1, "f-string: single '}' is not allowed")),
                b'{' => {
                    flush(&mut lit, lit_start, i)?;
                    if !lit.is_empty() {
                        pieces.push(FPiece::Lit(std::mem::take(&mut lit)));
                    }
                    let (field, next) = self.fstring_field(i, end, raw, depth)?;
                    pieces.push(field);
                    i = next;
                    lit_start = i;
                }
                _ => i += 1,
            }
        }
        flush(&mut lit, lit_start, end.min(i))?;
        if !lit.is_empty() {
            pieces.push(FPiece::Lit(lit));
        }
        Ok(pieces)
    }

    /// Parses one `{...}` field starting at `open`; returns it and the offset after `}`.
    fn fstring_field(
        &self,
        open: usize,
        end: usize,
        raw: bool,
        depth: u32,
    ) -> LexResult<(FPiece, usize)> {
        if depth > 1 {
            return Err(self.error(open, open + 1, "f-string: format specs nested too deeply"));
        }
        let expr_start = open + 1;
        let mut i = expr_start;
        let mut nest: Vec<u8> = Vec::new();
        let unterminated = || self.error(open, open + 1, "f-string: expecting '}'");
        // Scan the expression up to a top-level `}`, `!`, `:` or debug `=`.
        let expr_end = loop {
            if i >= end {
                return Err(unterminated());
            }
            let c = self.bytes[i];
            match c {
                b'\'' | b'"' => {
                    let close = self.src[i + 1..end]
                        .find(c as char)
                        .ok_or_else(unterminated)?;
                    i += close + 2;
                    continue;
                }
                b'(' | b'[' | b'{' => nest.push(c),
                b')' | b']' => {
                    nest.pop();
                }
                b'}' if !nest.is_empty() => {
                    nest.pop();
                }
                b'}' => break i,
                b'!' if nest.is_empty() && self.bytes.get(i + 1) != Some(&b'=') => break i,
                b':' if nest.is_empty() => break i,
                b'=' if nest.is_empty()
                    && !matches!(self.bytes.get(i + 1), Some(b'='))
                    && !matches!(self.bytes[i - 1], b'=' | b'!' | b'<' | b'>') =>
                {
                    break i;
                }
                _ => {}
            }
            i += 1;
        };
        if self.src[expr_start..expr_end].trim().is_empty() {
            return Err(self.error(open, expr_end + 1, "f-string: empty expression not allowed"));
        }
        let mut debug = None;
        if self.bytes[i] == b'=' {
            i += 1;
            while i < end && self.bytes[i] == b' ' {
                i += 1;
            }
            debug = Some(self.src[expr_start..i].to_string());
        }
        let mut conversion = None;
        if i < end && self.bytes[i] == b'!' {
            let conv = self.bytes.get(i + 1).copied().unwrap_or(0);
            if !matches!(conv, b'r' | b's' | b'a') {
                return Err(self.error(
                    i,
                    i + 2,
                    "f-string: invalid conversion character: expected 's', 'r', or 'a'",
                ));
            }
            conversion = Some(conv as char);
            i += 2;
        }
        let mut spec = None;
        if i < end && self.bytes[i] == b':' {
            let spec_start = i + 1;
            let mut level = 0u32;
            let mut j = spec_start;
            while j < end {
                match self.bytes[j] {
                    b'{' => level += 1,
                    b'}' if level == 0 => break,
                    b'}' => level -= 1,
                    _ => {}
                }
                j += 1;
            }
            spec = Some(self.fstring_pieces(spec_start, j, raw, depth + 1)?);
            i = j;
        }
        if i >= end || self.bytes[i] != b'}' {
            return Err(unterminated());
        }
        Ok((
            FPiece::Field {
                start: expr_start,
                end: expr_end,
                debug,
                conversion,
                spec,
            },
            i + 1,
        ))
    }

    fn number(&mut self) -> LexResult<TokenKind> {
        let start = self.pos;
        let radix = match (self.peek(0), self.peek(1).to_ascii_lowercase()) {
            (b'0', b'x') => 16,
            (b'0', b'o') => 8,
            (b'0', b'b') => 2,
            _ => 10,
        };
        if radix != 10 {
            self.pos += 2;
            let digits_start = self.pos;
            while self.pos < self.end
                && (self.bytes[self.pos].is_ascii_alphanumeric() || self.bytes[self.pos] == b'_')
            {
                self.pos += 1;
            }
            let digits: String = self.src[digits_start..self.pos]
                .chars()
                .filter(|&c| c != '_')
                .collect();
            return self.int_token(start, &digits, radix);
        }
        let mut is_float = false;
        self.digits();
        if self.peek(0) == b'.' && self.peek(1) != b'.' && !is_ident_start(self.peek(1)) {
            is_float = true;
            self.pos += 1;
            self.digits();
        }
        if matches!(self.peek(0), b'e' | b'E')
            && (self.peek(1).is_ascii_digit()
                || (matches!(self.peek(1), b'+' | b'-') && self.peek(2).is_ascii_digit()))
        {
            is_float = true;
            self.pos += 2;
            self.digits();
        }
        if matches!(self.peek(0), b'j' | b'J') {
            return Err(self.error(
                start,
                self.pos + 1,
                "complex number literals are not supported",
            ));
        }
        if is_ident_start(self.peek(0)) {
            return Err(self.error(start, self.pos + 1, "invalid number literal"));
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|&c| c != '_')
            .collect();
        if is_float {
            return text
                .parse::<f64>()
                .map(TokenKind::Float)
                .map_err(|_| self.error(start, self.pos, "invalid float literal"));
        }
        if text.len() > 1 && text.starts_with('0') && text.bytes().any(|b| b != b'0') {
            return Err(self.error(
                start,
                self.pos,
                "leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers",
            ));
        }
        self.int_token(start, &text, 10)
    }

    fn digits(&mut self) {
        while self.pos < self.end
            && (self.bytes[self.pos].is_ascii_digit() || self.bytes[self.pos] == b'_')
        {
            self.pos += 1;
        }
    }

    fn int_token(&self, start: usize, digits: &str, radix: u32) -> LexResult<TokenKind> {
        if let Ok(v) = i64::from_str_radix(digits, radix) {
            return Ok(TokenKind::Int(v));
        }
        BigInt::from_str_radix(digits, radix)
            .map(|b| TokenKind::BigInt(Rc::new(b)))
            .map_err(|_| self.error(start, self.pos, "invalid integer literal"))
    }
}

/// Can a top-level marker start after `prev` (file start, `;`, `}` or a docstring)?
fn at_statement_start(prev: Option<&Token>) -> bool {
    matches!(
        prev.map(|t| &t.kind),
        None | Some(TokenKind::Punct(P::Semi | P::RBrace | P::Colon) | TokenKind::Str(_))
    )
}

fn is_ident_start(c: u8) -> bool {
    c == b'_' || c.is_ascii_alphabetic()
}

/// String literal prefix flags.
#[derive(Debug, Clone, Copy, Default)]
struct Prefix {
    raw: bool,
    bytes: bool,
    format: bool,
}

/// Processes Python escapes in `body`. For bytes literals `\u`/`\N` are not
/// escapes and `\xhh` yields one byte. Errors carry the byte offset in `body`.
fn unescape(body: &str, bytes_mode: bool) -> Result<Vec<u8>, (usize, String)> {
    let mut out = Vec::with_capacity(body.len());
    let b = body.as_bytes();
    let mut i = 0;
    let push_char = |out: &mut Vec<u8>, c: char| {
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    };
    while i < b.len() {
        if b[i] != b'\\' {
            // Copy a run of plain text at once.
            let run_end = body[i..].find('\\').map_or(b.len(), |n| i + n);
            out.extend_from_slice(&b[i..run_end]);
            i = run_end;
            continue;
        }
        let esc = b.get(i + 1).copied().unwrap_or(b'\\');
        let simple = match esc {
            b'\n' => Some(None),
            b'\\' => Some(Some(b'\\')),
            b'\'' => Some(Some(b'\'')),
            b'"' => Some(Some(b'"')),
            b'a' => Some(Some(7)),
            b'b' => Some(Some(8)),
            b'f' => Some(Some(12)),
            b'n' => Some(Some(b'\n')),
            b'r' => Some(Some(b'\r')),
            b't' => Some(Some(b'\t')),
            b'v' => Some(Some(11)),
            _ => None,
        };
        if let Some(byte) = simple {
            out.extend(byte);
            i += 2;
            continue;
        }
        match esc {
            b'0'..=b'7' => {
                let mut n = 0u32;
                let mut len = 0;
                while len < 3 && matches!(b.get(i + 1 + len), Some(b'0'..=b'7')) {
                    n = n * 8 + u32::from(b[i + 1 + len] - b'0');
                    len += 1;
                }
                if bytes_mode {
                    out.push((n & 0xff) as u8);
                } else {
                    push_char(&mut out, char::from_u32(n).unwrap_or('\u{fffd}'));
                }
                i += 1 + len;
            }
            b'x' | b'u' | b'U' if esc == b'x' || !bytes_mode => {
                let len = match esc {
                    b'x' => 2,
                    b'u' => 4,
                    _ => 8,
                };
                let hex = body
                    .get(i + 2..i + 2 + len)
                    .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
                let Some(hex) = hex else {
                    return Err((
                        i,
                        format!("truncated \\{}{} escape", esc as char, "X".repeat(len)),
                    ));
                };
                let n =
                    u32::from_str_radix(hex, 16).map_err(|_| (i, "invalid escape".to_string()))?;
                if bytes_mode {
                    out.push(n as u8);
                } else {
                    let c = char::from_u32(n).ok_or_else(|| {
                        (
                            i,
                            format!("illegal Unicode character \\{}{hex}", esc as char),
                        )
                    })?;
                    push_char(&mut out, c);
                }
                i += 2 + len;
            }
            b'N' if !bytes_mode => {
                return Err((i, "\\N{...} escapes are not supported".to_string()));
            }
            _ => {
                // Unknown escapes keep the backslash (Python semantics).
                out.push(b'\\');
                i += 1;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(src: &str) -> Vec<TokenKind> {
        let lines = LineIndex::new(src);
        Lexer::new(src, 0, src.len(), FileId(0), "t.jac", &lines)
            .tokenize()
            .expect("lexes")
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    fn puncts(src: &str) -> Vec<&'static str> {
        lex(src)
            .into_iter()
            .filter_map(|k| match k {
                TokenKind::Punct(p) => Some(p.as_str()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn arrows_match_longest_first() {
        assert_eq!(puncts("a <++> b <++ c ++> d"), ["<++>", "<++", "++>"]);
        assert_eq!(
            puncts("[<-->] [<--] [-->]"),
            ["[", "<-->", "]", "[", "<--", "]", "[", "-->", "]"]
        );
        assert_eq!(
            puncts("+>:E:+> <+:E:<+ ->:E:-> <-:E:<-"),
            ["+>:", ":+>", "<+:", ":<+", "->:", ":->", "<-:", ":<-"]
        );
        assert_eq!(
            puncts("a[1:-1] x**=2 y//=3"),
            ["[", ":", "-", "]", "**=", "//="]
        );
    }

    #[test]
    fn numbers() {
        let k = lex("1_000 0xff 0b101 0o17 1.5 .5 1e3 2.5e-2 99999999999999999999");
        assert!(matches!(k[0], TokenKind::Int(1000)));
        assert!(matches!(k[1], TokenKind::Int(255)));
        assert!(matches!(k[2], TokenKind::Int(5)));
        assert!(matches!(k[3], TokenKind::Int(15)));
        assert!(matches!(k[4], TokenKind::Float(f) if f == 1.5));
        assert!(matches!(k[5], TokenKind::Float(f) if f == 0.5));
        assert!(matches!(k[6], TokenKind::Float(f) if f == 1000.0));
        assert!(matches!(k[7], TokenKind::Float(f) if f == 0.025));
        assert!(matches!(&k[8], TokenKind::BigInt(b) if b.to_string() == "99999999999999999999"));
    }

    #[test]
    fn strings_and_escapes() {
        let k = lex(r#""a\nb" 'c\x41\u00e9' r"\n" b"\x00z" """tri"ple""" "\q""#);
        assert!(matches!(&k[0], TokenKind::Str(s) if &**s == "a\nb"));
        assert!(matches!(&k[1], TokenKind::Str(s) if &**s == "cAé"));
        assert!(matches!(&k[2], TokenKind::Str(s) if &**s == "\\n"));
        assert!(matches!(&k[3], TokenKind::Bytes(b) if &**b == b"\x00z"));
        assert!(matches!(&k[4], TokenKind::Str(s) if &**s == "tri\"ple"));
        assert!(matches!(&k[5], TokenKind::Str(s) if &**s == "\\q"));
    }

    #[test]
    fn comments_and_backtick_names() {
        let k = lex("a # line\n#* block\n *# `root root");
        assert!(matches!(&k[0], TokenKind::Ident { name, kw: None } if &**name == "a"));
        assert!(matches!(&k[1], TokenKind::Ident { name, kw: None } if &**name == "root"));
        assert!(matches!(
            &k[2],
            TokenKind::Ident {
                kw: Some(Kw::Root),
                ..
            }
        ));
    }

    #[test]
    fn fstring_pieces() {
        let src = r#"f"a{x!r:>{w}}b{{c}} {y=}""#;
        let k = lex(src);
        let TokenKind::FStr(p) = &k[0] else {
            panic!("not an f-string: {k:?}")
        };
        assert!(matches!(&p[0], FPiece::Lit(s) if s == "a"));
        assert!(
            matches!(&p[1], FPiece::Field { start, end, conversion: Some('r'), spec: Some(spec), .. }
            if &src[*start..*end] == "x" && spec.len() == 2)
        );
        assert!(matches!(&p[2], FPiece::Lit(s) if s == "b{c} "));
        assert!(matches!(&p[3], FPiece::Field { debug: Some(d), .. } if d == "y="));
    }

    #[test]
    fn errors_have_positions() {
        let src = "x = 1;\ny = \"open\n";
        let lines = LineIndex::new(src);
        let err = Lexer::new(src, 0, src.len(), FileId(0), "t.jac", &lines)
            .tokenize()
            .expect_err("unterminated");
        assert_eq!(
            err.headline(),
            "t.jac:2:5: error: unterminated string literal (end of line)"
        );
    }
}
