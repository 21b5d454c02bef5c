//! The host side of each WIT import, one module per capability.
//!
//! Each capability (`graph`, `kv`, `files`, `globals`, `log`, `timer`, `stream`, `wasi`)
//! owns, in its module: the use of its generated WIT binding, its per-app state (built
//! from config and grants at load: [`AppContext::open`]), its per-call state (a field of
//! [`HostState`]), its host functions (implemented on a view borrowed from that per-call
//! state, never on `HostState`) and its `add_to_linker`, which takes a projecting
//! function from any store data to that view. [`link`] adds each one with the projection
//! from `HostState` (which also counts the host call: [`HostCalls`]).
//!
//! Adding a capability: its module, its field in `HostState` (and in `AppContext` if it
//! has per-app state), one line in [`link`].
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
mod quotas;
mod stream;
mod timer;
mod wasi;

use std::sync::Arc;

use std::marker::PhantomData;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable, ResourceTableError};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use ::files::{UploadArea, Uploads};
use ::graph::Session;
use host_error::HostError;
use limiter::CallLimiter;

pub use globals::{Globals, MAX_GLOBALS_BYTES};
pub use host_calls::{Capability, HostCalls};
pub use quotas::QuotaExceeded;
pub use stream::{MAX_COLLECTED_BYTES, StreamReceiver, StreamSender, StreamSink};

/// Handles a guest may hold at once, of every capability together (WASI streams,
/// kvstores, buckets).
const MAX_HANDLES: usize = 1_000;

/// What the host functions of a capability with handles (kvstores, buckets) work on,
/// borrowed for one host call: the call's state of that capability and the resource
/// table its handles live in.
pub(crate) struct TableView<'a, C> {
    call: &'a mut C,
    table: &'a mut ResourceTable,
}

impl<'a, C> TableView<'a, C> {
    pub(crate) fn new(call: &'a mut C, table: &'a mut ResourceTable) -> Self {
        TableView { call, table }
    }

    /// A new handle for `value`; `quota-exceeded` when the call already holds
    /// [`MAX_HANDLES`] (any other table fault stops the call).
    pub(crate) fn push_handle<T: Send + 'static>(
        &mut self,
        value: T,
    ) -> wasmtime::Result<Result<Resource<T>, HostError>> {
        match self.table.push(value) {
            Ok(handle) => Ok(Ok(handle)),
            Err(ResourceTableError::Full) => Ok(Err(HostError::QuotaExceeded(format!(
                "a call holds at most {MAX_HANDLES} handles"
            )))),
            Err(e) => Err(e.into()),
        }
    }
}

/// Names [`TableView`] of `C` as the data of a generated `add_to_linker`.
pub(crate) struct HasTableView<C>(PhantomData<C>);

impl<C: 'static> HasData for HasTableView<C> {
    type Data<'a> = TableView<'a, C>;
}

/// What the host gives one app besides its graph, opened at load; shared by all its
/// calls (and kept across reloads of the app).
#[derive(Debug, Clone)]
pub struct AppContext {
    kv: kv::AppKv,
    files: files::AppFiles,
    /// What the app may take of the host (`[plugins.scale.quotas]`); the runtime enforces them.
    pub quotas: Arc<config::Quotas>,
    /// The guest's environment (`[plugins.scale.secrets]` and `[plugins.scale.env]`).
    pub environment: Arc<[(String, String)]>,
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
    /// Every capability's per-app state for the app of `config`, built from its settings
    /// and grants: its kvstores, its file storage; and its quotas.
    pub fn open(config: &config::Config) -> Result<Self, CapabilityError> {
        let failed = |capability| {
            move |reason: String| CapabilityError {
                app: config.tenant.clone(),
                capability,
                reason,
            }
        };
        let grants = Arc::new(config.capabilities.clone());
        Ok(AppContext {
            kv: kv::AppKv::open(config, grants.clone()).map_err(failed("kvstore"))?,
            files: files::AppFiles::open(config, grants).map_err(failed("storage"))?,
            quotas: Arc::new(config.quotas.clone()),
            environment: config.guest_env.vars().into(),
        })
    }

    /// Where the app's request uploads are kept.
    pub fn upload_area(&self) -> &UploadArea {
        self.files.upload_area()
    }
}

