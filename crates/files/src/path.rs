//! Guest-supplied paths, checked and normalised before any backend sees them.
//!
//! A path is relative and `/`-separated: `./a//b/` is `a/b`. Absolute paths, `..`
//! segments, backslashes and NUL bytes are refused with [`HostError::Invalid`], so a
//! path can never name anything above the bucket it is used in.

use host_error::HostError;

/// Longest path accepted, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;
/// Longest single path segment accepted, in bytes (the common file-name limit).
const MAX_SEGMENT_BYTES: usize = 255;

/// A normalised relative path: segments joined with `/`, no leading or trailing `/`.
/// Empty means the bucket root.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelPath(String);

impl RelPath {
    /// The bucket root.
    pub fn root() -> Self {
        RelPath(String::new())
    }

    /// Check and normalise `text`; the empty path (the root) is allowed.
    pub fn parse(text: &str) -> Result<Self, HostError> {
        let refuse = |why: &str| Err(HostError::Invalid(format!("invalid path {text:?}: {why}")));
        if text.len() > MAX_PATH_BYTES {
            return refuse(&format!("longer than {MAX_PATH_BYTES} bytes"));
        }
        if text.starts_with('/') {
            return refuse(
                "absolute paths are not allowed (paths are relative to the storage base)",
            );
        }
        if text.contains('\\') {
            return refuse("backslashes are not allowed (use `/`)");
        }
        if text.contains('\0') {
            return refuse("NUL bytes are not allowed");
        }
        let mut segments = Vec::new();
        for segment in text.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    return refuse("`..` is not allowed (paths stay inside the storage base)");
                }
                s if s.len() > MAX_SEGMENT_BYTES => {
                    return refuse(&format!(
                        "a segment is longer than {MAX_SEGMENT_BYTES} bytes"
                    ));
                }
                s => segments.push(s),
            }
        }
        Ok(RelPath(segments.join("/")))
    }

    /// Check and normalise a path that must name something below the root.
    pub fn parse_entry(text: &str) -> Result<Self, HostError> {
        let path = Self::parse(text)?;
        if path.is_root() {
            return Err(HostError::Invalid(format!(
                "invalid path {text:?}: it names the storage base itself, not a file in it"
            )));
        }
        Ok(path)
    }

    /// Whether this is the bucket root.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The normalised text (`a/b`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last segment (empty for the root).
    pub fn name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or_default()
    }

    /// `self/other`.
    pub fn join(&self, other: &RelPath) -> RelPath {
        match (self.is_root(), other.is_root()) {
            (true, _) => other.clone(),
            (_, true) => self.clone(),
            _ => RelPath(format!("{}/{}", self.0, other.0)),
        }
    }

    /// The segments, in order.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }
}

impl std::fmt::Display for RelPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(text: &str) -> String {
        match RelPath::parse(text) {
            Err(HostError::Invalid(message)) => message,
            other => panic!("{text:?} should be invalid, got {other:?}"),
        }
    }

    #[test]
    fn relative_paths_are_normalised() {
        assert_eq!(RelPath::parse("./a//b/").unwrap().as_str(), "a/b");
        assert_eq!(RelPath::parse("docs/x.dat").unwrap().as_str(), "docs/x.dat");
        assert!(RelPath::parse("").unwrap().is_root());
        assert!(RelPath::parse("./").unwrap().is_root());
        assert_eq!(RelPath::parse("a/./b").unwrap().name(), "b");
    }

    #[test]
    fn escapes_are_invalid_with_a_reason() {
        assert!(invalid("../x").contains("`..` is not allowed"));
        assert!(invalid("a/../../x").contains("`..`"));
        assert!(invalid("/etc/passwd").contains("absolute paths"));
        assert!(invalid("a\\..\\b").contains("backslashes"));
        assert!(invalid("a\0b").contains("NUL"));
        assert!(invalid(&"a/".repeat(600)).contains("longer than"));
        assert!(invalid(&"x".repeat(300)).contains("segment"));
    }

    #[test]
    fn entries_must_not_be_the_root() {
        assert!(RelPath::parse_entry(".").is_err());
        assert!(RelPath::parse_entry("a").is_ok());
    }

    #[test]
    fn join_skips_empty_sides() {
        let a = RelPath::parse("a").unwrap();
        let b = RelPath::parse("b/c").unwrap();
        assert_eq!(a.join(&b).as_str(), "a/b/c");
        assert_eq!(RelPath::root().join(&b), b);
        assert_eq!(a.join(&RelPath::root()), a);
    }

    /// Random paths over a hostile alphabet for a bounded time: each is refused, or
    /// normalised to segments that can only name something inside the bucket.
    #[test]
    fn random_paths_never_leave_the_bucket() {
        use rand::{Rng, SeedableRng};
        const PIECES: &[&str] = &[
            "/",
            "//",
            ".",
            "..",
            "...",
            "\\",
            "\0",
            "a",
            "é",
            "%2e%2e",
            "~",
            ":",
            "C:",
            " ",
            "\n",
            "🦀",
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        let seed: u64 = rand::random();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
        while std::time::Instant::now() < deadline {
            let text: String = (0..rng.random_range(0..40))
                .map(|_| PIECES[rng.random_range(0..PIECES.len())])
                .collect();
            let Ok(path) = RelPath::parse(&text) else {
                continue;
            };
            let shown = format!("seed {seed}: {text:?} -> {path:?}");
            assert!(!path.as_str().starts_with('/'), "{shown}");
            assert!(path.as_str().len() <= MAX_PATH_BYTES, "{shown}");
            assert!(
                path.as_str()
                    .split('/')
                    .all(|s| path.is_root() || !(s.is_empty() || s == "." || s == "..")),
                "{shown}"
            );
            assert!(!path.as_str().contains(['\\', '\0']), "{shown}");
            assert_eq!(RelPath::parse(path.as_str()).as_ref(), Ok(&path), "{shown}");
        }
    }
}
