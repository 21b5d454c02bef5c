//! The cache tier: any [`GraphStore`] that can read [`AnchorRecords`], wrapped with an
//! in-process L1 and a Redis L2 (the memory hierarchy's L1 and L2; the wrapped store is
//! the source of truth).
//!
//! Reads go L1 -> L2 -> store and fill the tiers they missed; answers are computed from
//! the records by `view`, exactly as the store computes them. A commit goes to the store
//! first; then the keys it touched are invalidated in Redis (counts bumped, values
//! deleted, keys published) and in this process's L1, before the call returns. Other
//! processes drop the published keys from their L1 when the message arrives (a local
//! Redis delivers it in well under a millisecond); a process that cannot hear the channel
//! turns its L1 off. Both tiers expire entries after their TTL whatever happens.
//!
//! What is cached: node and edge records (with every access entry, so one entry serves
//! every viewer) and each node's complete adjacency list up to [`MAX_CACHED_ADJACENCY`]
//! rows. Root listings, the guest root and users go straight to the store.

mod codec;
mod keys;
mod local;
mod remote;
mod subscriber;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Duration;

use keys::{CacheKey, Namespace};
use local::{Cached, LocalCache};
use remote::{Fill, RemoteCache};
use subscriber::Tiers;

use super::records::{AdjacencyRow, AnchorRecords, EdgeRecord, NodeRecord};
use super::view;
use graph::store::{
    AdjacencyQuery, AdjacencyTally, AnchorKind, CacheCounts, Changeset, GraphStore, NodeInsert,
    StoreError, StoredEdge, StoredNeighbor, StoredNode,
};
use graph::{AccessFacts, Id};

/// Longest adjacency list cached; longer lists are paged from the store.
pub const MAX_CACHED_ADJACENCY: u32 = 4096;
/// How long start-up waits for the invalidation channel before going on without L1.
const FIRST_SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(3);

/// How the cache tier is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheSettings {
    /// `redis://...` of the L2 tier and the invalidation channel.
    pub redis_url: String,
    /// Lifetime of an L2 entry.
    pub ttl: Duration,
    /// Lifetime of an L1 entry.
    pub local_ttl: Duration,
    /// Most L1 entries (anchors and adjacency lists).
    pub local_capacity: usize,
}

/// Lookups by tier and outcome since the store opened.
#[derive(Default)]
pub(super) struct Counts {
    l1_hits: AtomicU64,
    l1_misses: AtomicU64,
    l2_hits: AtomicU64,
    l2_misses: AtomicU64,
}

impl Counts {
    fn add(&self, counter: &AtomicU64, n: usize) {
        counter.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn read(&self) -> CacheCounts {
        CacheCounts {
            l1_hits: self.l1_hits.load(Ordering::Relaxed),
            l1_misses: self.l1_misses.load(Ordering::Relaxed),
            l2_hits: self.l2_hits.load(Ordering::Relaxed),
            l2_misses: self.l2_misses.load(Ordering::Relaxed),
        }
    }
}

/// A graph store behind the L1 and L2 tiers.
pub struct CachedStore<S> {
    inner: Arc<S>,
    tiers: Arc<Tiers>,
}

impl<S: GraphStore + AnchorRecords> CachedStore<S> {
    /// Wraps `inner`. Start-up goes on (reading through to `inner`) when Redis is not
    /// reachable yet; the tiers join when it is.
    pub fn new(inner: Arc<S>, settings: &CacheSettings) -> Result<Self, StoreError> {
        let client = redis::Client::open(settings.redis_url.as_str())
            .map_err(|error| StoreError::Backend(Box::new(error)))?;
        let namespace = Namespace::new(&inner.store_id()?);
        let tiers = Arc::new(Tiers {
            local: LocalCache::new(settings.local_capacity, settings.local_ttl),
            remote: RemoteCache::new(client, namespace, settings.ttl),
            counts: Counts::default(),
        });
        let (ready, subscribed) = sync_channel(1);
        subscriber::start(&tiers, ready).map_err(|error| StoreError::Backend(error.into()))?;
        if subscribed.recv_timeout(FIRST_SUBSCRIBE_TIMEOUT).is_err() {
            tracing::warn!("Redis is not reachable yet; reading through to the store until it is");
        }
        Ok(Self { inner, tiers })
    }

