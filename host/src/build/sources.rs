//! The `.jac` files of an app: the entry module and every module it imports from the app
//! folder (and their `.impl.jac` annexes), found by loading the program natively, so a
//! syntax error is reported before any wasm runs.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::Path;

use jac_lang::syntax::{DirSources, SourceProvider, load_program};
use sha2::{Digest, Sha256};

use super::BuildError;

/// Largest total size of an app's `.jac` sources.
const MAX_SOURCE_BYTES: usize = 16 << 20;

/// An app's sources, ready to be bundled into the runtime.
#[derive(Debug)]
pub struct AppSources {
    entry: String,
    files: BTreeMap<String, String>,
}

/// Reads from the app folder and remembers every file that was there.
struct Recording {
    dir: DirSources,
    read: RefCell<BTreeMap<String, String>>,
    bytes: RefCell<usize>,
}

impl SourceProvider for Recording {
    fn read(&self, path: &str) -> std::io::Result<Option<String>> {
        let text = self.dir.read(path)?;
        if let Some(text) = &text {
            let mut bytes = self.bytes.borrow_mut();
            *bytes += text.len();
            if *bytes > MAX_SOURCE_BYTES {
                return Err(std::io::Error::other(format!(
                    "the app's sources exceed {} MiB",
                    MAX_SOURCE_BYTES >> 20
                )));
            }
            self.read.borrow_mut().insert(path.to_owned(), text.clone());
        }
        Ok(text)
    }
}

impl AppSources {
    /// Loads the app whose entry module is `app` (`path/to/app.jac`).
    pub fn read(app: &Path) -> Result<Self, BuildError> {
        let dir = app
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let entry = app
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .ok_or_else(|| BuildError::NotAnApp(app.display().to_string()))?;
        if !app.is_file() {
            return Err(BuildError::Read {
                path: app.display().to_string(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let recording = Recording {
            dir: DirSources::new(&dir),
            read: RefCell::default(),
            bytes: RefCell::default(),
        };
        load_program(&recording, &entry).map_err(|mut diagnostic| {
            // Name the file as the user would (relative to where they ran the command).
            if !diagnostic.file.is_empty() && diagnostic.file != "<unknown>" {
                diagnostic.file = dir.join(&diagnostic.file).display().to_string();
            }
            BuildError::Syntax(diagnostic.to_string())
        })?;
        Ok(AppSources {
            entry,
            files: recording.read.into_inner(),
        })
    }

    /// The JSON bundle `load-program` takes.
    pub fn bundle(&self) -> String {
        serde_json::json!({ "entry": self.entry, "files": self.files }).to_string()
    }

    /// Identifies this exact program on this exact runtime (the build cache key).
    pub fn digest(&self, runtime: &[u8]) -> String {
        let mut h = Sha256::new();
        h.update(Sha256::digest(runtime));
        h.update(self.bundle().as_bytes());
        hex::encode(h.finalize())
    }
}
