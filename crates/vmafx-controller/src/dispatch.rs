//! Handing out work: node registration, long-poll pulls under leases, heartbeats that keep
//! leases alive and carry stop orders, results and failures fenced by the lease's token, and
//! the sweep that puts expired leases back in the queue.

use std::time::Duration;

use vmafx_core::{Capabilities, JobState, SegmentResult};
use vmafx_store::{Completion, ItemResult, Lease, NodeRecord, Pull, ReportContext, Store};

use crate::scheduling::{after_failure, after_lost_lease, eligible_keys};
use crate::{fresh_id, now_ms, Controller, ControllerError};

/// Leases granted by this controller kept in memory for judging their results.
const MAX_GRANTS_KEPT: usize = 100_000;

/// Leases the sweep settles per store read.
const SWEEP_BATCH: u32 = 500;

/// A lease that expired and what became of its item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expired {
    pub item: i64,
    pub job_id: String,
    pub node: Option<String>,
    /// The job failed because the item ran out of attempts.
    pub job_failed: bool,
}

/// What a node tells about itself when it joins.
#[derive(Debug, Clone)]
pub struct NodeRegistration {
    /// Rejoin under this id (kept across node restarts); a new one is made when absent.
    pub id: Option<String>,
    pub name: String,
    pub capabilities: Capabilities,
}

/// A node as the APIs show it.
#[derive(Debug, Clone)]
pub struct NodeView {
    pub record: NodeRecord,
    /// Heard from within three heartbeat intervals.
    pub live: bool,
}

impl<S: Store> Controller<S> {
    pub async fn register(&self, reg: NodeRegistration) -> Result<NodeRecord, ControllerError> {
        let now = now_ms();
        let id = reg.id.filter(|i| !i.is_empty()).unwrap_or_else(|| fresh_id("node"));
        let node = NodeRecord {
            id,
            name: reg.name,
            capabilities: serde_json::to_value(&reg.capabilities)
                .map_err(|e| ControllerError::Internal(format!("capabilities: {e}")))?,
            registered_ms: now,
            last_seen_ms: now,
            draining: false,
        };
        self.store.upsert_node(&node).await?;
        self.capabilities.lock().unwrap_or_else(|p| p.into_inner()).insert(node.id.clone(), reg.capabilities);
        Ok(node)
    }

    /// Extends the node's leases; returns the items it must stop (cancelled or reassigned).
    pub async fn heartbeat(&self, node: &str, leases: &[(i64, i64)]) -> Result<Vec<i64>, ControllerError> {
        Ok(self.heartbeat_drain(node, leases).await?.0)
    }

    /// Like [`Controller::heartbeat`], also telling whether the node was asked to drain.
    pub async fn heartbeat_drain(
        &self,
        node: &str,
        leases: &[(i64, i64)],
    ) -> Result<(Vec<i64>, bool), ControllerError> {
        let now = now_ms();
        let draining = self.touch(node, now).await?;
        Ok((self.store.extend(node, leases, now, self.config.lease_ttl_ms).await?, draining))
    }

    /// A node says it is exiting: from now on it counts as not heard from (listed gone, as
    /// it would be three heartbeats later), keeping the time it was last seen within that
    /// window. Its leases, if any were left, expire as usual.
    pub async fn node_left(&self, node: &str) -> Result<(), ControllerError> {
        let Some(mut record) = self.store.nodes().await?.into_iter().find(|n| n.id == node) else {
            return Err(ControllerError::NodeNotFound(node.into()));
        };
        let gone_since = now_ms() - 3 * self.config.heartbeat_interval_ms - 1;
        record.last_seen_ms = record.last_seen_ms.min(gone_since);
        self.store.upsert_node(&record).await?;
        self.forget_touch(node);
        tracing::info!(node_id = %node, "node left");
        Ok(())
    }

    /// Records how many frames of a running item are done; like a heartbeat for that one
    /// lease. Returns whether the node must stop the item.
    pub async fn report_progress(
        &self,
        node: &str,
        item: i64,
        fence: i64,
        frames_done: u64,
    ) -> Result<bool, ControllerError> {
        let stop = !self.heartbeat(node, &[(item, fence)]).await?.is_empty();
        let mut progress = self.progress.lock().unwrap_or_else(|p| p.into_inner());
        if stop {
            progress.remove(&item);
        } else {
            progress.insert(item, frames_done);
        }
        Ok(stop)
    }