    /// The cached values of `keys`, in order: L1, then L2, then `load` with the positions
    /// still missing (answering in that order). Every tier that missed is filled.
    fn lookup(
        &self,
        keys: &[CacheKey],
        load: impl FnOnce(&[usize]) -> Result<Vec<Option<Cached>>, StoreError>,
    ) -> Result<Vec<Option<Cached>>, StoreError> {
        let Tiers {
            local,
            remote,
            counts,
        } = &*self.tiers;
        let mark = local.mark();
        let mut found: Vec<Option<Cached>> = keys.iter().map(|key| local.get(key)).collect();
        let mut missing: Vec<usize> = (0..keys.len()).filter(|&i| found[i].is_none()).collect();
        counts.add(&counts.l1_hits, keys.len() - missing.len());
        counts.add(&counts.l1_misses, missing.len());
        if missing.is_empty() {
            return Ok(found);
        }
        let mut versions = None;
        if remote.usable() {
            let wanted: Vec<CacheKey> = missing.iter().map(|&i| keys[i]).collect();
            if let Some(lookups) = remote.get(&wanted) {
                let mut still = Vec::new();
                let mut still_versions = Vec::new();
                for (i, lookup) in missing.into_iter().zip(lookups) {
                    let hit = lookup
                        .value
                        .and_then(|bytes| codec::decode(&keys[i], &bytes));
                    if let Some(value) = hit {
                        local.fill(keys[i], value.clone(), mark);
                        found[i] = Some(value);
                    } else {
                        still.push(i);
                        still_versions.push(lookup.version);
                    }
                }
                counts.add(&counts.l2_hits, wanted.len() - still.len());
                missing = still;
                versions = Some(still_versions);
            }
        }
        // What L2 did not answer (also when Redis is unreachable) is read from the store.
        counts.add(&counts.l2_misses, missing.len());
        if missing.is_empty() {
            return Ok(found);
        }
        let loaded = load(&missing)?;
        let mut fills = Vec::new();
        for (n, (i, value)) in missing.into_iter().zip(loaded).enumerate() {
            let Some(value) = value else { continue };
            if let Some(versions) = &mut versions {
                fills.push(Fill {
                    key: keys[i],
                    bytes: codec::encode(&value),
                    version: versions[n].take(),
                });
            }
            local.fill(keys[i], value.clone(), mark);
            found[i] = Some(value);
        }
        remote.fill(&fills);
        Ok(found)
    }

    /// A node's whole adjacency list, if short enough to cache.
    fn full_adjacency(&self, node: Id) -> Result<Option<Arc<Vec<AdjacencyRow>>>, StoreError> {
        let found = self.lookup(&[CacheKey::Adjacency(node)], |_| {
            let rows = self.inner.adjacency(node, 0, MAX_CACHED_ADJACENCY + 1)?;
            let complete = rows.len() <= MAX_CACHED_ADJACENCY as usize;
            Ok(vec![Some(Cached::Adjacency(
                complete.then(|| Arc::new(rows)),
            ))])
        })?;
        Ok(match found.into_iter().next().flatten() {
            Some(Cached::Adjacency(rows)) => rows,
            _ => None,
        })
    }

    /// Every key a changeset makes stale. Reads the store for what a deletion cascades to,
    /// so it runs before the changeset is applied.
    fn stale_keys(&self, changes: &Changeset) -> Result<HashSet<CacheKey>, StoreError> {
        let mut keys = HashSet::new();
        for edge in &changes.new_edges {
            keys.insert(CacheKey::Adjacency(edge.source));
            keys.insert(CacheKey::Adjacency(edge.target));
        }
        keys.extend(changes.node_updates.iter().map(|u| CacheKey::Node(u.id)));
        keys.extend(changes.edge_updates.iter().map(|u| CacheKey::Edge(u.id)));
        keys.extend(changes.access_updates.iter().map(|u| match u.kind {
            AnchorKind::Node => CacheKey::Node(u.anchor),
            AnchorKind::Edge => CacheKey::Edge(u.anchor),
        }));
        for edge in self
            .inner
            .edge_records(&changes.deleted_edges)?
            .iter()
            .flatten()
        {
            keys.insert(CacheKey::Adjacency(edge.source));
            keys.insert(CacheKey::Adjacency(edge.target));
        }
        keys.extend(changes.deleted_edges.iter().map(|&id| CacheKey::Edge(id)));
        for &node in &changes.deleted_nodes {
            keys.insert(CacheKey::Node(node));
            keys.insert(CacheKey::Adjacency(node));
            for row in self.inner.adjacency(node, 0, u32::MAX)? {
                keys.insert(CacheKey::Edge(row.edge));
                keys.insert(CacheKey::Adjacency(row.other));
            }
        }
        Ok(keys)
    }
}

impl<S: GraphStore + AnchorRecords> AnchorRecords for CachedStore<S> {
    fn store_id(&self) -> Result<String, StoreError> {
        self.inner.store_id()
    }

