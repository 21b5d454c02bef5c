//! What a call cost, for whoever watches the runtime (the metrics): instances in use
//! and queued, instantiation time, time on a CPU, peak memory, traps by kind, quotas
//! exceeded, host calls by capability.
//!
//! The runtime only counts; it knows nothing of Prometheus.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{CallError, Quota};
pub use capabilities::{Capability, HostCalls};

/// Why a call's instance was stopped by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrapKind {
    /// Past the call's time limit.
    Timeout,
    /// Past the instance's memory limit.
    MemoryLimit,
    /// The guest trapped (a panic, `unreachable`, a broken bound).
    GuestTrap,
}

impl TrapKind {
    /// The label value of this kind.
    pub fn as_str(self) -> &'static str {
        match self {
            TrapKind::Timeout => "timeout",
            TrapKind::MemoryLimit => "memory_limit",
            TrapKind::GuestTrap => "guest_trap",
        }
    }

    pub(super) fn of(error: &CallError) -> Option<TrapKind> {
        match error {
            CallError::Timeout(_) | CallError::CpuTimeExceeded(_) => Some(TrapKind::Timeout),
            CallError::MemoryExceeded(_) => Some(TrapKind::MemoryLimit),
            CallError::Trap(_) => Some(TrapKind::GuestTrap),
            _ => None,
        }
    }
}

/// The cost of one call that got an instance.
#[derive(Debug, Clone, Default)]
pub struct CallStats {
    /// Creating the instance from the pre-instantiated component.
    pub instantiation: Duration,
    /// Time the call spent on a CPU: guest code and the host calls it made, not its waits.
    pub cpu: Duration,
    /// Largest linear memory the instance asked for.
    pub peak_memory_bytes: usize,
    /// Set when the host stopped the instance.
    pub trap: Option<TrapKind>,
    /// Host calls the guest made, by capability.
    pub host_calls: HostCalls,
}

/// Told about every call of an app (set with `App::observed_by`).
pub trait CallObserver: Send + Sync {
    /// A call ended (successfully or not) after it got an instance.
    fn call_finished(&self, stats: &CallStats);

    /// A call was refused or stopped by one of the app's quotas.
    fn quota_exceeded(&self, quota: Quota);
}

/// Calls of one app waiting for an instance and running in one.
#[derive(Debug, Default)]
pub struct Load {
    queued: AtomicUsize,
    in_use: AtomicUsize,
}

impl Load {
    /// Calls waiting for a free instance now.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Calls running in an instance now.
    pub fn in_use(&self) -> usize {
        self.in_use.load(Ordering::Relaxed)
    }

    pub(super) fn waiting(self: &Arc<Self>) -> Counted {
        Counted::new(self.clone(), |l| &l.queued)
    }

    pub(super) fn running(self: &Arc<Self>) -> Counted {
        Counted::new(self.clone(), |l| &l.in_use)
    }
}

/// One unit of a [`Load`] counter, given back on drop.
pub(super) struct Counted {
    load: Arc<Load>,
    counter: fn(&Load) -> &AtomicUsize,
}

impl Counted {
    fn new(load: Arc<Load>, counter: fn(&Load) -> &AtomicUsize) -> Self {
        counter(&load).fetch_add(1, Ordering::Relaxed);
        Counted { load, counter }
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        (self.counter)(&self.load).fetch_sub(1, Ordering::Relaxed);
    }
}
