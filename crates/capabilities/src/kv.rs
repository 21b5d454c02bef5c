//! `jac:scale/kvstore`: open stores as resources of the call, convert to and from
//! `kv`. `open` asks the app's grants first (`access-denied` without one);
//! a call holds at most [`MAX_OPEN_STORES`] stores at once (`quota-exceeded`). Each
//! operation spends one of the app's `kvstore_ops_per_second` (`crate::quotas`).

use std::sync::Arc;

use wasmtime::component::{HasSelf, Linker, Resource};

use super::bindings::kvstore::{self as wit, Kind};
use super::bindings::types::Error as WitError;
use super::{Capability, HostState};
use kv::{self as kv, KvError, Store};

/// Stores one call may hold open at once.
pub const MAX_OPEN_STORES: usize = 32;

type Res<T> = wasmtime::Result<Result<T, WitError>>;

pub(super) fn link(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wit::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s.counted(Capability::Kvstore))
}

/// A kvstore result as the guest sees it (every failure is typed, none traps).
fn answer<T>(result: Result<T, KvError>) -> Res<T> {
    Ok(result.map_err(WitError::from))
}

impl HostState {
    /// A clone of the open store behind `handle` (a bad handle is a host fault), for one
    /// operation of the app's `kvstore_ops_per_second`.
    fn kvstore(&mut self, handle: &Resource<Store>) -> wasmtime::Result<Store> {
        let store = self.table.get(handle)?.clone();
        self.spend_kvstore_operation()?;
        Ok(store)
    }

    async fn open_kvstore(
        &mut self,
        name: &str,
        kind: Kind,
        uri: Option<&str>,
    ) -> Result<Store, KvError> {
        if !self.may_open_kvstore(name) {
            return Err(KvError::AccessDenied(format!(
                "this app has no kvstore grant for {name:?} (jac.toml [plugins.scale.capabilities] kvstore)"
            )));
        }
        if self.open_kvstores >= MAX_OPEN_STORES {
            return Err(KvError::QuotaExceeded(format!(
                "a call holds at most {MAX_OPEN_STORES} open kvstores"
            )));
        }
        let Some(stores) = self.context.as_ref().map(|c| c.kvstore.clone()) else {
            return Err(KvError::Unavailable(
                "kvstore is not available while the app is built".into(),
            ));
        };
        let kind = match kind {
            Kind::Document => kv::Kind::Document,
            Kind::KeyValue => kv::Kind::KeyValue,
        };
        stores.store(name, kind, uri).await
    }
}

/// The kvstores of the app of `config`: confined to the app's tenant, embedded ones in
/// the data dir, servers from `[plugins.scale.database]` / `REDIS_URL` / `MONGODB_URI`.
pub(super) fn open_for_app(config: &config::Config) -> Result<Arc<kv::TenantStores>, String> {
    let servers = kv::KvSettings {
        redis_url: config.database.redis_url.clone(),
        mongodb_uri: config.database.mongodb_uri.clone(),
    };
    kv::TenantStores::open(&config.tenant, &config.data_dir, servers)
        .map(Arc::new)
        .map_err(|e| e.to_string())
}

impl wit::Host for HostState {}

impl wit::HostStore for HostState {
    async fn open(
        &mut self,
        name: String,
        kind: Kind,
        uri: Option<String>,
    ) -> Res<Resource<Store>> {
        match self.open_kvstore(&name, kind, uri.as_deref()).await {
            Ok(store) => {
                let handle = self.table.push(store)?;
                self.open_kvstores += 1;
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
            self.kvstore(&h)?
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
        answer(self.kvstore(&h)?.delete(&key, collection.as_deref()).await)
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
        answer(self.kvstore(&h)?.insert_one(&collection, &document).await)
    }

    async fn insert_many(
        &mut self,
        h: Resource<Store>,
        collection: String,
        documents: Vec<String>,
    ) -> Res<Vec<String>> {
        answer(self.kvstore(&h)?.insert_many(&collection, &documents).await)
    }

    async fn update_one(
        &mut self,
        h: Resource<Store>,
        collection: String,
        filter: String,
        update: String,
    ) -> Res<u64> {
        answer(
            self.kvstore(&h)?
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
            self.kvstore(&h)?
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
            self.kvstore(&h)?
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
            self.kvstore(&h)?
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
            self.kvstore(&h)?
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
        answer(self.kvstore(&h)?.delete_by_id(&collection, &id).await)
    }

    async fn set_with_ttl(
        &mut self,
        h: Resource<Store>,
        key: String,
        value: String,
        ttl_seconds: u64,
    ) -> Res<()> {
        answer(
            self.kvstore(&h)?
                .set_with_ttl(&key, &value, ttl_seconds)
                .await,
        )
    }

    async fn expire(&mut self, h: Resource<Store>, key: String, ttl_seconds: u64) -> Res<bool> {
        answer(self.kvstore(&h)?.expire(&key, ttl_seconds).await)
    }

    async fn incr(&mut self, h: Resource<Store>, key: String, by: i64) -> Res<i64> {
        answer(self.kvstore(&h)?.incr(&key, by).await)
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
        self.open_kvstores = self.open_kvstores.saturating_sub(1);
        Ok(())
    }
}