/// The data of one call's `Store`: one field per capability (its per-call state), the
/// resource table their handles share, the memory limiter and the host-call counts.
pub struct HostState {
    /// Memory bound of this call.
    pub limiter: CallLimiter,
    /// Host calls made so far, by capability.
    host_calls: HostCalls,
    table: ResourceTable,
    wasi: WasiCtx,
    graph: graph::CallGraph,
    kv: kv::CallKv,
    files: files::CallFiles,
    globals: globals::CallGlobals,
    log: log::CallLog,
    stream: StreamSink,
}

impl HostState {
    /// State for one call of `app`: its context (grants, stores, quotas), its `glob`
    /// values, the files its request uploaded and where its streamed values go;
    /// `session` is `None` while the app describes itself.
    pub fn for_call(
        app: Arc<str>,
        context: &AppContext,
        session: Option<Session>,
        globals: Arc<Globals>,
        uploads: Uploads,
        stream: StreamSink,
    ) -> Self {
        Self::new(
            app,
            context.quotas.memory_per_instance_bytes,
            Some(context),
            session,
            Some(globals),
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

    /// Every capability's per-call state at once (`context` is `None` when nothing is
    /// granted); the guest's environment is the app's declared one
    /// ([`AppContext::environment`]), nothing else of the host's.
    fn new(
        app: Arc<str>,
        memory_limit_bytes: usize,
        context: Option<&AppContext>,
        session: Option<Session>,
        globals: Option<Arc<Globals>>,
        uploads: Uploads,
        stream: StreamSink,
    ) -> Self {
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_HANDLES);
        HostState {
            limiter: CallLimiter::new(memory_limit_bytes),
            host_calls: HostCalls::default(),
            table,
            wasi: wasi::call_context(&app, context.map_or(&[][..], |c| &c.environment[..])),
            graph: graph::CallGraph::new(session),
            kv: kv::CallKv::new(context.map(|c| c.kv.clone())),
            files: files::CallFiles::new(context.map(|c| c.files.clone()), uploads),
            globals: globals::CallGlobals::new(globals),
            log: log::CallLog::new(app),
            stream,
        }
    }

    /// The host calls this call made so far, by capability.
    pub fn host_calls(&self) -> HostCalls {
        self.host_calls
    }

    /// This state, after counting a host call of `capability` (the projection of each
    /// import runs once per host call).
    fn counted(&mut self, capability: Capability) -> &mut Self {
        self.host_calls.count(capability);
        self
    }

    /// The values the call streamed while nothing could forward them (its reports then).
    pub fn take_streamed(&mut self) -> Vec<Box<serde_json::value::RawValue>> {
        self.stream.take_collected()
    }

    /// Hand the session back to the runtime after the call.
    pub fn take_session(&mut self) -> Option<Session> {
        self.graph.take_session()
    }

    /// Whether the call did something besides its graph changes that running it again
    /// would repeat: asked a kvstore or the file storage for a change, stored the app's
    /// globals, or forwarded a streamed value to the client.
    pub fn had_effects(&self) -> bool {
        self.kv.changed() || self.files.changed() || self.globals.stored() || self.stream.sent()
    }

    /// What another run of the same call needs of this one: the request's uploads and
    /// where streamed values go (nothing was sent, or the call is not run again).
    pub fn take_inputs(&mut self) -> (Uploads, StreamSink) {
        let stream = match std::mem::take(&mut self.stream) {
            forward @ StreamSink::Forward { .. } => forward,
            // Collected values are reports of this run only.
            StreamSink::Collect { .. } => StreamSink::default(),
        };
        (self.files.take_uploads(), stream)
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

/// Add WASI (deny-by-default) and every `jac:scale` import to `linker`, each with the
/// projection from `HostState` to its per-call view.
pub fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    graph::add_to_linker(linker, |s| &mut s.counted(Capability::Graph).graph)?;
    kv::add_to_linker(linker, |s| {
        let s = s.counted(Capability::Kvstore);
        TableView::new(&mut s.kv, &mut s.table)
    })?;
    files::add_to_linker(linker, |s| {
        let s = s.counted(Capability::Storage);
        TableView::new(&mut s.files, &mut s.table)
    })?;
    globals::add_to_linker(linker, |s| &mut s.counted(Capability::Globals).globals)?;
    log::add_to_linker(linker, |s| &mut s.counted(Capability::Log).log)?;
    timer::add_to_linker(linker, |s| s.host_calls.count(Capability::Timer))?;
    stream::add_to_linker(linker, |s| &mut s.stream)?;
    Ok(())
}
