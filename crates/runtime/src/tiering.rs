//! Tiered compilation: a big component that has no cached optimised code is served at
//! once from Winch's baseline code, while Cranelift compiles the optimised code on a
//! thread of its own; the app then switches to it between two calls.
//!
//! A Jac app is the whole Jac runtime (~3 MiB of code): Cranelift takes seconds to
//! compile it on a fresh machine, Winch a fraction of that. In-flight calls finish on the
//! code they started with; the app's globals, grants and manifest are the same for both
//! tiers (they live in `App`, not in the code). The optimised code lands in the compile
//! cache, so the next start of the same component begins optimised.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arc_swap::ArcSwap;
use tokio::sync::watch;

use super::EngineLinker;
use super::compiled;
use capabilities::HostState;
use capabilities::bindings::AppPre;

/// Components at least this big start on baseline code when no optimised code is cached;
/// smaller ones compile optimised before serving (Cranelift needs well under a second).
pub const BASELINE_MIN_BYTES: usize = 1 << 20;

/// Which code an app runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    /// Winch's code, while Cranelift compiles the optimised code.
    Baseline,
    /// Cranelift's code.
    Optimized,
    /// Winch's code for good: the optimising compile failed (the error is logged).
    BaselineOnly,
}

/// The compiled code of one component (shared by the apps of its bytes), replaced at most
/// once (baseline -> optimised) while calls run.
pub(crate) struct Code {
    pre: ArcSwap<AppPre<HostState>>,
    tier: watch::Sender<Tier>,
}

impl Code {
    pub(crate) fn new(pre: AppPre<HostState>, tier: Tier) -> Arc<Self> {
        Arc::new(Code {
            pre: ArcSwap::from_pointee(pre),
            tier: watch::Sender::new(tier),
        })
    }

    /// The code a new call runs (it keeps it to the end, whatever happens meanwhile).
    pub(crate) fn current(&self) -> Arc<AppPre<HostState>> {
        self.pre.load_full()
    }

    /// Waits until the app no longer waits for optimised code; returns its final tier.
    pub(crate) async fn settled(&self) -> Tier {
        let mut changes = self.tier.subscribe();
        let settled = changes.wait_for(|tier| *tier != Tier::Baseline).await;
        settled.map_or(Tier::BaselineOnly, |tier| *tier)
    }
}

/// Compiles `bytes` (whose digest is `digest`) with the optimising `backend` on a thread of
/// its own, keeps the result in `cache_dir` and swaps it into `code` (for every app that
/// shares it).
///
/// A plain thread, not tokio's blocking pool: shutdown must not wait for a compile.
pub(crate) fn tier_up(
    code: Arc<Code>,
    backend: EngineLinker,
    bytes: Vec<u8>,
    digest: String,
    cache_dir: PathBuf,
    app: Arc<str>,
) {
    let slot = code.clone();
    let compile = move || {
        let started = Instant::now();
        let compiled = compiled::compile_and_keep(&backend.engine, &cache_dir, &digest, &bytes)
            .and_then(|component| backend.pre(&component));
        match compiled {
            Ok(pre) => {
                code.pre.store(Arc::new(pre));
                code.tier.send_replace(Tier::Optimized);
                tracing::info!(%app, elapsed = ?started.elapsed(), "running optimised code");
            }
            Err(e) => {
                code.tier.send_replace(Tier::BaselineOnly);
                tracing::error!(%app, "cannot compile optimised code, staying on baseline code: {e:#}");
            }
        }
    };
    if let Err(e) = std::thread::Builder::new()
        .name("tier-up".into())
        .spawn(compile)
    {
        slot.tier.send_replace(Tier::BaselineOnly);
        tracing::error!("cannot start the optimising compile, staying on baseline code: {e}");
    }
}
