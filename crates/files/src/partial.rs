//! Files and folders being written, so that a process killed in the middle (SIGKILL, a
//! crash, power off the host's process) leaves neither half a file where a reader looks
//! nor a temporary nobody removes.
//!
//! A partial is named `.<name>.partial-<random>` and locked (`flock`, exclusive) by the
//! process that made it for as long as it writes or uses it. [`write_atomically`] writes
//! a file as a partial next to its destination and renames it into place, so readers see
//! the old file or the whole new one ([`PartialFile`] is that partial, for writers that
//! keep it elsewhere, such as the local storage's folder of partials). [`PartialDir`] is a scratch folder held while a
//! process runs (request uploads). The kernel drops the lock when the process dies,
//! however it dies, so [`sweep`] (run at start) removes exactly the partials whose
//! process is gone and never one a live process, another server on the same data dir,
//! still holds.

use std::fs::{File, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// What marks a partial's name.
const MARK: &str = ".partial-";

/// The name of a fresh partial for `name` in `dir`.
fn partial_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(
        ".{name}{MARK}{}",
        hex::encode(rand::random::<[u8; 8]>())
    ))
}

/// Writes `bytes` to `path` (creating its folder) through a locked partial and a rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?;
    let mut partial = PartialFile::create_in(dir, &name.to_string_lossy())?;
    partial.file().write_all(bytes)?;
    partial.persist(path)
}

/// A file being written: a locked partial in some folder, renamed over its destination
/// by [`PartialFile::persist`], deleted when dropped before that.
#[derive(Debug)]
pub struct PartialFile {
    path: PathBuf,
    /// Open and locked while the partial exists.
    file: File,
    persisted: bool,
}

impl PartialFile {
    /// A fresh, empty partial `.<name>.partial-<random>` in `dir` (created if missing).
    /// `dir` must be on the destination's file system (a rename cannot cross them).
    pub fn create_in(dir: &Path, name: &str) -> io::Result<Self> {
        let path = partial_path(dir, name);
        let file = match File::create_new(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                File::create_new(&path)?
            }
            created => created?,
        };
        let partial = PartialFile {
            path,
            file,
            persisted: false,
        };
        partial.file.lock()?;
        Ok(partial)
    }

    /// The partial's path (another handle may write it too).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open partial, to write.
    pub fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// Renames the partial over `destination`: readers see the old file or the whole new
    /// one, never part of it. After an error the partial is still there (and still
    /// deleted on drop).
    pub fn persist(&mut self, destination: &Path) -> io::Result<()> {
        std::fs::rename(&self.path, destination)?;
        self.persisted = true;
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A scratch folder in `parent`, held (locked) by this process until dropped; dropping it
/// deletes it with everything in it.
#[derive(Debug)]
pub struct PartialDir {
    path: PathBuf,
    /// The folder itself, open and locked: the lock lives as long as the process does.
    _lock: File,
}

impl PartialDir {
    /// Makes a fresh scratch folder `.<name>.partial-<random>` in `parent` (created too).
    pub fn create_in(parent: &Path, name: &str) -> io::Result<Self> {
        std::fs::create_dir_all(parent)?;
        let path = partial_path(parent, name);
        std::fs::create_dir(&path)?;
        let lock = File::open(&path)?;
        lock.lock()?;
        Ok(PartialDir { path, _lock: lock })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PartialDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(dir = %self.path.display(), "could not delete a scratch folder: {e}");
        }
    }
}

/// Removes the partials no live process holds in `dir` and, `depth` levels down, its
/// subfolders; answers how many it removed. A folder that cannot be read is skipped
/// (the cache it belongs to works without the sweep).
pub fn sweep(dir: &Path, depth: usize) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let is_partial = entry.file_name().to_string_lossy().contains(MARK);
        if is_partial && abandoned(&path) {
            let gone = if is_dir {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            match gone {
                Ok(()) => {
                    tracing::info!(path = %path.display(), "removed a temporary file a stopped process left");
                    removed += 1;
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), "cannot remove a stale temporary file: {e}")
                }
            }
        } else if is_dir && !is_partial && depth > 0 {
            removed += sweep(&path, depth - 1);
        }
    }
    removed
}

/// Whether no process holds the partial at `path` (it could be locked now).
fn abandoned(path: &Path) -> bool {
    match File::open(path).map(|f| f.try_lock()) {
        Ok(Ok(())) => true,
        Ok(Err(TryLockError::WouldBlock)) => false,
        Ok(Err(TryLockError::Error(e))) | Err(e) => {
            tracing::warn!(path = %path.display(), "cannot tell whether a temporary file is in use: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_leaves_the_file_and_no_partial() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache").join("app.wasm");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["app.wasm"]);
    }

    #[test]
    fn sweep_removes_abandoned_partials_and_keeps_held_ones_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("jac").join("digest");
        std::fs::create_dir_all(&nested).unwrap();
        // What a killed writer leaves: a partial nobody holds, a file and a folder.
        std::fs::write(partial_path(&nested, "app.wasm"), b"half").unwrap();
        std::fs::create_dir(partial_path(dir.path(), "uploads")).unwrap();
        std::fs::write(nested.join("app.wasm"), b"whole").unwrap();
        let held = PartialDir::create_in(dir.path(), "uploads").unwrap();
        std::fs::write(held.path().join("upload-0"), b"in use").unwrap();

        assert_eq!(sweep(dir.path(), 2), 2);
        assert!(held.path().join("upload-0").is_file());
        let names: Vec<_> = std::fs::read_dir(&nested)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["app.wasm"]);
        let path = held.path().to_path_buf();
        drop(held);
        assert!(!path.exists());
        assert_eq!(sweep(dir.path(), 2), 0);
    }
}
