//! `jac-scale build`: a Jac app -> one self-contained WebAssembly component.
//!
//! The component is the Jac runtime (`jac/component`, embedded in this binary by
//! `build.rs`) pre-initialised with the program loaded: [`AppSources`] collects the
//! app's `.jac` files (syntax errors stop here, located), and [`snapshot`] runs the
//! runtime's `load-program` on them and snapshots the instance with wizer. Serving it
//! is then like serving any component; no call parses anything.
//!
//! `jac-scale start app.jac` goes through [`component_for`]: the built component is kept
//! in the data dir under the digest of the sources and the runtime, so an unchanged app
//! starts from the cache.

mod snapshot;
mod sources;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use sources::AppSources;

use crate::runtime::function_cache::FunctionCache;

/// The Jac runtime component, built from `jac/component` for `wasm32-wasip2`.
pub static JAC_RUNTIME: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jac_component.wasm"));

/// Why a Jac app could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} does not name a .jac file")]
    NotAnApp(String),
    /// A located syntax or import error, with the source line and a caret.
    #[error("{0}")]
    Syntax(String),
    /// The module code raised (or the program could not be linked) while loading.
    #[error("the app failed to load:\n{0}")]
    Load(String),
    #[error("cannot pre-initialise the Jac runtime: {0}")]
    Snapshot(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
}

/// Builds the component for `sources`.
///
/// Compiling and snapshotting take seconds of CPU, so they run on a blocking thread and
/// the server keeps answering meanwhile (a `--reload` rebuild).
/// `function_cache` keeps the compiled runtime between builds (see [`snapshot`]).
pub async fn build(
    sources: &AppSources,
    function_cache: Option<&Arc<FunctionCache>>,
) -> Result<Vec<u8>, BuildError> {
    let bundle = sources.bundle();
    let function_cache = function_cache.cloned();
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Handle::current().block_on(snapshot::snapshot(
            JAC_RUNTIME,
            &bundle,
            function_cache.as_ref(),
        ))
    })
    .await
    .map_err(|e| BuildError::Snapshot(e.to_string()))?
}

/// Whether `app` names a Jac program (rather than a built component).
pub fn is_jac_app(app: &Path) -> bool {
    app.extension().is_some_and(|e| e == "jac")
}

/// The component to serve for `app`: itself for a `.wasm`; for a `.jac` app, its built
/// component from `cache_dir/jac/<digest>/`, built now when the sources (or this
/// binary's runtime) changed since the last build, compiling through `function_cache`.
pub async fn component_for(
    app: &Path,
    cache_dir: &Path,
    function_cache: Option<&Arc<FunctionCache>>,
) -> Result<PathBuf, BuildError> {
    if !is_jac_app(app) {
        return Ok(app.to_path_buf());
    }
    let sources = AppSources::read(app)?;
    let stem = app.file_stem().unwrap_or(app.as_os_str());
    let path = cache_dir
        .join("jac")
        .join(sources.digest(JAC_RUNTIME))
        .join(stem)
        .with_extension("wasm");
    if path.is_file() {
        tracing::info!(app = %app.display(), "Jac app unchanged; using the cached build");
        return Ok(path);
    }
    let started = std::time::Instant::now();
    let wasm = build(&sources, function_cache).await?;
    write_atomically(&path, &wasm)?;
    tracing::info!(app = %app.display(), elapsed = ?started.elapsed(), "built Jac app");
    Ok(path)
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see
/// half a component.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    let write = || -> std::io::Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|source| BuildError::Write {
        path: path.display().to_string(),
        source,
    })
}
