//! A token bucket: events per second, with a burst of one second's worth.

use std::time::Instant;

/// Allows `per_second` events per second, holding at most one second's worth.
#[derive(Debug)]
pub struct TokenBucket {
    per_second: u32,
    tokens: f64,
    refilled: Instant,
}

impl TokenBucket {
    /// A bucket of `per_second` tokens, full.
    pub fn full(per_second: u32) -> Self {
        TokenBucket {
            per_second,
            tokens: f64::from(per_second),
            refilled: Instant::now(),
        }
    }

    /// Take one token; `false` when none is left (nothing is taken).
    pub fn take(&mut self) -> bool {
        let now = Instant::now();
        let rate = f64::from(self.per_second);
        let earned = now.duration_since(self.refilled).as_secs_f64() * rate;
        self.tokens = (self.tokens + earned).min(rate);
        self.refilled = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_bucket_allows_one_seconds_worth_then_refills() {
        let mut bucket = TokenBucket::full(50);
        assert!((0..50).all(|_| bucket.take()));
        assert!(!bucket.take());
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert!(bucket.take(), "a token per 20 ms");
    }
}
