//! Key-value stores on Redis, through one multiplexed `ConnectionManager` per server
//! (reconnects by itself; while Redis is down a call fails within [`CONNECT_TIMEOUT`]
//! with `unavailable`, rather than waiting out the manager's reconnection attempts). Every key is `jac:kv:<tenant>:<store>:<key>`; values are the
//! JSON text itself, so `INCRBY` works on integer values as it does in Redis.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

use super::{KeyValueStore, KvResult, MAX_SCAN_MATCHES, Scope};
use host_error::HostError;

/// How long connecting to a Redis server may take before the call gets `unavailable`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long one command may wait for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);
/// Reconnection attempts a failed connection makes before calls see the error (the
/// next call tries again).
const RECONNECT_ATTEMPTS: usize = 1;
/// What every key of jac-scale starts with (then `<tenant>:<store>:`).
const KEY_PREFIX: &str = "jac:kv:";
/// Keys asked for per `SCAN` step.
const SCAN_COUNT: usize = 1_000;

/// One Redis server; the connection is made on first use and shared.
#[derive(Clone)]
pub struct RedisServer {
    client: redis::Client,
    connection: Arc<OnceCell<ConnectionManager>>,
}

fn failed(e: redis::RedisError) -> HostError {
    if e.to_string().contains("not an integer") {
        return HostError::Invalid("the value is not an integer".into());
    }
    super::unavailable("redis", e)
}

impl RedisServer {
    /// A client for `url` (not connected yet); `invalid` for a malformed URL.
    pub fn new(url: &str) -> KvResult<RedisServer> {
        let client = redis::Client::open(url)
            .map_err(|e| HostError::Invalid(format!("bad Redis URL: {e}")))?;
        Ok(RedisServer {
            client,
            connection: Arc::default(),
        })
    }

    /// The connection to this server, made on first use.
    async fn connection(&self) -> KvResult<ConnectionManager> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(CONNECT_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(RECONNECT_ATTEMPTS);
                match tokio::time::timeout(
                    CONNECT_TIMEOUT,
                    ConnectionManager::new_with_config(self.client.clone(), config),
                )
                .await
                {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(failed(e)),
                    Err(_) => Err(super::unavailable("redis", "connection timed out")),
                }
            })
            .await?;
        Ok(connection.clone())
    }

    /// The key-value store of `scope` on this server.
    pub async fn store(&self, scope: Scope) -> KvResult<RedisKeyValue> {
        Ok(RedisKeyValue {
            connection: self.connection().await?,
            prefix: format!("{KEY_PREFIX}{}:", scope.as_str()),
        })
    }

    /// Bytes of the keys (as the app names them) and values of every store whose scope
    /// starts with `tenant_prefix` (`<tenant>:`): a `SCAN` of the server and a `STRLEN`
    /// of each matching key.
    pub async fn bytes_of(&self, tenant_prefix: &str) -> KvResult<u64> {
        let mut connection = self.connection().await?;
        let prefix = format!("{KEY_PREFIX}{tenant_prefix}");
        let matching = format!("{prefix}*");
        let mut bytes = 0u64;
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&matching)
                .arg("COUNT")
                .arg(SCAN_COUNT)
                .query_async(&mut connection)
                .await
                .map_err(failed)?;
            let mut lengths = redis::pipe();
            for key in &batch {
                lengths.cmd("STRLEN").arg(key);
            }
            let lengths: Vec<u64> = if batch.is_empty() {
                Vec::new()
            } else {
                lengths.query_async(&mut connection).await.map_err(failed)?
            };
            for (key, length) in batch.iter().zip(lengths) {
                // `<store>:<key>`; a key gone since the scan (expired) has no length.
                let app_key = key
                    .strip_prefix(&prefix)
                    .and_then(|k| k.split_once(':'))
                    .map_or("", |(_, k)| k);
                if length > 0 {
                    bytes += crate::usage::entry_bytes(app_key, length);
                }
            }
            if next == 0 {
                return Ok(bytes);
            }
            cursor = next;
        }
    }
}

/// A key-value store of one scope on Redis.
pub struct RedisKeyValue {
    connection: ConnectionManager,
    prefix: String,
}

impl RedisKeyValue {
    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> KvResult<T> {
        cmd.query_async(&mut self.connection.clone())
            .await
            .map_err(failed)
    }
}

#[async_trait]
impl KeyValueStore for RedisKeyValue {
    async fn get(&self, key: &str) -> KvResult<Option<String>> {
        self.query(redis::cmd("GET").arg(self.key(key))).await
    }

    async fn set(&self, key: &str, value: &str, ttl: Option<Duration>) -> KvResult<()> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        if let Some(ttl) = ttl {
            cmd.arg("EX").arg(ttl.as_secs());
        }
        self.query(&cmd).await
    }

    async fn delete(&self, key: &str) -> KvResult<bool> {
        let n: u64 = self.query(redis::cmd("DEL").arg(self.key(key))).await?;
        Ok(n > 0)
    }

    async fn exists(&self, key: &str) -> KvResult<bool> {
        let n: u64 = self.query(redis::cmd("EXISTS").arg(self.key(key))).await?;
        Ok(n > 0)
    }

    async fn expire(&self, key: &str, ttl: Duration) -> KvResult<bool> {
        let n: u64 = self
            .query(redis::cmd("EXPIRE").arg(self.key(key)).arg(ttl.as_secs()))
            .await?;
        Ok(n > 0)
    }

    async fn incr(&self, key: &str, by: i64) -> KvResult<i64> {
        self.query(redis::cmd("INCRBY").arg(self.key(key)).arg(by))
            .await
    }

    async fn keys(&self, pattern: &str) -> KvResult<Vec<String>> {
        let matching = self.key(pattern);
        let mut keys = Vec::new();
        let mut cursor = 0u64;
        loop {
            let (next, batch): (u64, Vec<String>) = self
                .query(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&matching)
                        .arg("COUNT")
                        .arg(SCAN_COUNT),
                )
                .await?;
            keys.extend(
                batch
                    .into_iter()
                    .filter_map(|k| k.strip_prefix(&self.prefix).map(str::to_string)),
            );
            if next == 0 || keys.len() > MAX_SCAN_MATCHES {
                break;
            }
            cursor = next;
        }
        keys.sort();
        keys.dedup();
        super::check_scan(keys)
    }
}
