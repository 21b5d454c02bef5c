//! wasmtime engine, compile cache, pre-instantiated apps, pooling, CPU and memory limits.
//!
//! One [`Runtime`] per process (an optimising and a baseline engine with their linkers,
//! one epoch ticker). Each app is compiled once ([`compiled`]; a big one first by the baseline
//! compiler, see [`tiering`]), type-checked against our world once (`AppPre`), and every
//! call gets a fresh `Store` and instance from the pooling allocator.
//!
//! Invariant: a call's graph changes are committed here and only here, after the guest
//! returned `ok`; on any error, trap, timeout or memory blow-up the session is dropped
//! and nothing of the call persists.

pub mod compiled;
pub mod function_cache;
pub mod manifest;
pub mod observe;
pub mod quotas;
mod retry;
pub mod schedule;
pub mod scheduling;
mod shared_code;
pub mod tiering;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::Semaphore;
use wasmtime::component::{Component, Linker};
use wasmtime::{
    Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, UpdateDeadline,
};

use capabilities::bindings::{AppPre, endpoints as wit};
use capabilities::{AppContext, Globals, HostState, StreamSink};
pub use capabilities::{StreamReceiver, StreamSender};
use config::Limits;
use function_cache::{Compiler, FunctionCache};
use host_error::HostError;
pub use manifest::{Access, Endpoint, Field, Kind, Manifest, Protocol};
use observe::{CallObserver, CallStats, Load, TrapKind};
pub use quotas::Quota;
use quotas::{Admission, Admitted};
use scheduling::GuestPool;
use shared_code::SharedCode;
use tiering::{Code, Tier};

/// One epoch tick: a running call yields its guest thread on every tick (so a waiting
/// call waits about this long at most), and its CPU quota is counted in ticks.
const TICK: Duration = Duration::from_millis(1);
/// Largest result + reports a call may return, in bytes of JSON.
pub const MAX_OUTCOME_BYTES: usize = 16 << 20;
/// Bytes one host call may copy between guest and host (strings, field JSON, a page of
/// neighbours), and the call's outcome as it leaves the guest: room for the largest
/// outcome (and the record around it), so a larger one is answered by its bound, 413.
const HOSTCALL_FUEL: usize = MAX_OUTCOME_BYTES + (1 << 20);
/// Slot decommits batched into one madvise pass (fewer TLB shootdowns).
const DECOMMIT_BATCH: usize = 8;
/// Instances kept in the pool beyond the concurrency bound (for `describe` and reloads).
const POOL_HEADROOM: u32 = 8;

/// The process-wide wasm runtime.
pub struct Runtime {
    /// Cranelift: the code every app runs in the end.
    optimizing: EngineLinker,
    /// Winch: the first code of a big app whose optimised code is not cached yet.
    baseline: EngineLinker,
    limits: Limits,
    permits: Arc<Semaphore>,
    /// The threads guest calls run on, apart from the HTTP workers.
    pool: Arc<GuestPool>,
    /// The code of the components loaded, shared by apps of the same bytes.
    shared: Arc<SharedCode>,
}

/// One engine and the linker of every capability for it.
#[derive(Clone)]
pub(crate) struct EngineLinker {
    engine: Engine,
    linker: Linker<HostState>,
}

impl EngineLinker {
    fn new(engine: Engine) -> wasmtime::Result<Self> {
        let mut linker = Linker::new(&engine);
        capabilities::link(&mut linker)?;
        Ok(EngineLinker { engine, linker })
    }

    fn pre(&self, component: &Component) -> wasmtime::Result<AppPre<HostState>> {
        self.linker.instantiate_pre(component).and_then(AppPre::new)
    }
}

/// Why an app could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a WebAssembly component: {reason}")]
    NotAComponent { path: String, reason: String },
    #[error("{path} does not implement the jac:scale/app world: {reason}")]
    WrongWorld { path: String, reason: String },
    #[error("{path}: describe() failed: {reason}")]
    Describe { path: String, reason: String },
    #[error("{path}: {source}")]
    Manifest {
        path: String,
        source: manifest::ManifestError,
    },
}

