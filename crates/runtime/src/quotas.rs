//! Per-app quotas (`config::Quotas`) where a call enters: calls at once, calls per
//! second, instances (the quotas host calls spend are checked in `capabilities::quotas`). The CPU and memory quotas are the call's store's bounds
//! (`App::store`), the share of the guest threads is the app's [`CpuShare`].

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::scheduling::CpuShare;
pub use config::Quota;
use config::Quotas;
use rate_limit::TokenBucket;

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
            if !bucket.take() {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(edit: impl FnOnce(&mut Quotas)) -> Arc<Admission> {
        let mut quotas = Quotas::within(
            &config::Limits::default(),
            &config::WebSocketSettings::default(),
        );
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
