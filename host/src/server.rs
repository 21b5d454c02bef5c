//! Start-up and shutdown: open the data store, load the app, bind, serve, reload, drain.
//!
//! [`compose`] puts one app together (stores, version, routes); `start` serves one,
//! `serve` one per app on a shared [`Runtime`].

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use auth::AuthService;
use auth::api_keys::ApiKeys;
use capabilities::AppContext;
use config::Config;
use graph::Graph;
use http::{self, HttpState, Served, WebSockets, Webhooks};
use metrics::{Metrics, Scope};
use realtime::Hub;
use runtime::Runtime;
use runtime::function_cache::FunctionCache;
use tokio::net::TcpListener;

/// Why the server could not start. Each renders as one line.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot use data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Store(String),
    #[error("cannot set up authentication: {0}")]
    Auth(String),
    #[error(transparent)]
    Capability(#[from] capabilities::CapabilityError),
    #[error("cannot start the wasm runtime: {0}")]
    Runtime(String),
    #[error(transparent)]
    Load(#[from] runtime::LoadError),
    #[error(transparent)]
    Build(#[from] crate::build::BuildError),
    #[error("{0}")]
    Routes(String),
    #[error("{0}")]
    Metrics(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// One app put together: its stores, its loaded version and its HTTP routes. `start`
/// serves one of these; `serve` one per app behind its dispatcher.
pub struct Composed {
    /// What the handlers share; `replace` swaps in a new version.
    pub state: HttpState,
    /// Every route of the app.
    pub router: axum::Router,
    /// How to load a new version of the app into `state`.
    pub versions: Versions,
}

/// What loading a version of an app takes: the shared runtime, the app's stores and grants.
#[derive(Clone)]
pub struct Versions {
    runtime: Arc<Runtime>,
    cache_dir: PathBuf,
    function_cache: Arc<FunctionCache>,
    graph: Graph,
    context: AppContext,
    /// The name `serve` gave the app; `None` = its file stem.
    name: Option<Arc<str>>,
}

impl Versions {
    /// Build (a `.jac`), compile and describe the app at `source`.
    async fn load(&self, source: &Path) -> Result<runtime::App, StartError> {
        let component =
            crate::build::component_for(source, &self.cache_dir, Some(&self.function_cache))
                .await?;
        let app = self
            .runtime
            .load(
                &component,
                &self.cache_dir,
                self.graph.clone(),
                self.context.clone(),
            )
            .await?;
        Ok(match &self.name {
            Some(name) => app.named(name),
            None => app,
        })
    }

    /// Load the app at `source` and swap it into `state`: in-flight calls finish on the
    /// version they started with, new calls get the new one. On error the old one stays.
    pub async fn replace(&self, state: &HttpState, source: &Path) -> Result<(), StartError> {
        let app = self.load(source).await?;
        let served = state
            .served()
            .next_version(app)
            .map_err(StartError::Routes)?;
        state.replace(served);
        Ok(())
    }
}

/// Open the stores of `config`'s app, load the app from `source` on `runtime` and build
/// its routes. `name` names the app in metrics and logs (else its file stem); `metrics`
/// (when enabled) measure its calls.
pub async fn compose(
    config: &Config,
    source: &Path,
    runtime: &Arc<Runtime>,
    function_cache: &Arc<FunctionCache>,
    name: Option<&str>,
    metrics: Option<Arc<Metrics>>,
) -> Result<Composed, StartError> {
    if !source.is_file() {
        return Err(StartError::Load(runtime::LoadError::Read {
            path: source.display().to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        }));
    }
    let data_dir = &config.data_dir;
    std::fs::create_dir_all(data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;

    let stores =
        graphdb::open(data_dir, &config.database).map_err(|e| StartError::Store(e.to_string()))?;
    let graph = Graph::new(stores.graph).map_err(|e| StartError::Store(e.to_string()))?;
    let auth = AuthService::new(stores.users, graph.clone(), config.jwt.clone(), data_dir)
        .map_err(|e| StartError::Auth(e.to_string()))?;
    let api_keys = ApiKeys::new(
        stores.api_keys,
        config.webhook.secret.as_deref(),
        data_dir,
        config.webhook.api_key_expiry_days,
    )
    .map_err(|e| StartError::Auth(e.to_string()))?;

    let cache_dir = data_dir.join("cache");
    // What a process killed while it built or compiled into the cache left (`jac/<digest>/`).
    files::partial::sweep(&cache_dir, 2);
    let versions = Versions {
        runtime: runtime.clone(),
        cache_dir,
        function_cache: function_cache.clone(),
        graph,
        context: AppContext::open(config)?,
        name: name.map(Arc::from),
    };
    let app = versions.load(source).await?;
    let system = auth
        .system_user()
        .map_err(|e| StartError::Auth(e.to_string()))?;
    let jobs_caller = graph::Caller {
        root: system.root,
        user: Some(system.user_id),
    };
    let served = Served::new(app, metrics.as_ref(), config.debug, jobs_caller)
        .map_err(StartError::Routes)?;
    // The app's connections are its websocket_connections quota (at most the setting).
    let websocket = config::WebSocketSettings {
        max_connections: config.quotas.websocket_connections,
        ..config.websocket.clone()
    };
    let hub = Hub::new(served.app().name(), websocket).await;
    let sso = sso::Sso::new(&config.sso)
        .map_err(|e| StartError::Auth(e.to_string()))?
        .map(Arc::new);
    for platform in config.sso.platforms.iter() {
        tracing::info!(
            "single sign-on: {} through {} (callback {})",
            platform.platform,
            platform.issuer,
            config.sso.callback_url(&platform.platform)
        );
    }
    // A host-wide registry is scraped by the host, not under the app.
    let scrape_endpoint = metrics
        .as_ref()
        .filter(|m| m.scope() == Scope::OneApp)
        .map(|m| m.endpoint().to_owned());
    let state = HttpState::new(
        served,
        http::Accounts {
            auth: Arc::new(auth),
            sso,
        },
        config.limits.body_limit_bytes,
        Webhooks::new(api_keys, config.webhook.clone()),
        WebSockets {
            hub,
            max_message_bytes: config.websocket.max_message_bytes,
        },
        http::Monitoring {
            metrics,
            readiness: crate::readiness::of(config),
        },
        &config.client_limits,
    );
    let docs = config.docs_enabled.then(|| {
        http::Docs::new(http::openapi::DocumentOptions {
            title: config.tenant.clone(),
            signature_header: config.webhook.signature_header.clone(),
            metrics_endpoint: scrape_endpoint,
            sso_platforms: config
                .sso
                .platforms
                .iter()
                .map(|p| p.platform.clone())
                .collect(),
        })
    });
    let router = http::router(state.clone(), docs);
    Ok(Composed {
        state,
        router,
        versions,
    })
}

/// The runtime every app of this process shares, with the machine's function cache.
pub fn shared_runtime(config: &Config) -> Result<(Arc<Runtime>, Arc<FunctionCache>), StartError> {
    let function_cache = FunctionCache::new(&config.compile_cache_dir);
    let runtime = Runtime::new(config.limits.clone(), Some(&function_cache))
        .map_err(|e| StartError::Runtime(e.to_string()))?;
    Ok((Arc::new(runtime), function_cache))
}

/// The metrics of `settings` for `scope`, when enabled.
pub fn metrics_of(
    settings: &config::MetricsSettings,
    scope: Scope,
) -> Result<Option<Arc<Metrics>>, StartError> {
    if !settings.enabled {
        return Ok(None);
    }
    let metrics = Metrics::new(settings, scope).map_err(|e| StartError::Metrics(e.to_string()))?;
    tracing::info!(
        "metrics: {} (namespace {})",
        settings.endpoint,
        settings.namespace
    );
    Ok(Some(Arc::new(metrics)))
}

/// Bind `addr`; the error names the address.
pub async fn bind(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok((listener, local))
}

/// Serve the app of `config` until SIGTERM or Ctrl-C, then drain in-flight calls.
pub async fn serve(config: Config) -> Result<(), StartError> {
    let (runtime, function_cache) = shared_runtime(&config)?;
    let metrics = metrics_of(&config.metrics, Scope::OneApp)?;
    let composed = compose(
        &config,
        &config.app_path,
        &runtime,
        &function_cache,
        None,
        metrics,
    )
    .await?;
    let (listener, local) = bind(SocketAddr::new(config.host, config.port)).await?;
    let jobs = composed.state.clone();
    if config.reload {
        watch_for_reload(config.app_path.clone(), composed.versions, composed.state);
    }
    // The one line tools and tests read to find the port: everything is ready by now,
    // the `--reload` watcher included.
    println!("jac-scale listening on http://{local}");
    // The same on the log, after every line written while starting (tools that read both
    // streams wait for it to know the start-up log is complete).
    tracing::info!(address = %local, "accepting connections");

    let stop = async move {
        shutdown_signal().await;
        // No scheduled run starts while in-flight calls drain; one in progress is cancelled.
        jobs.served().stop_schedules();
    };
    http::serve(listener, composed.router, &config.client_limits, stop).await;
    tracing::info!("drained; bye");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down: finishing in-flight calls");
}

/// Reload the component whenever its file changes; in-flight calls finish on the old one.
fn watch_for_reload(path: PathBuf, versions: Versions, state: HttpState) {
    use notify::{RecursiveMode, Watcher};

    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let file = path.file_name().map(|f| f.to_os_string());
    // A Jac app is its `.jac` files anywhere under the app folder; a component is one file.
    let is_jac = crate::build::is_jac_app(&path);
    let relevant = move |p: &Path| {
        if is_jac {
            p.extension().is_some_and(|e| e == "jac")
        } else {
            p.file_name().map(|f| f.to_os_string()) == file
        }
    };
    let mut watcher =
        match notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Reading a file is an event too (inotify reports opens): only changes count,
            // or the rebuild's own reads of the sources would trigger the next rebuild.
            if let Ok(event) = event
                && !event.kind.is_access()
                && event.paths.iter().any(|p| relevant(p))
            {
                let _ = tx.send(());
            }
        }) {
            Ok(w) => w,
            Err(e) => {
                tracing::error!("--reload disabled: cannot watch files: {e}");
                return;
            }
        };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let mode = if is_jac {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    if let Err(e) = watcher.watch(&dir, mode) {
        tracing::error!("--reload disabled: cannot watch {}: {e}", dir.display());
        return;
    }
    tokio::spawn(async move {
        let _watcher = watcher;
        while rx.recv().await.is_some() {
            // Let the writer finish: wait for the events to settle.
            tokio::time::sleep(Duration::from_millis(200)).await;
            while rx.try_recv().is_ok() {}
            match versions.replace(&state, &path).await {
                Ok(()) => tracing::info!(app = %path.display(), "reloaded"),
                Err(e) => tracing::error!("reload failed, still serving the previous version: {e}"),
            }
        }
    });
}
