//! Backpressure: whether a submission is taken now, or refused with how long to wait. Past a
//! queue size or a submission rate, a controller that keeps accepting only turns a burst into
//! a queue nobody will see the end of; refusing early with a retry hint lets clients back off.

use std::time::{Duration, Instant};

/// A token bucket: `rate` tokens a second, holding at most one second's worth.
#[derive(Debug)]
pub struct RateLimit {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    pub fn new(rate: f64) -> Self {
        let rate = rate.max(0.001);
        Self { rate, tokens: rate.max(1.0), at: Instant::now() }
    }

    /// Takes a token at `now`; when none is left, how long until one is.
    pub fn take(&mut self, now: Instant) -> Result<(), Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate.max(1.0));
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - self.tokens) / self.rate))
        }
    }
}

/// How long a client should wait when the queue is full: long enough for some of it to
/// drain, short enough to notice when it has.
pub const QUEUE_FULL_RETRY: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_past_the_rate_is_refused_with_the_wait() {
        let start = Instant::now();
        let mut limit = RateLimit::new(10.0);
        for _ in 0..10 {
            assert!(limit.take(start).is_ok(), "one second's worth at once");
        }
        let wait = limit.take(start).unwrap_err();
        assert!(wait > Duration::from_millis(90) && wait <= Duration::from_millis(100), "{wait:?}");
        assert!(limit.take(start + Duration::from_millis(100)).is_ok(), "refilled");
        assert!(limit.take(start + Duration::from_millis(100)).is_err());
    }
}