/// One walker or function call, as the HTTP layer hands it over.
#[derive(Debug)]
pub struct Call {
    /// Endpoint name.
    pub name: String,
    /// The validated arguments (a JSON object).
    pub args: serde_json::Map<String, serde_json::Value>,
    /// Spawn location; `None` = the caller's root.
    pub target: Option<graph::Id>,
    /// The files the request uploaded; deleted when the call ends.
    pub uploads: files::Uploads,
}

/// What a successful call produced.
#[derive(Debug)]
pub struct Outcome {
    /// Walker fields after the run, or a function's return value.
    pub result: Box<RawValue>,
    /// Each reported value, in order.
    pub reports: Vec<Box<RawValue>>,
    /// Writes the graph refused (not applied).
    pub warnings: Vec<String>,
}

/// Why a call failed. The HTTP layer picks status and public message.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("no endpoint named `{0}`")]
    UnknownEndpoint(String),
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    #[error("{kind}: {message}")]
    Raised {
        kind: String,
        message: String,
        trace: Vec<String>,
    },
    #[error(transparent)]
    Graph(#[from] HostError),
    #[error("the call exceeded its time limit of {0:?}")]
    Timeout(Duration),
    #[error("the call used its CPU time quota of {0:?} (cpu_time_per_call_ms)")]
    CpuTimeExceeded(Duration),
    #[error("the call exceeded its memory limit of {0} MiB (memory_per_instance_mib)")]
    MemoryExceeded(usize),
    #[error("the app trapped: {0}")]
    Trap(String),
    #[error("the app returned more than {MAX_OUTCOME_BYTES} bytes")]
    OutcomeTooLarge,
    #[error("the app returned invalid JSON: {0}")]
    BadOutcome(String),
    #[error("the server is at capacity")]
    Overloaded,
    #[error("the app's {} quota is used up", .0.as_str())]
    QuotaExceeded(Quota),
}

impl CallError {
    /// The per-app quota this error is about, if any.
    pub fn quota(&self) -> Option<Quota> {
        match self {
            CallError::QuotaExceeded(quota) => Some(*quota),
            CallError::CpuTimeExceeded(_) => Some(Quota::CpuTimePerCall),
            CallError::MemoryExceeded(_) => Some(Quota::MemoryPerInstance),
            _ => None,
        }
    }
}

