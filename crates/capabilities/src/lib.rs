//! Host side of each WIT import: thin glue from the guest's calls to `graph` and the log.
//!
//! Invariant: nothing here decides a permission. Every graph call is handed to the
//! call's [`graph::Session`], which checks it against the caller.

pub mod bindings;
mod files;
mod globals;
mod graph;
mod host_calls;
mod kv;
pub mod limiter;
mod log;
pub(crate) mod output;
mod quotas;
mod stream;
mod timer;

use std::sync::Arc;

use wasmtime::component::{Linker, ResourceTable};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use ::files::{TenantFiles, UploadArea, Uploads};
use ::graph::Session;
use ::kv::TenantStores;
use config::Grants;
use limiter::CallLimiter;
use output::{GuestOutput, Stream};

pub use globals::{Globals, MAX_GLOBALS_BYTES};
pub use host_calls::{Capability, HostCalls};
pub use quotas::Spending;
pub use stream::{MAX_COLLECTED_BYTES, StreamReceiver, StreamSender, StreamSink};

/// Handles a guest may hold at once (WASI streams and the like).
const MAX_HANDLES: usize = 1_000;

/// What the host gives one app besides its graph; shared by all its calls.
#[derive(Debug, Clone)]
pub struct AppContext {
    /// The kvstores and storage paths the app may open.
    pub grants: Arc<Grants>,
    /// The app's kvstores.
    pub kvstore: Arc<TenantStores>,
    /// The app's file storage and upload area.
    pub storage: Arc<TenantFiles>,
    /// What the app may take of the host (`[plugins.scale.quotas]`); the runtime enforces them.
    pub quotas: Arc<config::Quotas>,
    /// What the app's calls spent of the quotas host calls spend.
    pub spending: Arc<Spending>,
}

/// An app's capability that could not be set up at load, with the app and capability named.
#[derive(Debug, thiserror::Error)]
#[error("app {app:?}: cannot set up its {capability}: {reason}")]
pub struct CapabilityError {
    /// The app (its tenant name).
    pub app: String,
    /// The capability (`kvstore`, `storage`).
    pub capability: &'static str,
    /// What failed.
    pub reason: String,
}

impl AppContext {
    /// Everything the app of `config` gets besides its graph, opened at load: its grants,
    /// its kvstores, its file storage and its quotas.
    pub fn open(config: &config::Config) -> Result<Self, CapabilityError> {
        let failed = |capability| {
            move |reason: String| CapabilityError {
                app: config.tenant.clone(),
                capability,
                reason,
            }
        };
        Ok(AppContext {
            grants: Arc::new(config.capabilities.clone()),
            kvstore: kv::open_for_app(config).map_err(failed("kvstore"))?,
            storage: files::open_for_app(config).map_err(failed("storage"))?,
            quotas: Arc::new(config.quotas.clone()),
            spending: Arc::new(Spending::new(&config.quotas)),
        })
    }

    /// Where the app's request uploads are kept.
    pub fn upload_area(&self) -> &UploadArea {
        self.storage.uploads()
    }
}

/// The data of one call's `Store`: every capability's per-call context.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory bound of this call.
    pub limiter: CallLimiter,
    /// The call's graph session; `None` while the app describes itself.
    session: Option<Session>,
    /// The app's `glob` values (Jac apps); `None` while building a Jac app.
    globals: Option<Arc<Globals>>,
    /// The app's grants and stores; `None` while building a Jac app (nothing granted).
    context: Option<AppContext>,
    /// Kvstore handles open in this call (bounded by `kvstore::MAX_OPEN_STORES`).
    open_kvstores: usize,
    /// The files the call's request uploaded (deleted with the call's store).
    uploads: Uploads,
    /// Where the values the call streams go (`jac:scale/streaming`).
    stream: StreamSink,
    app: Arc<str>,
    log_bytes: usize,
    /// Host calls made so far, by capability.
    host_calls: HostCalls,
    /// The per-app quota a host call of this call went past (the call then traps).
    quota_exceeded: Option<config::Quota>,
}

impl HostState {
    /// State for one call of `app` with its `glob` values, grants and stores, the
    /// files its request uploaded and where its streamed values go; `session` is `None`
    /// while the app describes itself.
    pub fn for_call(
        app: Arc<str>,
        memory_limit_bytes: usize,
        session: Option<Session>,
        globals: Arc<Globals>,
        context: AppContext,
        uploads: Uploads,
        stream: StreamSink,
    ) -> Self {
        Self::new(
            app,
            memory_limit_bytes,
            session,
            Some(globals),
            Some(context),
            uploads,
            stream,
        )
    }

    /// State of the one-off `load-program` run of `jac-scale build`: no graph, no
    /// globals, nothing granted.
    pub fn for_build(memory_limit_bytes: usize) -> Self {
        Self::new(
            "jac-build".into(),
            memory_limit_bytes,
            None,
            None,
            None,
            Uploads::default(),
            StreamSink::default(),
        )
    }

    /// Every field set at once. WASI is deny-by-default: no preopened dirs, no
    /// environment, no sockets; stdout/stderr go to the host log tagged with the app.
    fn new(
        app: Arc<str>,
        memory_limit_bytes: usize,
        session: Option<Session>,
        globals: Option<Arc<Globals>>,
        context: Option<AppContext>,
        uploads: Uploads,
        stream: StreamSink,
    ) -> Self {
        let wasi = WasiCtx::builder()
            .stdout(GuestOutput::new(app.clone(), Stream::Stdout))
            .stderr(GuestOutput::new(app.clone(), Stream::Stderr))
            .build();
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_HANDLES);
        HostState {
            wasi,
            table,
            limiter: CallLimiter::new(memory_limit_bytes),
            session,
            globals,
            context,
            open_kvstores: 0,
            uploads,
            stream,
            app,
            log_bytes: 0,
            host_calls: HostCalls::default(),
            quota_exceeded: None,
        }
    }

    /// The host calls this call made so far, by capability.
    pub fn host_calls(&self) -> HostCalls {
        self.host_calls
    }

    /// This state, after counting a host call of `capability` (the linker's getter of
    /// each import runs once per host call).
    fn counted(&mut self, capability: Capability) -> &mut Self {
        self.host_calls.count(capability);
        self
    }

    /// Whether this call's app may open the kvstore `name`.
    pub fn may_open_kvstore(&self, name: &str) -> bool {
        self.context
            .as_ref()
            .is_some_and(|c| c.grants.allows_kvstore(name))
    }

    /// Whether this call's app may open storage at `base_path`.
    pub fn may_open_storage(&self, base_path: &str) -> bool {
        self.context
            .as_ref()
            .is_some_and(|c| c.grants.allows_storage(base_path))
    }

    /// The values the call streamed while nothing could forward them (its reports then).
    pub fn take_streamed(&mut self) -> Vec<Box<serde_json::value::RawValue>> {
        self.stream.take_collected()
    }

    /// Hand the session back to the runtime after the call.
    pub fn take_session(&mut self) -> Option<Session> {
        self.session.take()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Add WASI (deny-by-default) and every `jac:scale` import to `linker`.
pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    graph::link(linker)?;
    log::link(linker)?;
    timer::link(linker)?;
    stream::link(linker)?;
    files::link(linker)?;
    kv::link(linker)?;
    globals::link(linker)?;
    Ok(())
}
