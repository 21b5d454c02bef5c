//! `jac:scale/kvstore`: open stores as resources of the call, convert to and from
//! `kv`. `open` asks the app's grants first (`access-denied` without one);
//! a call holds at most [`MAX_OPEN_STORES`] stores at once (`quota-exceeded`). Each
//! operation on a store spends one of the app's `kvstore_ops_per_second`; each write is
//! counted against its `kvstore_mib` ([`BytesLedger`], one write of the app at a time
//! while that quota is set).

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Linker, Resource};

use super::quotas::{BytesLedger, KvOperations};
use super::{HasTableView, TableView};

use super::bindings::kvstore::{self as wit, Kind};
use super::bindings::types::Error as WitError;
use config::{Grants, Quota};
use host_error::HostError;
use kv::{self as kv, Change, KvResult, Store, TenantStores};

/// Stores one call may hold open at once.
pub const MAX_OPEN_STORES: usize = 32;

/// A write the `kvstore_mib` quota would refuse first counts the app's bytes again when
/// they were counted longer ago than this (values may have expired since; a failed
/// write's growth is kept until then).
const RECOUNT_AFTER: Duration = Duration::from_secs(10);

type Res<T> = wasmtime::Result<Result<T, WitError>>;

/// The kvstores of one app and its grants, opened at load; shared by all its calls.
#[derive(Debug, Clone)]
pub(crate) struct AppKv {
    grants: Arc<Grants>,
    stores: Arc<TenantStores>,
    /// `None` without a `kvstore_ops_per_second` quota.
    operations: Option<KvOperations>,
    /// `None` without a `kvstore_mib` quota.
    bytes: Option<BytesLedger>,
}

impl AppKv {
    /// The kvstores of the app of `config`: confined to the app's tenant, embedded ones in
    /// the data dir, servers from `[plugins.scale.database]` / `REDIS_URL` / `MONGODB_URI`.
    pub(crate) fn open(config: &config::Config, grants: Arc<Grants>) -> Result<Self, String> {
        let servers = kv::KvSettings {
            redis_url: config.database.redis_url.clone(),
            mongodb_uri: config.database.mongodb_uri.clone(),
        };
        let stores = TenantStores::open(&config.tenant, &config.data_dir, servers)
            .map_err(|e| e.to_string())?;
        Ok(AppKv {
            grants,
            stores: Arc::new(stores),
            operations: KvOperations::new(config.quotas.kvstore_ops_per_second),
            bytes: BytesLedger::new(Quota::KvstoreBytes, config.quotas.kvstore_bytes),
        })
    }
}

/// The kvstores of one call: the app's (`None` while a Jac app is built: nothing
/// granted), how many handles the call holds open and whether it asked for a change.
pub(crate) struct CallKv {
    app: Option<AppKv>,
    open: usize,
    changed: bool,
}

impl CallKv {
    pub(crate) fn new(app: Option<AppKv>) -> Self {
        CallKv {
            app,
            open: 0,
            changed: false,
        }
    }

    /// Whether the call asked a kvstore to change something (the runtime does not run
    /// such a call again).
    pub(crate) fn changed(&self) -> bool {
        self.changed
    }
}

/// Add `jac:scale/kvstore` to `linker`; `get` projects a store's data to the call's view.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> TableView<'_, CallKv>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasTableView<CallKv>>(linker, get)
}

/// A kvstore result as the guest sees it (every failure is typed, none traps).
fn answer<T>(result: Result<T, HostError>) -> Res<T> {
    Ok(result.map_err(WitError::from))
}

