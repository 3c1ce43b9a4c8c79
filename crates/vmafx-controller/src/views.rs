//! Jobs and nodes as clients see them ([`vmafx_core::view`]), built from the store's records.
//! Both APIs answer with these; the adapters only change their encoding.

use vmafx_core::{pooled_vmaf, Capabilities, ItemState, JobState, JobView, NodeInfo, PoolQueue};
use vmafx_store::{ItemRecord, JobQuery, JobRecord, Store};

use crate::{Controller, ControllerError};

impl<S: Store> Controller<S> {
    /// Frames scored so far over `items`: whole segments that are done, and what running
    /// ones reported.
    pub fn frames_done(&self, items: &[ItemRecord]) -> u64 {
        items
            .iter()
            .map(|i| match i.state {
                ItemState::Done => i.segment.frames,
                _ => self.item_progress(i.id).min(i.segment.frames),
            })
            .sum()
    }

    /// The job `id`; with `with_scores` and once it succeeded, its per-frame scores too.
    pub async fn job_view(&self, id: &str, with_scores: bool) -> Result<JobView, ControllerError> {
        let job = self.job(id).await?;
        self.view(job, with_scores).await
    }

    /// A page of jobs, as [`JobQuery`] says, and the cursor of the next page (`None` on the
    /// last one).
    pub async fn job_page(&self, query: JobQuery) -> Result<(Vec<JobView>, Option<i64>), ControllerError> {
        let jobs = self.store.list_jobs(query).await?;
        let next = if jobs.len() == query.limit as usize { jobs.last().map(|j| j.seq) } else { None };
        let mut views = Vec::with_capacity(jobs.len());
        for job in jobs {
            views.push(self.view(job, false).await?);
        }
        Ok((views, next))
    }

    /// `job` as clients see it. Reads its items only where its state does not tell the
    /// frames done (running, failed or cancelled), and its results only when asked for
    /// scores or for an encode job's size.
    pub async fn view(&self, job: JobRecord, with_scores: bool) -> Result<JobView, ControllerError> {
        let frames_done = match job.state {
            JobState::Queued => 0,
            JobState::Succeeded => job.total_frames,
            _ => self.frames_done(&self.store.items_without_results(&job.id).await?),
        };
        let succeeded = job.state == JobState::Succeeded;
        let scores = if succeeded && with_scores { Some(self.job_scores(&job.id).await?) } else { None };
        let encode =
            if succeeded && job.spec.encode.is_some() { self.job_encode(&job.id).await? } else { None };
        let vmaf = job.vmaf.or_else(|| scores.as_ref().and_then(pooled_vmaf));
        Ok(JobView {
            id: job.id,
            state: job.state,
            priority: job.priority,
            spec: job.spec,
            total_frames: job.total_frames,
            frames_done,
            segments_total: job.items_total,
            segments_done: job.items_done,
            error: job.error,
            submitted_ms: job.submitted_ms,
            started_ms: job.started_ms,
            finished_ms: job.finished_ms,
            vmaf,
            encode,
            scores,
        })
    }

    /// Work items queued or running per node pool, and the pending items of all pools.
    pub async fn queue(&self) -> Result<(Vec<PoolQueue>, u64), ControllerError> {
        let stats = self.store().stats().await?;
        Ok((stats.pool_queues(), stats.pending_items))
    }

    /// Every registered node, live, draining or gone. Listings name the encoders a node has
    /// but not their option lists (tens of KiB a node, which the controller keeps to check
    /// encode jobs against): a dashboard polling 200 nodes should not fetch megabytes.
    pub async fn node_infos(&self) -> Result<Vec<NodeInfo>, ControllerError> {
        Ok(self
            .nodes()
            .await?
            .into_iter()
            .map(|n| NodeInfo {
                state: NodeInfo::state_of(n.live, n.record.draining),
                capabilities: Capabilities {
                    encoder_options: vec![],
                    ..serde_json::from_value::<Capabilities>(n.record.capabilities).unwrap_or_default()
                },
                id: n.record.id,
                name: n.record.name,
                registered_ms: n.record.registered_ms,
                last_seen_ms: n.record.last_seen_ms,
            })
            .collect())
    }

    /// Records the pooled VMAF of a job that just succeeded, for listings.
    pub(crate) async fn record_vmaf(&self, id: &str) {
        match self.job_scores(id).await {
            Ok(scores) => {
                if let Some(vmaf) = pooled_vmaf(&scores) {
                    if let Err(e) = self.store.set_job_vmaf(id, vmaf).await {
                        tracing::warn!(job_id = %id, error = %e, "cannot record the job's pooled VMAF");
                    }
                }
            }
            Err(e) => tracing::warn!(job_id = %id, error = %e, "cannot assemble the job's scores"),
        }
    }
}
