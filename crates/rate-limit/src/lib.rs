//! Per-key fixed-window counters: at most `limit` events per key per window.
//!
//! One type serves two uses: a rate limit that counts every call ([`RateLimiter::admit`],
//! webhook keys, registrations per address) and a throttle that counts only failures
//! ([`RateLimiter::check`] before the attempt, [`RateLimiter::record`] after a failed one:
//! logins per account and per address), so a correct password is never what locks a
//! user out.
//!
//! Memory is bounded: at most [`MAX_KEYS`] windows are kept. When the map is full, the
//! windows that ended are dropped first, then the oldest half, so a flood of distinct
//! keys can make the limiter forget early keys (their counts restart) but never grows it.
//!
//! [`TokenBucket`]: events per second with a burst of one second's worth (per-app quotas).

mod token_bucket;

pub use token_bucket::TokenBucket;

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Most keys whose windows are remembered at once.
pub const MAX_KEYS: usize = 10_000;

/// Counts events per key in fixed windows.
#[derive(Debug)]
pub struct RateLimiter {
    limit: u32,
    window: Duration,
    windows: Mutex<HashMap<String, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

impl RateLimiter {
    /// A limiter allowing `limit` events per key and `window`; 0 = unlimited.
    pub fn new(limit: u32, window: Duration) -> Self {
        RateLimiter {
            limit,
            window,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The events allowed per key and window (0 = unlimited).
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The length of one window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Counts one event of `key` at `now` if the key is under its limit;
    /// `Err(retry_after)` (and nothing counted) when it is not. Check and count happen
    /// under one lock, so concurrent callers never exceed the limit together.
    pub fn admit(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let w = self.window_of(&mut windows, key, now);
        if w.count >= self.limit {
            return Err(self.rest_of(w, now));
        }
        w.count += 1;
        Ok(())
    }

    /// Whether `key` may act at `now`, without counting: `Err(retry_after)` when its
    /// window already holds `limit` events.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        match windows.get(key) {
            Some(w) if now.duration_since(w.start) < self.window && w.count >= self.limit => {
                Err(self.rest_of(w, now))
            }
            _ => Ok(()),
        }
    }

    /// Counts one event of `key` at `now`.
    pub fn record(&self, key: &str, now: Instant) {
        if self.limit == 0 {
            return;
        }
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let w = self.window_of(&mut windows, key, now);
        w.count = w.count.saturating_add(1);
    }

    /// The current window of `key` (a fresh one if it had none or its last one ended),
    /// making room first when the map is full.
    fn window_of<'a>(
        &self,
        windows: &'a mut HashMap<String, Window>,
        key: &str,
        now: Instant,
    ) -> &'a mut Window {
        if windows.len() >= MAX_KEYS && !windows.contains_key(key) {
            make_room(windows, now, self.window);
        }
        let fresh = Window {
            start: now,
            count: 0,
        };
        let w = windows.entry(key.to_owned()).or_insert(fresh);
        if now.duration_since(w.start) >= self.window {
            *w = fresh;
        }
        w
    }

    /// What is left of `w` at `now`.
    fn rest_of(&self, w: &Window, now: Instant) -> Duration {
        self.window.saturating_sub(now.duration_since(w.start))
    }
}

/// Drops ended windows; if that is not enough, the older half of the rest.
fn make_room(windows: &mut HashMap<String, Window>, now: Instant, window: Duration) {
    windows.retain(|_, w| now.duration_since(w.start) < window);
    if windows.len() < MAX_KEYS {
        return;
    }
    let mut starts: Vec<Instant> = windows.values().map(|w| w.start).collect();
    let middle = starts.len() / 2;
    let (_, cut, _) = starts.select_nth_unstable(middle);
    let cut = *cut;
    windows.retain(|_, w| w.start > cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn limits_per_key_and_resets_each_minute() {
        let limiter = RateLimiter::new(2, WINDOW);
        let t0 = Instant::now();
        assert!(limiter.admit("a", t0).is_ok());
        assert!(limiter.admit("a", t0).is_ok());
        assert!(limiter.admit("a", t0).is_err());
        assert!(limiter.admit("b", t0).is_ok());
        assert!(limiter.admit("a", t0 + WINDOW).is_ok());
        assert!(RateLimiter::new(0, WINDOW).admit("a", t0).is_ok());
    }

    #[test]
    fn check_does_not_count_and_tells_the_rest_of_the_window() {
        let limiter = RateLimiter::new(1, WINDOW);
        let t0 = Instant::now();
        assert!(limiter.check("a", t0).is_ok());
        assert!(
            limiter.check("a", t0).is_ok(),
            "check alone never fills the window"
        );
        limiter.record("a", t0);
        let retry = limiter
            .check("a", t0 + Duration::from_secs(20))
            .unwrap_err();
        assert_eq!(retry, Duration::from_secs(40));
        assert!(limiter.check("a", t0 + WINDOW).is_ok());
    }

    #[test]
    fn a_flood_of_keys_stays_bounded() {
        let limiter = RateLimiter::new(1, WINDOW);
        let t0 = Instant::now();
        for i in 0..3 * MAX_KEYS {
            limiter.record(&format!("key{i}"), t0 + Duration::from_millis(i as u64));
        }
        let kept = limiter.windows.lock().unwrap().len();
        assert!(kept <= MAX_KEYS, "{kept} windows kept");
        // the newest keys are still limited
        let last = format!("key{}", 3 * MAX_KEYS - 1);
        assert!(limiter.check(&last, t0 + Duration::from_secs(1)).is_err());
    }
}
