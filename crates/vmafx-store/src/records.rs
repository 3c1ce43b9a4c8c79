//! What the store keeps, as plain values.

use serde::{Deserialize, Serialize};
use vmafx_core::{ItemState, JobState, ScoreJobSpec, SegmentSpec};

use crate::Millis;

/// A job to record.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub id: String,
    pub idempotency_key: Option<String>,
    pub spec: ScoreJobSpec,
    pub priority: i32,
    pub total_frames: u64,
    pub segments: Vec<SegmentSpec>,
    /// [`vmafx_core::Requirements::key`] of what a node needs to run the items.
    pub requirement: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// Submission order.
    pub seq: i64,
    pub id: String,
    pub idempotency_key: Option<String>,
    pub spec: ScoreJobSpec,
    pub state: JobState,
    pub priority: i32,
    pub total_frames: u64,
    pub submitted_ms: Millis,
    pub started_ms: Option<Millis>,
    pub finished_ms: Option<Millis>,
    pub error: Option<String>,
    pub items_total: u32,
    pub items_done: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemRecord {
    pub id: i64,
    pub job_id: String,
    pub index: u32,
    pub segment: SegmentSpec,
    pub state: ItemState,
    pub attempts: u32,
    pub not_before_ms: Millis,
    pub lease_node: Option<String>,
    pub lease_expires_ms: Option<Millis>,
    pub fence: i64,
    /// The segment's result as the node reported it (opaque to the store).
    pub result: Option<Vec<u8>>,
    pub last_error: Option<String>,
}

/// A pending item the scheduler may hand out.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub item: i64,
    pub job_id: String,
    pub job_seq: i64,
    pub priority: i32,
    pub index: u32,
}

/// A granted lease.
#[derive(Debug, Clone, PartialEq)]
pub struct Lease {
    pub item: ItemRecord,
    pub job: JobRecord,
    /// Fencing token: the node must present it with its result.
    pub fence: i64,
    pub expires_ms: Millis,
}

/// What happened to a result or failure report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completion {
    /// Recorded; `job` is the state of job `job_id` afterwards.
    Applied { job_id: String, job: JobState },
    /// The fencing token is not the item's current one (the lease expired and was given to
    /// someone else, or the job was cancelled): nothing was recorded.
    Stale,
}

/// A work item (its `result` left out) with its job's spec and frame count.
#[derive(Debug, Clone)]
pub struct ReportContext {
    pub item: ItemRecord,
    pub spec: ScoreJobSpec,
    pub total_frames: u64,
}

/// What a retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub jobs: u64,
    pub nodes: u64,
}

/// An item whose lease expired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub item: i64,
    pub job_id: String,
    pub node: Option<String>,
    /// The job failed because the item ran out of attempts.
    pub job_failed: bool,
}

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

/// A worker as registered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeRecord {
    pub id: String,
    pub name: String,
    /// Capabilities as the node reported them (JSON).
    pub capabilities: serde_json::Value,
    pub registered_ms: Millis,
    pub last_seen_ms: Millis,
    pub draining: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy { max_attempts: 5, base_backoff_ms: 100, max_backoff_ms: 350 };
        assert_eq!([1, 2, 3, 4].map(|a| p.backoff(a)), [100, 200, 350, 350]);
        assert_eq!(p.backoff(0), 100);
    }
}

/// Queue figures for monitoring.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueStats {
    /// Jobs per state (states with no job are absent).
    pub jobs: Vec<(JobState, u64)>,
    /// Work items waiting for a node.
    pub pending_items: u64,
    /// Submission time of the oldest job that still has a pending item.
    pub oldest_pending_ms: Option<Millis>,
}
