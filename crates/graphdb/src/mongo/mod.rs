//! The graph, users and API keys in MongoDB (the memory hierarchy's L3), through the
//! official async driver behind the blocking store traits.
//!
//! **The bridge.** The driver is async and keeps background tasks (connection pool,
//! server monitoring) on the runtime that created its client. The store owns a small
//! runtime of its own for that ([`DRIVER_THREADS`] threads), so the driver works the same
//! whether the caller is a tokio worker, a blocking thread or a plain test. A store call
//! spawns its future there and waits on a channel. On a worker of the host's multi-thread
//! runtime the wait is wrapped in `block_in_place`, which hands the worker's other tasks
//! to another thread for the duration: that costs tens of microseconds (measured for
//! SQLite, bench/RESULTS.md), small next to a MongoDB round trip (a few hundred
//! microseconds on a LAN), whereas blocking the worker outright would stall its queue for
//! the whole round trip. Anywhere else the wait is a plain blocking `recv`.
//!
//! **Documents.** `nodes` and `edges` hold one document per anchor, fields as JSON text
//! (exact round trip, no key restrictions), access entries as an array. Edge order is
//! kept per node, not across the graph: each node counts the positions it gave out
//! (`last_edge_pos`), and an edge carries its position at its source (`source_pos`) and
//! at its target (`target_pos`), taken from those counters inside the committing
//! transaction. So no document is written by every commit: commits on different nodes
//! never conflict, and commits adding edges to one node take turns on its counter.
//! `meta` holds the store id and the guest root; `users` and `api_keys` mirror the
//! SQLite tables. Ids are 16-byte binaries, so `_id` order is the SQLite blob order.
//!
//! **Commits.** One changeset = one multi-document transaction (MongoDB needs a replica
//! set or a sharded cluster for transactions; a single `mongod --replSet rs0` will do),
//! with write concern `majority` + journal ([`durable_writes`]).
//! Transient transaction errors (two commits touching the same documents) are retried
//! with jittered backoff, and a commit whose outcome is unknown is committed again, as
//! the drivers' `with_transaction` does, so concurrent calls all succeed and lose no
//! edges.

mod accounts;
mod graph;

use std::future::Future;
use std::time::Duration;

use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, Document, doc};
use mongodb::error::{ErrorKind, InsertManyError, WriteFailure};
use mongodb::options::{Acknowledgment, ClientOptions, IndexOptions, WriteConcern};
use mongodb::{Client, Collection, Database, IndexModel};
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};

use ::graph::store::StoreError;
use ::graph::{AccessLevel, Id};

/// Threads of the driver's own runtime.
const DRIVER_THREADS: usize = 2;
/// How long start-up waits for the server to answer a ping.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long an operation waits for a reachable server (the driver's default is 30 s),
/// and a new connection for its handshake, unless `MONGODB_URI` sets
/// `serverSelectionTimeoutMS` / `connectTimeoutMS`: while MongoDB is down, a call that
/// needs it answers 503 after about this long instead of waiting out its deadline.
const SERVER_WAIT: Duration = Duration::from_secs(2);

/// A graph, user and API key store in one MongoDB database.
pub struct MongoStore {
    /// `Some` until drop (a runtime must be shut down, not dropped, inside async code).
    runtime: Option<Runtime>,
    client: Client,
    db: Database,
    store_id: String,
}

impl MongoStore {
    /// Connects to `uri`, checks the server answers, and prepares `database`'s indexes.
    pub fn connect(uri: &str, database: &str) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(DRIVER_THREADS)
            .thread_name("mongodb-driver")
            .enable_all()
            .build()
            .map_err(|error| StoreError::Backend(error.into()))?;
        let uri = uri.to_owned();
        let name = database.to_owned();
        let (client, db, store_id) = on_runtime(&runtime, async move {
            let mut options = ClientOptions::parse(&uri).await?;
            options.server_selection_timeout.get_or_insert(SERVER_WAIT);
            options.connect_timeout.get_or_insert(SERVER_WAIT);
            options.write_concern.get_or_insert_with(durable_writes);
            let client = Client::with_options(options)?;
            let db = client.database(&name);
            tokio::time::timeout(CONNECT_TIMEOUT, db.run_command(doc! {"ping": 1}))
                .await
                .map_err(|_| backend_error("MongoDB did not answer a ping in time"))??;
            prepare(&db).await?;
            let store_id = load_store_id(&db).await?;
            Ok((client, db, store_id))
        })?;
        Ok(Self {
            runtime: Some(runtime),
            client,
            db,
            store_id,
        })
    }

    /// Runs `work` on the driver's runtime and waits for it (see the module doc).
    fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        on_runtime(
            self.runtime.as_ref().expect("runtime lives until drop"),
            work,
        )
    }

    fn nodes(&self) -> Collection<Document> {
        self.db.collection("nodes")
    }

    fn edges(&self) -> Collection<Document> {
        self.db.collection("edges")
    }
}

impl Drop for MongoStore {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// Runs `work` on `runtime` and waits for its result without stalling a host worker's
/// queue (see the module doc).
fn on_runtime<T: Send + 'static>(
    runtime: &Runtime,
    work: impl Future<Output = Result<T, StoreError>> + Send + 'static,
) -> Result<T, StoreError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(1);
    runtime.spawn(async move {
        let _ = sender.send(work.await);
    });
    let received = match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| receiver.recv())
        }
        _ => receiver.recv(),
    };
    received.map_err(|_| backend_error("the MongoDB driver task stopped"))?
}

