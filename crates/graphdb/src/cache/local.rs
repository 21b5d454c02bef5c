//! L1: anchors kept in this process, with a TTL and a bounded size.
//!
//! A read that missed fills the cache afterwards, and an invalidation may land in
//! between (the read then holds a value older than the invalidation). Every invalidation
//! therefore takes a number from one counter and leaves a tombstone with it; a fill
//! carries the counter value seen before its read began and is dropped when its key (or
//! the whole cache) was invalidated since. Tombstones are bounded: past the bound they are
//! dropped and the shard's floor rises, which refuses every older fill in that shard.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::keys::CacheKey;
use crate::records::{AdjacencyRow, EdgeRecord, NodeRecord};

/// Shards of the map (fewer lock collisions between worker threads).
const SHARDS: usize = 16;
/// Tombstones kept per shard before they are folded into the shard's floor.
const MAX_TOMBSTONES_PER_SHARD: usize = 4096;

/// A cached value.
#[derive(Debug, Clone)]
pub(super) enum Cached {
    Node(Arc<NodeRecord>),
    Edge(Arc<EdgeRecord>),
    /// A node's complete adjacency list; `None` when it is too long to cache (reads of
    /// that node go to the store).
    Adjacency(Option<Arc<Vec<AdjacencyRow>>>),
}

struct Entry {
    value: Cached,
    expires: Instant,
}

#[derive(Default)]
struct Shard {
    entries: HashMap<CacheKey, Entry>,
    /// Key -> number of its last invalidation.
    tombstones: HashMap<CacheKey, u64>,
    /// Fills that began before this number are refused for every key of the shard.
    floor: u64,
}

/// The in-process tier.
pub(super) struct LocalCache {
    shards: Vec<Mutex<Shard>>,
    /// Numbers invalidations; a fill remembers the value it saw before reading.
    invalidations: AtomicU64,
    /// Off while invalidations from other processes cannot be heard.
    enabled: AtomicBool,
    ttl: Duration,
    capacity_per_shard: usize,
}

impl LocalCache {
    /// An empty, disabled cache of at most `capacity` entries living `ttl` each (0 = keep
    /// nothing: every read goes to L2).
    pub(super) fn new(capacity: usize, ttl: Duration) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            invalidations: AtomicU64::new(0),
            enabled: AtomicBool::new(false),
            ttl,
            capacity_per_shard: capacity.div_ceil(SHARDS),
        }
    }

    /// The invalidation counter, read before a read that may fill the cache.
    pub(super) fn mark(&self) -> u64 {
        self.invalidations.load(Ordering::Acquire)
    }

    /// The value of `key`, if cached, fresh and the cache is enabled.
    pub(super) fn get(&self, key: &CacheKey) -> Option<Cached> {
        if !self.enabled.load(Ordering::Acquire) {
            return None;
        }
        let mut shard = self.shard(key);
        let entry = shard.entries.get(key)?;
        if entry.expires <= Instant::now() {
            shard.entries.remove(key);
            return None;
        }
        Some(entry.value.clone())
    }

    /// Caches `value` unless `key` was invalidated after `mark` (see the module doc).
    pub(super) fn fill(&self, key: CacheKey, value: Cached, mark: u64) {
        if self.capacity_per_shard == 0 || !self.enabled.load(Ordering::Acquire) {
            return;
        }
        let mut shard = self.shard(&key);
        let last = shard.tombstones.get(&key).copied().unwrap_or(0);
        if last.max(shard.floor) > mark {
            return;
        }
        let now = Instant::now();
        if shard.entries.len() >= self.capacity_per_shard {
            shard.entries.retain(|_, entry| entry.expires > now);
            if shard.entries.len() >= self.capacity_per_shard {
                // Still full: drop an arbitrary half rather than track recency per read.
                let keep = self.capacity_per_shard / 2;
                let mut kept = 0;
                shard.entries.retain(|_, _| {
                    kept += 1;
                    kept <= keep
                });
            }
        }
        let expires = now + self.ttl;
        shard.entries.insert(key, Entry { value, expires });
    }

    /// Drops these keys and refuses fills that began before now.
    pub(super) fn invalidate<'a>(&self, keys: impl IntoIterator<Item = &'a CacheKey>) {
        let number = self.invalidations.fetch_add(1, Ordering::AcqRel) + 1;
        for key in keys {
            let mut shard = self.shard(key);
            shard.entries.remove(key);
            if shard.tombstones.len() >= MAX_TOMBSTONES_PER_SHARD {
                shard.tombstones.clear();
                shard.floor = number;
            }
            shard.tombstones.insert(*key, number);
        }
    }

    /// Drops everything and refuses fills that began before now.
    pub(super) fn flush(&self) {
        let number = self.invalidations.fetch_add(1, Ordering::AcqRel) + 1;
        for shard in &self.shards {
            let mut shard = lock(shard);
            shard.entries.clear();
            shard.tombstones.clear();
            shard.floor = number;
        }
    }

    /// Turns the cache on (invalidations are heard) or off and empty (they are not).
    pub(super) fn set_enabled(&self, enabled: bool) {
        if !enabled {
            self.enabled.store(false, Ordering::Release);
        }
        self.flush();
        if enabled {
            self.enabled.store(true, Ordering::Release);
        }
    }

    /// Turns the cache back on if it is off.
    pub(super) fn ensure_enabled(&self) {
        if !self.enabled.load(Ordering::Acquire) {
            self.set_enabled(true);
        }
    }

    fn shard(&self, key: &CacheKey) -> MutexGuard<'_, Shard> {
        lock(&self.shards[key.shard(SHARDS)])
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use graph::Id;

    fn adjacency() -> Cached {
        Cached::Adjacency(Some(Arc::new(Vec::new())))
    }

    fn enabled_cache() -> LocalCache {
        let cache = LocalCache::new(64, Duration::from_secs(60));
        cache.set_enabled(true);
        cache
    }

    #[test]
    fn a_fill_that_began_before_an_invalidation_is_refused() {
        let cache = enabled_cache();
        let key = CacheKey::Adjacency(Id::generate());
        let mark = cache.mark();
        cache.invalidate([&key]);
        cache.fill(key, adjacency(), mark);
        assert!(cache.get(&key).is_none());
        cache.fill(key, adjacency(), cache.mark());
        assert!(cache.get(&key).is_some());
    }

    #[test]
    fn a_disabled_cache_holds_nothing() {
        let cache = enabled_cache();
        let key = CacheKey::Node(Id::generate());
        cache.fill(key, adjacency(), cache.mark());
        cache.set_enabled(false);
        assert!(cache.get(&key).is_none());
        cache.fill(key, adjacency(), cache.mark());
        cache.set_enabled(true);
        assert!(cache.get(&key).is_none());
    }

    #[test]
    fn entries_expire_and_size_stays_bounded() {
        let cache = LocalCache::new(32, Duration::from_millis(20));
        cache.set_enabled(true);
        let keys: Vec<_> = (0..500).map(|_| CacheKey::Node(Id::generate())).collect();
        for key in &keys {
            cache.fill(*key, adjacency(), cache.mark());
        }
        let held = keys.iter().filter(|key| cache.get(key).is_some()).count();
        assert!(held <= 32 + SHARDS, "{held} entries held");
        std::thread::sleep(Duration::from_millis(30));
        assert!(keys.iter().all(|key| cache.get(key).is_none()));
    }
}
