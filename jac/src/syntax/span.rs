//! Source positions: file ids, spans and the source map that turns them back
//! into `file:line:col` text.

use std::rc::Rc;

/// Index of a source file inside a [`SourceMap`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub u32);

/// A region of source text. `line` and `col` (both 1-based, `col` counted in
/// characters) locate `start`; `end` is the exclusive byte offset.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// The file the span belongs to.
    pub file: FileId,
    /// Byte offset of the first character.
    pub start: u32,
    /// Byte offset one past the last character.
    pub end: u32,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column (in characters) of `start`.
    pub col: u32,
}

impl Span {
    /// The span from the start of `self` to the end of `other` (same file).
    #[must_use]
    pub fn to(self, other: Span) -> Span {
        Span {
            end: other.end.max(self.end),
            ..self
        }
    }
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the app root, `/`-separated (e.g. `app.jac`).
    pub name: Rc<str>,
    /// The full text.
    pub source: Rc<str>,
}

impl SourceFile {
    /// The text of the 1-based `line`, without its line terminator.
    pub fn line_text(&self, line: u32) -> &str {
        self.source
            .split('\n')
            .nth(line.saturating_sub(1) as usize)
            .map_or("", |l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// All source files of a program, indexed by [`FileId`].
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    /// Registers a file and returns its id.
    pub fn add(&mut self, name: &str, source: &str) -> FileId {
        let id = FileId(u32::try_from(self.files.len()).expect("fewer than 2^32 source files"));
        self.files.push(SourceFile {
            name: name.into(),
            source: source.into(),
        });
        id
    }

    /// The file with this id, if registered.
    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    /// The file name for `id`, or `<unknown>`.
    pub fn name(&self, id: FileId) -> &str {
        self.get(id).map_or("<unknown>", |f| &f.name)
    }

    /// All registered files in id order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}
