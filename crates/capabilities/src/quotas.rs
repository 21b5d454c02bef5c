//! The per-app quotas host calls spend: kvstore operations per second
//! (`kvstore_ops_per_second`, spent by [`crate::kv`]) and the bytes of the app's file
//! storage (`storage_mib`, spent by [`crate::files`]).
//!
//! A host call past one stops the call (a trap, like the memory and CPU quotas) with a
//! [`QuotaExceeded`] error, which the runtime answers as that quota. With no quota set
//! (the defaults) nothing is counted.

use std::fmt;
use std::sync::{Arc, Mutex};

use config::Quota;
use files::{StorageResult, TenantFiles};
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

/// `storage_mib`: the bytes the app's files hold, counted once (a walk of its folder, at
/// the first change) and kept up to date by every change; changes take turns while it is
/// counted.
#[derive(Debug, Clone)]
pub(crate) struct StorageLedger {
    limit: u64,
    /// `None` until counted, and again after a change whose size is unknown.
    used: Arc<tokio::sync::Mutex<Option<u64>>>,
}

impl StorageLedger {
    /// `None` when storage is unlimited (0).
    pub(crate) fn new(limit: u64) -> Option<Self> {
        (limit > 0).then(|| StorageLedger {
            limit,
            used: Arc::default(),
        })
    }

    /// The stored bytes of `files`, counted if need be and held for one change (other
    /// changes wait) until it is settled.
    pub(crate) async fn hold(&self, files: &TenantFiles) -> StorageResult<Ledger> {
        let mut used = self.used.clone().lock_owned().await;
        let now = match *used {
            Some(now) => now,
            None => *used.insert(files.used_bytes().await?),
        };
        Ok(Ledger {
            used,
            now,
            limit: self.limit,
            after: Some(now),
        })
    }
}

/// The app's stored bytes held for one change: what the change will make of them is
/// settled once it happened.
pub(crate) struct Ledger {
    used: tokio::sync::OwnedMutexGuard<Option<u64>>,
    now: u64,
    limit: u64,
    /// The bytes after the change; `None` when unknown (counted again next time).
    after: Option<u64>,
}

impl Ledger {
    /// The change adds `added` bytes and removes `removed`; the call stops when that
    /// takes the app past its `storage_mib` quota.
    pub(crate) fn grow(&mut self, added: u64, removed: u64) -> wasmtime::Result<()> {
        let after = self.now.saturating_sub(removed).saturating_add(added);
        if added > removed && after > self.limit {
            return Err(exceeded(
                Quota::StorageBytes,
                format!(
                    "the app's storage_mib quota ({} MiB) is used up",
                    self.limit >> 20
                ),
            ));
        }
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
            *self.used = self.after;
        }
    }
}
