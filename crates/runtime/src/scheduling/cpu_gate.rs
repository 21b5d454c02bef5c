//! Who is on a guest thread: one call per thread at most, the rest wait in order of the
//! CPU time they have used, fewest first; an app holds at most its share of the threads.
//!
//! A call takes a turn before each poll of its future and gives it back whenever the
//! future returns `Pending` (a host wait, or the yield the epoch callback asks for on
//! every tick). So a call that ran for a tick goes behind every fresh call waiting, and
//! calls that keep running share the threads round-robin by the time they used.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};
use std::time::Duration;

/// The turns of the guest threads, shared by every app of the process.
pub struct CpuGate {
    state: Mutex<GateState>,
    threads: usize,
}

/// One app's share of the guest threads.
#[derive(Debug)]
pub struct CpuShare {
    /// Threads the app's calls may hold at once.
    cap: usize,
    /// Threads held now; changed only under the gate's lock.
    holding: AtomicUsize,
}

impl CpuShare {
    /// A share of at most `cap` threads (0 = all of them).
    pub fn new(cap: usize) -> Arc<Self> {
        Arc::new(CpuShare {
            cap: if cap == 0 { usize::MAX } else { cap },
            holding: AtomicUsize::new(0),
        })
    }

    fn may_take(&self) -> bool {
        self.holding.load(Ordering::Relaxed) < self.cap
    }
}

/// Waiting turns are ordered by (CPU used, arrival).
type Key = (Duration, u64);

struct Waiter {
    share: Arc<CpuShare>,
    waker: Waker,
}

#[derive(Default)]
struct GateState {
    free: usize,
    next_seq: u64,
    waiting: BTreeMap<Key, Waiter>,
    /// Turns handed to a waiter that has not polled since.
    granted: HashSet<u64>,
}

impl CpuGate {
    /// A gate over `threads` guest threads.
    pub fn new(threads: usize) -> Arc<Self> {
        Arc::new(CpuGate {
            state: Mutex::new(GateState {
                free: threads,
                ..GateState::default()
            }),
            threads,
        })
    }

    /// Guest threads (turns) in all.
    pub fn threads(&self) -> usize {
        self.threads
    }

    fn lock(&self) -> MutexGuard<'_, GateState> {
        // The state stays consistent at every unlock; a panic elsewhere cannot break it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn give_back(&self, state: &mut GateState, share: &CpuShare) {
        state.free += 1;
        share.holding.fetch_sub(1, Ordering::Relaxed);
        Self::hand_out(state);
    }

    /// Free turns go to the waiters with the least CPU used whose app is under its share.
    fn hand_out(state: &mut GateState) {
        while state.free > 0 {
            let Some(key) = state
                .waiting
                .iter()
                .find(|(_, w)| w.share.may_take())
                .map(|(k, _)| *k)
            else {
                return;
            };
            let waiter = state.waiting.remove(&key).expect("found just now");
            state.free -= 1;
            waiter.share.holding.fetch_add(1, Ordering::Relaxed);
            state.granted.insert(key.1);
            waiter.waker.wake();
        }
    }
}

/// One call's place at the gate.
pub(crate) struct Turn {
    gate: Arc<CpuGate>,
    share: Arc<CpuShare>,
    state: TurnState,
}

enum TurnState {
    Idle,
    Waiting(Key),
    Holding,
}

impl Turn {
    pub(crate) fn new(gate: Arc<CpuGate>, share: Arc<CpuShare>) -> Self {
        Turn {
            gate,
            share,
            state: TurnState::Idle,
        }
    }

