//! The apps this process serves, by name, and the changes the admin API makes to them:
//! deploy (a new app or a new version), remove, list.
//!
//! The table is an `ArcSwap`: a request takes the app it found and keeps it until it
//! ends, so removing or replacing an app never cuts a request short. Changes are one
//! at a time (a mutex), so two deploys of one name cannot interleave.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arc_swap::ArcSwap;
use config::{ConfigError, HostedApp, ProcessEnv, ServeConfig};
use metrics::Metrics;
use runtime::Runtime;
use runtime::function_cache::FunctionCache;
use serde::Serialize;

use crate::server::{self, Composed, StartError};

/// Largest upload the admin API takes (a component or a Jac source).
pub const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// The first bytes of every WebAssembly binary.
const WASM_MAGIC: &[u8] = b"\0asm";

/// One app being served.
pub struct Hosted {
    /// Its name (`/apps/<name>/`, `<name>.<domain>`).
    pub name: String,
    /// Its stores, current version and routes.
    pub composed: Composed,
    /// The file it was first loaded from (a deploy may have put another kind since).
    path: PathBuf,
    /// Requests routed to it since it was loaded.
    requests: AtomicU64,
}

impl Hosted {
    /// Count one request routed to this app.
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }
}

/// What the admin API lists per app.
#[derive(Debug, Serialize)]
pub struct Usage {
    pub name: String,
    /// `wasm` or `jac`.
    pub kind: &'static str,
    /// Requests routed to the app since this process loaded it.
    pub requests: u64,
    /// Instances running a call of the app now, and calls waiting for one.
    pub instances_in_use: usize,
    pub calls_queued: usize,
    /// Bytes of the app's data folder on disk (graph, users, kvstore, local files).
    pub storage_bytes: u64,
    /// Endpoints the current version declares.
    pub endpoints: usize,
}