/// The write concern of every write and commit unless `MONGODB_URI` sets one (`w`,
/// `journal`): acknowledged once a majority of the replica set has it in its on-disk
/// journal, so a call answered 200 survives a crash of the primary or a failover (the
/// default, `w: 1` without journaling, can lose the last writes of a primary that dies).
fn durable_writes() -> WriteConcern {
    WriteConcern::builder()
        .w(Acknowledgment::Majority)
        .journal(true)
        .build()
}

/// Indexes the queries need; creating an existing index is a no-op.
async fn prepare(db: &Database) -> Result<(), StoreError> {
    let index = |keys: Document, unique: bool| {
        IndexModel::builder()
            .keys(keys)
            .options(IndexOptions::builder().unique(unique).build())
            .build()
    };
    let edges = db.collection::<Document>("edges");
    edges
        .create_index(index(doc! {"source": 1, "source_pos": 1}, false))
        .await?;
    edges
        .create_index(index(doc! {"target": 1, "target_pos": 1}, false))
        .await?;
    db.collection::<Document>("nodes")
        .create_index(index(doc! {"root": 1, "_id": 1}, false))
        .await?;
    db.collection::<Document>("users")
        .create_index(index(doc! {"identity": 1}, true))
        .await?;
    db.collection::<Document>("api_keys")
        .create_index(index(doc! {"user_id": 1, "created_at": 1}, false))
        .await?;
    Ok(())
}

/// The database's random identity, created on first use.
async fn load_store_id(db: &Database) -> Result<String, StoreError> {
    let meta = db.collection::<Document>("meta");
    let candidate = binary(Id::generate());
    let inserted = meta
        .insert_one(doc! {"_id": "store_id", "value": candidate})
        .await;
    match inserted {
        Err(error) if !is_duplicate_key(&error) => return Err(error.into()),
        _ => {}
    }
    let stored = meta
        .find_one(doc! {"_id": "store_id"})
        .await?
        .ok_or_else(|| corrupt("the store id vanished"))?;
    Ok(id_in(&stored, "value")?.to_string())
}

/// An id as a 16-byte binary.
fn binary(id: Id) -> Bson {
    Bson::Binary(Binary {
        subtype: BinarySubtype::Generic,
        bytes: id.to_bytes().to_vec(),
    })
}

/// The id at `key` of a document.
fn id_in(document: &Document, key: &str) -> Result<Id, StoreError> {
    let bytes = document
        .get_binary_generic(key)
        .map_err(|error| corrupt(&format!("{key}: {error}")))?;
    let bytes: [u8; 16] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| corrupt(&format!("{key} is not a 16-byte id")))?;
    Ok(Id::from_bytes(bytes))
}

/// The access level at `key` of a document.
fn level_in(document: &Document, key: &str) -> Result<AccessLevel, StoreError> {
    let value = document
        .get_i32(key)
        .map_err(|error| corrupt(&format!("{key}: {error}")))?;
    AccessLevel::from_value(i64::from(value))
        .ok_or_else(|| corrupt(&format!("access level {value}")))
}

/// Whether the driver refused a write because a unique key is taken.
fn is_duplicate_key(error: &mongodb::error::Error) -> bool {
    const DUPLICATE_KEY: i32 = 11000;
    match &*error.kind {
        ErrorKind::Write(WriteFailure::WriteError(failure)) => failure.code == DUPLICATE_KEY,
        ErrorKind::InsertMany(InsertManyError {
            write_errors: Some(failures),
            ..
        }) => failures.iter().any(|failure| failure.code == DUPLICATE_KEY),
        _ => false,
    }
}

fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_owned())
}

fn backend_error(message: &str) -> StoreError {
    StoreError::Backend(message.to_owned().into())
}

#[cfg(test)]
mod tests {
    //! The shared store contracts (graph; users and API keys) on MongoDB: a real
    //! wire-protocol server the tests start (`test-services`), each case in a fresh
    //! `jac_scale_test_<id>` database.

    use std::sync::Arc;

    use super::MongoStore;
    use crate::accounts_contract::AccountsData;
    use crate::contract::{TestData, graph_contract};
    use ::graph::Id;

    struct Data {
        uri: &'static str,
        database: String,
    }

    impl Data {
        fn connect(&self) -> Arc<MongoStore> {
            Arc::new(MongoStore::connect(self.uri, &self.database).expect("MongoDB connects"))
        }
    }

    impl TestData for Data {
        type Store = MongoStore;
        fn handle(&self) -> Arc<MongoStore> {
            self.connect()
        }
    }

    impl AccountsData for Data {
        type Store = MongoStore;
        fn handle(&self) -> Arc<MongoStore> {
            self.connect()
        }
    }

    fn fresh() -> Data {
        Data {
            uri: test_services::shared(test_services::Kind::MongoDb).url(),
            database: format!("jac_scale_test_{}", Id::generate()),
        }
    }

    graph_contract!(fresh);

    mod accounts {
        use super::fresh;
        use crate::accounts_contract::accounts_contract;

        accounts_contract!(fresh);
    }
}
