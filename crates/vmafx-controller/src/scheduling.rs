//! The scheduler's rules as plain functions: which work a node may run, and what becomes of an
//! attempt that did not deliver a result (retry with backoff, or fail the job, with the
//! message a user reads). The store only applies the [`Transition`]s decided here, fenced by
//! the lease they judged; segment planning is [`vmafx_core::plan_segments`].

use vmafx_core::{Capabilities, Requirements};
use vmafx_store::{ItemRecord, Millis, Transition};

/// How lost or failed attempts are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per item before its job fails.
    pub max_attempts: u32,
    /// Backoff after the first lost attempt; doubles each time.
    pub base_backoff_ms: Millis,
    pub max_backoff_ms: Millis,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { max_attempts: 3, base_backoff_ms: 1_000, max_backoff_ms: 60_000 }
    }
}

impl RetryPolicy {
    /// Delay before the next attempt after `attempts` attempts.
    pub fn backoff(&self, attempts: u32) -> Millis {
        let exp = attempts.saturating_sub(1).min(30);
        self.base_backoff_ms.saturating_mul(1 << exp).min(self.max_backoff_ms)
    }
}

/// What becomes of `item` (as leased, `attempts` counting this one) after its node reported
/// `error`: a `permanent` error (bad input) fails the job at once; otherwise it is retried
/// with backoff until attempts run out.
pub fn after_failure(
    item: &ItemRecord,
    error: &str,
    permanent: bool,
    policy: &RetryPolicy,
    now: Millis,
) -> Transition {
    if permanent || item.attempts >= policy.max_attempts {
        let job_error = format!(
            "segment {} (frames {}) failed after {} attempt(s): {error}",
            item.index,
            frames(item),
            item.attempts
        );
        return Transition::Fail { error: error.into(), job_error };
    }
    Transition::Retry { not_before_ms: now + policy.backoff(item.attempts), error: error.into() }
}

/// What becomes of `item` after its lease expired (its node went silent).
pub fn after_lost_lease(item: &ItemRecord, policy: &RetryPolicy, now: Millis) -> Transition {
    const LOST: &str = "lease expired";
    if item.attempts >= policy.max_attempts {
        let job_error = format!(
            "segment {} (frames {}) lost its node {} time(s) (last: {}); giving up after --max-attempts {}",
            item.index,
            frames(item),
            item.attempts,
            item.lease_node.as_deref().unwrap_or("unknown"),
            policy.max_attempts
        );
        return Transition::Fail { error: LOST.into(), job_error };
    }
    Transition::Retry { not_before_ms: now + policy.backoff(item.attempts), error: LOST.into() }
}

fn frames(item: &ItemRecord) -> String {
    match item.segment.frames {
        // A video whose length was not known at submission, read to its end.
        0 => format!("{}..end", item.segment.start),
        n => format!("{}..{}", item.segment.start, item.segment.start + n),
    }
}

