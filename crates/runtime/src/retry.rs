//! Running a call again when its commit conflicted (optimistic concurrency).
//!
//! A session remembers the version of every anchor it read; its commit is refused with
//! `Conflict` when an anchor it updates or deletes changed meanwhile (or a node it
//! connected was deleted). Such a call ran on data that is no longer there, so it runs
//! again, from the start, in a fresh instance with a fresh session: concurrent calls on
//! one node then take turns, and none loses another's write. Only a call that did nothing
//! a second run would repeat (no kvstore or storage change, no globals stored, no streamed
//! value sent) runs again; any other answers 409 `CONFLICT`. Runs are spaced by
//! exponential backoff with full jitter (writers that collided spread out instead of
//! colliding again), all within the call's one time limit.

use rand::Rng;
use tokio::time::{Duration, Instant};

/// The first pause after a conflict; it doubles per run up to [`MAX_PAUSE`], and each
/// pause is drawn at random below it.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const MAX_PAUSE: Duration = Duration::from_millis(100);

/// The pauses between the runs of one call, until its deadline.
pub(crate) struct Backoff {
    deadline: Instant,
    ceiling: Duration,
    /// Runs so far.
    pub(crate) runs: u32,
}

impl Backoff {
    /// Backoff for a call that must be answered by `deadline`; its first run counts.
    pub(crate) fn new(deadline: Instant) -> Self {
        Self {
            deadline,
            ceiling: FIRST_PAUSE,
            runs: 1,
        }
    }

    /// Waits before the next run; `false` (at once) when the deadline leaves no time for
    /// the pause.
    pub(crate) async fn wait(&mut self) -> bool {
        let pause = rand::rng().random_range(Duration::ZERO..=self.ceiling);
        if Instant::now() + pause >= self.deadline {
            return false;
        }
        self.ceiling = (self.ceiling * 2).min(MAX_PAUSE);
        self.runs += 1;
        tokio::time::sleep(pause).await;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn pauses_stay_under_the_cap_and_stop_before_the_deadline() {
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        let mut backoff = Backoff::new(deadline);
        let mut last = started;
        while backoff.wait().await {
            let now = Instant::now();
            // A pause, plus scheduling slack on a loaded machine.
            assert!(now - last <= MAX_PAUSE + Duration::from_millis(50));
            last = now;
        }
        assert!(backoff.runs > 2, "{} runs", backoff.runs);
        assert!(Instant::now() < deadline + Duration::from_millis(50));
        assert_eq!(backoff.ceiling, MAX_PAUSE);
    }
}
