//! Document stores on MongoDB (`mongodb` driver, async). Database `jac_scale_kvstore`;
//! each app's collection is `<tenant>:<store>:<collection>`. Filters and updates are
//! checked by [`super::query`] first and sent to the server as the same JSON, so both
//! backends accept one language. Insertion order is the server's natural order.
//!
//! The contract suite in `contract.rs` runs against a real server the tests start.
//! Differences from the embedded store: `insert-many` is ordered but not atomic (a
//! duplicate `_id` stops it after the documents before it), and `update-many` with a
//! replacement document is `invalid` (MongoDB replaces one document at a time).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mongodb::bson::{self, Bson, Document, doc};
use mongodb::options::{Acknowledgment, ClientOptions, WriteConcern};
use mongodb::{Client, Collection};
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use super::{DocumentStore, Filter, KvResult, Scope, Update};
use host_error::HostError;

/// The database holding every app's kvstore collections.
const DATABASE: &str = "jac_scale_kvstore";
/// How long an operation waits for a reachable server, and a connection for its
/// handshake, unless the URI says otherwise (the driver waits 30 s): while MongoDB is
/// down, a kvstore call answers `unavailable` after about this long.
const SERVER_WAIT: Duration = Duration::from_secs(2);

/// One MongoDB deployment; the client is made on first use and shared.
#[derive(Clone)]
pub struct MongoServer {
    uri: String,
    client: Arc<OnceCell<Client>>,
}

fn failed(e: mongodb::error::Error) -> HostError {
    if e.to_string().contains("E11000") {
        return HostError::Conflict("a document with this _id already exists".into());
    }
    super::unavailable("mongodb", e)
}

fn to_bson(value: &Value) -> KvResult<Document> {
    bson::to_document(value).map_err(|e| HostError::Invalid(format!("not a BSON document: {e}")))
}

