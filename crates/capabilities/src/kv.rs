//! `jac:scale/kvstore`: open stores as resources of the call, convert to and from
//! `kv`. `open` asks the app's grants first (`access-denied` without one);
//! a call holds at most [`MAX_OPEN_STORES`] stores at once (`quota-exceeded`). Each
//! operation on a store spends one of the app's `kvstore_ops_per_second`.

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::quotas::KvOperations;
use super::{HasTableView, TableView};

use super::bindings::kvstore::{self as wit, Kind};
use super::bindings::types::Error as WitError;
use config::Grants;
use host_error::HostError;
use kv::{self as kv, Store, TenantStores};

/// Stores one call may hold open at once.
pub const MAX_OPEN_STORES: usize = 32;

type Res<T> = wasmtime::Result<Result<T, WitError>>;

/// The kvstores of one app and its grants, opened at load; shared by all its calls.
#[derive(Debug, Clone)]
pub(crate) struct AppKv {
    grants: Arc<Grants>,
    stores: Arc<TenantStores>,
    /// `None` without a `kvstore_ops_per_second` quota.
    operations: Option<KvOperations>,
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
                let handle = self.table.push(store)?;
                self.call.open += 1;
                Ok(Ok(handle))
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
        answer(
            self.kvstore_to_change(&h)?
                .set(&key, &value, collection.as_deref())
                .await,
        )
    }

    async fn delete(
        &mut self,
        h: Resource<Store>,
        key: String,
        collection: Option<String>,
    ) -> Res<bool> {
        answer(
            self.kvstore_to_change(&h)?
                .delete(&key, collection.as_deref())
                .await,
        )
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
        answer(
            self.kvstore_to_change(&h)?
                .insert_one(&collection, &document)
                .await,
        )
    }

    async fn insert_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        documents: Vec<String>,
    ) -> Res<Vec<String>> {
        answer(
            self.kvstore_to_change(&h)?
                .insert_many(&collection, &documents)
                .await,
        )
    }

    async fn update_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        update: String,
    ) -> Res<u64> {
        answer(
            self.kvstore_to_change(&h)?
                .update(&collection, &filter, &update, false)
                .await,
        )
    }

    async fn update_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        update: String,
    ) -> Res<u64> {
        answer(
            self.kvstore_to_change(&h)?
                .update(&collection, &filter, &update, true)
                .await,
        )
    }

    async fn delete_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
    ) -> Res<u64> {
        answer(
            self.kvstore_to_change(&h)?
                .delete_matching(&collection, &filter, false)
                .await,
        )
    }

    async fn delete_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
    ) -> Res<u64> {
        answer(
            self.kvstore_to_change(&h)?
                .delete_matching(&collection, &filter, true)
                .await,
        )
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
        answer(
            self.kvstore_to_change(&h)?
                .update_by_id(&collection, &id, &update)
                .await,
        )
    }

    async fn delete_by_id(
        &mut self,
        h: Resource<Store>,
        collection: String,
        id: String,
    ) -> Res<bool> {
        answer(
            self.kvstore_to_change(&h)?
                .delete_by_id(&collection, &id)
                .await,
        )
    }

    async fn set_with_ttl(
        &mut self,
        h: Resource<Store>,
        key: String,
        value: String,
        ttl_seconds: u64,
    ) -> Res<()> {
        answer(
            self.kvstore_to_change(&h)?
                .set_with_ttl(&key, &value, ttl_seconds)
                .await,
        )
    }

    async fn expire(&mut self, h: Resource<Store>, key: String, ttl_seconds: u64) -> Res<bool> {
        answer(self.kvstore_to_change(&h)?.expire(&key, ttl_seconds).await)
    }

    async fn incr(&mut self, h: Resource<Store>, key: String, by: i64) -> Res<i64> {
        answer(self.kvstore_to_change(&h)?.incr(&key, by).await)
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
}
