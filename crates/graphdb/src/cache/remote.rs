//! L2: anchors in Redis, shared by every process of the same store, with a TTL.
//!
//! Calls are blocking (the `redis` crate's synchronous connections, a small pool), made
//! inline like the SQLite reads they stand in for: a local Redis answers in tens of
//! microseconds, less than a hand-off to a blocking thread would cost.
//!
//! A fill must not resurrect a value invalidated while it was being read from the store.
//! Each key has an invalidation count next to it (`v:<key>`): a read fetches value and
//! count together, and the fill (a Lua script) writes only if the count is unchanged.
//! An invalidation bumps the count, deletes the value and publishes the keys, in one
//! `MULTI`, after the store committed.
//!
//! When Redis fails the tier steps aside for [`REST`] (reads go to the store) and, if an
//! invalidation was lost, the namespace is flushed as soon as Redis is back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use redis::{Commands, Connection, RedisResult};

use super::keys::{CacheKey, Namespace};

/// Longest wait for a new connection.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Longest wait for one answer; past it the connection is dropped and the tier rests.
const IO_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the tier is skipped after a failure.
const REST: Duration = Duration::from_secs(1);
/// Idle connections kept for reuse.
const MAX_IDLE_CONNECTIONS: usize = 16;
/// Invalidation counts outlive the values they guard by this factor of the TTL.
const VERSION_TTL_FACTOR: u64 = 4;
/// Keys deleted per `DEL` while flushing a namespace.
const FLUSH_BATCH: usize = 512;

/// Writes each `(value key, count key)` pair's value if the count is still what the
/// reader saw (`ARGV`: ttl, then seen count and value per pair; `''` = no count).
const FILL_SCRIPT: &str = r"
local ttl = tonumber(ARGV[1])
for j = 0, #KEYS / 2 - 1 do
  local current = redis.call('GET', KEYS[2 * j + 2]) or ''
  if current == ARGV[2 * j + 2] then
    redis.call('SET', KEYS[2 * j + 1], ARGV[2 * j + 3], 'EX', ttl)
  end
end
return 0
";

/// A value looked up in Redis, with the key's invalidation count.
pub(super) struct Lookup {
    pub value: Option<Vec<u8>>,
    /// `None` = never invalidated (or long ago).
    pub version: Option<Vec<u8>>,
}

/// A value to write, if its key's count is still `version`.
pub(super) struct Fill {
    pub key: CacheKey,
    pub bytes: Vec<u8>,
    pub version: Option<Vec<u8>>,
}

/// The Redis tier of one store.
pub(super) struct RemoteCache {
    client: redis::Client,
    namespace: Namespace,
    /// Tags this process's invalidation messages, so it skips its own.
    origin: String,
    ttl_seconds: u64,
    idle: Mutex<Vec<Connection>>,
    resting_until: Mutex<Option<Instant>>,
    /// An invalidation was lost: flush the namespace when Redis answers again.
    dirty: AtomicBool,
}

impl RemoteCache {
    pub(super) fn new(client: redis::Client, namespace: Namespace, ttl: Duration) -> Self {
        Self {
            client,
            namespace,
            origin: graph::Id::generate().to_string(),
            ttl_seconds: ttl.as_secs().max(1),
            idle: Mutex::new(Vec::new()),
            resting_until: Mutex::new(None),
            dirty: AtomicBool::new(false),
        }
    }

    pub(super) fn client(&self) -> &redis::Client {
        &self.client
    }

    pub(super) fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    pub(super) fn origin(&self) -> &str {
        &self.origin
    }

    /// Values and counts of `keys`, in order; `None` when Redis is unavailable.
    pub(super) fn get(&self, keys: &[CacheKey]) -> Option<Vec<Lookup>> {
        let mut command = redis::cmd("MGET");
        for key in keys {
            command.arg(self.namespace.data(key));
        }
        for key in keys {
            command.arg(self.namespace.version(key));
        }
        let mut answers: Vec<Option<Vec<u8>>> = self.run(|conn| command.query(conn))?;
        if answers.len() != keys.len() * 2 {
            return None;
        }
        let versions = answers.split_off(keys.len());
        Some(
            answers
                .into_iter()
                .zip(versions)
                .map(|(value, version)| Lookup { value, version })
                .collect(),
        )
    }