impl Runtime {
    /// Build the engines (pooling allocator, epochs) and their linkers with every
    /// capability. With a `function_cache`, Cranelift reuses the functions compiled before
    /// (see [`function_cache`]).
    pub fn new(
        limits: Limits,
        function_cache: Option<&Arc<FunctionCache>>,
    ) -> wasmtime::Result<Self> {
        let optimizing = EngineLinker::new(make_engine(&limits, function_cache)?)?;
        // Baseline code serves for seconds at most: instances on demand, no second pool.
        let baseline = EngineLinker::new(Engine::new(&function_cache::codegen_config(
            Compiler::Baseline,
            None,
        )?)?)?;
        let engines = [optimizing.engine.weak(), baseline.engine.weak()];
        std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                loop {
                    let mut alive = false;
                    for engine in engines.iter().filter_map(|weak| weak.upgrade()) {
                        engine.increment_epoch();
                        alive = true;
                    }
                    if !alive {
                        break;
                    }
                    std::thread::sleep(TICK);
                }
            })?;
        let permits = Arc::new(Semaphore::new(limits.max_concurrency));
        let pool = Arc::new(GuestPool::new(limits.guest_threads)?);
        Ok(Runtime {
            optimizing,
            baseline,
            limits,
            permits,
            pool,
            shared: Arc::default(),
        })
    }

    /// Load the component at `path`: compile (or reuse the cache in `cache_dir`),
    /// check it implements our world, and read its manifest. `context` holds the app's
    /// grants and stores.
    pub async fn load(
        &self,
        path: &Path,
        cache_dir: &Path,
        graph: graph::Graph,
        context: AppContext,
    ) -> Result<App, LoadError> {
        let shown = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: shown.clone(),
            source,
        })?;
        let name: Arc<str> = path
            .file_stem()
            .map(|s| s.to_string_lossy().into())
            .unwrap_or_else(|| "app".into());
        let digest = compiled::digest(&bytes);
        // The first app of these bytes compiles them (and moves them to optimised code).
        let (code, first_tier) = match self.shared.get(&digest) {
            Some(code) => (code, None),
            None => {
                let (pre, tier) = self.compiled(&name, &shown, cache_dir, &digest, &bytes)?;
                let code = Code::new(pre, tier);
                self.shared.keep(&digest, &code);
                (code, Some(tier))
            }
        };
        let app = App {
            calls: Calls {
                name,
                code,
                limits: self.limits.clone(),
                permits: self.permits.clone(),
                pool: self.pool.clone(),
                admission: Admission::new(context.quotas.clone()),
                globals: Arc::default(),
                context,
                load: Arc::default(),
                observer: None,
            },
            graph,
            manifest: Manifest::default(),
        };
        let raw = app.describe().await.map_err(|e| LoadError::Describe {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        let manifest = Manifest::from_wit(raw).map_err(|source| LoadError::Manifest {
            path: shown,
            source,
        })?;
        let app = App { manifest, ..app };
        if first_tier == Some(Tier::Baseline) {
            tiering::tier_up(
                app.calls.code.clone(),
                self.optimizing.clone(),
                bytes,
                digest,
                cache_dir.to_path_buf(),
                app.calls.name.clone(),
            );
        }
        Ok(app)
    }

    /// The code of the component `bytes` (`digest`, from `shown`): cached optimised code,
    /// baseline code while a big one compiles, or freshly compiled optimised code (kept
    /// in `cache_dir`).
    fn compiled(
        &self,
        name: &str,
        shown: &str,
        cache_dir: &Path,
        digest: &str,
        bytes: &[u8],
    ) -> Result<(AppPre<HostState>, Tier), LoadError> {
        let started = std::time::Instant::now();
        let not_a_component = |e: wasmtime::Error| LoadError::NotAComponent {
            path: shown.to_owned(),
            reason: one_line(&e),
        };
        let (backend, component, tier) =
            match compiled::cached(&self.optimizing.engine, cache_dir, digest) {
                Some(component) => (&self.optimizing, component, Tier::Optimized),
                None if bytes.len() >= tiering::BASELINE_MIN_BYTES => {
                    // Kept too: a restart before the optimised code was ready loads it.
                    let (component, _) = compiled::cached_or_compiled(
                        &self.baseline.engine,
                        cache_dir,
                        digest,
                        bytes,
                    )
                    .map_err(not_a_component)?;
                    (&self.baseline, component, Tier::Baseline)
                }
                None => {
                    let component = compiled::compile_and_keep(
                        &self.optimizing.engine,
                        cache_dir,
                        digest,
                        bytes,
                    )
                    .map_err(not_a_component)?;
                    (&self.optimizing, component, Tier::Optimized)
                }
            };
        tracing::info!(app = %name, ?tier, elapsed = ?started.elapsed(), "component ready");
        let pre = backend.pre(&component).map_err(|e| LoadError::WrongWorld {
            path: shown.to_owned(),
            reason: one_line(&e),
        })?;
        Ok((pre, tier))
    }
}

