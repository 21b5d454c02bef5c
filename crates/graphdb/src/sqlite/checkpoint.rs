//! Background WAL checkpoints, so that commits never wait for the fsyncs of a checkpoint.
//!
//! With `synchronous = NORMAL` a WAL commit only appends to the log; the syncing happens
//! when the log is copied back into the database. SQLite's automatic checkpoint does that
//! inside whichever commit crosses the threshold, which made every ~150th request pay for
//! two fsyncs. The writer's automatic checkpoint is off instead, and this thread runs a
//! `PASSIVE` checkpoint (it never blocks readers or the writer) a few times a second.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::lock;
use graph::store::StoreError;

/// Time between checkpoints: keeps the log to a few seconds' worth of writes.
const INTERVAL: Duration = Duration::from_millis(250);

/// Set to stop the thread, with the condition variable that wakes it.
type StopSignal = Arc<(Mutex<bool>, Condvar)>;

/// The checkpoint thread; stopped and joined on drop.
pub(super) struct Checkpointer {
    stop: StopSignal,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing through `conn` (a connection of its own).
    pub(super) fn start(conn: Connection) -> Result<Self, StoreError> {
        let stop = StopSignal::default();
        let signal = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&conn, &signal))
            .map_err(|error| StoreError::Backend(error.into()))?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

fn run(conn: &Connection, stop: &StopSignal) {
    let (stopped, wake) = &**stop;
    loop {
        let guard = lock(stopped);
        let (guard, _) = wake
            .wait_timeout_while(guard, INTERVAL, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        if *guard {
            return;
        }
        drop(guard);
        // The row reports (busy, log frames, checkpointed frames); a busy checkpoint
        // (another process checkpointing) simply runs again next time.
        if let Err(error) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(%error, "SQLite WAL checkpoint failed");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *lock(stopped) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take() {
            // A panic in the thread was already reported; nothing is left to clean up.
            let _ = thread.join();
        }
    }
}