impl TableView<'_, CallKv> {
    /// A clone of the open store behind `handle` (a bad handle is a host fault), for one
    /// operation of the app's `kvstore_ops_per_second`.
    fn kvstore(&self, handle: &Resource<Store>) -> wasmtime::Result<Store> {
        let store = self.table.get(handle)?.clone();
        if let Some(operations) = self.call.app.as_ref().and_then(|a| a.operations.as_ref()) {
            operations.spend()?;
        }
        Ok(store)
    }

    /// [`Self::kvstore`] for an operation that changes the store: the call has an
    /// effect outside its graph changeset from now on (asked is as good as done).
    fn kvstore_to_change(&mut self, handle: &Resource<Store>) -> wasmtime::Result<Store> {
        self.call.changed = true;
        self.kvstore(handle)
    }

    /// The app's `kvstore_mib` ledger and its stores, with that quota set.
    fn kvstore_quota(&self) -> Option<KvstoreQuota> {
        let app = self.call.app.as_ref()?;
        Some((app.bytes.clone()?, app.stores.clone()))
    }

    async fn open_kvstore(
        &mut self,
        name: &str,
        kind: Kind,
        uri: Option<&str>,
    ) -> Result<Store, HostError> {
        let Some(app) = self
            .call
            .app
            .as_ref()
            .filter(|app| app.grants.allows_kvstore(name))
        else {
            return Err(HostError::AccessDenied(format!(
                "this app has no kvstore grant for {name:?} (jac.toml [plugins.scale.capabilities] kvstore)"
            )));
        };
        if self.call.open >= MAX_OPEN_STORES {
            return Err(HostError::QuotaExceeded(format!(
                "a call holds at most {MAX_OPEN_STORES} open kvstores"
            )));
        }
        let kind = match kind {
            Kind::Document => kv::Kind::Document,
            Kind::KeyValue => kv::Kind::KeyValue,
        };
        app.stores.store(name, kind, uri).await
    }
}

/// The app's `kvstore_mib` ledger and the stores it counts.
type KvstoreQuota = (BytesLedger, Arc<TenantStores>);

/// Run `op`, a write of `change` (found first), within the app's `kvstore_mib` `quota`
/// (none: unlimited): the call stops (a trap) when the write would take the app past it.
/// What the write made of the app's bytes is kept when it succeeded, and its growth when
/// it failed (it may have partly happened).
async fn within_kvstore_quota<T>(
    quota: Option<KvstoreQuota>,
    change: impl Future<Output = KvResult<Change>>,
    op: impl Future<Output = KvResult<T>>,
) -> Res<T> {
    let Some((ledger, stores)) = quota else {
        return answer(op.await);
    };
    let mut held = match ledger.hold(stores.servers(), stores.used_bytes()).await {
        Ok(held) => held,
        Err(e) => return answer(Err(e)),
    };
    let change = match change.await {
        Ok(change) => change,
        Err(e) => return answer(Err(e)),
    };
    if !held.fits(change.added, change.removed) && held.counted_before(RECOUNT_AFTER) {
        match stores.used_bytes().await {
            Ok(bytes) => held.recount(bytes),
            Err(e) => return answer(Err(e)),
        }
    }
    held.grow(change.added, change.removed)?;
    let done = op.await;
    held.settle(done.is_ok() || change.added > change.removed);
    answer(done)
}

impl wit::Host for TableView<'_, CallKv> {}

