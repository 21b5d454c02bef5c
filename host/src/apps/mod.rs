//! `jac-scale serve`: many apps in one process.
//!
//! One [`runtime::Runtime`] (engines, instance pool, epoch ticker, compiled code) serves
//! every app; each app is what `start` would build for it alone ([`crate::server::compose`]:
//! its own data dir `<data>/apps/<name>/` with its users, graph, API keys, kvstore,
//! files and generated secrets; its own globals, WebSocket hub and metric labels), kept in the
//! [`registry`]. The public listener routes by Host or path prefix ([`dispatch`]); the
//! admin listener deploys, replaces, removes and lists apps ([`admin`]) and serves the
//! one Prometheus scrape of every app (labelled by app); [`client`] is the
//! `jac-scale apps` command that calls it.

pub mod admin;
pub mod client;
pub mod dispatch;
pub mod registry;

use std::sync::Arc;

use config::ServeConfig;
use registry::Registry;

use crate::server::{self, StartError};

/// Serve every app of `serve` and the admin API until SIGTERM or Ctrl-C, then drain.
/// An app that fails to load is logged and left out; the others serve.
pub async fn serve(serve: ServeConfig) -> Result<(), StartError> {
    let data_dir = serve.base.data_dir.clone();
    std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.clone(),
        source,
    })?;
    let token: Arc<str> = auth::admin_token(serve.admin_token.as_deref(), &data_dir)
        .map_err(|e| StartError::Auth(e.to_string()))?
        .into();
    let apps = serve
        .apps()
        .map_err(|e| StartError::Routes(e.to_string()))?;
    let (runtime, function_cache) = server::shared_runtime(&serve.base)?;
    let public_addr = std::net::SocketAddr::new(serve.base.host, serve.base.port);
    let admin_addr = serve.admin;
    // One registry for every app, scraped on the admin listener: app names and their
    // load are the operator's business, not the other tenants'.
    if serve.base.metrics.enabled && serve.base.metrics.endpoint == "/apps" {
        return Err(StartError::Metrics(
            "the metrics endpoint cannot be /apps: the admin API lists the apps there".into(),
        ));
    }
    let metrics = server::metrics_of(&serve.base.metrics, metrics::Scope::Host)?;
    let registry = Arc::new(Registry::new(serve, runtime, function_cache, metrics));
    for app in &apps {
        match registry.add(app).await {
            Ok(()) => tracing::info!(app = %app.name, path = %app.path.display(), "serving"),
            Err(e) => tracing::error!(app = %app.name, "not served: {e}"),
        }
    }
    let (public, public_local) = server::bind(public_addr).await?;
    let (admin, admin_local) = server::bind(admin_addr).await?;
    if registry.settings().admin_token.is_none() {
        println!(
            "jac-scale admin token in {}",
            data_dir.join(config::ADMIN_TOKEN_FILE).display()
        );
    }
    println!("jac-scale admin on http://{admin_local}");
    // The line tools and tests read to find the port, printed when everything is ready.
    println!("jac-scale listening on http://{public_local}");
    tracing::info!(address = %public_local, admin = %admin_local, apps = apps.len(), "accepting connections");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let limits = &registry.settings().base.client_limits;
    let admin_server = http::serve(
        admin,
        admin::router(registry.clone(), token),
        limits,
        stopped(stop_rx.clone()),
    );
    let public_server = http::serve(
        public,
        dispatch::router(registry.clone()),
        limits,
        stopped(stop_rx),
    );
    let signal = async {
        server::shutdown_signal().await;
        registry.stop_schedules();
        let _ = stop_tx.send(true);
    };
    tokio::join!(signal, public_server, admin_server);
    tracing::info!("drained; bye");
    Ok(())
}