fn make_engine(
    limits: &Limits,
    function_cache: Option<&Arc<FunctionCache>>,
) -> wasmtime::Result<Engine> {
    let mut cfg = function_cache::codegen_config(Compiler::Optimizing, function_cache)?;
    cfg.memory_init_cow(true);
    let instances = u32::try_from(limits.max_concurrency)
        .unwrap_or(u32::MAX)
        .saturating_add(POOL_HEADROOM);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        .total_core_instances(instances.saturating_mul(4))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(4))
        .total_stacks(instances)
        .max_memory_size(limits.memory_limit_bytes)
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(64 << 10)
        // Reset only the pages a call dirtied (Linux >= 6.7), not the whole resident MiB.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .decommit_batch_size(DECOMMIT_BATCH);
    cfg.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    match Engine::new(&cfg) {
        Ok(engine) => Ok(engine),
        Err(e) => {
            // Pooling reserves virtual memory up front; some environments cap it.
            tracing::warn!(
                "pooling allocator unavailable ({e}); falling back to on-demand instances"
            );
            cfg.allocation_strategy(InstanceAllocationStrategy::OnDemand);
            Engine::new(&cfg)
        }
    }
}

/// A loaded app: its pre-instantiated component and its manifest.
pub struct App {
    /// What a call needs, moved onto the guest threads with it.
    calls: Calls,
    graph: graph::Graph,
    manifest: Manifest,
}

/// Everything one call of an app needs, cheap to clone (counted references).
#[derive(Clone)]
struct Calls {
    name: Arc<str>,
    /// Compiled code; baseline code is replaced by optimised code while the app serves.
    code: Arc<Code>,
    limits: Limits,
    /// The process-wide instance pool's permits.
    permits: Arc<Semaphore>,
    pool: Arc<GuestPool>,
    /// The app's quotas and what it uses of them.
    admission: Arc<Admission>,
    /// `glob` values of a Jac app, kept between its calls (`jac:scale/globals`).
    globals: Arc<Globals>,
    /// Grants, stores and quotas of the app.
    context: AppContext,
    /// Calls of this app waiting for and running in an instance.
    load: Arc<Load>,
    /// Told what each call cost (the metrics), if anyone watches.
    observer: Option<Arc<dyn CallObserver>>,
}

impl App {
    /// The same app, telling `observer` what each call cost.
    pub fn observed_by(mut self, observer: Arc<dyn CallObserver>) -> Self {
        self.calls.observer = Some(observer);
        self
    }

    /// The same app under another name (`serve` names each app; its metrics and logs
    /// carry the name).
    pub fn named(mut self, name: &str) -> Self {
        self.calls.name = name.into();
        self
    }

    /// Calls waiting for and running in an instance now.
    pub fn load(&self) -> &Load {
        &self.calls.load
    }

    /// The app's name (its file stem, or the name `serve` gave it), used to tag logs.
    pub fn name(&self) -> &str {
        &self.calls.name
    }

    /// Every endpoint the app declared.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The app's grants, stores and quotas.
    pub fn context(&self) -> &AppContext {
        &self.calls.context
    }

    /// The app's graph (for sessions and access checks).
    pub fn graph(&self) -> &graph::Graph {
        &self.graph
    }

    /// Waits until the app runs the code it will keep (see [`tiering`]); returns its tier.
    pub async fn settled(&self) -> Tier {
        self.calls.code.settled().await
    }

    async fn describe(&self) -> Result<wit::Manifest, CallError> {
        let calls = &self.calls;
        let pre = calls.code.current();
        let mut store = calls.store(
            pre.engine(),
            None,
            files::Uploads::default(),
            StreamSink::default(),
        );
        let limit = calls.limits.call_timeout;
        let run = async {
            let instance = pre.instantiate_async(&mut store).await?;
            instance
                .jac_scale_endpoints()
                .call_describe(&mut store)
                .await
        };
        match tokio::time::timeout(limit, run).await {
            Ok(Ok(m)) => Ok(m),
            Ok(Err(e)) => Err(trap_error(
                &store,
                e,
                calls.context.quotas.cpu_time_per_call,
            )),
            Err(_) => Err(CallError::Timeout(limit)),
        }
    }

    /// The one call entry of every transport (HTTP, WebSocket, webhook): `caller` runs
    /// `call` at its target (resolved through the graph, which decides whether the caller
    /// may spawn there) in a fresh instance on the guest threads, within the app's quotas;
    /// the call's graph changes are committed when the guest returns `ok` and dropped
    /// otherwise. Values the guest streams (a generator's yields) become the outcome's
    /// reports.
    pub async fn invoke(&self, caller: graph::Caller, call: Call) -> Result<Outcome, CallError> {
        self.admit_and_run(caller, call, StreamSink::default())
            .await
    }

