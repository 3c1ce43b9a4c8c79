//! What the store keeps, as plain values.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use vmafx_core::{ItemState, JobState, ScoreJobSpec, SegmentResult, SegmentSpec};

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
    /// The name of the token that submitted it.
    pub owner: String,
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
    /// The pooled (mean) VMAF of a succeeded job, once the controller has assembled it.
    pub vmaf: Option<f64>,
    /// The name of the token that submitted it.
    #[serde(default)]
    pub owner: String,
}

/// Which jobs a listing returns: optionally one state, a page of `limit` after `cursor` (the
/// `seq` of the last job of the previous page), newest or oldest first.
#[derive(Debug, Clone, Copy)]
pub struct JobQuery {
    pub state: Option<JobState>,
    pub cursor: Option<i64>,
    pub limit: u32,
    pub newest_first: bool,
}

impl JobQuery {
    /// The first `limit` jobs, oldest first, in any state.
    pub fn oldest(limit: u32) -> Self {
        Self { state: None, cursor: None, limit, newest_first: false }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ItemRecord {
    pub id: i64,
    pub job_id: String,
    pub index: u32,
    pub segment: SegmentSpec,
    pub state: ItemState,
    pub attempts: u32,
    pub not_before_ms: Millis,
    /// The node that holds the lease, or for a done item the one that scored it.
    pub lease_node: Option<String>,
    pub lease_expires_ms: Option<Millis>,
    pub fence: i64,
    /// The segment's result as the node reported it.
    pub result: Option<SegmentResult>,
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

/// A node asking for work: the requirement keys it satisfies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub node: String,
    pub eligible: Vec<String>,
}

/// A node's result for the item it holds under `fence`.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemResult {
    pub item: i64,
    pub fence: i64,
    pub result: SegmentResult,
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
    /// Recorded; `job` is the state of job `job_id` right after this report, as if a batch's
    /// reports were applied one by one in order: only the report that ended a job sees it
    /// ended, so a job's end is handled once.
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

/// How an attempt that did not deliver a result ends: decided by the controller's scheduling
/// rules, applied by the store only while the lease it judged is still current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Back to the queue, leasable again from `not_before_ms`.
    Retry { not_before_ms: Millis, error: String },
    /// The item failed with `error`; its job fails with `job_error` and its unfinished items
    /// are cancelled.
    Fail { error: String, job_error: String },
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

/// An API token as the store keeps it: never the secret, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// Hex SHA-256 of the secret.
    pub hash: String,
    /// admin, submit, read, join (registers nodes) or node (one node's credential).
    pub kind: String,
    /// Shown in listings and logs (`grafana`, `ci`; a node's credential: the node's name).
    pub name: String,
    /// The node a `node` credential belongs to.
    pub node_id: Option<String>,
    pub created_ms: Millis,
    /// When it was revoked; a revoked token is refused.
    pub revoked_ms: Option<Millis>,
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
    /// Work items pending and leased, per requirement key (in key order; keys with neither
    /// are absent): what per-pool queue depths are made of.
    pub work_by_requirement: Vec<RequirementWork>,
}

/// Pending and leased work items of one requirement key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequirementWork {
    pub requirement: String,
    pub pending: u64,
    pub leased: u64,
}

impl QueueStats {
    /// The work per pool ([`vmafx_core::pool_queues`]).
    pub fn pool_queues(&self) -> Vec<vmafx_core::PoolQueue> {
        vmafx_core::pool_queues(
            self.work_by_requirement.iter().map(|w| (w.requirement.as_str(), w.pending, w.leased)),
        )
    }
}

impl Completion {
    /// The answers to a batch of reports: `applied[i]` is the job of report `i` when it was
    /// recorded, `after` each job's state once the whole batch was. A job's state after the
    /// batch goes to its last recorded report; those before it left the job running.
    pub(crate) fn of_batch(
        applied: Vec<Option<String>>,
        after: &HashMap<String, JobState>,
    ) -> Result<Vec<Completion>, crate::StoreError> {
        let mut last: HashMap<String, usize> = HashMap::new();
        for (i, job_id) in applied.iter().enumerate() {
            if let Some(job_id) = job_id {
                last.insert(job_id.clone(), i);
            }
        }
        applied
            .into_iter()
            .enumerate()
            .map(|(i, job_id)| {
                let Some(job_id) = job_id else { return Ok(Completion::Stale) };
                let Some(&state) = after.get(&job_id) else {
                    return Err(crate::StoreError::Corrupt(format!("no state for job {job_id}")));
                };
                let ended_here = last[&job_id] == i;
                let job = if state.is_terminal() && !ended_here { JobState::Running } else { state };
                Ok(Completion::Applied { job_id, job })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_report_of_a_job_in_a_batch_sees_it_end() {
        let after: HashMap<String, JobState> =
            [("a".to_string(), JobState::Succeeded), ("b".to_string(), JobState::Running)].into();
        let applied = vec![Some("a".into()), Some("b".into()), None, Some("a".into()), Some("b".into())];
        let got = Completion::of_batch(applied, &after).unwrap();
        let applied = |j: &str, job| Completion::Applied { job_id: j.into(), job };
        assert_eq!(
            got,
            [
                applied("a", JobState::Running),
                applied("b", JobState::Running),
                Completion::Stale,
                applied("a", JobState::Succeeded),
                applied("b", JobState::Running),
            ]
        );
        assert!(Completion::of_batch(vec![Some("c".into())], &after).is_err());
    }
}
