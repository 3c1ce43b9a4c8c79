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

use crate::auth::{Auth, Caller, Denied, Role};
use crate::{Controller, ControllerError, JobRequest, NodeRegistration};

/// Longest long poll a node may ask for.
const MAX_PULL_WAIT: Duration = Duration::from_secs(30);
/// How often a watch looks at the job when nothing wakes it (progress comes twice a second;
/// results, failures and cancellations wake it at once).
const WATCH_INTERVAL: Duration = Duration::from_millis(500);

impl From<Denied> for Status {
    fn from(d: Denied) -> Self {
        match d {
            Denied::Throttled => Status::resource_exhausted(d.to_string()),
            d if d.unauthenticated() => Status::unauthenticated(d.to_string()),
            d => Status::permission_denied(d.to_string()),
        }
    }
}

/// Who sent `req`, if they may do what `need` allows.
async fn caller<S: Store, T>(
    c: &Controller<S>,
    auth: &Auth,
    req: &Request<T>,
    need: Role,
) -> Result<Caller, Status> {
    let caller = who_sent(c, auth, req).await?;
    caller.need(need)?;
    Ok(caller)
}

/// Who sent `req`, whatever they may do.
async fn who_sent<S: Store, T>(c: &Controller<S>, auth: &Auth, req: &Request<T>) -> Result<Caller, Status> {
    let authorization = req.metadata().get("authorization").and_then(|v| v.to_str().ok());
    let peer = req.remote_addr().map(|a| a.ip());
    Ok(auth.authenticate(c.store(), authorization, peer).await?)
}

/// `Ok` when `req` carries the credential of `node`.
async fn node_caller<S: Store, T>(
    c: &Controller<S>,
    auth: &Auth,
    req: &Request<T>,
    node: &str,
) -> Result<(), Status> {
    caller(c, auth, req, Role::Node).await?.is_node(node)?;
    Ok(())
}

impl From<ControllerError> for Status {
    fn from(e: ControllerError) -> Self {
        match &e {
            ControllerError::InvalidArgument { .. } => Status::invalid_argument(e.to_string()),
            ControllerError::JobNotFound(_) | ControllerError::NodeNotFound(_) => {
                Status::not_found(e.to_string())
            }
            ControllerError::UnknownNode(_) => Status::failed_precondition(e.to_string()),
            ControllerError::NotYourItem { .. } | ControllerError::NotYourJob { .. } => {
                Status::permission_denied(e.to_string())
            }
            ControllerError::IdempotencyConflict { .. } => Status::already_exists(e.to_string()),
            ControllerError::Overloaded { retry_after_ms, .. } => {
                let mut s = Status::resource_exhausted(e.to_string());
                if let Ok(v) = retry_after_ms.to_string().parse() {
                    s.metadata_mut().insert(vmafx_proto::RETRY_AFTER_MS, v);
                }
                s
            }
            ControllerError::NoResult { .. } => Status::failed_precondition(e.to_string()),
            // The store behind an input, not this controller, is away: the client may retry the
            // submission later (UNAVAILABLE would send it to another controller, or say this one is down).
            ControllerError::InputUnavailable { .. } => Status::aborted(e.to_string()),
            ControllerError::Store(s) if s.is_unavailable() => Status::unavailable(format!(
                "the controller cannot write its state ({s}); nothing was recorded: try again once it has space"
            )),
            ControllerError::Store(_) | ControllerError::Internal(_) => Status::internal(e.to_string()),
        }
    }
}

fn token_info(t: &vmafx_store::TokenRecord) -> v1::TokenInfo {
    v1::TokenInfo {
        name: t.name.clone(),
        role: t.kind.clone(),
        node_id: t.node_id.clone().unwrap_or_default(),
        created_ms: t.created_ms,
        revoked_ms: t.revoked_ms.unwrap_or(0),
    }
}