impl wit::HostStore for TableView<'_, CallKv> {
    async fn open(
        &mut self,
        name: String,
        kind: Kind,
        uri: Option<String>,
    ) -> Res<Resource<Store>> {
        match self.open_kvstore(&name, kind, uri.as_deref()).await {
            Ok(store) => {
                let handle = self.push_handle(store)?;
                self.call.open += usize::from(handle.is_ok());
                answer(handle)
            }
            Err(e) => answer(Err(e)),
        }
    }

    async fn get(
        &mut self,
        h: Resource<Store>,
        key: String,
        collection: Option<String>,
    ) -> Res<Option<String>> {
        answer(self.kvstore(&h)?.get(&key, collection.as_deref()).await)
    }

    async fn set(
        &mut self,
        h: Resource<Store>,
        key: String,
        value: String,
        collection: Option<String>,
    ) -> Res<()> {
        let (store, collection) = (self.kvstore_to_change(&h)?, collection.as_deref());
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_set(&key, &value, collection),
            store.set(&key, &value, collection),
        )
        .await
    }

    async fn delete(
        &mut self,
        h: Resource<Store>,
        key: String,
        collection: Option<String>,
    ) -> Res<bool> {
        let (store, collection) = (self.kvstore_to_change(&h)?, collection.as_deref());
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_delete(&key, collection),
            store.delete(&key, collection),
        )
        .await
    }

    async fn exists(
        &mut self,
        h: Resource<Store>,
        key: String,
        collection: Option<String>,
    ) -> Res<bool> {
        answer(self.kvstore(&h)?.exists(&key, collection.as_deref()).await)
    }

    async fn find_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
    ) -> Res<Option<String>> {
        answer(self.kvstore(&h)?.find_one(&collection, &filter).await)
    }

    async fn find(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        offset: u32,
        limit: u32,
    ) -> Res<Vec<String>> {
        answer(
            self.kvstore(&h)?
                .find(&collection, &filter, offset, limit)
                .await,
        )
    }

    async fn insert_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        document: String,
    ) -> Res<String> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_insert(std::slice::from_ref(&document)),
            store.insert_one(&collection, &document),
        )
        .await
    }

    async fn insert_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        documents: Vec<String>,
    ) -> Res<Vec<String>> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_insert(&documents),
            store.insert_many(&collection, &documents),
        )
        .await
    }

    async fn update_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        update: String,
    ) -> Res<u64> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_update(&collection, &filter, &update, false),
            store.update(&collection, &filter, &update, false),
        )
        .await
    }

    async fn update_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        update: String,
    ) -> Res<u64> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_update(&collection, &filter, &update, true),
            store.update(&collection, &filter, &update, true),
        )
        .await
    }

    async fn delete_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
    ) -> Res<u64> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_delete_matching(&collection, &filter, false),
            store.delete_matching(&collection, &filter, false),
        )
        .await
    }

    async fn delete_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
    ) -> Res<u64> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_delete_matching(&collection, &filter, true),
            store.delete_matching(&collection, &filter, true),
        )
        .await
    }

    async fn find_by_id(
        &mut self,
        h: Resource<Store>,
        collection: String,
        id: String,
    ) -> Res<Option<String>> {
        answer(self.kvstore(&h)?.find_by_id(&collection, &id).await)
    }

    async fn update_by_id(
        &mut self,
        h: Resource<Store>,
        collection: String,
        id: String,
        update: String,
    ) -> Res<bool> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_update_by_id(&collection, &id, &update),
            store.update_by_id(&collection, &id, &update),
        )
        .await
    }

    async fn delete_by_id(
        &mut self,
        h: Resource<Store>,
        collection: String,
        id: String,
    ) -> Res<bool> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_delete_by_id(&collection, &id),
            store.delete_by_id(&collection, &id),
        )
        .await
    }

    async fn set_with_ttl(
        &mut self,
        h: Resource<Store>,
        key: String,
        value: String,
        ttl_seconds: u64,
    ) -> Res<()> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_set_with_ttl(&key, &value),
            store.set_with_ttl(&key, &value, ttl_seconds),
        )
        .await
    }

    async fn expire(&mut self, h: Resource<Store>, key: String, ttl_seconds: u64) -> Res<bool> {
        answer(self.kvstore_to_change(&h)?.expire(&key, ttl_seconds).await)
    }

    async fn incr(&mut self, h: Resource<Store>, key: String, by: i64) -> Res<i64> {
        let store = self.kvstore_to_change(&h)?;
        within_kvstore_quota(
            self.kvstore_quota(),
            store.change_of_incr(&key, by),
            store.incr(&key, by),
        )
        .await
    }

    async fn scan_keys(
        &mut self,
        h: Resource<Store>,
        pattern: String,
        offset: u32,
        limit: u32,
    ) -> Res<Vec<String>> {
        answer(self.kvstore(&h)?.scan_keys(&pattern, offset, limit).await)
    }

    async fn drop(&mut self, h: Resource<Store>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        self.call.open = self.call.open.saturating_sub(1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The kvstore capability alone, on the embedded store: no wasm, no other capability.

    use super::*;
    use wasmtime::component::ResourceTable;
    use wit::HostStore;

    fn app(dir: &std::path::Path, granted: &[&str]) -> AppKv {
        let names = granted.iter().map(|n| n.to_string()).collect();
        AppKv {
            grants: Arc::new(Grants::declared(Some(names), None)),
            stores: Arc::new(TenantStores::open("t", dir, kv::KvSettings::default()).unwrap()),
            operations: None,
            bytes: None,
        }
    }

    async fn open(
        view: &mut TableView<'_, CallKv>,
        name: &str,
    ) -> Result<Resource<Store>, WitError> {
        view.open(name.into(), Kind::KeyValue, None).await.unwrap()
    }

    #[tokio::test]
    async fn open_needs_a_grant_and_an_app() {
        let dir = tempfile::tempdir().unwrap();
        let mut table = ResourceTable::new();
        let mut call = CallKv::new(Some(app(dir.path(), &["cache"])));
        let mut view = TableView::new(&mut call, &mut table);
        assert!(matches!(
            open(&mut view, "other").await,
            Err(WitError::AccessDenied(_))
        ));
        let store = open(&mut view, "cache").await.unwrap();
        view.set(store, "k".into(), "1".into(), None)
            .await
            .unwrap()
            .unwrap();

        // While a Jac app is built nothing is granted.
        let mut call = CallKv::new(None);
        assert!(matches!(
            open(&mut TableView::new(&mut call, &mut table), "cache").await,
            Err(WitError::AccessDenied(_))
        ));
    }

    #[tokio::test]
    async fn a_call_holds_a_bounded_number_of_stores() {
        let dir = tempfile::tempdir().unwrap();
        let mut table = ResourceTable::new();
        let mut call = CallKv::new(Some(app(dir.path(), &["cache"])));
        let mut view = TableView::new(&mut call, &mut table);
        let mut handles = Vec::new();
        for _ in 0..MAX_OPEN_STORES {
            handles.push(open(&mut view, "cache").await.unwrap());
        }
        assert!(matches!(
            open(&mut view, "cache").await,
            Err(WitError::QuotaExceeded(_))
        ));
        HostStore::drop(&mut view, handles.pop().unwrap())
            .await
            .unwrap();
        open(&mut view, "cache").await.unwrap();
    }

    #[tokio::test]
    async fn writes_past_the_kvstore_mib_quota_stop_the_call_until_a_delete_makes_room() {
        let dir = tempfile::tempdir().unwrap();
        // 100 bytes: one entry of 53 (key and value) fits, two do not.
        let with_quota = || AppKv {
            bytes: BytesLedger::new(Quota::KvstoreBytes, 100),
            ..app(dir.path(), &["cache"])
        };
        let value = format!("\"{}\"", "x".repeat(50));
        let mut table = ResourceTable::new();
        let mut call = CallKv::new(Some(with_quota()));
        let mut view = TableView::new(&mut call, &mut table);
        let store = open(&mut view, "cache").await.unwrap();
        let h = || Resource::<Store>::new_borrow(store.rep());
        for _ in 0..2 {
            // Replacing a value counts only what it adds.
            view.set(h(), "a".into(), value.clone(), None)
                .await
                .unwrap()
                .unwrap();
        }
        let refused = |trap: wasmtime::Error| {
            let quota = trap.downcast_ref::<crate::QuotaExceeded>().map(|q| q.quota);
            assert_eq!(quota, Some(Quota::KvstoreBytes), "{trap}");
        };
        refused(
            view.set(h(), "b".into(), value.clone(), None)
                .await
                .unwrap_err(),
        );
        assert_eq!(
            view.get(h(), "b".into(), None).await.unwrap().unwrap(),
            None
        );

        // Another start of the app counts what its stores hold.
        let mut call = CallKv::new(Some(with_quota()));
        let mut view = TableView::new(&mut call, &mut table);
        refused(
            view.set(h(), "b".into(), value.clone(), None)
                .await
                .unwrap_err(),
        );
        assert!(view.delete(h(), "a".into(), None).await.unwrap().unwrap());
        view.set(h(), "b".into(), value.clone(), None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(view.incr(h(), "n".into(), 1).await.unwrap().unwrap(), 1);
    }
}
