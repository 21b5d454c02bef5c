//! The embedded default store: one SQLite file in WAL mode holding graph and users.
//!
//! Reads run on a small pool of connections (WAL readers never wait for the writer);
//! writes go through one writer connection. Changesets are group-committed: whoever
//! holds the writer applies every changeset queued meanwhile in one `BEGIN IMMEDIATE`
//! transaction, each inside its own savepoint, so one failing changeset is rolled back
//! alone and concurrent calls share one commit. `synchronous = NORMAL` keeps commits
//! durable against process crashes and consistent against power loss, without an fsync
//! per commit. Statements are prepared once per connection and cached.

mod api_keys;
mod checkpoint;
mod graph;
mod records;
mod schema;
mod users;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use ::graph::store::{Changeset, StoreError};
use checkpoint::Checkpointer;

/// How long a connection waits for another process's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Idle read connections kept open; more are opened under load and closed afterwards.
const MAX_IDLE_READERS: usize = 16;
/// The WAL file is truncated back to this size after a checkpoint empties it.
const WAL_SIZE_LIMIT_BYTES: i64 = 64 << 20;
/// Prepared statements cached per connection (the store uses about twenty).
const STATEMENT_CACHE: usize = 48;

/// A graph and user store in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    /// The database's random identity (see [`AnchorRecords::store_id`]).
    ///
    /// [`AnchorRecords::store_id`]: crate::records::AnchorRecords::store_id
    store_id: String,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    /// Changesets waiting for the next group commit.
    queued: Mutex<Vec<Queued>>,
    /// Runs WAL checkpoints until the store is dropped.
    _checkpointer: Checkpointer,
}

/// Where a queued changeset's result is left for its caller.
type Outcome = Arc<Mutex<Option<Result<(), StoreError>>>>;

