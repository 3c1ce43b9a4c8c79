//! The gRPC face of the controller: translates `vmafx.v1` messages to the controller's calls
//! and its errors to status codes. No logic lives here.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use vmafx_core::{ItemState, ScoreJobSpec, SegmentResult, SegmentSpec};
use vmafx_proto::job_state;
use vmafx_proto::v1::job_service_server::JobService;
use vmafx_proto::v1::node_service_server::NodeService;
use vmafx_proto::v1::{self, job_event, report_result_request};
use vmafx_store::{JobQuery, Lease, Store};

use crate::{Controller, ControllerError, JobRequest, NodeRegistration};

/// Longest long poll a node may ask for.
const MAX_PULL_WAIT: Duration = Duration::from_secs(30);
/// How often a watch looks at the job when nothing wakes it (progress comes twice a second;
/// results, failures and cancellations wake it at once).
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

impl From<ControllerError> for Status {
    fn from(e: ControllerError) -> Self {
        match &e {
            ControllerError::InvalidArgument { .. } => Status::invalid_argument(e.to_string()),
            ControllerError::JobNotFound(_) | ControllerError::NodeNotFound(_) => {
                Status::not_found(e.to_string())
            }
            ControllerError::UnknownNode(_) => Status::failed_precondition(e.to_string()),
            ControllerError::IdempotencyConflict { .. } => Status::already_exists(e.to_string()),
            ControllerError::Overloaded { retry_after_ms, .. } => {
                let mut s = Status::resource_exhausted(e.to_string());
                if let Ok(v) = retry_after_ms.to_string().parse() {
                    s.metadata_mut().insert(vmafx_proto::RETRY_AFTER_MS, v);
                }
                s
            }
            ControllerError::NoResult { .. } => Status::failed_precondition(e.to_string()),
            ControllerError::Store(s) if s.is_unavailable() => Status::unavailable(format!(
                "the controller cannot write its state ({s}); nothing was recorded: try again once it has space"
            )),
            ControllerError::Store(_) | ControllerError::Internal(_) => Status::internal(e.to_string()),
        }
    }
}

fn spec_from_wire(s: Option<v1::ScoreSpec>) -> Result<ScoreJobSpec, Status> {
    Ok(s.ok_or_else(|| Status::invalid_argument("score: is required"))?.into())
}

fn work_item(lease: &Lease) -> v1::WorkItem {
    v1::WorkItem {
        item_id: lease.item.id,
        fence: lease.fence,
        job_id: lease.job.id.clone(),
        score: Some((&lease.job.spec).into()),
        start: lease.item.segment.start,
        frames: lease.item.segment.frames,
        lease_expires_ms: lease.expires_ms,
    }
}

/// The client API over a controller.
pub struct JobApi<S>(pub Controller<S>);

