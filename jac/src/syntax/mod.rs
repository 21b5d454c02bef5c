//! Jac source to syntax tree: spans and diagnostics, the lexer, the
//! recursive-descent parser and the multi-file program loader.

pub mod ast;
pub mod diagnostic;
pub mod span;

pub use diagnostic::Diagnostic;
pub use span::{FileId, SourceFile, SourceMap, Span};
