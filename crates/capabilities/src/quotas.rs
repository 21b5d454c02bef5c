//! The per-app quotas host calls spend: kvstore operations per second
//! (`kvstore_ops_per_second`) and the bytes of the app's file storage (`storage_mib`).
//!
//! Each check is one small method of [`HostState`]. A call past a quota stops (a trap,
//! like the memory and CPU quotas) and its state names the quota
//! ([`HostState::quota_exceeded`]), so the runtime answers the call as that quota.
//! With no quota set (the defaults) nothing is counted.

use std::sync::{Arc, Mutex};

use config::{Quota, Quotas};
use files::StorageError;
use rate_limit::TokenBucket;

use super::HostState;

/// What the app's calls spent of its quotas; shared by all its calls.
#[derive(Debug)]
pub struct Spending {
    /// `None` when kvstore operations are unlimited.
    kv_operations: Option<Mutex<TokenBucket>>,
    /// `None` when storage is unlimited.
    storage: Option<StorageLedger>,
}

/// The bytes the app's files hold, counted once (a walk of its folder, at the first
/// change) and kept up to date by every change; changes take turns while it is counted.
#[derive(Debug)]
struct StorageLedger {
    limit: u64,
    /// `None` until counted, and again after a change whose size is unknown.
    used: Arc<tokio::sync::Mutex<Option<u64>>>,
}

impl Spending {
    /// Nothing spent yet of `quotas`.
    pub fn new(quotas: &Quotas) -> Self {
        Spending {
            kv_operations: (quotas.kvstore_ops_per_second > 0)
                .then(|| Mutex::new(TokenBucket::full(quotas.kvstore_ops_per_second))),
            storage: (quotas.storage_bytes > 0).then(|| StorageLedger {
                limit: quotas.storage_bytes,
                used: Arc::default(),
            }),
        }
    }
}

/// The app's stored bytes, counted and held for one change (other changes wait): what
/// the change will make of them is settled once it happened.
pub(crate) struct Ledger {
    used: tokio::sync::OwnedMutexGuard<Option<u64>>,
    now: u64,
    limit: u64,
    /// The bytes after the change; `None` when unknown (counted again next time).
    after: Option<u64>,
}

impl Ledger {
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

impl HostState {
    /// Stop the call as past `quota`: the trap's message is `why`, the state names it.
    fn exceed(&mut self, quota: Quota, why: String) -> wasmtime::Error {
        self.quota_exceeded = Some(quota);
        wasmtime::Error::msg(why)
    }

    /// The quota this call went past, if it did (its trap is that quota).
    pub fn quota_exceeded(&self) -> Option<Quota> {
        self.quota_exceeded
    }

    /// Spend one kvstore operation of the app's `kvstore_ops_per_second`.
    pub(crate) fn spend_kvstore_operation(&mut self) -> wasmtime::Result<()> {
        let refused = self
            .context
            .as_ref()
            .and_then(|c| c.spending.kv_operations.as_ref())
            .is_some_and(|bucket| !bucket.lock().unwrap_or_else(|p| p.into_inner()).take());
        if !refused {
            return Ok(());
        }
        Err(self.exceed(
            Quota::KvstoreOpsPerSecond,
            "the app's kvstore_ops_per_second quota is used up".into(),
        ))
    }

    /// With a storage quota, the app's stored bytes, counted (at the first change) and
    /// held until the change is settled; `None` without one.
    pub(crate) async fn storage_ledger(&mut self) -> Result<Option<Ledger>, StorageError> {
        let Some(context) = &self.context else {
            return Ok(None);
        };
        let Some(ledger) = &context.spending.storage else {
            return Ok(None);
        };
        let (limit, storage) = (ledger.limit, context.storage.clone());
        let mut used = ledger.used.clone().lock_owned().await;
        let now = match *used {
            Some(now) => now,
            None => *used.insert(storage.used_bytes().await?),
        };
        Ok(Some(Ledger {
            used,
            now,
            limit,
            after: Some(now),
        }))
    }

    /// The change adds `added` bytes and removes `removed`; the call stops when that
    /// takes the app past its `storage_mib` quota.
    pub(crate) fn grow_storage(
        &mut self,
        ledger: &mut Ledger,
        added: u64,
        removed: u64,
    ) -> wasmtime::Result<()> {
        let after = ledger.now.saturating_sub(removed).saturating_add(added);
        if added > removed && after > ledger.limit {
            return Err(self.exceed(
                Quota::StorageBytes,
                format!(
                    "the app's storage_mib quota ({} MiB) is used up",
                    ledger.limit >> 20
                ),
            ));
        }
        ledger.after = ledger.after.map(|_| after);
        Ok(())
    }
}