    /// [`App::invoke`] for a client that takes a stream: the values the guest streams go
    /// to `stream` while the call runs (the outcome then has no reports of them). Dropping
    /// the returned future cancels the call: the guest stops at its next yield point and
    /// nothing of it is committed.
    pub async fn invoke_streaming(
        &self,
        caller: graph::Caller,
        call: Call,
        stream: StreamSender,
    ) -> Result<Outcome, CallError> {
        self.admit_and_run(caller, call, StreamSink::forward(stream))
            .await
    }

    async fn admit_and_run(
        &self,
        caller: graph::Caller,
        call: Call,
        stream: StreamSink,
    ) -> Result<Outcome, CallError> {
        let result = match self.calls.admission.admit() {
            Err(quota) => Err(CallError::QuotaExceeded(quota)),
            Ok(admitted) => match self.graph.spawn_session(caller.clone(), call.target) {
                Err(e) => Err(e.into()),
                Ok(session) => {
                    let calls = self.calls.clone();
                    let spawn = Spawn {
                        graph: self.graph.clone(),
                        caller,
                        target: call.target,
                    };
                    let run =
                        async move { calls.run(call, session, spawn, stream, admitted).await };
                    self.calls.pool.run(run).await
                }
            },
        };
        if let (Some(observer), Some(quota)) = (
            &self.calls.observer,
            result.as_ref().err().and_then(CallError::quota),
        ) {
            observer.quota_exceeded(quota);
        }
        result
    }
}

