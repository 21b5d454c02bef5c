//! Optimised code shared by digest: apps that load the same component bytes (copies of
//! one app, as tenants of one host often are) share one compiled component and its
//! linked `InstancePre`, instead of each holding its own copy of the code and its
//! metadata. Calls share nothing else: every call still gets a fresh instance in a store
//! of its own, with its app's capabilities.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use capabilities::HostState;
use capabilities::bindings::AppPre;

/// The optimised code of each component some app holds, by the digest of its bytes.
#[derive(Default)]
pub(crate) struct SharedCode(Mutex<HashMap<String, Weak<AppPre<HostState>>>>);

impl SharedCode {
    /// The optimised code of `digest`, if an app holds it.
    pub(crate) fn get(&self, digest: &str) -> Option<Arc<AppPre<HostState>>> {
        self.lock().get(digest).and_then(Weak::upgrade)
    }

    /// Keep `pre` as the optimised code of `digest` for the next app of the same bytes;
    /// codes no app holds any more are forgotten.
    pub(crate) fn keep(&self, digest: &str, pre: &Arc<AppPre<HostState>>) {
        let mut codes = self.lock();
        codes.retain(|_, code| code.strong_count() > 0);
        codes.insert(digest.to_owned(), Arc::downgrade(pre));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<AppPre<HostState>>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
