//! Jac source to syntax tree: spans and diagnostics, the lexer, the
//! recursive-descent parser and the multi-file program loader.

pub mod ast;
pub mod diagnostic;
mod lexer;
mod loader;
mod parser;
pub mod span;
mod token;

pub use diagnostic::Diagnostic;
pub use loader::{DirSources, MemorySources, SourceProvider, load_program};
pub use parser::{module_name_of, parse_module};
pub use span::{FileId, SourceFile, SourceMap, Span};
