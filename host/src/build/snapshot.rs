//! The wizer step: instantiate the Jac runtime component, call `load-program` with the
//! app's bundle, and snapshot the instance's memory and globals into a new component.
//!
//! The snapshot runs in its own small engine (no pooling, no epochs). The instance gets
//! the same imports as at serving time, with no graph session, so module code that
//! touches the graph fails the build with a clear error instead of reaching a database.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Component, ComponentExportIndex, Instance, Lift, Linker, WasmList};
use wasmtime::{Engine, Store};
use wasmtime_wizer::{ComponentInstanceState, Wizer};

use super::BuildError;
use capabilities::HostState;
use runtime::compiled;
use runtime::function_cache::{self, Compiler, FunctionCache};

/// The export `jac-scale build` calls before the snapshot (world `jac-app`).
const INIT_FUNC: &str = "load-program";
/// Memory the runtime may grow to while it loads the program.
const LOAD_MEMORY_LIMIT: usize = 256 << 20;

/// Pre-initialises `runtime` (the Jac runtime component) with `bundle` loaded.
///
/// `load-program` runs once, so the instrumented runtime is compiled by the baseline
/// compiler (Winch: a fraction of Cranelift's time, for code that runs for milliseconds).
/// With a `function_cache`, that compiled runtime (the same for every app) is kept there whole,
/// so later builds (another app, a `--reload`) skip even that compile.
pub(super) async fn snapshot(
    runtime: &[u8],
    bundle: &str,
    function_cache: Option<&Arc<FunctionCache>>,
) -> Result<Vec<u8>, BuildError> {
    let fault = |e: wasmtime::Error| BuildError::Snapshot(format!("{e:#}"));
    let started = Instant::now();
    let mut wizer = Wizer::new();
    // Keep the export: wizer 48 drops the core export but not the component's lift of it
    // (invalid component). The host never calls it after the build.
    wizer.init_func(INIT_FUNC).keep_init_func(true);
    let (context, instrumented) = wizer.instrument_component(runtime).map_err(fault)?;
    tracing::debug!(elapsed = ?started.elapsed(), "build: instrumented the runtime");

    let started = Instant::now();
    let config = function_cache::codegen_config(Compiler::Baseline, None).map_err(fault)?;
    let engine = Engine::new(&config).map_err(fault)?;
    let (component, cached) = match function_cache {
        Some(cache) => compiled::load_component(&engine, &cache.components_dir(), &instrumented)
            .map_err(fault)?,
        None => (
            Component::new(&engine, &instrumented).map_err(fault)?,
            false,
        ),
    };
    tracing::debug!(elapsed = ?started.elapsed(), cached, "build: compiled the instrumented runtime");

    let started = Instant::now();
    let mut linker = Linker::new(&engine);
    capabilities::link(&mut linker).map_err(fault)?;
    let state = HostState::for_build(LOAD_MEMORY_LIMIT);
    let mut store = Store::new(&engine, state);
    store.limiter(|s| &mut s.limiter);
    // Nothing advances this engine's epoch: a deadline of one tick never passes.
    store.set_epoch_deadline(1);
    let instance = linker
        .instantiate_async(&mut store, &component)
        .await
        .map_err(fault)?;

    let load = instance
        .get_typed_func::<(&str,), (Result<(), String>,)>(&mut store, INIT_FUNC)
        .map_err(fault)?;
    match load.call_async(&mut store, (bundle,)).await {
        Ok((Ok(()),)) => {}
        Ok((Err(message),)) => return Err(BuildError::Load(message)),
        Err(e) => {
            return Err(BuildError::Load(format!(
                "loading the program trapped: {}",
                runtime::one_line(&e)
            )));
        }
    }

    tracing::debug!(elapsed = ?started.elapsed(), "build: ran load-program");

    let started = Instant::now();
    let mut state = Snapshotted {
        store: &mut store,
        instance,
    };
    let snapshot = wizer
        .snapshot_component(&context, &mut state)
        .await
        .map_err(fault)?;
    tracing::debug!(elapsed = ?started.elapsed(), "build: snapshotted the loaded runtime");
    Ok(snapshot)
}

/// Lets wizer read the loaded instance's state through the exports it instrumented.
struct Snapshotted<'a> {
    store: &'a mut Store<HostState>,
    instance: Instance,
}

impl Snapshotted<'_> {
    /// Calls `func` of the exported `instance` (both added by wizer's instrumentation).
    async fn call<R: Lift + Send + Sync + 'static>(&mut self, instance: &str, func: &str) -> R {
        let index = self.export(instance, func);
        let typed = self
            .instance
            .get_typed_func::<(), (R,)>(&mut *self.store, index)
            .expect("wizer's accessors have the types wizer gave them");
        let (ret,) = typed
            .call_async(&mut *self.store, ())
            .await
            .expect("wizer's accessors do not trap");
        ret
    }

    fn export(&mut self, instance: &str, func: &str) -> ComponentExportIndex {
        let (_, outer) = self
            .instance
            .get_export(&mut *self.store, None, instance)
            .expect("wizer exports its accessor instance");
        let (_, index) = self
            .instance
            .get_export(&mut *self.store, Some(&outer), func)
            .expect("wizer exports every accessor it lists");
        index
    }
}

impl ComponentInstanceState for Snapshotted<'_> {
    async fn call_func_ret_list_u8(
        &mut self,
        instance: &str,
        func: &str,
        contents: impl FnOnce(&[u8]) + Send,
    ) {
        let list: WasmList<u8> = self.call(instance, func).await;
        contents(list.as_le_slice(&*self.store));
    }

    async fn call_func_ret_s32(&mut self, instance: &str, func: &str) -> i32 {
        self.call(instance, func).await
    }

    async fn call_func_ret_s64(&mut self, instance: &str, func: &str) -> i64 {
        self.call(instance, func).await
    }

    async fn call_func_ret_f32(&mut self, instance: &str, func: &str) -> u32 {
        self.call::<f32>(instance, func).await.to_bits()
    }

    async fn call_func_ret_f64(&mut self, instance: &str, func: &str) -> u64 {
        self.call::<f64>(instance, func).await.to_bits()
    }
}