    /// Whether the call holds a thread now; if not, it is queued with `used` CPU time and
    /// `cx` is woken when its turn comes.
    pub(crate) fn poll_take(&mut self, cx: &mut Context<'_>, used: Duration) -> bool {
        let mut state = self.gate.lock();
        match self.state {
            TurnState::Holding => return true,
            TurnState::Waiting(key) => {
                if state.granted.remove(&key.1) {
                    self.state = TurnState::Holding;
                    return true;
                }
                if let Some(waiter) = state.waiting.get_mut(&key) {
                    waiter.waker.clone_from(cx.waker());
                }
                return false;
            }
            TurnState::Idle => {}
        }
        if state.waiting.is_empty() && state.free > 0 && self.share.may_take() {
            state.free -= 1;
            self.share.holding.fetch_add(1, Ordering::Relaxed);
            self.state = TurnState::Holding;
            return true;
        }
        let key = (used, state.next_seq);
        state.next_seq += 1;
        state.waiting.insert(
            key,
            Waiter {
                share: self.share.clone(),
                waker: cx.waker().clone(),
            },
        );
        CpuGate::hand_out(&mut state);
        if state.granted.remove(&key.1) {
            self.state = TurnState::Holding;
            true
        } else {
            self.state = TurnState::Waiting(key);
            false
        }
    }

    /// Leave the thread (or the queue).
    pub(crate) fn give_back(&mut self) {
        let previous = std::mem::replace(&mut self.state, TurnState::Idle);
        match previous {
            TurnState::Idle => {}
            TurnState::Holding => {
                let mut state = self.gate.lock();
                self.gate.give_back(&mut state, &self.share);
            }
            TurnState::Waiting(key) => {
                let mut state = self.gate.lock();
                if state.waiting.remove(&key).is_none() && state.granted.remove(&key.1) {
                    // Handed a turn it never took (the call was dropped): pass it on.
                    self.gate.give_back(&mut state, &self.share);
                }
            }
        }
    }
}

impl Drop for Turn {
    fn drop(&mut self) {
        self.give_back();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    fn cx() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn a_fresh_call_goes_before_calls_that_ran() {
        let gate = CpuGate::new(1);
        let share = CpuShare::new(0);
        let mut long = Turn::new(gate.clone(), share.clone());
        assert!(long.poll_take(&mut cx(), Duration::ZERO));
        let mut other_long = Turn::new(gate.clone(), share.clone());
        assert!(!other_long.poll_take(&mut cx(), Duration::from_millis(50)));
        let mut fresh = Turn::new(gate.clone(), share.clone());
        assert!(!fresh.poll_take(&mut cx(), Duration::ZERO));
        // The running call yields and queues again with what it used.
        long.give_back();
        assert!(!long.poll_take(&mut cx(), Duration::from_millis(60)));
        assert!(fresh.poll_take(&mut cx(), Duration::ZERO));
        assert!(!other_long.poll_take(&mut cx(), Duration::from_millis(50)));
        drop(fresh);
        assert!(other_long.poll_take(&mut cx(), Duration::from_millis(50)));
        assert!(!long.poll_take(&mut cx(), Duration::from_millis(60)));
    }

    #[test]
    fn an_app_holds_at_most_its_share() {
        let gate = CpuGate::new(2);
        let (greedy, other) = (CpuShare::new(1), CpuShare::new(0));
        let mut first = Turn::new(gate.clone(), greedy.clone());
        let mut second = Turn::new(gate.clone(), greedy.clone());
        assert!(first.poll_take(&mut cx(), Duration::ZERO));
        assert!(!second.poll_take(&mut cx(), Duration::ZERO));
        let mut neighbour = Turn::new(gate.clone(), other);
        assert!(neighbour.poll_take(&mut cx(), Duration::from_secs(1)));
        drop(first);
        assert!(second.poll_take(&mut cx(), Duration::ZERO));
    }

    #[test]
    fn a_dropped_waiter_passes_its_turn_on() {
        let gate = CpuGate::new(1);
        let share = CpuShare::new(0);
        let mut running = Turn::new(gate.clone(), share.clone());
        assert!(running.poll_take(&mut cx(), Duration::ZERO));
        let mut granted_then_dropped = Turn::new(gate.clone(), share.clone());
        assert!(!granted_then_dropped.poll_take(&mut cx(), Duration::ZERO));
        let mut next = Turn::new(gate.clone(), share.clone());
        assert!(!next.poll_take(&mut cx(), Duration::from_millis(1)));
        running.give_back();
        drop(granted_then_dropped);
        assert!(next.poll_take(&mut cx(), Duration::from_millis(1)));
        assert_eq!(share.holding.load(Ordering::Relaxed), 1);
    }
}
