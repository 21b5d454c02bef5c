//! Cranelift's incremental compilation cache, kept on disk and shared by every engine of
//! this machine user: compiled functions keyed by the hash of their IR and the target.
//!
//! Every Jac app is the same runtime code with other data (a wizer snapshot), so a new
//! snapshot's component differs from any earlier one only in its data segments. With this
//! cache, compiling it reuses the machine code of every function compiled before (for an
//! earlier snapshot, or for the instrumented runtime of the same build) and Cranelift runs
//! only for what is new.
//!
//! An entry is the file `<dir>/functions/<2 hex digits>/<other hex digits of the key>`: the
//! SHA-256 of the payload, then the payload. It is written through `files::partial` (a
//! locked temporary file, renamed; a killed writer's is swept when the cache is opened),
//! so concurrent processes never read half an entry; a damaged entry fails its checksum and
//! is a miss (compiled again and rewritten), never wrong code. Nothing is evicted: the
//! cache grows by one runtime's functions (tens of MiB) per `jac-scale` version.

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use wasmtime::{CacheStore, Config};

/// Bytes of the checksum in front of each entry's payload.
const CHECKSUM_BYTES: usize = 32;

/// The compiled-function cache in one directory.
#[derive(Debug)]
pub struct FunctionCache {
    /// The cache's root: `functions/` here, and [`FunctionCache::components_dir`].
    dir: PathBuf,
}

impl FunctionCache {
    /// The cache in `dir` (created on the first insert), without the temporary files of
    /// processes killed while they wrote to it.
    pub fn new(dir: &Path) -> Arc<Self> {
        files::partial::sweep(dir, 2);
        Arc::new(FunctionCache {
            dir: dir.to_path_buf(),
        })
    }

    /// Where whole compiled components shared by all apps live (`.cwasm`, see `compiled.rs`).
    pub fn components_dir(&self) -> PathBuf {
        self.dir.join("components")
    }

    fn entry(&self, key: &[u8]) -> PathBuf {
        let key = hex::encode(key);
        let (shard, rest) = key.split_at(2.min(key.len()));
        self.dir.join("functions").join(shard).join(rest)
    }

    fn write(&self, path: &Path, value: &[u8]) -> std::io::Result<()> {
        let mut bytes = Vec::with_capacity(CHECKSUM_BYTES + value.len());
        bytes.extend_from_slice(&Sha256::digest(value));
        bytes.extend_from_slice(value);
        files::partial::write_atomically(path, &bytes)
    }
}

impl CacheStore for FunctionCache {
    fn get(&self, key: &[u8]) -> Option<Cow<'_, [u8]>> {
        let mut bytes = std::fs::read(self.entry(key)).ok()?;
        let (checksum, payload) = bytes.split_at_checked(CHECKSUM_BYTES)?;
        if Sha256::digest(payload)[..] != *checksum {
            return None;
        }
        bytes.drain(..CHECKSUM_BYTES);
        Some(Cow::Owned(bytes))
    }

    fn insert(&self, key: &[u8], value: Vec<u8>) -> bool {
        self.write(&self.entry(key), &value).is_ok()
    }
}

/// Which of wasmtime's compilers an engine uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compiler {
    /// Cranelift: optimised code, seconds of compile time for the Jac runtime; reuses the
    /// functions in the `function_cache`.
    Optimizing,
    /// Winch, a single-pass baseline compiler: several times faster to compile, slower
    /// code. Serves an app until its optimised code is ready (see `runtime::tiering`) and
    /// runs the one-off `load-program` of `jac-scale build`.
    Baseline,
}

/// The settings that shape generated code, shared by every engine that compiles our
/// components (serving and `jac-scale build`), so optimising engines hit the same
/// `function_cache` entries. Winch has no incremental cache; a baseline engine ignores it.
pub fn codegen_config(
    compiler: Compiler,
    function_cache: Option<&Arc<FunctionCache>>,
) -> wasmtime::Result<Config> {
    let mut cfg = Config::new();
    cfg.wasm_component_model(true).epoch_interruption(true);
    match compiler {
        Compiler::Optimizing => {
            cfg.strategy(wasmtime::Strategy::Cranelift);
            if let Some(cache) = function_cache {
                cfg.enable_incremental_compilation(cache.clone())?;
            }
        }
        Compiler::Baseline => {
            cfg.strategy(wasmtime::Strategy::Winch);
        }
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_comes_back_and_a_damaged_one_is_a_miss() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cache = FunctionCache::new(dir.path());
        assert!(cache.get(b"key").is_none());
        assert!(cache.insert(b"key", b"machine code".to_vec()));
        assert_eq!(cache.get(b"key").as_deref(), Some(&b"machine code"[..]));

        let path = cache.entry(b"key");
        let mut bytes = std::fs::read(&path).expect("entry");
        *bytes.last_mut().expect("payload") ^= 1;
        std::fs::write(&path, &bytes).expect("damage");
        assert!(cache.get(b"key").is_none());
        std::fs::write(&path, b"short").expect("truncate");
        assert!(cache.get(b"key").is_none());

        assert!(cache.insert(b"key", b"machine code".to_vec()));
        assert_eq!(cache.get(b"key").as_deref(), Some(&b"machine code"[..]));
    }
}