    fn node_records(&self, ids: &[Id]) -> Result<Vec<Option<NodeRecord>>, StoreError> {
        let keys: Vec<CacheKey> = ids.iter().map(|&id| CacheKey::Node(id)).collect();
        let found = self.lookup(&keys, |missing| {
            let wanted: Vec<Id> = missing.iter().map(|&i| ids[i]).collect();
            let records = self.inner.node_records(&wanted)?;
            Ok(records
                .into_iter()
                .map(|record| record.map(|r| Cached::Node(Arc::new(r))))
                .collect())
        })?;
        Ok(found
            .into_iter()
            .map(|value| match value {
                Some(Cached::Node(node)) => Some(Arc::unwrap_or_clone(node)),
                _ => None,
            })
            .collect())
    }

    fn edge_records(&self, ids: &[Id]) -> Result<Vec<Option<EdgeRecord>>, StoreError> {
        let keys: Vec<CacheKey> = ids.iter().map(|&id| CacheKey::Edge(id)).collect();
        let found = self.lookup(&keys, |missing| {
            let wanted: Vec<Id> = missing.iter().map(|&i| ids[i]).collect();
            let records = self.inner.edge_records(&wanted)?;
            Ok(records
                .into_iter()
                .map(|record| record.map(|r| Cached::Edge(Arc::new(r))))
                .collect())
        })?;
        Ok(found
            .into_iter()
            .map(|value| match value {
                Some(Cached::Edge(edge)) => Some(Arc::unwrap_or_clone(edge)),
                _ => None,
            })
            .collect())
    }

    fn adjacency(&self, node: Id, after: u64, limit: u32) -> Result<Vec<AdjacencyRow>, StoreError> {
        let Some(rows) = self.full_adjacency(node)? else {
            return self.inner.adjacency(node, after, limit);
        };
        let start = rows.partition_point(|row| row.seq <= after);
        Ok(rows[start..].iter().take(limit as usize).copied().collect())
    }
}

impl<S: GraphStore + AnchorRecords> GraphStore for CachedStore<S> {
    fn cache_counts(&self) -> Option<CacheCounts> {
        Some(self.tiers.counts.read())
    }

    fn ensure_guest_root(&self, candidate: &NodeInsert) -> Result<Id, StoreError> {
        self.inner.ensure_guest_root(candidate)
    }

    fn node(&self, id: Id, viewer: Id) -> Result<Option<StoredNode>, StoreError> {
        view::node(self, id, viewer)
    }

    fn node_access(&self, id: Id, viewer: Id) -> Result<Option<AccessFacts>, StoreError> {
        view::node_access(self, id, viewer)
    }

    fn edge(&self, id: Id, viewer: Id) -> Result<Option<StoredEdge>, StoreError> {
        view::edge(self, id, viewer)
    }

    fn neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<Vec<StoredNeighbor>, StoreError> {
        view::neighbors(self, query)
    }

    /// Counted by the store of record, which keeps what a count needs (the tiers cache
    /// anchors and short adjacency lists, not counts).
    fn count_neighbors(&self, query: &AdjacencyQuery<'_>) -> Result<AdjacencyTally, StoreError> {
        self.inner.count_neighbors(query)
    }

    fn roots(
        &self,
        viewer: Id,
        after: Option<Id>,
        limit: u32,
    ) -> Result<Vec<StoredNode>, StoreError> {
        self.inner.roots(viewer, after, limit)
    }

