//! Compiled-code cache: `.cwasm` files keyed by the wasm digest and the engine's
//! compatibility hash, so a restart (or a second app with the same bytes) does not
//! recompile.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Feeds `Hash` output into SHA-256, so the key is stable across processes.
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        unreachable!("only `write` is used; the digest is read with `finalize`")
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The hex SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Where the compiled form of `wasm_digest` lives for this engine.
fn cache_path(engine: &Engine, dir: &Path, wasm_digest: &str) -> PathBuf {
    let mut h = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut h);
    let engine_key = hex::encode(&h.0.finalize()[..8]);
    dir.join(format!("{wasm_digest}-{engine_key}.cwasm"))
}

/// Load the component for `bytes` from the cache, compiling (and caching) it if needed.
///
/// Returns the component and whether it came from the cache.
pub fn load_component(
    engine: &Engine,
    dir: &Path,
    bytes: &[u8],
) -> wasmtime::Result<(Component, bool)> {
    cached_or_compiled(engine, dir, &digest(bytes), bytes)
}

/// [`load_component`] for bytes whose digest is known.
pub fn cached_or_compiled(
    engine: &Engine,
    dir: &Path,
    wasm_digest: &str,
    bytes: &[u8],
) -> wasmtime::Result<(Component, bool)> {
    match cached(engine, dir, wasm_digest) {
        Some(component) => Ok((component, true)),
        None => Ok((compile_and_keep(engine, dir, wasm_digest, bytes)?, false)),
    }
}

/// The compiled component of `wasm_digest` for `engine`, if the cache holds a usable one.
pub fn cached(engine: &Engine, dir: &Path, wasm_digest: &str) -> Option<Component> {
    let path = cache_path(engine, dir, wasm_digest);
    if !path.is_file() {
        return None;
    }
    // SAFETY: the file was written by `compile_and_keep` with an engine of the same
    // compatibility hash (it is in the name), into our own cache dir, via an atomic rename.
    #[allow(unsafe_code)]
    match unsafe { Component::deserialize_file(engine, &path) } {
        Ok(component) => Some(component),
        Err(e) => {
            tracing::warn!(path = %path.display(), "ignoring unusable compile cache entry: {e}");
            None
        }
    }
}

/// Compiles `bytes` (whose digest is `wasm_digest`) with `engine` and keeps the result in
/// `dir` for the next [`cached`].
pub fn compile_and_keep(
    engine: &Engine,
    dir: &Path,
    wasm_digest: &str,
    bytes: &[u8],
) -> wasmtime::Result<Component> {
    let path = cache_path(engine, dir, wasm_digest);
    let compiled = engine.precompile_component(bytes)?;
    files::partial::write_atomically(&path, &compiled)?;
    // SAFETY: we just compiled these bytes with this engine.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &compiled)? };
    Ok(component)
}
