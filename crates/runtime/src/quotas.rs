//! Per-app quotas (`config::Quotas`) where a call enters: calls at once, calls per
//! second, instances. The CPU and memory quotas are the call's store's bounds
//! (`App::store`), the share of the guest threads is the app's [`CpuShare`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::scheduling::CpuShare;
use config::Quotas;

/// A per-app quota, named as its `[plugins.scale.quotas]` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    /// `concurrent_calls`: calls in the host at once.
    ConcurrentCalls,
    /// `calls_per_second`: calls admitted per second.
    CallsPerSecond,
    /// `instances`: instances held at once.
    Instances,
    /// `cpu_time_per_call_ms`: CPU time of one call.
    CpuTimePerCall,
    /// `memory_per_instance_mib`: linear memory of one instance.
    MemoryPerInstance,
}

impl Quota {
    /// The quota's key in `[plugins.scale.quotas]` (and its metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Quota::ConcurrentCalls => "concurrent_calls",
            Quota::CallsPerSecond => "calls_per_second",
            Quota::Instances => "instances",
            Quota::CpuTimePerCall => "cpu_time_per_call_ms",
            Quota::MemoryPerInstance => "memory_per_instance_mib",
        }
    }
}

/// One app's quotas and what it uses of them now.
pub(crate) struct Admission {
    pub(crate) quotas: Arc<Quotas>,
    /// Calls admitted and not finished.
    in_host: AtomicUsize,
    instances: Arc<Semaphore>,
    /// `None` when calls per second are unlimited.
    rate: Option<Mutex<TokenBucket>>,
    /// The app's share of the guest threads.
    pub(crate) cpu: Arc<CpuShare>,
}

impl Admission {
    pub(crate) fn new(quotas: Arc<Quotas>) -> Arc<Self> {
        Arc::new(Admission {
            in_host: AtomicUsize::new(0),
            instances: Arc::new(Semaphore::new(quotas.instances)),
            rate: (quotas.calls_per_second > 0)
                .then(|| Mutex::new(TokenBucket::full(quotas.calls_per_second))),
            cpu: CpuShare::new(quotas.cpu_threads),
            quotas,
        })
    }

    /// Admit one more call, or name the quota it would exceed. Never waits.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admitted, Quota> {
        if let Some(rate) = &self.rate {
            let mut bucket = rate.lock().unwrap_or_else(|p| p.into_inner());
            if !bucket.take(self.quotas.calls_per_second) {
                return Err(Quota::CallsPerSecond);
            }
        }
        let before = self.in_host.fetch_add(1, Ordering::Relaxed);
        let admitted = Admitted(self.clone());
        if before >= self.quotas.concurrent_calls {
            return Err(Quota::ConcurrentCalls);
        }
        Ok(admitted)
    }

    /// One of the app's instances, waiting for it if all are in use.
    pub(crate) async fn instance(&self) -> OwnedSemaphorePermit {
        self.instances
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }
}

/// One admitted call, counted until dropped.
pub(crate) struct Admitted(Arc<Admission>);

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.in_host.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Calls per second, holding at most one second's worth.
struct TokenBucket {
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    fn full(per_second: u32) -> Self {
        TokenBucket {
            tokens: f64::from(per_second),
            refilled: Instant::now(),
        }
    }

    fn take(&mut self, per_second: u32) -> bool {
        let now = Instant::now();
        let rate = f64::from(per_second);
        let earned = now.duration_since(self.refilled).as_secs_f64() * rate;
        self.tokens = (self.tokens + earned).min(rate);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(edit: impl FnOnce(&mut Quotas)) -> Arc<Admission> {
        let mut quotas = Quotas::within(&config::Limits::default());
        edit(&mut quotas);
        Admission::new(Arc::new(quotas))
    }

    #[test]
    fn calls_at_once_are_counted_until_they_end() {
        let app = admission(|q| q.concurrent_calls = 2);
        let first = app.admit().unwrap();
        let _second = app.admit().unwrap();
        assert_eq!(app.admit().err(), Some(Quota::ConcurrentCalls));
        drop(first);
        assert!(app.admit().is_ok());
    }

    #[test]
    fn calls_per_second_refill_over_time() {
        let app = admission(|q| q.calls_per_second = 50);
        let admitted: Vec<_> = (0..50).map(|_| app.admit().unwrap()).collect();
        assert_eq!(app.admit().err(), Some(Quota::CallsPerSecond));
        drop(admitted);
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert!(app.admit().is_ok(), "a token per 20 ms");
    }
}
