//! Hears the invalidations other processes publish and drops those keys from this
//! process's L1. While not subscribed, L1 is off: a process that cannot hear
//! invalidations must not serve from memory.
//!
//! A plain thread with a blocking pub/sub connection (not a tokio task): it must keep
//! listening even while every worker thread is busy, since each message it delays is a
//! window in which this process may serve a value another process replaced.

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::keys::CacheKey;
use super::local::LocalCache;
use super::remote::{CONNECT_TIMEOUT, RemoteCache};

/// How often a listening thread checks whether its store is gone or dirty.
const POLL: Duration = Duration::from_millis(250);
/// Longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// What the thread keeps alive only while the store does.
pub(super) struct Tiers {
    pub local: LocalCache,
    pub remote: RemoteCache,
    /// Lookups by tier and outcome, for the metrics.
    pub counts: super::Counts,
}

/// Starts the listener; it signals `ready` once subscribed and stops soon after the
/// store (the last strong reference to `tiers`) is dropped.
pub(super) fn start(tiers: &Arc<Tiers>, ready: SyncSender<()>) -> std::io::Result<()> {
    let tiers = Arc::downgrade(tiers);
    std::thread::Builder::new()
        .name("cache-invalidations".into())
        .spawn(move || listen_forever(&tiers, &ready))
        .map(drop)
}

fn listen_forever(tiers: &Weak<Tiers>, ready: &SyncSender<()>) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let Some(client) = tiers.upgrade().map(|t| t.remote.client().clone()) else {
            return;
        };
        match listen(&client, tiers, ready) {
            Ok(()) => return,
            Err(error) => {
                if let Some(tiers) = tiers.upgrade() {
                    tiers.local.set_enabled(false);
                    tracing::warn!(%error, "cache invalidations unheard; L1 off until Redis is back");
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Listens until the store is gone (`Ok`) or the connection fails.
fn listen(
    client: &redis::Client,
    tiers: &Weak<Tiers>,
    ready: &SyncSender<()>,
) -> redis::RedisResult<()> {
    let mut conn = client.get_connection_with_timeout(CONNECT_TIMEOUT)?;
    conn.set_read_timeout(Some(POLL))?;
    let mut pubsub = conn.as_pubsub();
    {
        let Some(tiers) = tiers.upgrade() else {
            return Ok(());
        };
        pubsub.subscribe(tiers.remote.namespace().channel())?;
        tiers.remote.flush_if_dirty();
        tiers.local.set_enabled(true);
    }
    let _ = ready.try_send(());
    loop {
        let message = pubsub.get_message();
        let Some(tiers) = tiers.upgrade() else {
            return Ok(());
        };
        match message {
            Ok(message) => {
                let payload = String::from_utf8_lossy(message.get_payload_bytes());
                apply(&tiers, &payload);
            }
            Err(error) if error.is_timeout() => {
                if !tiers.remote.flush_if_dirty() {
                    tiers.local.set_enabled(false);
                } else {
                    tiers.local.ensure_enabled();
                }
            }
            Err(error) => return Err(error),
        }
    }
}

/// Applies one message: `<origin> <key> <key>...`, or `<origin> *` to drop everything.
fn apply(tiers: &Tiers, payload: &str) {
    let mut words = payload.split(' ');
    if words.next() == Some(tiers.remote.origin()) {
        return;
    }
    let keys: Vec<CacheKey> = words
        .filter_map(|word| {
            if word == "*" {
                tiers.local.flush();
            }
            CacheKey::parse(word)
        })
        .collect();
    tiers.local.invalidate(&keys);
}