    /// Writes each value whose key was not invalidated since its lookup.
    pub(super) fn fill(&self, fills: &[Fill]) {
        if fills.is_empty() {
            return;
        }
        let mut command = redis::cmd("EVAL");
        command.arg(FILL_SCRIPT).arg(fills.len() * 2);
        for fill in fills {
            command
                .arg(self.namespace.data(&fill.key))
                .arg(self.namespace.version(&fill.key));
        }
        command.arg(self.ttl_seconds);
        for fill in fills {
            command
                .arg(fill.version.as_deref().unwrap_or_default())
                .arg(fill.bytes.as_slice());
        }
        // A lost fill is only a future miss.
        let _ = self.run(|conn| command.query::<i64>(conn));
    }

    /// Drops `keys` for every process: bumps their counts, deletes their values and
    /// publishes them. A failure leaves the tier dirty (flushed when Redis is back).
    pub(super) fn invalidate(&self, keys: &[CacheKey]) {
        if keys.is_empty() {
            return;
        }
        let mut pipe = redis::pipe();
        pipe.atomic();
        let mut message = self.origin.clone();
        for key in keys {
            let version = self.namespace.version(key);
            pipe.incr(&version, 1).ignore();
            pipe.expire(&version, (self.ttl_seconds * VERSION_TTL_FACTOR) as i64)
                .ignore();
            pipe.del(self.namespace.data(key)).ignore();
            message.push(' ');
            message.push_str(&key.to_string());
        }
        pipe.publish(self.namespace.channel(), message).ignore();
        if self.run(|conn| pipe.query::<()>(conn)).is_none() {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// Deletes every key of the namespace and tells every process to empty its L1, if an
    /// invalidation was lost; whether the tier is clean.
    pub(super) fn flush_if_dirty(&self) -> bool {
        if !self.dirty.load(Ordering::Acquire) {
            return true;
        }
        let flushed = self.run(|conn| {
            let keys: Vec<String> = conn
                .scan_match::<_, String>(self.namespace.pattern())?
                .collect::<RedisResult<_>>()?;
            for batch in keys.chunks(FLUSH_BATCH) {
                redis::cmd("DEL").arg(batch).query::<()>(conn)?;
            }
            let message = format!("{} *", self.origin);
            redis::cmd("PUBLISH")
                .arg(self.namespace.channel())
                .arg(message)
                .query::<()>(conn)
        });
        if flushed.is_some() {
            self.dirty.store(false, Ordering::Release);
            tracing::info!("Redis cache flushed after a lost invalidation");
        }
        flushed.is_some()
    }

    /// Whether reads may use the tier (it is not resting and not dirty).
    pub(super) fn usable(&self) -> bool {
        !self.dirty.load(Ordering::Acquire)
            && lock(&self.resting_until).is_none_or(|until| until <= Instant::now())
    }

    /// Runs `command` on a pooled connection; `None` (after logging) when Redis failed.
    fn run<T>(&self, command: impl FnOnce(&mut Connection) -> RedisResult<T>) -> Option<T> {
        if lock(&self.resting_until).is_some_and(|until| until > Instant::now()) {
            return None;
        }
        let pooled = lock(&self.idle).pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => match self.connect() {
                Ok(conn) => conn,
                Err(error) => return self.failed(&error),
            },
        };
        match command(&mut conn) {
            Ok(value) => {
                let mut idle = lock(&self.idle);
                if idle.len() < MAX_IDLE_CONNECTIONS {
                    idle.push(conn);
                }
                Some(value)
            }
            Err(error) => self.failed(&error),
        }
    }

    fn connect(&self) -> RedisResult<Connection> {
        let conn = self.client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
        conn.set_read_timeout(Some(IO_TIMEOUT))?;
        conn.set_write_timeout(Some(IO_TIMEOUT))?;
        Ok(conn)
    }

    fn failed<T>(&self, error: &redis::RedisError) -> Option<T> {
        // Pooled connections are likely as broken as this one.
        lock(&self.idle).clear();
        let mut resting = lock(&self.resting_until);
        if resting.is_none_or(|until| until <= Instant::now()) {
            tracing::warn!(%error, "Redis cache tier unavailable; reading through to the store");
        }
        *resting = Some(Instant::now() + REST);
        None
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
