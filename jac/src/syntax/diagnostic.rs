//! Syntax and load errors: `file:line:col: error: message` plus the source
//! line and a caret under the offending column.

use std::fmt;

use super::span::{SourceMap, Span};

/// A located error found while lexing, parsing or loading Jac source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostic {
    /// File name relative to the app root (e.g. `app.jac`).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters).
    pub col: u32,
    /// What went wrong (`expected ';' after expression`).
    pub message: String,
    /// The source line the error is on (empty when not known).
    pub excerpt: String,
    /// Number of carets to draw (at least 1).
    pub width: u32,
}

impl Diagnostic {
    /// A diagnostic at `span`, taking the file name and excerpt from `sources`.
    pub fn at(sources: &SourceMap, span: Span, message: impl Into<String>) -> Diagnostic {
        let (file, excerpt) = match sources.get(span.file) {
            Some(f) => (f.name.to_string(), f.line_text(span.line).to_string()),
            None => ("<unknown>".to_string(), String::new()),
        };
        Self::with_excerpt(file, excerpt, span, message)
    }

    /// A diagnostic at `span` in a file whose text is `source`.
    pub fn in_source(
        file: &str,
        source: &str,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        let excerpt = source
            .split('\n')
            .nth(span.line.saturating_sub(1) as usize)
            .map_or("", |l| l.strip_suffix('\r').unwrap_or(l));
        Self::with_excerpt(file.to_string(), excerpt.to_string(), span, message)
    }

    fn with_excerpt(
        file: String,
        excerpt: String,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        let line_chars = excerpt.chars().count() as u32;
        let remaining = (line_chars + 1).saturating_sub(span.col).max(1);
        let span_chars = span.end.saturating_sub(span.start).max(1);
        Diagnostic {
            file,
            line: span.line,
            col: span.col,
            message: message.into(),
            excerpt,
            width: span_chars.min(remaining),
        }
    }

    /// A diagnostic that has no source position (e.g. a missing file).
    pub fn without_position(file: &str, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            file: file.to_string(),
            line: 0,
            col: 0,
            message: message.into(),
            excerpt: String::new(),
            width: 0,
        }
    }

    /// The one-line summary `file:line:col: error: message`.
    pub fn headline(&self) -> String {
        if self.line == 0 {
            format!("{}: error: {}", self.file, self.message)
        } else {
            format!(
                "{}:{}:{}: error: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())?;
        if self.line == 0 {
            return Ok(());
        }
        let gutter = self.line.to_string();
        let pad = " ".repeat(gutter.len());
        // Keep tabs so the caret lines up with the excerpt in a terminal.
        let lead: String = self
            .excerpt
            .chars()
            .take(self.col.saturating_sub(1) as usize)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(
            f,
            "\n{pad} |\n{gutter} | {}\n{pad} | {lead}{}",
            self.excerpt,
            "^".repeat(self.width.max(1) as usize)
        )
    }
}
