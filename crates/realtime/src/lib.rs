//! WebSocket connections of the app's WebSocket walkers: who is connected, the
//! connection limits, and broadcast fan-out (through Redis when several processes
//! share one, see [`relay`]).
//!
//! A connection takes a [`Ticket`] from the [`Hub`] when it opens (counted against the
//! limits) and joins its walker's broadcast group once it may receive broadcasts.
//! Dropping the ticket (the connection ended, however it ended) removes it at once.
//!
//! Invariant: no guest code here; a broadcast is text the HTTP layer already produced.

mod relay;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::mpsc;

use config::WebSocketSettings;
use relay::Relay;

/// Broadcasts waiting for a slow client before further ones are dropped for it.
pub const OUTBOX_CAPACITY: usize = 1_024;

/// Where a connection receives broadcasts.
pub type Outbox = mpsc::Sender<Utf8Bytes>;

/// Why a connection was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("this user already has {0} open WebSocket connections")]
    PerUser(usize),
    #[error("the server already has {0} open WebSocket connections")]
    Total(usize),
}

/// Every open connection of this process and the broadcast groups.
pub struct Hub {
    /// Namespaces the Redis channel, so apps sharing a Redis do not hear each other.
    app: String,
    limits: WebSocketSettings,
    next_id: AtomicU64,
    state: Mutex<State>,
    relay: Option<Relay>,
}

#[derive(Default)]
struct State {
    total: usize,
    per_user: HashMap<String, usize>,
    /// Walker name -> connection id -> its outbox.
    groups: HashMap<String, HashMap<u64, Outbox>>,
}

impl Hub {
    /// A hub for `app`; with `REDIS_URL` set, broadcasts go through Redis pub/sub.
    pub async fn new(app: &str, limits: WebSocketSettings) -> Arc<Hub> {
        let redis_url = limits.redis_url.clone();
        Arc::new_cyclic(|weak| Hub {
            app: app.to_owned(),
            limits,
            next_id: AtomicU64::new(1),
            state: Mutex::default(),
            relay: redis_url.map(|url| Relay::new(url, relay::channel(app), weak.clone())),
        })
        .start()
        .await
    }

    async fn start(self: Arc<Self>) -> Arc<Self> {
        if let Some(relay) = &self.relay {
            relay.start().await;
        }
        self
    }

    /// Admits a new connection of `user` (`None` = anonymous) within the limits.
    pub fn open(self: &Arc<Self>, user: Option<&str>) -> Result<Ticket, LimitError> {
        let mut state = self.lock();
        if state.total >= self.limits.max_connections {
            return Err(LimitError::Total(self.limits.max_connections));
        }
        if let Some(user) = user {
            let count = state.per_user.entry(user.to_owned()).or_default();
            if *count >= self.limits.max_connections_per_user {
                return Err(LimitError::PerUser(self.limits.max_connections_per_user));
            }
            *count += 1;
        }
        state.total += 1;
        Ok(Ticket {
            hub: self.clone(),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            user: user.map(str::to_owned),
            joined: None,
        })
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.lock().total
    }

    /// Sends `text` to every connection of `walker`, on every process sharing the Redis.
    pub async fn broadcast(&self, walker: &str, text: Utf8Bytes) {
        if let Some(relay) = &self.relay {
            // While the subscriber is reconnecting, a published message would not come
            // back to this process's connections: they get it directly.
            let comes_back = relay.listening();
            match relay.publish(walker, &text).await {
                Ok(()) if comes_back => return,
                Ok(()) => {}
                Err(e) => tracing::warn!(
                    app = %self.app,
                    "redis publish failed ({e}); broadcasting to this process only"
                ),
            }
        }
        self.deliver(walker, text);
    }

    /// Sends `text` to this process's connections of `walker`. A client whose outbox is
    /// full misses it (it is not reading; the keep-alive will drop it if it is gone).
    fn deliver(&self, walker: &str, text: Utf8Bytes) {
        let state = self.lock();
        let Some(group) = state.groups.get(walker) else {
            return;
        };
        for outbox in group.values() {
            if let Err(mpsc::error::TrySendError::Full(_)) = outbox.try_send(text.clone()) {
                tracing::debug!(walker, "a slow WebSocket client missed a broadcast");
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One admitted connection; dropping it releases its slot and its group membership.
pub struct Ticket {
    hub: Arc<Hub>,
    id: u64,
    user: Option<String>,
    joined: Option<String>,
}

impl Ticket {
    /// Receive the broadcasts of `walker` through `outbox` (once; later calls are no-ops).
    pub fn join(&mut self, walker: &str, outbox: Outbox) {
        if self.joined.is_some() {
            return;
        }
        self.hub
            .lock()
            .groups
            .entry(walker.to_owned())
            .or_default()
            .insert(self.id, outbox);
        self.joined = Some(walker.to_owned());
    }

    /// Whether this connection receives broadcasts.
    pub fn has_joined(&self) -> bool {
        self.joined.is_some()
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut state = self.hub.lock();
        state.total -= 1;
        if let Some(user) = &self.user
            && let Some(count) = state.per_user.get_mut(user)
        {
            *count -= 1;
            if *count == 0 {
                state.per_user.remove(user);
            }
        }
        if let Some(walker) = &self.joined
            && let Some(group) = state.groups.get_mut(walker)
        {
            group.remove(&self.id);
            if group.is_empty() {
                state.groups.remove(walker);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(per_user: usize, total: usize) -> WebSocketSettings {
        WebSocketSettings {
            max_connections_per_user: per_user,
            max_connections: total,
            ..WebSocketSettings::default()
        }
    }

    #[tokio::test]
    async fn limits_are_released_when_tickets_drop() {
        let hub = Hub::new("t", settings(1, 2)).await;
        let a = hub.open(Some("u")).unwrap();
        assert_eq!(hub.open(Some("u")).err(), Some(LimitError::PerUser(1)));
        let _b = hub.open(None).unwrap();
        assert_eq!(hub.open(None).err(), Some(LimitError::Total(2)));
        drop(a);
        assert!(hub.open(Some("u")).is_ok());
    }

    #[tokio::test]
    async fn broadcast_reaches_joined_connections_only_while_open() {
        let hub = Hub::new("t", settings(8, 8)).await;
        let (tx1, mut rx1) = mpsc::channel(4);
        let (tx2, mut rx2) = mpsc::channel(4);
        let mut one = hub.open(None).unwrap();
        let mut two = hub.open(None).unwrap();
        one.join("Chat", tx1);
        two.join("Chat", tx2);
        hub.broadcast("Chat", "hi".into()).await;
        assert_eq!(rx1.recv().await.unwrap().as_str(), "hi");
        assert_eq!(rx2.recv().await.unwrap().as_str(), "hi");
        drop(two);
        hub.broadcast("Chat", "again".into()).await;
        assert_eq!(rx1.recv().await.unwrap().as_str(), "again");
        assert!(
            rx2.recv().await.is_none(),
            "the dropped connection left the group"
        );
        hub.broadcast("Other", "x".into()).await;
        assert!(rx1.try_recv().is_err());
    }
}