/// A changeset waiting for the writer.
struct Queued {
    changes: Changeset,
    outcome: Outcome,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|error| StoreError::Backend(error.into()))?;
        }
        let mut writer = open_connection(path)?;
        let mode: String =
            writer.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(
                format!("{} cannot use WAL mode (got {mode})", path.display()).into(),
            ));
        }
        schema::migrate(&mut writer)?;
        let store_id = Self::load_store_id(&writer)?;
        // Checkpoints run in the background (see `checkpoint`), not inside commits.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        writer.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT_BYTES)?;
        let checkpointer = Checkpointer::start(open_connection(path)?)?;
        Ok(Self {
            path: path.to_owned(),
            store_id,
            writer: Mutex::new(writer),
            readers: Mutex::new(Vec::new()),
            queued: Mutex::new(Vec::new()),
            _checkpointer: checkpointer,
        })
    }

    /// Runs `read` on an idle read connection (opening one if none is idle).
    fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let idle = lock(&self.readers).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => open_connection(&self.path)?,
        };
        let result = read(&conn);
        let mut readers = lock(&self.readers);
        if readers.len() < MAX_IDLE_READERS {
            readers.push(conn);
        }
        result
    }

    /// Runs `write` in one immediate transaction on the writer connection; commits when
    /// it returns `Ok`, rolls back otherwise.
    fn write<T>(
        &self,
        write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = lock(&self.writer);
        let tx = Transaction::new(&mut conn, TransactionBehavior::Immediate)?;
        let value = write(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Applies a changeset with `apply` (atomically, inside a savepoint), sharing the
    /// transaction with changesets other threads queued meanwhile.
    fn apply_grouped(
        &self,
        changes: Changeset,
        apply: fn(&Connection, &Changeset) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let outcome = Outcome::default();
        lock(&self.queued).push(Queued {
            changes,
            outcome: Arc::clone(&outcome),
        });
        let mut conn = lock(&self.writer);
        // A leader that held the writer before us may have applied ours already; it fills
        // every outcome it took before letting go of the writer.
        if let Some(result) = lock(&outcome).take() {
            return result;
        }
        let batch = std::mem::take(&mut *lock(&self.queued));
        match apply_batch(&mut conn, &batch, apply) {
            Ok(results) => {
                for (queued, result) in batch.iter().zip(results) {
                    *lock(&queued.outcome) = Some(result);
                }
            }
            Err(error) => {
                let message = error.to_string();
                for queued in &batch {
                    let failed = StoreError::Backend(format!("commit failed: {message}").into());
                    *lock(&queued.outcome) = Some(Err(failed));
                }
            }
        }
        // Only a leader that panicked mid-batch can have taken ours without an outcome.
        lock(&outcome).take().unwrap_or_else(|| {
            Err(StoreError::Backend(
                "the commit holding this changeset was abandoned".into(),
            ))
        })
    }
}

/// Applies each queued changeset in its own savepoint of one transaction; the per-changeset
/// results, or the error that failed the whole transaction.
fn apply_batch(
    conn: &mut Connection,
    batch: &[Queued],
    apply: fn(&Connection, &Changeset) -> Result<(), StoreError>,
) -> Result<Vec<Result<(), StoreError>>, StoreError> {
    let mut tx = Transaction::new(conn, TransactionBehavior::Immediate)?;
    if let [alone] = batch {
        // The transaction itself is this changeset's savepoint (dropping it rolls back).
        let result = apply(&tx, &alone.changes);
        if result.is_ok() {
            tx.commit()?;
        }
        return Ok(vec![result]);
    }
    let mut results = Vec::with_capacity(batch.len());
    for queued in batch {
        let savepoint = tx.savepoint()?;
        let result = apply(&savepoint, &queued.changes);
        if result.is_ok() {
            savepoint.commit()?;
        } else {
            savepoint.finish()?; // rolls back
        }
        results.push(result);
    }
    tx.commit()?;
    Ok(results)
}

/// A connection with this store's settings.
fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// Locks a mutex whose data stays valid even if a holder panicked (a connection or a
/// list of idle connections).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::graph::Id;
    use ::graph::store::{AccessSpec, FieldsUpdate, GraphStore, NodeInsert};

    fn node(owner: Id) -> NodeInsert {
        NodeInsert {
            id: Id::generate(),
            archetype: "N".into(),
            fields: "{}".into(),
            owner,
            access: AccessSpec::default(),
        }
    }

    #[test]
    fn a_failing_changeset_fails_alone_in_a_group_commit() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("jac.db")).unwrap();
        let owner = Id::generate();
        let results: Vec<(Id, bool, Result<(), StoreError>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..32)
                .map(|n| {
                    let store = &store;
                    scope.spawn(move || {
                        let inserted = node(owner);
                        let id = inserted.id;
                        let doomed = n % 3 == 0;
                        let mut changes = Changeset {
                            new_nodes: vec![inserted],
                            ..Changeset::default()
                        };
                        if doomed {
                            // Updating a node that does not exist conflicts.
                            let missing = FieldsUpdate {
                                id: Id::generate(),
                                fields: "{}".into(),
                            };
                            changes.node_updates.push(missing);
                        }
                        (id, doomed, store.apply(changes))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().unwrap())
                .collect()
        });
        for (id, doomed, result) in results {
            let stored = store.node(id, owner).unwrap();
            if doomed {
                assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
                assert!(stored.is_none(), "a failed changeset leaves nothing behind");
            } else {
                assert!(result.is_ok(), "{result:?}");
                assert!(stored.is_some());
            }
        }
    }

    /// The shared store contracts (graph; users and API keys) on SQLite.
    mod contract {
        use std::sync::Arc;

        use super::SqliteStore;
        use crate::accounts_contract::AccountsData;
        use crate::contract::{TestData, graph_contract};

        struct Data(tempfile::TempDir);

        impl Data {
            fn open(&self) -> Arc<SqliteStore> {
                Arc::new(SqliteStore::open(&self.0.path().join("jac.db")).unwrap())
            }
        }

        impl TestData for Data {
            type Store = SqliteStore;
            fn handle(&self) -> Arc<SqliteStore> {
                self.open()
            }
        }

        impl AccountsData for Data {
            type Store = SqliteStore;
            fn handle(&self) -> Arc<SqliteStore> {
                self.open()
            }
        }

        fn fresh() -> Data {
            Data(tempfile::tempdir().unwrap())
        }

        graph_contract!(fresh);

        mod accounts {
            use super::fresh;
            use crate::accounts_contract::accounts_contract;

            accounts_contract!(fresh);
        }
    }

    #[test]
    fn newer_schema_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jac.db");
        drop(SqliteStore::open(&path).unwrap());
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        assert!(matches!(
            SqliteStore::open(&path),
            Err(StoreError::Corrupt(_))
        ));
    }

    #[test]
    fn database_uses_wal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested").join("jac.db");
        let store = SqliteStore::open(&path).unwrap();
        let mode: String = lock(&store.writer)
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }
}