/// A `SubmitJob` message as a request from `who`: its shape checked, nothing else (what the
/// controller checks of every request comes next, in `Controller::submit`).
pub(crate) fn job_request(r: v1::SubmitJobRequest, who: Caller) -> Result<JobRequest, Status> {
    Ok(JobRequest {
        owner: who.name,
        spec: spec_from_wire(r.score)?,
        priority: r.priority,
        idempotency_key: Some(r.idempotency_key).filter(|k| !k.is_empty()),
    })
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
pub struct JobApi<S> {
    pub c: Controller<S>,
    pub auth: Auth,
}

impl<S: Store> JobApi<S> {
    async fn caller<T>(&self, req: &Request<T>, need: Role) -> Result<Caller, Status> {
        caller(&self.c, &self.auth, req, need).await
    }

    async fn job_with_scores(&self, id: &str, include_scores: bool) -> Result<v1::Job, Status> {
        Ok(v1::Job::from(&self.c.job_view(id, include_scores).await?))
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<v1::JobEvent, Status>> + Send>>;

#[tonic::async_trait]
impl<S: Store> JobService for JobApi<S> {
    async fn submit_job(
        &self,
        req: Request<v1::SubmitJobRequest>,
    ) -> Result<Response<v1::SubmitJobResponse>, Status> {
        let who = self.caller(&req, Role::Submit).await?;
        let request = job_request(req.into_inner(), who)?;
        let (job, created) = self.c.submit(request).await?;
        let job = self.c.view(job, false).await?;
        Ok(Response::new(v1::SubmitJobResponse { job: Some(v1::Job::from(&job)), created }))
    }

    async fn get_job(&self, req: Request<v1::GetJobRequest>) -> Result<Response<v1::Job>, Status> {
        self.caller(&req, Role::Read).await?;
        let r = req.into_inner();
        Ok(Response::new(self.job_with_scores(&r.id, r.include_scores).await?))
    }

    async fn list_jobs(
        &self,
        req: Request<v1::ListJobsRequest>,
    ) -> Result<Response<v1::ListJobsResponse>, Status> {
        self.caller(&req, Role::Read).await?;
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
        let (jobs, next_page_token) = self.c.job_page(query).await?;
        Ok(Response::new(v1::ListJobsResponse {
            jobs: jobs.iter().map(v1::Job::from).collect(),
            next_page_token: next_page_token.map(|t| t.to_string()).unwrap_or_default(),
        }))
    }

    async fn cancel_job(&self, req: Request<v1::CancelJobRequest>) -> Result<Response<v1::Job>, Status> {
        let who = self.caller(&req, Role::Submit).await?;
        let only_owner = (who.role != Role::Admin).then_some(who.name.as_str());
        let job = self.c.cancel(&req.into_inner().id, only_owner).await?;
        Ok(Response::new(v1::Job::from(&self.c.view(job, false).await?)))
    }

    async fn get_queue(
        &self,
        req: Request<v1::GetQueueRequest>,
    ) -> Result<Response<v1::GetQueueResponse>, Status> {
        self.caller(&req, Role::Read).await?;
        let (pools, pending_items) = self.c.queue().await?;
        Ok(Response::new(v1::GetQueueResponse {
            pools: pools.iter().map(v1::PoolQueue::from).collect(),
            pending_items,
        }))
    }

    async fn list_nodes(
        &self,
        req: Request<v1::ListNodesRequest>,
    ) -> Result<Response<v1::ListNodesResponse>, Status> {
        self.caller(&req, Role::Read).await?;
        let nodes = self.c.node_infos().await?.iter().map(v1::NodeInfo::from).collect();
        Ok(Response::new(v1::ListNodesResponse { nodes }))
    }

    async fn list_models(
        &self,
        req: Request<v1::ListModelsRequest>,
    ) -> Result<Response<v1::ListModelsResponse>, Status> {
        self.caller(&req, Role::Read).await?;
        let (models, problem) = self.c.models().await;
        Ok(Response::new(v1::ListModelsResponse {
            models: models.iter().map(v1::ModelInfo::from).collect(),
            registry_problem: problem.unwrap_or_default(),
        }))
    }

    async fn drain_node(&self, req: Request<v1::DrainNodeRequest>) -> Result<Response<v1::NodeInfo>, Status> {
        self.caller(&req, Role::Admin).await?;
        let id = req.into_inner().id;
        self.c.drain(&id).await?;
        let node = self.c.node_infos().await?.into_iter().find(|n| n.id == id);
        Ok(Response::new(v1::NodeInfo::from(&node.ok_or(ControllerError::NodeNotFound(id))?)))
    }

    async fn remove_node(
        &self,
        req: Request<v1::RemoveNodeRequest>,
    ) -> Result<Response<v1::RemoveNodeResponse>, Status> {
        let who = self.caller(&req, Role::Admin).await?;
        let id = req.into_inner().id;
        self.c.remove_node(&id).await?;
        self.auth.refresh(self.c.store()).await.map_err(ControllerError::from)?;
        tracing::info!(node_id = %id, by = %who.name, "node removed");
        Ok(Response::new(v1::RemoveNodeResponse {}))
    }

    async fn create_token(
        &self,
        req: Request<v1::CreateTokenRequest>,
    ) -> Result<Response<v1::CreateTokenResponse>, Status> {
        let who = self.caller(&req, Role::Admin).await?;
        let r = req.into_inner();
        let (token, record) = self.c.create_token(&r.role, &r.name).await?;
        self.auth.add(&record);
        tracing::info!(token = %record.name, role = %record.kind, by = %who.name, "token created");
        Ok(Response::new(v1::CreateTokenResponse { token, info: Some(token_info(&record)) }))
    }

    async fn list_tokens(
        &self,
        req: Request<v1::ListTokensRequest>,
    ) -> Result<Response<v1::ListTokensResponse>, Status> {
        self.caller(&req, Role::Admin).await?;
        let nodes = req.into_inner().include_nodes;
        let tokens = self.c.store().tokens().await.map_err(ControllerError::from)?;
        let tokens = tokens.iter().filter(|t| nodes || t.kind != "node").map(token_info).collect();
        Ok(Response::new(v1::ListTokensResponse { tokens }))
    }

    async fn revoke_token(
        &self,
        req: Request<v1::RevokeTokenRequest>,
    ) -> Result<Response<v1::RevokeTokenResponse>, Status> {
        let who = self.caller(&req, Role::Admin).await?;
        let name = req.into_inner().name;
        let revoked = self.c.revoke_token(&name).await?;
        self.auth.refresh(self.c.store()).await.map_err(ControllerError::from)?;
        tracing::info!(token = %name, revoked, by = %who.name, "token revoked");
        Ok(Response::new(v1::RevokeTokenResponse { revoked: revoked as u32 }))
    }

    async fn rotate_join_token(
        &self,
        req: Request<v1::RotateJoinTokenRequest>,
    ) -> Result<Response<v1::RotateJoinTokenResponse>, Status> {
        let who = self.caller(&req, Role::Admin).await?;
        let (token, record) = self.c.rotate_join_token().await?;
        self.auth.refresh(self.c.store()).await.map_err(ControllerError::from)?;
        self.auth.add(&record);
        if let Err(e) = crate::auth::write_secret(&self.auth.node_path, &token) {
            tracing::warn!(error = %e, path = %self.auth.node_path.display(), "could not write the new join token");
        }
        tracing::info!(by = %who.name, "join token rotated");
        Ok(Response::new(v1::RotateJoinTokenResponse { token }))
    }

    type WatchJobStream = EventStream;

    async fn watch_job(&self, req: Request<v1::WatchJobRequest>) -> Result<Response<EventStream>, Status> {
        self.caller(&req, Role::Read).await?;
        let id = req.into_inner().id;
        let first = self.c.job(&id).await?;
        let controller = self.c.clone();
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
                    let finished =
                        controller.job_view(&id, true).await.map(|j| v1::Job::from(&j)).map_err(Status::from);
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
pub struct NodeApi<S> {
    pub c: Controller<S>,
    pub auth: Auth,
}

#[tonic::async_trait]
impl<S: Store> NodeService for NodeApi<S> {
    async fn register_node(
        &self,
        req: Request<v1::RegisterNodeRequest>,
    ) -> Result<Response<v1::RegisterNodeResponse>, Status> {
        let who = who_sent(&self.c, &self.auth, &req).await?;
        let r = req.into_inner();
        if r.name.is_empty() {
            return Err(Status::invalid_argument("name: is required"));
        }
        // The join token makes a new node; a node's credential rejoins as that node.
        let (id, rejoin) = match who.role {
            Role::Join => {
                if !r.node_id.is_empty() && self.c.node_exists(&r.node_id).await? {
                    return Err(Status::permission_denied(format!(
                        "node `{}` is registered: rejoin with its credential, or register without an id to join as a new node",
                        r.node_id
                    )));
                }
                (Some(r.node_id).filter(|i| !i.is_empty()), false)
            }
            Role::Node => {
                let id =
                    if r.node_id.is_empty() { who.node_id.clone().unwrap_or_default() } else { r.node_id };
                who.is_node(&id)?;
                (Some(id), true)
            }
            role => return Err(Denied::Forbidden { role, need: Role::Join }.into()),
        };
        let capabilities = r.capabilities.unwrap_or_default().into();
        let node = self.c.register(NodeRegistration { id, name: r.name, capabilities }).await?;
        let credential = if rejoin {
            String::new()
        } else {
            let (secret, record) = self.c.issue_node_credential(&node).await?;
            self.auth.add(&record);
            secret
        };
        let cfg = self.c.config();
        Ok(Response::new(v1::RegisterNodeResponse {
            node_id: node.id,
            heartbeat_interval_ms: cfg.heartbeat_interval_ms as u32,
            lease_ttl_ms: cfg.lease_ttl_ms as u32,
            credential,
        }))
    }

    async fn heartbeat(
        &self,
        req: Request<v1::HeartbeatRequest>,
    ) -> Result<Response<v1::HeartbeatResponse>, Status> {
        node_caller(&self.c, &self.auth, &req, &req.get_ref().node_id).await?;
        let r = req.into_inner();
        let leases: Vec<(i64, i64)> = r.leases.iter().map(|l| (l.item_id, l.fence)).collect();
        if r.leaving {
            self.c.node_left(&r.node_id).await?;
            return Ok(Response::new(v1::HeartbeatResponse { stop_items: vec![], drain: true }));
        }
        let (stop_items, drain) = self.c.heartbeat_drain(&r.node_id, &leases).await?;
        Ok(Response::new(v1::HeartbeatResponse { stop_items, drain }))
    }

    async fn pull_work(
        &self,
        req: Request<v1::PullWorkRequest>,
    ) -> Result<Response<v1::PullWorkResponse>, Status> {
        node_caller(&self.c, &self.auth, &req, &req.get_ref().node_id).await?;
        let r = req.into_inner();
        let wait = Duration::from_millis(r.wait_ms as u64).min(MAX_PULL_WAIT);
        let lease = match self.c.pull_wait(&r.node_id, wait).await? {
            Some(lease) => self.c.readable(&r.node_id, lease).await?,
            None => None,
        };
        Ok(Response::new(v1::PullWorkResponse { item: lease.as_ref().map(work_item) }))
    }

    async fn report_progress(
        &self,
        req: Request<v1::ReportProgressRequest>,
    ) -> Result<Response<v1::ReportProgressResponse>, Status> {
        node_caller(&self.c, &self.auth, &req, &req.get_ref().node_id).await?;
        let r = req.into_inner();
        let stop = self.c.report_progress(&r.node_id, r.item_id, r.fence, r.frames_done).await?;
        Ok(Response::new(v1::ReportProgressResponse { stop }))
    }

    async fn report_result(
        &self,
        req: Request<v1::ReportResultRequest>,
    ) -> Result<Response<v1::ReportResultResponse>, Status> {
        node_caller(&self.c, &self.auth, &req, &req.get_ref().node_id).await?;
        let r = req.into_inner();
        let accepted = match r.outcome {
            Some(report_result_request::Outcome::Scores(s)) => {
                self.c.report_result(&r.node_id, r.item_id, r.fence, SegmentResult::from(s)).await?
            }
            Some(report_result_request::Outcome::Failure(f)) => {
                self.c.report_failure(&r.node_id, r.item_id, r.fence, &f.message, f.permanent).await?
            }
            None => return Err(Status::invalid_argument("outcome: scores or failure is required")),
        };
        Ok(Response::new(v1::ReportResultResponse { accepted }))
    }
}
