//! Leader election on a `coordination.k8s.io/v1` Lease: of several operator replicas, only the
//! one holding the Lease reconciles. Pure: the Lease as last read and the clock in, what to do
//! and the Lease spec to write out. The adapter writes it with the resourceVersion it read, so
//! two replicas that decide to take an expired Lease at once cannot both succeed (the API
//! server refuses the second write with a conflict).
//!
//! Rules:
//! - no Lease, no holder, or a holder whose last renewal is older than its duration: take it
//!   (one more transition);
//! - held by me: renew it (same acquire time and transitions);
//! - held by another and still fresh: follow, and look again when it would expire.

use k8s_openapi::api::coordination::v1::LeaseSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// What a replica does after reading the Lease.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Write this spec (taking or renewing the Lease); lead while the write succeeds.
    Write { spec: LeaseSpec, took_over_from: Option<String> },
    /// Someone else leads; read the Lease again after this many milliseconds.
    Follow { holder: String, retry_in_ms: i64 },
}

/// The decision for replica `me` at `now`, for a Lease last read as `lease` (`None`: there is
/// none yet). `duration_s` is how long a Lease this replica writes stays valid unrenewed.
pub fn step(lease: Option<&LeaseSpec>, me: &str, now: Timestamp, duration_s: i32) -> Step {
    let transitions = lease.and_then(|l| l.lease_transitions).unwrap_or(0);
    let write = |acquire: Option<MicroTime>, transitions: i32, took_over_from: Option<String>| Step::Write {
        spec: LeaseSpec {
            holder_identity: Some(me.to_string()),
            lease_duration_seconds: Some(duration_s),
            acquire_time: Some(acquire.unwrap_or(MicroTime(now))),
            renew_time: Some(MicroTime(now)),
            lease_transitions: Some(transitions),
            ..Default::default()
        },
        took_over_from,
    };
    let Some(lease) = lease else { return write(None, 0, None) };
    match lease.holder_identity.clone().filter(|h| !h.is_empty()) {
        None => write(None, transitions + 1, None),
        Some(h) if h == me => write(lease.acquire_time.clone(), transitions, None),
        Some(h) => match expiry(lease) {
            Some(at) if at > now => {
                let left = now.duration_until(at).as_millis().clamp(1, i64::MAX as i128) as i64;
                Step::Follow { holder: h, retry_in_ms: left }
            }
            _ => write(None, transitions + 1, Some(h)),
        },
    }
}

/// When a Lease lapses unless renewed: its last renewal (or acquisition) plus its duration.
/// `None` when it says neither (a Lease nobody renews is free).
pub fn expiry(lease: &LeaseSpec) -> Option<Timestamp> {
    let last = lease.renew_time.as_ref().or(lease.acquire_time.as_ref())?.0;
    let duration = SignedDuration::from_secs(i64::from(lease.lease_duration_seconds.unwrap_or(0).max(0)));
    last.checked_add(duration).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + s).unwrap()
    }

    fn held(by: &str, renewed: i64, duration: i32, transitions: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: Some(by.into()),
            lease_duration_seconds: Some(duration),
            acquire_time: Some(MicroTime(at(0))),
            renew_time: Some(MicroTime(at(renewed))),
            lease_transitions: Some(transitions),
            ..Default::default()
        }
    }

    fn written(step: Step) -> (LeaseSpec, Option<String>) {
        match step {
            Step::Write { spec, took_over_from } => (spec, took_over_from),
            other => panic!("expected a write, got {other:?}"),
        }
    }

    #[test]
    fn the_first_replica_takes_a_missing_or_empty_lease() {
        let (spec, from) = written(step(None, "a", at(5), 15));
        assert_eq!(spec.holder_identity.as_deref(), Some("a"));
        assert_eq!((spec.lease_transitions, spec.lease_duration_seconds), (Some(0), Some(15)));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(5))));
        assert_eq!(from, None);
        let released = LeaseSpec { holder_identity: Some(String::new()), ..held("x", 0, 15, 3) };
        let (spec, _) = written(step(Some(&released), "b", at(1), 15));
        assert_eq!((spec.holder_identity.as_deref(), spec.lease_transitions), (Some("b"), Some(4)));
    }

    #[test]
    fn the_holder_renews_and_keeps_its_acquire_time() {
        let (spec, from) = written(step(Some(&held("a", 10, 15, 2)), "a", at(20), 15));
        assert_eq!(spec.renew_time, Some(MicroTime(at(20))));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(0))));
        assert_eq!((spec.lease_transitions, from), (Some(2), None));
    }

    #[test]
    fn others_follow_a_fresh_lease_until_it_would_expire() {
        let lease = held("a", 10, 15, 2);
        assert_eq!(
            step(Some(&lease), "b", at(20), 15),
            Step::Follow { holder: "a".into(), retry_in_ms: 5_000 }
        );
        // One second short of expiry: still a follower.
        assert!(matches!(step(Some(&lease), "b", at(24), 15), Step::Follow { retry_in_ms: 1_000, .. }));
    }

    #[test]
    fn an_expired_lease_is_taken_over_with_one_more_transition() {
        let lease = held("a", 10, 15, 2);
        let (spec, from) = written(step(Some(&lease), "b", at(25), 15));
        assert_eq!(spec.holder_identity.as_deref(), Some("b"));
        assert_eq!(spec.acquire_time, Some(MicroTime(at(25))));
        assert_eq!((spec.lease_transitions, from.as_deref()), (Some(3), Some("a")));
        // A Lease that says no time at all is free.
        let timeless = LeaseSpec { renew_time: None, acquire_time: None, ..lease };
        assert!(matches!(step(Some(&timeless), "b", at(0), 15), Step::Write { .. }));
    }
}