impl Calls {
    /// A fresh store for one call (`session` is `None` while the app describes itself),
    /// bounded by the app's CPU and memory quotas; it yields its thread on every tick.
    fn store(
        &self,
        engine: &Engine,
        session: Option<graph::Session>,
        uploads: files::Uploads,
        stream: StreamSink,
    ) -> Store<HostState> {
        let quotas = &self.context.quotas;
        let state = HostState::for_call(
            self.name.clone(),
            &self.context,
            session,
            self.globals.clone(),
            uploads,
            stream,
        );
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limiter);
        store.set_hostcall_fuel(HOSTCALL_FUEL);
        let budget = (quotas.cpu_time_per_call.as_micros() / TICK.as_micros()).max(1) as u64;
        let mut ticks = 0u64;
        store.epoch_deadline_callback(move |_| {
            ticks += 1;
            if ticks > budget {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store.set_epoch_deadline(1);
        store
    }

    /// Run one admitted call in a fresh instance (on a guest thread); commit the
    /// session's changes on success. A call whose commit conflicted runs again while it
    /// may (see [`retry`]), each run in its own instance, all within its time limit.
    async fn run(
        self,
        call: Call,
        session: graph::Session,
        spawn: Spawn,
        stream: StreamSink,
        _admitted: Admitted,
    ) -> Result<Outcome, CallError> {
        let waiting = self.load.waiting();
        // Waiting for one of the app's instances is its quota; for the pool, the host's.
        let deadline = tokio::time::Instant::now() + self.limits.queue_timeout;
        let _app_instance = tokio::time::timeout_at(deadline, self.admission.instance())
            .await
            .map_err(|_| CallError::QuotaExceeded(Quota::Instances))?;
        let _permit = tokio::time::timeout_at(deadline, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| CallError::Overloaded)?
            .map_err(|_| CallError::Overloaded)?;
        drop(waiting);
        let _running = self.load.running();
        let wit_call = wit::Call {
            name: call.name,
            args: serde_json::Value::Object(call.args).to_string(),
            target: call.target.map(|t| t.to_string()),
        };
        let deadline = tokio::time::Instant::now() + self.limits.call_timeout;
        let mut backoff = retry::Backoff::new(deadline);
        let (mut session, mut inputs) = (session, (call.uploads, stream));
        loop {
            // Each run got an instance and is observed as a call of its own.
            let mut stats = CallStats::default();
            let ran = self
                .run_instance(&wit_call, session, inputs, deadline, &mut stats)
                .await;
            if let Some(observer) = &self.observer {
                if let Ran::Answered(Err(error)) = &ran {
                    stats.trap = TrapKind::of(error);
                }
                observer.call_finished(&stats);
            }
            let (conflict, again) = match ran {
                Ran::Answered(result) => return result,
                Ran::Conflicted {
                    conflict,
                    again: None,
                } => return Err(conflict),
                Ran::Conflicted {
                    conflict,
                    again: Some(again),
                } => (conflict, again),
            };
            if !backoff.wait().await {
                tracing::info!(
                    app = %self.name, endpoint = %wit_call.name, runs = backoff.runs,
                    "the call's commit still conflicts at its time limit: {conflict}"
                );
                return Err(conflict);
            }
            session = spawn.again()?;
            inputs = again;
        }
    }

    /// One run of the call in a fresh instance, its cost written to `stats`: its answer,
    /// or the conflict of its commit with what it needs to run again (`None` when it had
    /// effects a second run would repeat).
    async fn run_instance(
        &self,
        wit_call: &wit::Call,
        session: graph::Session,
        (uploads, stream): (files::Uploads, StreamSink),
        deadline: tokio::time::Instant,
        stats: &mut CallStats,
    ) -> Ran {
        let pre = self.code.current();
        let mut store = self.store(pre.engine(), Some(session), uploads, stream);
        let outcome = match self
            .run_guest(&pre, &mut store, wit_call, deadline, stats)
            .await
        {
            Ok(outcome) => outcome,
            Err(error) => return Ran::Answered(Err(error)),
        };
        let session = store
            .data_mut()
            .take_session()
            .expect("the session is only taken here");
        let warnings = session.warnings().to_vec();
        // A short SQLite transaction (WAL, synchronous=NORMAL): done inline, as a thread
        // hand-off costs more than the write.
        match session.commit() {
            Ok(()) => Ran::Answered(Ok(Outcome {
                warnings,
                ..outcome
            })),
            Err(HostError::Conflict(message)) => {
                let state = store.data_mut();
                let again = (!state.had_effects()).then(|| state.take_inputs());
                Ran::Conflicted {
                    conflict: CallError::Graph(HostError::Conflict(message)),
                    again,
                }
            }
            Err(error) => Ran::Answered(Err(error.into())),
        }
    }

    /// The guest's run of the call in `store` until `deadline`: its outcome, not
    /// committed yet.
    async fn run_guest(
        &self,
        pre: &AppPre<HostState>,
        store: &mut Store<HostState>,
        wit_call: &wit::Call,
        deadline: tokio::time::Instant,
        stats: &mut CallStats,
    ) -> Result<Outcome, CallError> {
        let (instantiation, cpu) = (&mut stats.instantiation, &mut stats.cpu);
        let run = async {
            let started = std::time::Instant::now();
            let instance = pre.instantiate_async(&mut *store).await?;
            *instantiation = started.elapsed();
            let endpoints = instance.jac_scale_endpoints();
            endpoints.call_run(&mut *store, wit_call).await
        };
        let gate = self.pool.gate();
        let on_cpu = scheduling::on_cpu(gate, &self.admission.cpu, run, cpu);
        let returned = tokio::time::timeout_at(deadline, on_cpu).await;
        stats.peak_memory_bytes = store.data().limiter.peak_memory_bytes;
        stats.host_calls = store.data().host_calls();
        let returned = match returned {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let cpu_quota = self.context.quotas.cpu_time_per_call;
                return Err(trap_error(store, e, cpu_quota));
            }
            Err(_) => return Err(CallError::Timeout(self.limits.call_timeout)),
        };
        let outcome = match returned {
            Ok(o) => o,
            Err(e) => {
                let error = call_error(e);
                if let CallError::Raised {
                    kind,
                    message,
                    trace,
                } = &error
                {
                    // Always logged; the answer carries it only in debug mode (http/error.rs).
                    tracing::warn!(
                        app = %self.name, endpoint = %wit_call.name, exception = %kind,
                        trace = %trace.join(" | "), "the call raised: {message}"
                    );
                }
                return Err(error);
            }
        };
        let mut outcome = check_outcome(outcome)?;
        // A reported generator is the answer (as in the original): its values replace
        // the other reports when nothing forwarded them.
        let streamed = store.data_mut().take_streamed();
        if !streamed.is_empty() {
            outcome.reports = streamed;
        }
        Ok(outcome)
    }
}

/// How one run of a call ended.
enum Ran {
    /// Its answer: the commit applied, or the run failed before it.
    Answered(Result<Outcome, CallError>),
    /// Its commit conflicted; `again` holds what another run needs (`None`: the run had
    /// effects beyond its graph changes, so it is not run again).
    Conflicted {
        conflict: CallError,
        again: Option<(files::Uploads, StreamSink)>,
    },
}

/// What opens the session of another run of a call: the same caller at the same target
/// (which may have become unreadable meanwhile: then the call answers `not-found`).
struct Spawn {
    graph: graph::Graph,
    caller: graph::Caller,
    target: Option<graph::Id>,
}

impl Spawn {
    fn again(&self) -> Result<graph::Session, HostError> {
        self.graph.spawn_session(self.caller.clone(), self.target)
    }
}

/// Turn a trap into the error the caller sees; host paths never leave this function.
/// A host call past a per-app quota names it; an interrupt is the CPU quota (the
/// wall-clock limit drops the call instead).
fn trap_error(store: &Store<HostState>, e: wasmtime::Error, cpu_quota: Duration) -> CallError {
    if let Some(exceeded) = e.downcast_ref::<capabilities::QuotaExceeded>() {
        return CallError::QuotaExceeded(exceeded.quota);
    }
    let limiter = &store.data().limiter;
    if limiter.memory_exceeded {
        return CallError::MemoryExceeded(limiter.limit_mib());
    }
    if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        if *trap == wasmtime::Trap::Interrupt {
            return CallError::CpuTimeExceeded(cpu_quota);
        }
        return CallError::Trap(trap.to_string());
    }
    CallError::Trap(one_line(&e))
}

