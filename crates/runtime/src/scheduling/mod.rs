//! Fair scheduling of guest CPU: a guest call runs only while it holds a turn of the
//! [`CpuGate`] (one turn per guest thread, one per core by default; fewest CPU used
//! first, each app within its share). A call starts on the HTTP worker that received it
//! and moves to the guest threads (the guest pool) the first time it waits, so short
//! calls pay no hand-off and long ones leave the HTTP workers after one tick.
//!
//! Why (measured, bench/RESULTS.md): on one tokio runtime, calls that loop hold the
//! workers between epoch ticks, and tokio looks at sockets only every 61 polls, so a
//! short call waited for seconds behind 4 spinning ones. Here the HTTP side always
//! answers, and a spinning call yields its thread on every tick (`TICK`) to whoever used
//! less, so a short call waits at most about one tick. Running every call on the guest
//! threads from its start cost two thread wake-ups per call: a single client's Ping
//! took ~160 us at the median instead of ~110 us (release, idle 2-core machine).

mod cpu_gate;

use std::future::Future;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use cpu_gate::Turn;
pub use cpu_gate::{CpuGate, CpuShare};

/// The guest threads and their gate, one per process.
pub struct GuestPool {
    /// `Some` until dropped (a runtime cannot be dropped inside async code; see `Drop`).
    threads: Option<tokio::runtime::Runtime>,
    gate: Arc<CpuGate>,
}

impl GuestPool {
    /// `threads` guest threads. They poll for timers and sockets after every task poll,
    /// so a call sleeping in a host import wakes on time while others spin.
    pub fn new(threads: usize) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("guest")
            .event_interval(1)
            .enable_all()
            .build()?;
        Ok(GuestPool {
            threads: Some(runtime),
            gate: CpuGate::new(threads),
        })
    }

    /// The gate of the guest threads.
    pub fn gate(&self) -> &Arc<CpuGate> {
        &self.gate
    }

    /// Run `call` and wait for it; dropping the returned future cancels the call (its
    /// instance is dropped wherever it runs).
    ///
    /// The call starts on the calling thread and moves to the guest threads the first
    /// time it waits (its first yield on an epoch tick, a host wait, or a turn at the
    /// gate), so a short call costs no hand-off between threads while a long one holds
    /// the caller's thread for one tick at most. Either way it runs only while it holds
    /// a turn of the gate.
    pub async fn run<F>(&self, call: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut call = Box::pin(call);
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        if let Poll::Ready(output) = first {
            return output;
        }
        let threads = self.threads.as_ref().expect("present until dropped");
        let mut task = CancelOnDrop(threads.spawn(call));
        match (&mut task.0).await {
            Ok(output) => output,
            // A panic in a call is a host bug: let it surface where it would have inline.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("the guest pool stopped under a running call: {e}"),
        }
    }
}

impl Drop for GuestPool {
    fn drop(&mut self) {
        if let Some(runtime) = self.threads.take() {
            runtime.shutdown_background();
        }
    }
}

/// Aborts the spawned call when the caller stops waiting for it.
struct CancelOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Run `future` holding a turn of `gate` for `share` whenever it is polled, adding the
/// time spent inside its polls to `spent` (the call's CPU time, its place in the queue).
pub(crate) async fn on_cpu<F: Future>(
    gate: &Arc<CpuGate>,
    share: &Arc<CpuShare>,
    future: F,
    spent: &mut Duration,
) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut turn = Turn::new(gate.clone(), share.clone());
    std::future::poll_fn(|cx| {
        if !turn.poll_take(cx, *spent) {
            return std::task::Poll::Pending;
        }
        let started = Instant::now();
        let polled = future.as_mut().poll(cx);
        *spent += started.elapsed();
        if polled.is_pending() {
            turn.give_back();
        }
        polled
    })
    .await
}
