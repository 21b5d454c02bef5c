//! The per-app quotas host calls spend: kvstore operations per second
//! (`kvstore_ops_per_second`, spent by [`crate::kv`]) and the bytes the app stores, in its
//! files (`storage_mib`, spent by [`crate::files`]) and in its kvstores (`kvstore_mib`,
//! spent by [`crate::kv`]), each a [`BytesLedger`].
//!
//! A host call past one stops the call (a trap, like the memory and CPU quotas) with a
//! [`QuotaExceeded`] error, which the runtime answers as that quota. With no quota set
//! (the defaults) nothing is counted.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use config::Quota;
use rate_limit::TokenBucket;

/// The trap of a host call that went past a per-app quota.
#[derive(Debug)]
pub struct QuotaExceeded {
    /// The quota it went past.
    pub quota: Quota,
    message: String,
}

impl fmt::Display for QuotaExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for QuotaExceeded {}

fn exceeded(quota: Quota, message: String) -> wasmtime::Error {
    wasmtime::Error::new(QuotaExceeded { quota, message })
}

/// `kvstore_ops_per_second`: the operations left to the app's calls this second.
#[derive(Debug, Clone)]
pub(crate) struct KvOperations(Arc<Mutex<TokenBucket>>);

impl KvOperations {
    /// `None` when operations are unlimited (0).
    pub(crate) fn new(per_second: u32) -> Option<Self> {
        (per_second > 0).then(|| KvOperations(Arc::new(Mutex::new(TokenBucket::full(per_second)))))
    }

    /// Spend one operation; the call stops when none is left.
    pub(crate) fn spend(&self) -> wasmtime::Result<()> {
        if self.0.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Ok(());
        }
        Err(exceeded(
            Quota::KvstoreOpsPerSecond,
            "the app's kvstore_ops_per_second quota is used up".into(),
        ))
    }
}

/// A quota of stored bytes (`storage_mib`, `kvstore_mib`): the bytes the app holds,
/// counted once (at the first change, by the caller's count) and kept up to date by
/// every change; changes take turns while it is counted. A count belongs to a
/// generation (what it covered, e.g. the servers known): a change of another generation
/// counts again.
#[derive(Debug, Clone)]
pub(crate) struct BytesLedger {
    quota: Quota,
    limit: u64,
    /// `None` until counted, and again after a change whose size is unknown.
    used: Arc<tokio::sync::Mutex<Option<Counted>>>,
}

/// The bytes of one count and what the changes since made of them.
#[derive(Debug, Clone, Copy)]
struct Counted {
    bytes: u64,
    generation: u64,
    at: Instant,
}

impl BytesLedger {
    /// `None` when `quota` is unlimited (`limit` 0).
    pub(crate) fn new(quota: Quota, limit: u64) -> Option<Self> {
        (limit > 0).then(|| BytesLedger {
            quota,
            limit,
            used: Arc::default(),
        })
    }

    /// The stored bytes, counted by `count` if need be (never counted, unknown, or
    /// counted in another `generation`), held for one change (other changes wait) until
    /// it is settled.
    pub(crate) async fn hold<E>(
        &self,
        generation: u64,
        count: impl Future<Output = Result<u64, E>>,
    ) -> Result<Ledger, E> {
        let mut used = self.used.clone().lock_owned().await;
        let counted = match *used {
            Some(counted) if counted.generation == generation => counted,
            _ => *used.insert(Counted {
                bytes: count.await?,
                generation,
                at: Instant::now(),
            }),
        };
        Ok(Ledger {
            used,
            counted,
            quota: self.quota,
            limit: self.limit,
            after: Some(counted.bytes),
        })
    }
}

/// The app's stored bytes held for one change: what the change will make of them is
/// settled once it happened.
pub(crate) struct Ledger {
    used: tokio::sync::OwnedMutexGuard<Option<Counted>>,
    counted: Counted,
    quota: Quota,
    limit: u64,
    /// The bytes after the change; `None` when unknown (counted again next time).
    after: Option<u64>,
}

impl Ledger {
    /// Whether a change adding `added` bytes and removing `removed` stays within the quota.
    pub(crate) fn fits(&self, added: u64, removed: u64) -> bool {
        added <= removed || self.bytes_after(added, removed) <= self.limit
    }

    fn bytes_after(&self, added: u64, removed: u64) -> u64 {
        self.counted
            .bytes
            .saturating_sub(removed)
            .saturating_add(added)
    }

    /// Whether the bytes held were counted longer than `age` ago.
    pub(crate) fn counted_before(&self, age: Duration) -> bool {
        self.counted.at.elapsed() > age
    }

    /// The bytes were counted again: `bytes`.
    pub(crate) fn recount(&mut self, bytes: u64) {
        self.counted.bytes = bytes;
        self.counted.at = Instant::now();
        self.after = Some(bytes);
        *self.used = Some(self.counted);
    }

    /// The change adds `added` bytes and removes `removed`; the call stops when that
    /// takes the app past its quota.
    pub(crate) fn grow(&mut self, added: u64, removed: u64) -> wasmtime::Result<()> {
        if !self.fits(added, removed) {
            return Err(exceeded(
                self.quota,
                format!(
                    "the app's {} quota ({} MiB) is used up",
                    self.quota.as_str(),
                    self.limit >> 20
                ),
            ));
        }
        let after = self.bytes_after(added, removed);
        self.after = self.after.map(|_| after);
        Ok(())
    }

    /// The change removes something of unknown size (a folder): count again next time.
    pub(crate) fn unknown(&mut self) {
        self.after = None;
    }

    /// The change happened (`ok`): keep what it made of the stored bytes.
    pub(crate) fn settle(mut self, ok: bool) {
        if ok {
            *self.used = self.after.map(|bytes| Counted {
                bytes,
                ..self.counted
            });
        }
    }
}
