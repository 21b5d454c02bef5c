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
//!
//! All of this is the `jac-build` cargo feature (on by default); without it a `.jac` app
//! is refused with [`BuildError::NotBuiltIn`] and components are served as they are.

#[cfg(feature = "jac-build")]
mod snapshot;
#[cfg(feature = "jac-build")]
mod sources;

use std::path::{Path, PathBuf};
use std::sync::Arc;

#[cfg(feature = "jac-build")]
pub use sources::AppSources;

use runtime::function_cache::FunctionCache;

/// The Jac runtime component, built from `jac/component` for `wasm32-wasip2`.
#[cfg(feature = "jac-build")]
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
    #[error(
        "{0} is a Jac app, but this jac-scale was built without Jac support (cargo feature `jac-build`)"
    )]
    NotBuiltIn(String),
}

/// Builds the component for `sources`.
///
/// Compiling and snapshotting take seconds of CPU, so they run on a blocking thread and
/// the server keeps answering meanwhile (a `--reload` rebuild).
/// `function_cache` keeps the compiled runtime between builds (see [`snapshot`]).
#[cfg(feature = "jac-build")]
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
#[cfg(feature = "jac-build")]
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

/// The component to serve for `app`: itself; a `.jac` app needs the `jac-build` feature.
#[cfg(not(feature = "jac-build"))]
pub async fn component_for(
    app: &Path,
    _cache_dir: &Path,
    _function_cache: Option<&Arc<FunctionCache>>,
) -> Result<PathBuf, BuildError> {
    if is_jac_app(app) {
        return Err(BuildError::NotBuiltIn(app.display().to_string()));
    }
    Ok(app.to_path_buf())
}

/// Writes `bytes` to `path` through a temporary file and a rename, so readers never see
/// half a component (`files::partial`: the temporaries of a killed build are removed by
/// the next [`sweep_output_dir`] or server start).
#[cfg(feature = "jac-build")]
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    files::partial::write_atomically(path, bytes).map_err(|source| BuildError::Write {
        path: path.display().to_string(),
        source,
    })
}

/// Removes the temporaries an earlier `jac-scale build` into `output`'s folder left when
/// it was killed.
#[cfg(feature = "jac-build")]
pub fn sweep_output_dir(output: &Path) {
    let dir = output.parent().filter(|d| !d.as_os_str().is_empty());
    files::partial::sweep(dir.unwrap_or(Path::new(".")), 0);
}
