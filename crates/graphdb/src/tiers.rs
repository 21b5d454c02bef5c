//! Picks the stores a server runs on from its settings, and says which at start.

use std::path::Path;
use std::sync::Arc;

use super::cache::{CacheSettings, CachedStore};
use super::records::AnchorRecords;
use super::sqlite::SqliteStore;
use auth::UserStore;
use auth::api_keys::ApiKeyStore;
use config::DatabaseSettings;
use graph::store::{GraphStore, StoreError};

/// The stores of one server: the graph (possibly behind the cache tier), users, API keys.
pub struct Stores {
    pub graph: Arc<dyn GraphStore>,
    pub users: Arc<dyn UserStore>,
    pub api_keys: Arc<dyn ApiKeyStore>,
}

/// Opens the store of record (MongoDB with `mongodb_uri`, else SQLite `jac.db` in
/// `data_dir`) and, with `redis_url`, wraps the graph in the cache tier. Logs one line
/// per active tier.
pub fn open(data_dir: &Path, settings: &DatabaseSettings) -> Result<Stores, StoreError> {
    if let Some(uri) = &settings.mongodb_uri {
        return open_mongo(uri, settings);
    }
    let path = data_dir.join("jac.db");
    let store = Arc::new(SqliteStore::open(&path)?);
    tracing::info!(path = %path.display(), "store of record: embedded SQLite");
    Ok(Stores {
        graph: with_cache(Arc::clone(&store), settings)?,
        users: store.clone(),
        api_keys: store,
    })
}

/// MongoDB at `uri` as the store of record.
#[cfg(feature = "mongo")]
fn open_mongo(uri: &str, settings: &DatabaseSettings) -> Result<Stores, StoreError> {
    let store = Arc::new(super::mongo::MongoStore::connect(
        uri,
        &settings.mongodb_database,
    )?);
    tracing::info!(database = %settings.mongodb_database, "store of record: MongoDB");
    Ok(Stores {
        graph: with_cache(Arc::clone(&store), settings)?,
        users: store.clone(),
        api_keys: store,
    })
}

/// Without the `mongo` feature a MongoDB URI is refused at start, never ignored.
#[cfg(not(feature = "mongo"))]
fn open_mongo(_uri: &str, _settings: &DatabaseSettings) -> Result<Stores, StoreError> {
    Err(StoreError::Backend(
        "MONGODB_URI is set, but this jac-scale was built without MongoDB support (cargo feature `mongo`)".into(),
    ))
}

/// `store`, behind the cache tier when Redis is configured.
fn with_cache<S: GraphStore + AnchorRecords + 'static>(
    store: Arc<S>,
    settings: &DatabaseSettings,
) -> Result<Arc<dyn GraphStore>, StoreError> {
    let Some(redis_url) = &settings.redis_url else {
        tracing::info!("cache tier: off (no REDIS_URL)");
        return Ok(store);
    };
    let cache = CacheSettings {
        redis_url: redis_url.clone(),
        ttl: settings.cache_ttl,
        local_ttl: settings.local_cache_ttl,
        local_capacity: settings.local_cache_capacity,
    };
    let cached = CachedStore::new(store, &cache)?;
    tracing::info!(
        l1_capacity = cache.local_capacity,
        l1_ttl_s = cache.local_ttl.as_secs(),
        l2_ttl_s = cache.ttl.as_secs(),
        "cache tier: L1 process memory + L2 Redis, invalidated on commit and through pub/sub"
    );
    Ok(Arc::new(cached))
}