    /// Commits to the store, then invalidates L2 (for every process) and L1, in that
    /// order: a read that starts after L1 dropped a key finds L2 dropped too.
    fn apply(&self, changes: Changeset) -> Result<(), StoreError> {
        let stale: Vec<CacheKey> = self.stale_keys(&changes)?.into_iter().collect();
        let result = self.inner.apply(changes);
        self.tiers.remote.invalidate(&stale);
        self.tiers.local.invalidate(&stale);
        result
    }
}

#[cfg(test)]
mod tests {
    //! The shared store contract on the cache tier over SQLite, with a real Redis the
    //! tests start (each test's database has its own id, so its own Redis namespace).

    use super::*;
    use crate::contract::{TestData, graph_contract};
    use crate::sqlite::SqliteStore;
    use graph::Direction;
    use graph::store::{AccessSpec, EdgeInsert};

    struct Data(tempfile::TempDir);

    impl TestData for Data {
        type Store = CachedStore<SqliteStore>;
        fn handle(&self) -> Arc<Self::Store> {
            let inner = Arc::new(SqliteStore::open(&self.0.path().join("jac.db")).unwrap());
            let settings = CacheSettings {
                redis_url: test_services::redis_url(),
                ttl: Duration::from_secs(60),
                local_ttl: Duration::from_secs(60),
                local_capacity: 10_000,
            };
            Arc::new(CachedStore::new(inner, &settings).unwrap())
        }
    }

    fn fresh() -> Data {
        // Start the shared Redis now, not in the middle of a case.
        test_services::redis_url();
        Data(tempfile::tempdir().unwrap())
    }

    graph_contract!(fresh);

    /// Deletes a node's row behind the cache's back (as if the store changed without it).
    fn delete_row_directly(data: &Data, id: Id) {
        let conn = rusqlite::Connection::open(data.0.path().join("jac.db")).unwrap();
        conn.execute("DELETE FROM nodes WHERE id = ?1", [id.to_bytes()])
            .unwrap();
    }

    fn todo_of(owner: Id, id: Id) -> NodeInsert {
        NodeInsert {
            id,
            archetype: "Todo".into(),
            fields: "{}".into(),
            owner,
            access: AccessSpec::default(),
        }
    }

    #[test]
    fn reads_are_served_by_l1_then_l2_and_a_commit_drops_both() {
        let data = fresh();
        let (first, second) = (data.handle(), data.handle());
        let (owner, child) = (Id::generate(), Id::generate());
        let mut root = todo_of(owner, owner);
        root.archetype = "Root".into();
        first
            .apply(Changeset {
                new_nodes: vec![root, todo_of(owner, child)],
                new_edges: vec![EdgeInsert {
                    id: Id::generate(),
                    archetype: "Has".into(),
                    fields: "{}".into(),
                    owner,
                    source: owner,
                    target: child,
                    undirected: false,
                    access: AccessSpec::default(),
                }],
                ..Changeset::default()
            })
            .unwrap();
        assert!(first.node(child, owner).unwrap().is_some());
        delete_row_directly(&data, child);
        // L1 of the first handle, then L2 for the second (its L1 is empty).
        assert!(first.node(child, owner).unwrap().is_some());
        assert!(second.node(child, owner).unwrap().is_some());
        // A commit touching the node invalidates it everywhere; the store says it is gone.
        let result = first.apply(Changeset {
            node_updates: vec![graph::store::FieldsUpdate {
                id: child,
                fields: "{}".into(),
            }],
            ..Changeset::default()
        });
        assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
        assert!(first.node(child, owner).unwrap().is_none());
        let deadline = std::time::Instant::now() + Duration::from_secs(2);
        while second.node(child, owner).unwrap().is_some() {
            assert!(
                std::time::Instant::now() < deadline,
                "L1 of the second handle kept it"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let neighbours = first
            .neighbors(&AdjacencyQuery {
                origin: owner,
                viewer: owner,
                direction: Direction::Outgoing,
                edge_types: &[],
                node_types: &[],
                after: 0,
                limit: 10,
            })
            .unwrap();
        assert!(
            neighbours.is_empty(),
            "a neighbour whose node is gone is skipped"
        );
    }
}