impl<S: Store> JobApi<S> {
    async fn job_with_scores(&self, id: &str, include_scores: bool) -> Result<v1::Job, Status> {
        Ok(v1::Job::from(&self.0.job_view(id, include_scores).await?))
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<v1::JobEvent, Status>> + Send>>;

#[tonic::async_trait]
impl<S: Store> JobService for JobApi<S> {
    async fn submit_job(
        &self,
        req: Request<v1::SubmitJobRequest>,
    ) -> Result<Response<v1::SubmitJobResponse>, Status> {
        let r = req.into_inner();
        let request = JobRequest {
            spec: spec_from_wire(r.score)?,
            priority: r.priority,
            idempotency_key: Some(r.idempotency_key).filter(|k| !k.is_empty()),
        };
        let (job, created) = self.0.submit(request).await?;
        let job = self.0.view(job, false).await?;
        Ok(Response::new(v1::SubmitJobResponse { job: Some(v1::Job::from(&job)), created }))
    }

    async fn get_job(&self, req: Request<v1::GetJobRequest>) -> Result<Response<v1::Job>, Status> {
        let r = req.into_inner();
        Ok(Response::new(self.job_with_scores(&r.id, r.include_scores).await?))
    }

    async fn list_jobs(
        &self,
        req: Request<v1::ListJobsRequest>,
    ) -> Result<Response<v1::ListJobsResponse>, Status> {
        let r = req.into_inner();
        let state = job_state(r.state());
        let size = match r.page_size {
            0 => 50,
            n => n.min(1000),
        };
        let after = match r.page_token.as_str() {
            "" => None,
            t => Some(
                t.parse::<i64>()
                    .map_err(|_| Status::invalid_argument("page_token: not a token from ListJobs"))?,
            ),
        };
        let query = JobQuery { state, cursor: after, limit: size, newest_first: !r.oldest_first };
        let (jobs, next_page_token) = self.0.job_page(query).await?;
        Ok(Response::new(v1::ListJobsResponse {
            jobs: jobs.iter().map(v1::Job::from).collect(),
            next_page_token: next_page_token.map(|t| t.to_string()).unwrap_or_default(),
        }))
    }

    async fn cancel_job(&self, req: Request<v1::CancelJobRequest>) -> Result<Response<v1::Job>, Status> {
        let job = self.0.cancel(&req.into_inner().id).await?;
        Ok(Response::new(v1::Job::from(&self.0.view(job, false).await?)))
    }

    async fn list_nodes(
        &self,
        _req: Request<v1::ListNodesRequest>,
    ) -> Result<Response<v1::ListNodesResponse>, Status> {
        let nodes = self.0.node_infos().await?.iter().map(v1::NodeInfo::from).collect();
        Ok(Response::new(v1::ListNodesResponse { nodes }))
    }

    async fn drain_node(&self, req: Request<v1::DrainNodeRequest>) -> Result<Response<v1::NodeInfo>, Status> {
        let id = req.into_inner().id;
        self.0.drain(&id).await?;
        let node = self.0.node_infos().await?.into_iter().find(|n| n.id == id);
        Ok(Response::new(v1::NodeInfo::from(&node.ok_or(ControllerError::NodeNotFound(id))?)))
    }

    type WatchJobStream = EventStream;

    async fn watch_job(&self, req: Request<v1::WatchJobRequest>) -> Result<Response<EventStream>, Status> {
        let id = req.into_inner().id;
        let first = self.0.job(&id).await?;
        let controller = self.0.clone();
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        tokio::spawn(async move {
            let mut reported = vec![false; first.items_total as usize];
            loop {
                // Ask to be woken before looking, so that a change in between is not missed.
                let changed = controller.changed();
                tokio::pin!(changed);
                changed.as_mut().enable();
                let job = match controller.job(&id).await {
                    Ok(j) => j,
                    Err(e) => {
                        let _ = tx.send(Err(Status::from(e))).await;
                        return;
                    }
                };
                // States only: a watcher never rereads the segments' scores.
                if let Ok(items) = controller.store().items_without_results(&id).await {
                    let frames_done = controller.frames_done(&items);
                    for item in items.iter().filter(|i| i.state == ItemState::Done) {
                        let seen = reported.get_mut(item.index as usize);
                        if let Some(seen @ false) = seen {
                            *seen = true;
                            let SegmentSpec { start, frames } = item.segment;
                            let done = v1::SegmentDone { index: item.index, start, frames };
                            let event = v1::JobEvent { event: Some(job_event::Event::Segment(done)) };
                            if tx.send(Ok(event)).await.is_err() {
                                return;
                            }
                        }
                    }
                    let progress = v1::JobProgress { frames_done, total_frames: job.total_frames };
                    if tx
                        .send(Ok(v1::JobEvent { event: Some(job_event::Event::Progress(progress)) }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                if job.state.is_terminal() {
                    let api = JobApi(controller.clone());
                    let finished = api.job_with_scores(&id, true).await;
                    let _ = tx
                        .send(finished.map(|j| v1::JobEvent { event: Some(job_event::Event::Finished(j)) }))
                        .await;
                    return;
                }
                tokio::select! {
                    _ = changed => {}
                    _ = tokio::time::sleep(WATCH_INTERVAL) => {}
                }
            }
        });
        Ok(Response::new(Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))))
    }
}

/// The node API over a controller.
pub struct NodeApi<S>(pub Controller<S>);

#[tonic::async_trait]
impl<S: Store> NodeService for NodeApi<S> {
    async fn register_node(
        &self,
        req: Request<v1::RegisterNodeRequest>,
    ) -> Result<Response<v1::RegisterNodeResponse>, Status> {
        let r = req.into_inner();
        if r.name.is_empty() {
            return Err(Status::invalid_argument("name: is required"));
        }
        let capabilities = r.capabilities.unwrap_or_default().into();
        let reg =
            NodeRegistration { id: Some(r.node_id).filter(|i| !i.is_empty()), name: r.name, capabilities };
        let node = self.0.register(reg).await?;
        let cfg = self.0.config();
        Ok(Response::new(v1::RegisterNodeResponse {
            node_id: node.id,
            heartbeat_interval_ms: cfg.heartbeat_interval_ms as u32,
            lease_ttl_ms: cfg.lease_ttl_ms as u32,
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<v1::HeartbeatRequest>,
    ) -> Result<Response<v1::HeartbeatResponse>, Status> {
        let r = req.into_inner();
        let leases: Vec<(i64, i64)> = r.leases.iter().map(|l| (l.item_id, l.fence)).collect();
        if r.leaving {
            self.0.node_left(&r.node_id).await?;
            return Ok(Response::new(v1::HeartbeatResponse { stop_items: vec![], drain: true }));
        }
        let (stop_items, drain) = self.0.heartbeat_drain(&r.node_id, &leases).await?;
        Ok(Response::new(v1::HeartbeatResponse { stop_items, drain }))
    }

    async fn pull_work(
        &self,
        req: Request<v1::PullWorkRequest>,
    ) -> Result<Response<v1::PullWorkResponse>, Status> {
        let r = req.into_inner();
        let wait = Duration::from_millis(r.wait_ms as u64).min(MAX_PULL_WAIT);
        let lease = self.0.pull_wait(&r.node_id, wait).await?;
        Ok(Response::new(v1::PullWorkResponse { item: lease.as_ref().map(work_item) }))
    }

    async fn report_progress(
        &self,
        req: Request<v1::ReportProgressRequest>,
    ) -> Result<Response<v1::ReportProgressResponse>, Status> {
        let r = req.into_inner();
        let stop = self.0.report_progress(&r.node_id, r.item_id, r.fence, r.frames_done).await?;
        Ok(Response::new(v1::ReportProgressResponse { stop }))
    }

    async fn report_result(
        &self,
        req: Request<v1::ReportResultRequest>,
    ) -> Result<Response<v1::ReportResultResponse>, Status> {
        let r = req.into_inner();
        let accepted = match r.outcome {
            Some(report_result_request::Outcome::Scores(s)) => {
                self.0.report_result(r.item_id, r.fence, SegmentResult::from(s)).await?
            }
            Some(report_result_request::Outcome::Failure(f)) => {
                self.0.report_failure(r.item_id, r.fence, &f.message, f.permanent).await?
            }
            None => return Err(Status::invalid_argument("outcome: scores or failure is required")),
        };
        Ok(Response::new(v1::ReportResultResponse { accepted }))
    }
}