/// Why a change to the apps was refused; the admin API maps each to a status.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{0}")]
    BadName(String),
    #[error("{0}")]
    BadUpload(String),
    #[error("no app named `{0}`")]
    Unknown(String),
    #[error("app `{0}` is listed with a path in apps.toml; change it there")]
    Pinned(String),
    /// The new app or version could not be built or loaded; the old one still serves.
    #[error(transparent)]
    Load(#[from] StartError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("cannot write the app's files: {0}")]
    Io(#[from] std::io::Error),
}

/// The apps of this process.
pub struct Registry {
    table: ArcSwap<BTreeMap<String, Arc<Hosted>>>,
    /// One change at a time.
    changing: tokio::sync::Mutex<()>,
    serve: ServeConfig,
    runtime: Arc<Runtime>,
    function_cache: Arc<FunctionCache>,
    /// The metrics of every app (the operator's `[plugins.scale.metrics]`), when enabled.
    metrics: Option<Arc<Metrics>>,
}

impl Registry {
    /// An empty registry loading apps on `runtime`, measured by `metrics`.
    pub fn new(
        serve: ServeConfig,
        runtime: Arc<Runtime>,
        function_cache: Arc<FunctionCache>,
        metrics: Option<Arc<Metrics>>,
    ) -> Self {
        Registry {
            table: ArcSwap::default(),
            changing: tokio::sync::Mutex::new(()),
            serve,
            runtime,
            function_cache,
            metrics,
        }
    }

    /// Every metric of every app, read now, when metrics are enabled.
    pub fn scrape(&self) -> Option<axum::response::Response> {
        let metrics = self.metrics.as_ref()?;
        for hosted in self.table.load().values() {
            http::refresh_readings(&hosted.composed.state);
        }
        Some(http::scrape_response(metrics))
    }

    /// The operator's settings.
    pub fn settings(&self) -> &ServeConfig {
        &self.serve
    }

    /// Stop every app's scheduled jobs (shutdown: none starts while calls drain).
    pub fn stop_schedules(&self) {
        for hosted in self.table.load().values() {
            hosted.composed.state.served().stop_schedules();
        }
    }

    /// The app called `name`, if served.
    pub fn get(&self, name: &str) -> Option<Arc<Hosted>> {
        self.table.load().get(name).cloned()
    }

    /// Load `app` (at start): compose it and add it to the table.
    pub async fn add(&self, app: &HostedApp) -> Result<(), ChangeError> {
        let _one_at_a_time = self.changing.lock().await;
        let hosted = self.compose(app, &app.path).await?;
        self.insert(hosted);
        Ok(())
    }

    /// Deploy `upload` (a component, or a Jac source) as app `name`: a new app, or a new
    /// version of a served one (in-flight calls finish on the old version). The upload is
    /// loaded from a staging folder and moved into the apps dir only once it loaded, so a
    /// bad upload leaves the app and its files as they were. Returns whether it replaced.
    pub async fn deploy(&self, name: &str, upload: &[u8]) -> Result<bool, ChangeError> {
        config::check_app_name(name).map_err(ChangeError::BadName)?;
        let file = upload_file_name(upload)?;
        let _one_at_a_time = self.changing.lock().await;
        if self.serve.is_pinned(name) {
            return Err(ChangeError::Pinned(name.to_owned()));
        }
        let staging = self.serve.apps_dir.join(".staging").join(name);
        let _ = std::fs::remove_dir_all(&staging);
        std::fs::create_dir_all(&staging)?;
        let staged = staging.join(file);
        std::fs::write(&staged, upload)?;
        let folder = self.serve.app_folder(name);
        let target = folder.join(file);
        let outcome = match self.get(name) {
            Some(hosted) => hosted
                .composed
                .versions
                .replace(&hosted.composed.state, &staged)
                .await
                .map(|()| None)
                .map_err(ChangeError::from),
            None => {
                let app = self.serve.hosted(name, target.clone());
                self.compose(&app, &staged).await.map(Some)
            }
        };
        let outcome = outcome.and_then(|new| {
            move_into_place(&staged, &folder, file)?;
            Ok(new)
        });
        let _ = std::fs::remove_dir_all(&staging);
        match outcome? {
            Some(hosted) => {
                self.insert(hosted);
                tracing::info!(app = name, "deployed");
                Ok(false)
            }
            None => {
                tracing::info!(app = name, "replaced");
                Ok(true)
            }
        }
    }

    /// Stop serving app `name` (requests in flight finish) and delete its files from the
    /// apps dir; with `purge`, delete its data folder too.
    pub async fn remove(&self, name: &str, purge: bool) -> Result<(), ChangeError> {
        let _one_at_a_time = self.changing.lock().await;
        if self.serve.is_pinned(name) {
            return Err(ChangeError::Pinned(name.to_owned()));
        }
        let Some(hosted) = self.get(name) else {
            return Err(ChangeError::Unknown(name.to_owned()));
        };
        hosted.composed.state.served().stop_schedules();
        self.table.rcu(|table| {
            let mut table = BTreeMap::clone(table);
            table.remove(name);
            table
        });
        if let Some(metrics) = &self.metrics {
            metrics.forget(name);
        }
        remove_dir_if_present(&self.serve.app_folder(name))?;
        if purge {
            remove_dir_if_present(&self.serve.app_data_dir(name))?;
        }
        tracing::info!(app = name, purge, "removed");
        Ok(())
    }

    /// Every app with its usage.
    pub async fn list(&self) -> Vec<Usage> {
        let table = self.table.load_full();
        let mut usages = Vec::with_capacity(table.len());
        for hosted in table.values() {
            let data_dir = self.serve.app_data_dir(&hosted.name);
            let storage_bytes = tokio::task::spawn_blocking(move || files::bytes_under(&data_dir))
                .await
                .unwrap_or(0);
            let served = hosted.composed.state.served();
            let app = served.app();
            usages.push(Usage {
                name: hosted.name.clone(),
                kind: if crate::build::is_jac_app(
                    &self
                        .serve
                        .app_file(&hosted.name)
                        .unwrap_or_else(|| hosted.path.clone()),
                ) {
                    "jac"
                } else {
                    "wasm"
                },
                requests: hosted.requests.load(Ordering::Relaxed),
                instances_in_use: app.load().in_use(),
                calls_queued: app.load().queued(),
                storage_bytes,
                endpoints: app.manifest().endpoints.len(),
            });
        }
        usages
    }

    async fn compose(&self, app: &HostedApp, source: &Path) -> Result<Hosted, ChangeError> {
        let config = self.serve.app_config(app, &ProcessEnv)?;
        let composed = server::compose(
            &config,
            source,
            &self.runtime,
            &self.function_cache,
            Some(&app.name),
            self.metrics.clone(),
        )
        .await?;
        Ok(Hosted {
            name: app.name.clone(),
            composed,
            path: app.path.clone(),
            requests: AtomicU64::new(0),
        })
    }

    fn insert(&self, hosted: Hosted) {
        let hosted = Arc::new(hosted);
        self.table.rcu(|table| {
            let mut table = BTreeMap::clone(table);
            table.insert(hosted.name.clone(), hosted.clone());
            table
        });
    }
}

/// `app.wasm` for a WebAssembly binary, `app.jac` for UTF-8 text; anything else is refused.
fn upload_file_name(upload: &[u8]) -> Result<&'static str, ChangeError> {
    if upload.starts_with(WASM_MAGIC) {
        Ok(config::APP_FILES[0])
    } else if !upload.is_empty() && std::str::from_utf8(upload).is_ok() {
        Ok(config::APP_FILES[1])
    } else {
        Err(ChangeError::BadUpload(
            "the body must be a WebAssembly component or a Jac source (UTF-8 text)".into(),
        ))
    }
}

/// Move the loaded upload to `folder/file` and drop the app file of the other kind.
fn move_into_place(staged: &Path, folder: &Path, file: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(folder)?;
    std::fs::rename(staged, folder.join(file))?;
    for other in config::APP_FILES.iter().filter(|f| **f != file) {
        match std::fs::remove_file(folder.join(other)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn remove_dir_if_present(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
