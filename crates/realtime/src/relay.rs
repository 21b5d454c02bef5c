//! Broadcasts through Redis pub/sub: every process serving the app subscribes to one
//! channel and delivers what it hears to its own connections, so a broadcast reaches
//! the clients of every process sharing the Redis (including the sender's own).
//!
//! A message is `<walker>\n<frame text>` (walker names cannot hold a newline). The
//! subscriber reconnects with a growing pause (up to [`MAX_BACKOFF`]) when Redis goes
//! away; meanwhile publishing fails within [`PUBLISH_TIMEOUT`] and the hub falls back to
//! local delivery.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::{OnceCell, oneshot};

use super::Hub;

/// How long start-up waits for the first subscription before serving without it.
const FIRST_SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest pause between reconnection attempts of the subscriber.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// How long the publisher waits for a connection, and for an answer: while Redis is
/// down a broadcast goes out locally after at most this long.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(1);

/// The Redis channel of `app`'s broadcasts.
pub(super) fn channel(app: &str) -> String {
    format!("jac-scale:ws:{app}")
}

/// The Redis side of one hub.
pub(super) struct Relay {
    url: String,
    channel: String,
    hub: Weak<Hub>,
    publisher: OnceCell<ConnectionManager>,
    /// Whether the subscriber listens now (messages published come back to this process).
    listening: Arc<AtomicBool>,
}

impl Relay {
    pub(super) fn new(url: String, channel: String, hub: Weak<Hub>) -> Self {
        Relay {
            url,
            channel,
            hub,
            publisher: OnceCell::new(),
            listening: Arc::default(),
        }
    }

    /// Whether this process hears its channel now (false while the subscriber reconnects).
    pub(super) fn listening(&self) -> bool {
        self.listening.load(Ordering::Acquire)
    }

    /// Starts the subscriber task and waits (bounded) until it listens.
    pub(super) async fn start(&self) {
        let client = match redis::Client::open(self.url.as_str()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!("REDIS_URL is invalid ({e}); WebSocket broadcasts stay local");
                return;
            }
        };
        let (ready_tx, ready_rx) = oneshot::channel();
        tokio::spawn(subscribe_forever(
            client,
            self.channel.clone(),
            self.hub.clone(),
            self.listening.clone(),
            ready_tx,
        ));
        match tokio::time::timeout(FIRST_SUBSCRIBE_TIMEOUT, ready_rx).await {
            Ok(Ok(())) => {
                tracing::info!(channel = %self.channel, "WebSocket broadcasts go through Redis")
            }
            _ => tracing::warn!("Redis is not reachable yet; broadcasts stay local until it is"),
        }
    }

    /// Publishes one broadcast.
    pub(super) async fn publish(&self, walker: &str, text: &str) -> redis::RedisResult<()> {
        let publisher = self
            .publisher
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.url.as_str())?;
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(PUBLISH_TIMEOUT))
                    .set_response_timeout(Some(PUBLISH_TIMEOUT))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(client, config).await
            })
            .await?;
        let mut publisher = publisher.clone();
        let message = format!("{walker}\n{text}");
        publisher.publish::<_, _, ()>(&self.channel, message).await
    }
}

/// Subscribes, delivers every message to the hub, and reconnects until the hub is gone.
async fn subscribe_forever(
    client: redis::Client,
    channel: String,
    hub: Weak<Hub>,
    listening: Arc<AtomicBool>,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(100);
    while hub.strong_count() > 0 {
        let heard = listen(&client, &channel, &hub, &listening, &mut ready).await;
        listening.store(false, Ordering::Release);
        match heard {
            Ok(()) => backoff = Duration::from_millis(100),
            Err(e) => {
                tracing::warn!("Redis subscription lost ({e}); retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn listen(
    client: &redis::Client,
    channel: &str,
    hub: &Weak<Hub>,
    listening: &AtomicBool,
    ready: &mut Option<oneshot::Sender<()>>,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    listening.store(true, Ordering::Release);
    if let Some(ready) = ready.take() {
        let _ = ready.send(());
    }
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let Some(hub) = hub.upgrade() else {
            return Ok(());
        };
        let payload: String = match message.get_payload() {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("undecodable broadcast from Redis: {e}");
                continue;
            }
        };
        if let Some((walker, text)) = payload.split_once('\n') {
            hub.deliver(walker, text.to_owned().into());
        }
    }
    Err(redis::RedisError::from((
        redis::ErrorKind::Io,
        "the subscription stream ended",
    )))
}
