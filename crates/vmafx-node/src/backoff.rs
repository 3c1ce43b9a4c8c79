//! Riding out a controller outage: retry with capped exponential backoff and jitter, for as
//! long as it takes unless the operator set a limit (`--give-up-after`). A node that gave up
//! after a few seconds would turn every controller restart into lost capacity.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use tokio::time::Instant;

use tonic::{Code, Status};

/// First wait after a failure.
pub const BASE: Duration = Duration::from_millis(200);
/// Longest wait between attempts.
pub const CAP: Duration = Duration::from_secs(10);

/// Waits between attempts: doubling from [`BASE`] up to [`CAP`], each scaled by a random
/// factor in [0.5, 1.0] so that nodes that lost the controller together do not all come back
/// in the same millisecond.
#[derive(Debug)]
pub struct Backoff {
    attempt: u32,
    random: RandomState,
}

impl Default for Backoff {
    fn default() -> Self {
        Self { attempt: 0, random: RandomState::new() }
    }
}

impl Backoff {
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = BASE.saturating_mul(1 << self.attempt.min(16)).min(CAP);
        self.attempt += 1;
        let mut h = self.random.build_hasher();
        h.write_u32(self.attempt);
        let unit = (h.finish() >> 11) as f64 / (1u64 << 53) as f64;
        ceiling.mul_f64(0.5 + 0.5 * unit)
    }
}

/// Errors that another attempt may not see: the controller restarting, a network cut, an
/// overloaded controller.
pub fn is_transient(s: &Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::Unknown | Code::Internal | Code::DeadlineExceeded | Code::ResourceExhausted
    )
}

/// Runs `call` until it succeeds or fails for good; transient failures are retried with
/// [`Backoff`], without end unless `give_up_after` has passed since the first failure.
pub async fn with_retry<T, F, Fut>(
    what: &str,
    give_up_after: Option<Duration>,
    mut call: F,
) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    let mut backoff = Backoff::default();
    let mut failing_since: Option<Instant> = None;
    loop {
        match call().await {
            Ok(v) => {
                if let Some(since) = failing_since {
                    tracing::info!("{what} succeeded again after {:.1} s", since.elapsed().as_secs_f64());
                }
                return Ok(v);
            }
            Err(s) if is_transient(&s) => {
                let since = *failing_since.get_or_insert_with(Instant::now);
                if let Some(limit) = give_up_after.filter(|l| since.elapsed() >= *l) {
                    return Err(Status::new(
                        s.code(),
                        format!(
                            "{what}: gave up after {:.0} s (--give-up-after): {}",
                            limit.as_secs_f64(),
                            s.message()
                        ),
                    ));
                }
                let delay = backoff.next_delay();
                tracing::warn!("{what} failed ({}), retrying in {:.1} s", s.message(), delay.as_secs_f64());
                tokio::time::sleep(delay).await;
            }
            Err(s) => return Err(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_with_jitter() {
        let mut b = Backoff::default();
        let delays: Vec<Duration> = (0..40).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= BASE / 2 && delays[0] <= BASE);
        assert!(delays[3] >= BASE * 4 && delays[3] <= BASE * 8, "{:?}", delays[3]);
        assert!(delays.iter().all(|d| *d <= CAP));
        assert!(delays[20..].iter().all(|d| *d >= CAP / 2), "capped, never back to short waits");
        let distinct: std::collections::BTreeSet<_> = delays[20..].iter().collect();
        assert!(distinct.len() > 10, "jittered: {distinct:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn retries_transient_errors_until_success_and_gives_up_only_when_told() {
        let mut calls = 0;
        let out = with_retry("pull", None, || {
            calls += 1;
            let n = calls;
            async move {
                if n < 30 {
                    Err(Status::unavailable("down"))
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(out.unwrap(), 30, "30 attempts, far past the old limit of 8");
        let out: Result<(), Status> =
            with_retry("pull", Some(Duration::from_secs(60)), || async { Err(Status::unavailable("down")) })
                .await;
        let err = out.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable);
        assert!(err.message().contains("gave up after 60 s"), "{}", err.message());
        let out: Result<(), Status> =
            with_retry("pull", None, || async { Err(Status::permission_denied("no")) }).await;
        assert_eq!(out.unwrap_err().code(), Code::PermissionDenied, "not retried");
    }
}
