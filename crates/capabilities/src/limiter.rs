//! Per-call memory bound: a `ResourceLimiter` that remembers why it said no.

use wasmtime::ResourceLimiter;

/// Tables a guest may grow to, in elements (function tables of Rust guests are small).
const MAX_TABLE_ELEMENTS: usize = 100_000;
/// Instances one component may create (a component is a handful of core instances).
const MAX_INSTANCES: usize = 64;

/// Caps the linear memory and tables of one store, and records a refused growth so
/// the caller can report "memory limit exceeded" instead of a bare trap.
#[derive(Debug)]
pub struct CallLimiter {
    max_memory_bytes: usize,
    /// Set when a memory growth was refused.
    pub memory_exceeded: bool,
    /// Largest linear memory granted so far (for the metrics).
    pub peak_memory_bytes: usize,
}

impl CallLimiter {
    /// A limiter allowing `max_memory_bytes` of linear memory per memory.
    pub fn new(max_memory_bytes: usize) -> Self {
        CallLimiter {
            max_memory_bytes,
            memory_exceeded: false,
            peak_memory_bytes: 0,
        }
    }

    /// The memory bound in MiB, for messages.
    pub fn limit_mib(&self) -> usize {
        self.max_memory_bytes >> 20
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory_bytes {
            self.memory_exceeded = true;
            // Trap rather than fail the grow: a Rust guest aborts on allocation failure
            // anyway, and a trap tells the host exactly what happened.
            wasmtime::bail!(
                "memory limit of {} MiB exceeded",
                self.max_memory_bytes >> 20
            );
        }
        self.peak_memory_bytes = self.peak_memory_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn memories(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_INSTANCES
    }
}
