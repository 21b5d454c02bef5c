//! Code shared by digest: apps that load the same component bytes (copies of one app, as
//! tenants of one host often are) share one compiled component, its linked
//! `InstancePre` and its move from baseline to optimised code, instead of each holding
//! (and compiling) its own. Calls share nothing else: every call still gets a fresh
//! instance in a store of its own, with its app's capabilities.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use super::tiering::Code;

/// The code of each component some app holds, by the digest of its bytes.
#[derive(Default)]
pub(crate) struct SharedCode(Mutex<HashMap<String, Weak<Code>>>);

impl SharedCode {
    /// The code of `digest`, if an app holds it.
    pub(crate) fn get(&self, digest: &str) -> Option<Arc<Code>> {
        self.lock().get(digest).and_then(Weak::upgrade)
    }

    /// Keep `code` as the code of `digest` for the next app of the same bytes; codes no
    /// app holds any more are forgotten.
    pub(crate) fn keep(&self, digest: &str, code: &Arc<Code>) {
        let mut codes = self.lock();
        codes.retain(|_, code| code.strong_count() > 0);
        codes.insert(digest.to_owned(), Arc::downgrade(code));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Weak<Code>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}