    /// Frames reported done of a running item.
    pub fn item_progress(&self, item: i64) -> u64 {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).get(&item).copied().unwrap_or(0)
    }

    /// Forgets what is kept in memory about a lease that ended.
    fn forget_progress(&self, item: i64) {
        self.progress.lock().unwrap_or_else(|p| p.into_inner()).remove(&item);
        self.granted.lock().unwrap_or_else(|p| p.into_inner()).remove(&item);
    }

    /// Remembers a lease this controller granted, for judging its result without a read.
    fn remember_grant(&self, lease: &Lease) {
        let mut granted = self.granted.lock().unwrap_or_else(|p| p.into_inner());
        // Leases whose end this controller never saw (cancelled jobs, other controllers'
        // sweeps) would pile up: past this many, start over (the store answers instead).
        if granted.len() >= MAX_GRANTS_KEPT {
            granted.clear();
        }
        let context = ReportContext {
            item: lease.item.clone(),
            spec: lease.job.spec.clone(),
            total_frames: lease.job.total_frames,
        };
        granted.insert(lease.item.id, context);
    }

    /// What judging a report on `item` under `fence` needs: from memory when this controller
    /// granted that lease, else from the store.
    async fn report_context(&self, item: i64, fence: i64) -> Result<Option<ReportContext>, ControllerError> {
        let kept = self.granted.lock().unwrap_or_else(|p| p.into_inner()).get(&item).cloned();
        match kept.filter(|c| c.item.fence == fence) {
            Some(context) => Ok(Some(context)),
            None => Ok(self.store.report_context(item).await?),
        }
    }

    /// Asks a node to drain: it gets no new work, and its next heartbeat tells it to finish
    /// what it runs and exit.
    pub async fn drain(&self, node: &str) -> Result<(), ControllerError> {
        if !self.store.set_draining(node, true).await? {
            return Err(ControllerError::NodeNotFound(node.into()));
        }
        self.touched.lock().unwrap_or_else(|p| p.into_inner()).remove(node);
        Ok(())
    }

    /// Marks `node` seen and returns its draining flag, reading the store at most every
    /// [`crate::TOUCH_EVERY_MS`] per node.
    async fn touch(&self, node: &str, now: vmafx_store::Millis) -> Result<bool, ControllerError> {
        let cached = self.touched.lock().unwrap_or_else(|p| p.into_inner()).get(node).copied();
        if let Some((at, draining)) = cached {
            if (0..crate::TOUCH_EVERY_MS).contains(&(now - at)) {
                return Ok(draining);
            }
        }
        let draining = self
            .store
            .touch_node(node, now)
            .await?
            .ok_or_else(|| ControllerError::UnknownNode(node.into()))?;
        self.touched.lock().unwrap_or_else(|p| p.into_inner()).insert(node.to_string(), (now, draining));
        Ok(draining)
    }

    /// Forgets a node's cached touch, so that its next call writes its time again.
    pub(crate) fn forget_touch(&self, node: &str) {
        self.touched.lock().unwrap_or_else(|p| p.into_inner()).remove(node);
    }

    /// The registered nodes, by name.
    pub async fn nodes(&self) -> Result<Vec<NodeView>, ControllerError> {
        let live_after = now_ms() - 3 * self.config.heartbeat_interval_ms;
        Ok(self
            .store
            .nodes()
            .await?
            .into_iter()
            .map(|record| NodeView { live: record.last_seen_ms >= live_after, record })
            .collect())
    }

    /// Leases the best pending item to `node`: highest priority, then oldest job, then
    /// segment order (the store's candidate order). `None` when nothing is pending.
    pub async fn pull(&self, node: &str) -> Result<Option<Lease>, ControllerError> {
        let now = now_ms();
        if self.touch(node, now).await? {
            return Ok(None);
        }
        let eligible = self.eligible(node).await?;
        if eligible.is_empty() {
            return Ok(None);
        }
        let lease = self.leases.call(Pull { node: node.to_string(), eligible }).await?;
        if let Some(lease) = &lease {
            self.remember_grant(lease);
            let ready = lease.job.submitted_ms.max(lease.item.not_before_ms);
            self.metrics.dispatch_latency.observe((now - ready).max(0) as f64 / 1000.0);
            let seg = lease.item.segment;
            tracing::info!(
                job_id = %lease.job.id, item_id = lease.item.id, node_id = node, fence = lease.fence,
                start = seg.start, frames = seg.frames, attempt = lease.item.attempts, "item leased"
            );
        }
        Ok(lease)
    }

    /// The requirement keys of pending work that `node` can run (the scheduler's matching of
    /// job requirements against node capabilities).
    async fn eligible(&self, node: &str) -> Result<Vec<String>, ControllerError> {
        let cached = self.capabilities.lock().unwrap_or_else(|p| p.into_inner()).get(node).cloned();
        let caps = match cached {
            Some(c) => c,
            None => {
                // Registered before this controller started: read what it said then.
                let record = self.store.nodes().await?.into_iter().find(|n| n.id == node);
                let caps: Capabilities =
                    record.and_then(|n| serde_json::from_value(n.capabilities).ok()).unwrap_or_default();
                self.capabilities
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(node.to_string(), caps.clone());
                caps
            }
        };
        let loaded = self.requirement_keys.lock().unwrap_or_else(|p| p.into_inner()).loaded;
        if !loaded {
            // First pull since start: the keys of the work already in the store.
            let from_store = self.store.requirement_keys().await?;
            let mut known = self.requirement_keys.lock().unwrap_or_else(|p| p.into_inner());
            known.keys.extend(from_store);
            known.loaded = true;
        }
        let known = self.requirement_keys.lock().unwrap_or_else(|p| p.into_inner());
        Ok(eligible_keys(&known.keys, &caps))
    }

    /// Like [`Controller::pull`], waiting up to `wait` for work to appear (a long poll).
    /// `lease` with its job's remote inputs signed for `node`, which holds it; `None` when an
    /// object changed since the job was accepted (the job then fails, saying so).
    pub async fn readable(&self, node: &str, lease: Lease) -> Result<Option<Lease>, ControllerError> {
        if let Some(change) = crate::inputs::changed(&self.config.remote_inputs, &lease.job.spec).await {
            self.report_failure(node, lease.item.id, lease.fence, &change, true).await?;
            return Ok(None);
        }
        crate::inputs::readable_lease(&self.config.remote_inputs, lease, self.config.url_ttl).await.map(Some)
    }

    pub async fn pull_wait(&self, node: &str, wait: Duration) -> Result<Option<Lease>, ControllerError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Register interest before looking, so a submission in between is not missed.
            let notified = self.work.notified();
            if let Some(lease) = self.pull(node).await? {
                return Ok(Some(lease));
            }
            // Backed-off items become available without a notification: look again soon.
            let tick = tokio::time::Instant::now() + Duration::from_millis(250);
            tokio::select! {
                _ = notified => {}
                _ = tokio::time::sleep_until(deadline.min(tick)) => {}
            }
            if tokio::time::Instant::now() >= deadline {
                return self.pull(node).await;
            }
        }
    }

    /// Records a segment's result if `fence` is the item's current lease token; `false` when
    /// it is stale (the lease expired and went elsewhere, or the job was cancelled). A result
    /// that does not fit the item (wrong frames or metrics) fails the attempt and is refused.
    pub async fn report_result(
        &self,
        by: &str,
        item: i64,
        fence: i64,
        result: SegmentResult,
    ) -> Result<bool, ControllerError> {
        let context = self.report_context(item, fence).await?;
        holder_check(context.as_ref(), by, item, fence)?;
        let node = context.as_ref().and_then(|c| c.item.lease_node.clone()).unwrap_or_default();
        // Scores of an object that changed while they were read are not the job's.
        if let Some(context) = context.as_ref().filter(|c| !c.spec.versions.is_empty()) {
            if let Some(change) = crate::inputs::changed(&self.config.remote_inputs, &context.spec).await {
                self.fail_attempt(context, fence, &change, true).await?;
                return Ok(false);
            }
        }
        if let Some(problem) = context.as_ref().and_then(|c| result_problem(c, fence, &result)) {
            let refused = format!("refused result: {problem}");
            if let Some(context) = &context {
                self.fail_attempt(context, fence, &refused, false).await?;
            }
            return Err(ControllerError::invalid("scores", problem));
        }
        self.forget_progress(item);
        let frames = result.scores.frames.len();
        match self.completions.call(ItemResult { item, fence, result }).await? {
            Completion::Applied { job_id, job } => {
                tracing::info!(job_id = %job_id, item_id = item, node_id = %node, frames, "segment result recorded");
                if job.is_terminal() {
                    self.job_ended(&job_id).await;
                }
                self.changes.notify_waiters();
                Ok(true)
            }
            Completion::Stale => {
                let job_id = context.map(|c| c.item.job_id).unwrap_or_default();
                tracing::warn!(job_id = %job_id, item_id = item, node_id = %node, fence, "stale result refused: the lease moved on");
                Ok(false)
            }
        }
    }

    /// Records a failed attempt; `permanent` failures (bad input) fail the job at once.
    pub async fn report_failure(
        &self,
        by: &str,
        item: i64,
        fence: i64,
        message: &str,
        permanent: bool,
    ) -> Result<bool, ControllerError> {
        match self.report_context(item, fence).await? {
            Some(context) => {
                holder_check(Some(&context), by, item, fence)?;
                self.fail_attempt(&context, fence, message, permanent).await
            }
            None => Ok(false),
        }
    }

    /// Ends a failed attempt as the scheduling rules decide, if the lease is still current.
    async fn fail_attempt(
        &self,
        context: &ReportContext,
        fence: i64,
        message: &str,
        permanent: bool,
    ) -> Result<bool, ControllerError> {
        let item = &context.item;
        if item.fence != fence || item.state != vmafx_core::ItemState::Leased {
            return Ok(false);
        }
        self.forget_progress(item.id);
        let now = now_ms();
        let transition = after_failure(item, message, permanent, &self.config.retry, now);
        let done = self.store.settle_failed(item.id, fence, &transition, now).await?;
        if let Completion::Applied { job_id, job } = done {
            let node = item.lease_node.as_deref().unwrap_or_default();
            tracing::warn!(job_id = %job_id, item_id = item.id, node_id = node, permanent, reason = message, "attempt failed");
            self.changes.notify_waiters();
            if job == JobState::Failed {
                self.job_ended(&job_id).await;
            } else {
                self.work.notify_waiters();
            }
            return Ok(true);
        }
        Ok(false)
    }

    /// Applies `--retain`: deletes jobs that ended, and nodes last seen, longer ago than it.
    pub async fn prune(&self) -> Result<vmafx_store::Pruned, ControllerError> {
        let Some(retain) = self.config.retain else { return Ok(Default::default()) };
        let before = now_ms() - retain.as_millis() as i64;
        Ok(self.store.prune(before, before).await?)
    }

    /// Puts items whose lease expired back in the queue (or fails their job when attempts
    /// are spent). Run it every second or so.
    pub async fn sweep(&self) -> Result<Vec<Expired>, ControllerError> {
        let mut expired = Vec::new();
        loop {
            let now = now_ms();
            let batch = self.store.expired_leases(now, SWEEP_BATCH).await?;
            let full = batch.len() == SWEEP_BATCH as usize;
            for item in batch {
                let transition = after_lost_lease(&item, &self.config.retry, now);
                // Another controller's sweep, or a late heartbeat, may have settled it first.
                if let Completion::Applied { job, .. } =
                    self.store.settle_expired(item.id, item.fence, &transition, now).await?
                {
                    let job_failed =
                        job == JobState::Failed && matches!(transition, vmafx_store::Transition::Fail { .. });
                    expired.push(Expired {
                        item: item.id,
                        job_id: item.job_id,
                        node: item.lease_node,
                        job_failed,
                    });
                }
            }
            if !full {
                break;
            }
        }
        if !expired.is_empty() {
            self.work.notify_waiters();
            self.changes.notify_waiters();
        }
        for e in &expired {
            let node = e.node.as_deref().unwrap_or_default();
            tracing::warn!(job_id = %e.job_id, item_id = e.item, node_id = node, job_failed = e.job_failed, "lease expired");
            self.forget_progress(e.item);
            if e.job_failed {
                self.job_ended(&e.job_id).await;
            }
        }
        Ok(expired)
    }
}

/// What is wrong with a reported result, if anything ([`crate::result_check`]). Only the
/// current lease's result is judged: a stale one is refused as stale by the store.
fn result_problem(context: &ReportContext, fence: i64, result: &SegmentResult) -> Option<String> {
    let item = &context.item;
    if item.fence != fence || item.state != vmafx_core::ItemState::Leased {
        return None;
    }
    if let Some(asked) = &context.spec.pictures {
        return crate::result_check::pictures_problem(asked, &result.pictures);
    }
    crate::result_check::result_problem(
        &context.spec,
        context.total_frames,
        item.segment,
        &result.scores.metrics,
        result.scores.frames.iter().map(|f| f.frame_num),
    )
}

/// A report under the item's current lease must come from the node holding it: the fence
/// alone is a guessable number.
fn holder_check(
    context: Option<&ReportContext>,
    by: &str,
    item: i64,
    fence: i64,
) -> Result<(), ControllerError> {
    match context {
        Some(c) if c.item.fence == fence && c.item.lease_node.as_deref().is_some_and(|n| n != by) => {
            Err(ControllerError::NotYourItem { item, node: by.into() })
        }
        _ => Ok(()),
    }
}