fn from_bson(doc: Document) -> Map<String, Value> {
    match Bson::Document(doc).into_relaxed_extjson() {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl MongoServer {
    /// A client for `uri` (connected on first use).
    pub fn new(uri: &str) -> KvResult<MongoServer> {
        Ok(MongoServer {
            uri: uri.to_string(),
            client: Arc::default(),
        })
    }

    /// The client of this deployment, made on first use.
    async fn client(&self) -> KvResult<Client> {
        let client = self
            .client
            .get_or_try_init(|| async {
                let mut options = ClientOptions::parse(&self.uri).await.map_err(failed)?;
                options.server_selection_timeout.get_or_insert(SERVER_WAIT);
                options.connect_timeout.get_or_insert(SERVER_WAIT);
                // Unless the URI sets one: acknowledged once in a majority's journal, as
                // the graph's commits are (graphdb `mongo`), so no acked write is lost.
                options.write_concern.get_or_insert_with(|| {
                    WriteConcern::builder()
                        .w(Acknowledgment::Majority)
                        .journal(true)
                        .build()
                });
                Client::with_options(options).map_err(failed)
            })
            .await?;
        Ok(client.clone())
    }

    /// The document store of `scope` on this deployment.
    pub async fn store(&self, scope: Scope) -> KvResult<MongoDocuments> {
        Ok(MongoDocuments {
            client: self.client().await?,
            prefix: format!("{}:", scope.as_str()),
        })
    }

    /// Bytes of the documents (as JSON, as the app reads them) of every store whose
    /// scope starts with `tenant_prefix` (`<tenant>:`): each of its collections read
    /// through once.
    pub async fn bytes_of(&self, tenant_prefix: &str) -> KvResult<u64> {
        let database = self.client().await?.database(DATABASE);
        let names = database.list_collection_names().await.map_err(failed)?;
        let mut bytes = 0;
        for name in names.iter().filter(|n| n.starts_with(tenant_prefix)) {
            let mut cursor = database
                .collection::<Document>(name)
                .find(doc! {})
                .await
                .map_err(failed)?;
            while cursor.advance().await.map_err(failed)? {
                let doc = from_bson(cursor.deserialize_current().map_err(failed)?);
                bytes += crate::usage::document_bytes(&doc);
            }
        }
        Ok(bytes)
    }
}

/// A document store of one scope on MongoDB.
pub struct MongoDocuments {
    client: Client,
    prefix: String,
}

impl MongoDocuments {
    fn collection(&self, name: &str) -> Collection<Document> {
        self.client
            .database(DATABASE)
            .collection(&format!("{}{name}", self.prefix))
    }

    async fn first_id(&self, c: &Collection<Document>, filter: Document) -> KvResult<Option<Bson>> {
        let found = c.find_one(filter).await.map_err(failed)?;
        Ok(found.and_then(|d| d.get("_id").cloned()))
    }
}

#[async_trait]
impl DocumentStore for MongoDocuments {
    async fn find(
        &self,
        collection: &str,
        filter: &Filter,
        offset: u32,
        limit: u32,
    ) -> KvResult<Vec<Map<String, Value>>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut cursor = self
            .collection(collection)
            .find(to_bson(&filter.to_json())?)
            .sort(doc! {"$natural": 1})
            .skip(u64::from(offset))
            .limit(i64::from(limit))
            .await
            .map_err(failed)?;
        let mut out = Vec::new();
        while cursor.advance().await.map_err(failed)? {
            out.push(from_bson(cursor.deserialize_current().map_err(failed)?));
        }
        Ok(out)
    }

    async fn insert(&self, collection: &str, docs: Vec<Map<String, Value>>) -> KvResult<()> {
        let docs = docs
            .into_iter()
            .map(|d| to_bson(&Value::Object(d)))
            .collect::<KvResult<Vec<_>>>()?;
        if docs.is_empty() {
            return Ok(());
        }
        self.collection(collection)
            .insert_many(docs)
            .await
            .map(|_| ())
            .map_err(failed)
    }

    async fn upsert(&self, collection: &str, doc: Map<String, Value>) -> KvResult<()> {
        let id = doc.get(super::query::ID).cloned().unwrap_or(Value::Null);
        self.collection(collection)
            .replace_one(
                to_bson(&serde_json::json!({"_id": id}))?,
                to_bson(&Value::Object(doc))?,
            )
            .upsert(true)
            .await
            .map(|_| ())
            .map_err(failed)
    }

    async fn update(
        &self,
        collection: &str,
        filter: &Filter,
        update: &Update,
        many: bool,
    ) -> KvResult<u64> {
        let c = self.collection(collection);
        let filter = to_bson(&filter.to_json())?;
        let changed = match (update, many) {
            (Update::Replace(_), true) => {
                return Err(HostError::Invalid(
                    "update_many needs update operators ($set $unset $inc $push)".into(),
                ));
            }
            (Update::Replace(doc), false) => {
                let Some(id) = self.first_id(&c, filter).await? else {
                    return Ok(0);
                };
                c.replace_one(doc! {"_id": id}, to_bson(&Value::Object(doc.clone()))?)
                    .await
                    .map_err(failed)?
                    .matched_count
            }
            (ops, false) => {
                c.update_one(filter, to_bson(&ops.to_json())?)
                    .await
                    .map_err(failed)?
                    .matched_count
            }
            (ops, true) => {
                c.update_many(filter, to_bson(&ops.to_json())?)
                    .await
                    .map_err(failed)?
                    .matched_count
            }
        };
        Ok(changed)
    }

    async fn delete(&self, collection: &str, filter: &Filter, many: bool) -> KvResult<u64> {
        let c = self.collection(collection);
        let filter = to_bson(&filter.to_json())?;
        let result = if many {
            c.delete_many(filter).await
        } else {
            c.delete_one(filter).await
        };
        Ok(result.map_err(failed)?.deleted_count)
    }
}