fn call_error(e: wit::CallError) -> CallError {
    match e {
        wit::CallError::UnknownEndpoint(name) => CallError::UnknownEndpoint(name),
        wit::CallError::InvalidArgs(msg) => CallError::InvalidArgs(msg),
        wit::CallError::Raised(f) => CallError::Raised {
            kind: f.kind,
            message: f.message,
            trace: f.trace,
        },
        wit::CallError::Host(e) => CallError::Graph(e.into()),
    }
}

fn check_outcome(o: wit::Outcome) -> Result<Outcome, CallError> {
    let size = o.result.len() + o.reports.iter().map(String::len).sum::<usize>();
    if size > MAX_OUTCOME_BYTES {
        return Err(CallError::OutcomeTooLarge);
    }
    let raw = |text: String| {
        RawValue::from_string(text).map_err(|e| CallError::BadOutcome(e.to_string()))
    };
    Ok(Outcome {
        result: raw(o.result)?,
        reports: o.reports.into_iter().map(raw).collect::<Result<_, _>>()?,
        warnings: Vec::new(),
    })
}

/// An error chain on one line (each message's first line, joined with `: `), without
/// wasmtime's guest backtrace (the guest's frames, not what failed) nor file paths from
/// the host.
pub fn one_line(e: &wasmtime::Error) -> String {
    let backtrace = e
        .downcast_ref::<wasmtime::WasmBacktrace>()
        .map(ToString::to_string);
    e.chain()
        .map(|cause| cause.to_string())
        .filter(|message| Some(message) != backtrace.as_ref())
        .filter_map(|message| message.lines().next().map(str::to_owned))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}