/// The requirement keys (of [`Requirements::key`]) among `keys` that a node with `caps` can
/// run; unreadable keys match no node.
pub fn eligible_keys<'a>(keys: impl IntoIterator<Item = &'a String>, caps: &Capabilities) -> Vec<String> {
    keys.into_iter()
        .filter(|k| Requirements::from_key(k).is_some_and(|r| r.satisfied_by(caps)))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet, VecDeque};

    use vmafx_core::{plan_segments, ItemState, SegmentSpec};

    use super::*;

    fn item(index: u32, attempts: u32) -> ItemRecord {
        ItemRecord {
            id: index as i64,
            job_id: "j".into(),
            index,
            segment: SegmentSpec { start: index as u64 * 100, frames: 100 },
            state: ItemState::Leased,
            attempts,
            not_before_ms: 0,
            lease_node: Some("node-7".into()),
            lease_expires_ms: Some(0),
            fence: 1,
            result: None,
            last_error: None,
        }
    }

    const POLICY: RetryPolicy = RetryPolicy { max_attempts: 3, base_backoff_ms: 100, max_backoff_ms: 350 };

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        assert_eq!([1, 2, 3, 4].map(|a| POLICY.backoff(a)), [100, 200, 350, 350]);
        assert_eq!(POLICY.backoff(0), 100);
        assert_eq!(RetryPolicy { max_backoff_ms: Millis::MAX, ..POLICY }.backoff(u32::MAX), 100 << 30);
    }

    #[test]
    fn failures_retry_with_backoff_then_fail_the_job_naming_the_segment() {
        assert_eq!(
            after_failure(&item(2, 1), "ffmpeg crashed", false, &POLICY, 1000),
            Transition::Retry { not_before_ms: 1100, error: "ffmpeg crashed".into() }
        );
        let Transition::Fail { error, job_error } =
            after_failure(&item(2, 3), "ffmpeg crashed", false, &POLICY, 0)
        else {
            panic!("attempts are spent")
        };
        assert_eq!(error, "ffmpeg crashed");
        assert_eq!(job_error, "segment 2 (frames 200..300) failed after 3 attempt(s): ffmpeg crashed");
        assert!(matches!(
            after_failure(&item(0, 1), "no such file", true, &POLICY, 0),
            Transition::Fail { .. }
        ));
    }

    #[test]
    fn lost_leases_retry_then_give_up_naming_the_node_and_the_flag() {
        assert_eq!(
            after_lost_lease(&item(0, 2), &POLICY, 50),
            Transition::Retry { not_before_ms: 250, error: "lease expired".into() }
        );
        let Transition::Fail { job_error, .. } = after_lost_lease(&item(1, 3), &POLICY, 0) else { panic!() };
        assert_eq!(
            job_error,
            "segment 1 (frames 100..200) lost its node 3 time(s) (last: node-7); giving up after --max-attempts 3"
        );
    }

    #[test]
    fn nodes_get_only_the_work_they_can_run() {
        let gpu = Requirements { gpu_vendor: Some("nvidia".into()), ..Default::default() };
        let x265 = Requirements { encoder: Some("libx265".into()), ..Default::default() };
        let keys: Vec<String> = [Requirements::default(), gpu, x265].iter().map(|r| r.key()).collect();
        let cpu = Capabilities { encoders: vec!["libx264".into()], ..Default::default() };
        let nvidia = Capabilities {
            gpu_vendor: "nvidia".into(),
            encoders: vec!["libx265".into()],
            ..Default::default()
        };
        assert_eq!(eligible_keys(&keys, &cpu), [keys[0].clone()]);
        assert_eq!(eligible_keys(&keys, &nvidia), keys);
        assert!(eligible_keys(&["not json".to_string()], &nvidia).is_empty());
    }

    /// A deterministic pseudo-random sequence (xorshift), so that the simulation is repeatable.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    /// The rules at scale: 100,000 items of 2,000 jobs on 1,000 nodes, nodes dying and failing
    /// at random. An in-memory queue applies the transitions as the store would. Every item
    /// ends done or with its job failed, no item runs more than `max_attempts` times, backoff
    /// is honoured, and a failed job names the segment that failed it.
    #[test]
    fn a_hundred_thousand_items_on_a_thousand_churning_nodes() {
        const JOBS: usize = 2_000;
        const NODES: usize = 1_000;
        let policy = RetryPolicy { max_attempts: 4, base_backoff_ms: 10, max_backoff_ms: 80 };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut items: Vec<ItemRecord> = Vec::new();
        for job in 0..JOBS {
            for (index, segment) in plan_segments(50 * 100, Some(100)).into_iter().enumerate() {
                items.push(ItemRecord {
                    id: items.len() as i64,
                    job_id: job.to_string(),
                    index: index as u32,
                    segment,
                    state: ItemState::Pending,
                    attempts: 0,
                    not_before_ms: 0,
                    lease_node: None,
                    lease_expires_ms: None,
                    fence: 0,
                    result: None,
                    last_error: None,
                });
            }
        }
        assert_eq!(items.len(), 100_000);
        let mut queue: VecDeque<usize> = (0..items.len()).collect();
        let mut failed_jobs: BTreeMap<String, String> = BTreeMap::new();
        let mut running: Vec<Option<usize>> = vec![None; NODES];
        let (mut now, mut fence) = (0, 0);
        while items.iter().any(|i| matches!(i.state, ItemState::Pending | ItemState::Leased)) {
            now += 1;
            for (node, slot) in running.iter_mut().enumerate() {
                match slot.take() {
                    None => {
                        // Pull: the first pending item whose backoff is over and whose job lives.
                        for _ in 0..queue.len() {
                            let Some(i) = queue.pop_front() else { break };
                            let it = &mut items[i];
                            if it.state != ItemState::Pending || failed_jobs.contains_key(&it.job_id) {
                                continue;
                            }
                            if it.not_before_ms > now {
                                queue.push_back(i);
                                continue;
                            }
                            fence += 1;
                            it.state = ItemState::Leased;
                            it.attempts += 1;
                            it.fence = fence;
                            it.lease_node = Some(format!("node-{node}"));
                            assert!(it.attempts <= policy.max_attempts, "item {} ran too often", it.id);
                            *slot = Some(i);
                            break;
                        }
                    }
                    Some(i) => {
                        let outcome = rng.below(100);
                        let it = &mut items[i];
                        if failed_jobs.contains_key(&it.job_id) {
                            it.state = ItemState::Cancelled;
                            continue;
                        }
                        let transition = match outcome {
                            0..=79 => {
                                it.state = ItemState::Done;
                                continue;
                            }
                            80..=89 => after_lost_lease(it, &policy, now),
                            90..=98 => after_failure(it, "encoder crashed", false, &policy, now),
                            _ => after_failure(it, "unreadable input", rng.below(50) == 0, &policy, now),
                        };
                        match transition {
                            Transition::Retry { not_before_ms, .. } => {
                                assert!(not_before_ms > now && not_before_ms <= now + policy.max_backoff_ms);
                                it.state = ItemState::Pending;
                                it.not_before_ms = not_before_ms;
                                queue.push_back(i);
                            }
                            Transition::Fail { job_error, .. } => {
                                it.state = ItemState::Failed;
                                assert!(
                                    job_error.starts_with(&format!("segment {} ", it.index)),
                                    "{job_error}"
                                );
                                let job: usize = it.job_id.parse().unwrap();
                                failed_jobs.insert(it.job_id.clone(), job_error);
                                // Its pending items are cancelled, as the store does.
                                for sibling in &mut items[job * 50..(job + 1) * 50] {
                                    if sibling.state == ItemState::Pending {
                                        sibling.state = ItemState::Cancelled;
                                    }
                                }
                            }
                        }
                    }
                }
            }
            assert!(now < 10_000, "the queue drains");
        }
        let done_jobs: BTreeSet<&str> = items
            .iter()
            .filter(|i| !failed_jobs.contains_key(&i.job_id))
            .map(|i| {
                assert_eq!(i.state, ItemState::Done, "item {} of a live job", i.id);
                i.job_id.as_str()
            })
            .collect();
        assert_eq!(done_jobs.len() + failed_jobs.len(), JOBS);
        assert!(!failed_jobs.is_empty() && !done_jobs.is_empty(), "both outcomes occur");
    }
}
