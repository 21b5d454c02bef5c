//! `jac:scale/streaming`: the values a generator yields, forwarded while the call runs.
//!
//! A call that streams to a client holds the sending half of a bounded channel
//! ([`StreamSink::Forward`]): `send` waits for room, so a fast guest and a slow client
//! hold at most the channel's capacity of values in the host. Any other call collects
//! the values as its reports ([`StreamSink::Collect`], bounded in bytes).

use serde_json::value::RawValue;
use tokio::sync::mpsc;
use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

/// Most bytes of streamed values a call that cannot stream collects as its reports.
pub const MAX_COLLECTED_BYTES: usize = 16 << 20;

/// The receiving end of a streamed call: one JSON value per yield.
pub type StreamReceiver = mpsc::Receiver<Box<RawValue>>;

/// The sending end the call's store holds.
pub type StreamSender = mpsc::Sender<Box<RawValue>>;

/// Where one call's streamed values go.
#[derive(Debug)]
pub enum StreamSink {
    /// Kept as the call's reports (WebSocket, webhook, schedules).
    Collect {
        /// The values so far.
        values: Vec<Box<RawValue>>,
        /// Their size in bytes.
        bytes: usize,
    },
    /// Forwarded to the client as they come (a `text/event-stream` answer).
    Forward {
        sender: StreamSender,
        /// Whether a value went out (the client has seen part of this run).
        sent: bool,
    },
}

impl Default for StreamSink {
    fn default() -> Self {
        StreamSink::Collect {
            values: Vec::new(),
            bytes: 0,
        }
    }
}

impl StreamSink {
    /// A sink forwarding to `sender`, nothing sent yet.
    pub fn forward(sender: StreamSender) -> Self {
        StreamSink::Forward {
            sender,
            sent: false,
        }
    }

    /// The values collected (none for a forwarded stream); the sink is left empty.
    pub fn take_collected(&mut self) -> Vec<Box<RawValue>> {
        match self {
            StreamSink::Collect { values, bytes } => {
                *bytes = 0;
                std::mem::take(values)
            }
            StreamSink::Forward { .. } => Vec::new(),
        }
    }

    /// Whether a value was forwarded to the client (collected ones are only reports).
    pub fn sent(&self) -> bool {
        matches!(self, StreamSink::Forward { sent: true, .. })
    }
}

/// Add `jac:scale/streaming` to `linker`; `get` projects a store's data to the call's sink.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> &mut StreamSink,
) -> wasmtime::Result<()> {
    let mut stream = linker.instance("jac:scale/streaming@0.1.0")?;
    stream.func_wrap_async(
        "send",
        move |mut store: StoreContextMut<'_, T>, (value,): (String,)| {
            Box::new(async move {
                let value = RawValue::from_string(value)
                    .map_err(|e| wasmtime::format_err!("the app streamed invalid JSON: {e}"))?;
                let sender = match get(store.data_mut()) {
                    StreamSink::Forward { sender, sent } => {
                        // Counted before it goes out: a half-sent value was seen, maybe.
                        *sent = true;
                        sender.clone()
                    }
                    StreamSink::Collect { values, bytes } => {
                        *bytes += value.get().len();
                        if *bytes > MAX_COLLECTED_BYTES {
                            wasmtime::bail!(
                                "the app streamed more than {} MiB",
                                MAX_COLLECTED_BYTES >> 20
                            );
                        }
                        values.push(value);
                        return Ok(());
                    }
                };
                // A client that left dropped the receiver; the runtime cancels the call
                // (it watches the same channel), so this error is seldom seen by a guest.
                sender
                    .send(value)
                    .await
                    .map_err(|_| wasmtime::format_err!("the client stopped reading the stream"))
            })
        },
    )?;
    Ok(())
}
