//! The one client of the controller's APIs. Everything that talks to a controller — the CLI,
//! vmafx-tune, vmafx-mcp, vmafx-node, and the Kubernetes operator to come — goes through
//! here, so that connecting, authenticating, classifying errors and following a job exist
//! once.
//!
//! [`JobClient`] is the job API (admin token): submit, get, list, cancel, watch, wait, nodes,
//! drain. [`NodeClient`] is the node API (node token) a worker uses. Both are cheap to clone
//! and share one HTTP/2 connection.

mod token;

pub use token::{find_token, local_ca_path, local_token_path, MissingToken, TokenKind};

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Code, Request, Status};
use vmafx_core::{JobState, JobView, NodeInfo, NodeState, PoolQueue, ScoreJobSpec};
use vmafx_proto::v1::job_service_client::JobServiceClient;
use vmafx_proto::v1::node_service_client::NodeServiceClient;
use vmafx_proto::v1::{self, job_event};

/// How long a submission keeps backing off a controller that says it is overloaded.
pub const SUBMIT_PATIENCE: Duration = Duration::from_secs(600);

/// How long a watch keeps trying the other controllers after its own went away.
pub const FAILOVER_PATIENCE: Duration = Duration::from_secs(60);

/// How long a first connection may take before the controller counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a call to the controller failed, in the terms a caller acts on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ClientError {
    /// The address is not a URL (`https://host:50051`).
    #[error("`{0}` is not a controller address like https://host:50051 (http:// for a controller started with --insecure-plaintext)")]
    BadAddress(String),
    /// TLS is misconfigured on this side: no CA to check the controller with, a CA or client
    /// certificate that does not load, or a controller whose certificate this CA did not sign.
    #[error("{0}")]
    Tls(String),
    /// Nothing answers there (or the connection broke): worth retrying later.
    #[error("cannot reach the controller at {address}: {message} (is a controller running there? `vmafx up` starts one; --controller or VMAFX_CONTROLLER names another)")]
    Unreachable { address: String, message: String },
    /// The caller's mistake: a bad request, a wrong token, an unknown job or node, a reused
    /// idempotency key. The message is the controller's and names what is wrong.
    #[error("{message}")]
    Refused { code: Code, message: String },
    /// The controller is over its queue size or submission rate; try again after `retry_after`.
    #[error("{message}")]
    Overloaded { message: String, retry_after: Duration },
    /// The controller failed to answer a valid request.
    #[error("controller {address}: {message}")]
    Failed { address: String, message: String },
}

impl ClientError {
    /// A mistake of whoever made the call (exit code 2 in the command-line tools).
    pub fn is_caller_mistake(&self) -> bool {
        matches!(self, ClientError::BadAddress(_) | ClientError::Tls(_) | ClientError::Refused { .. })
    }

    /// Trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. } | ClientError::Failed { .. } | ClientError::Overloaded { .. }
        )
    }

    fn from_status(address: &str, s: Status) -> Self {
        let message = s.message().to_string();
        // A TLS server drops a plaintext HTTP/2 preface: the client sees a protocol error (then
        // it is certain), or a reset connection, depending on timing (then it may be a plaintext
        // controller going away: still worth retrying, with the hint).
        let hint = "controllers use TLS unless started with --insecure-plaintext";
        if address.starts_with("http://") && message.contains("h2 protocol error") {
            return ClientError::Tls(format!(
                "{address} did not answer plaintext gRPC ({message}): {hint}; use https://{}",
                address.trim_start_matches("http://")
            ));
        }
        let message = if address.starts_with("http://")
            && (message.contains("transport error") || message.contains("connection reset"))
        {
            format!(
                "{message} (if it serves TLS: {hint}; use https://{})",
                address.trim_start_matches("http://")
            )
        } else {
            message
        };
        match s.code() {
            Code::InvalidArgument
            | Code::NotFound
            | Code::Unauthenticated
            | Code::PermissionDenied
            | Code::FailedPrecondition
            | Code::AlreadyExists => ClientError::Refused { code: s.code(), message },
            Code::Unavailable => ClientError::Unreachable { address: address.into(), message },
            Code::ResourceExhausted => {
                let hint =
                    s.metadata().get(vmafx_proto::RETRY_AFTER_MS).and_then(|v| v.to_str().ok()?.parse().ok());
                ClientError::Overloaded { message, retry_after: Duration::from_millis(hint.unwrap_or(1000)) }
            }
            _ => ClientError::Failed { address: address.into(), message },
        }
    }
}

/// How a client checks the controller's certificate (`https://` addresses) and, for a
/// controller that asks (`--client-ca`), proves who it is.
#[derive(Debug, Clone, Default)]
pub struct Tls {
    /// The CA (PEM) that signed the controller's certificate [default: the local
    /// controller's, [`local_ca_path`]].
    pub ca: Option<PathBuf>,
    /// This client's certificate and key (PEM).
    pub identity: Option<(PathBuf, PathBuf)>,
}

impl Tls {
    /// Checks the controller against `ca`, or the local controller's CA when `None`.
    pub fn with_ca(ca: Option<PathBuf>) -> Self {
        Self { ca, identity: None }
    }

    fn client_config(&self, address: &str) -> Result<ClientTlsConfig, ClientError> {
        let (path, given) = match &self.ca {
            Some(p) => (p.clone(), true),
            None => (local_ca_path(), false),
        };
        let pem =
            std::fs::read(&path).map_err(|e| {
                ClientError::Tls(if given {
                    format!("--ca `{}`: {e}", path.display())
                } else {
                    format!(
                    "{address}: no CA to check the controller's certificate with: pass --ca FILE (or set \
                     VMAFX_CA) with the controller's DATA_DIR/tls/ca.pem; on the controller's machine it \
                     is read from `{}` (set VMAFX_DATA_DIR if the data directory is elsewhere), which {}",
                    path.display(),
                    if e.kind() == std::io::ErrorKind::NotFound { "does not exist" } else { "cannot be read" }
                )
                })
            })?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(ClientError::Tls(format!(
                "--ca `{}` holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            )));
        }
        let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(pem));
        if let Some((cert, key)) = &self.identity {
            let read = |p: &PathBuf, what: &str| {
                std::fs::read(p).map_err(|e| ClientError::Tls(format!("{what} `{}`: {e}", p.display())))
            };
            config = config.identity(Identity::from_pem(read(cert, "--tls-cert")?, read(key, "--tls-key")?));
        }
        Ok(config)
    }
}

/// A failed first connection, named in the caller's terms: a certificate problem is the
/// caller's to fix (which CA), anything else is an unreachable controller.
fn connect_error(address: &str, e: &tonic::transport::Error) -> ClientError {
    let message = root_cause(e);
    let lower = message.to_ascii_lowercase();
    if lower.contains("certificate") || lower.contains("unknownissuer") {
        ClientError::Tls(format!(
            "{address}: the controller's certificate does not check out ({message}): pass --ca with the \
             CA that signed it (a controller that made its own keeps it in DATA_DIR/tls/ca.pem), and reach \
             it by a name the certificate holds (vmafx-controller --tls-name adds one)"
        ))
    } else if address.starts_with("http://") && (lower.contains("connection") || lower.contains("h2")) {
        ClientError::Unreachable {
            address: address.into(),
            message: format!(
                "{message}; controllers speak TLS unless started with --insecure-plaintext: try https://"
            ),
        }
    } else {
        ClientError::Unreachable { address: address.into(), message }
    }
}

/// The controllers to talk to and the token to show them. With several addresses (controllers
/// sharing one PostgreSQL queue), calls go to one of them until it stops answering, then to
/// the next.
#[derive(Clone)]
struct Connection {
    controllers: Arc<[(Arc<str>, Channel)]>,
    current: Arc<AtomicUsize>,
    authorization: Option<MetadataValue<tonic::metadata::Ascii>>,
}

impl Connection {
    /// The endpoints of `addresses`: one address, or several separated by commas. `https://`
    /// addresses check the controller's certificate against `tls`'s CA.
    fn endpoints(addresses: &str, tls: &Tls) -> Result<Vec<(Arc<str>, Endpoint)>, ClientError> {
        let list: Vec<&str> = addresses.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
        if list.is_empty() {
            return Err(ClientError::BadAddress(addresses.into()));
        }
        let mut config = None;
        list.into_iter()
            .map(|a| {
                let endpoint = Channel::from_shared(a.to_string())
                    .map_err(|_| ClientError::BadAddress(a.into()))?
                    .connect_timeout(CONNECT_TIMEOUT);
                let endpoint = match a.split_once("://").map(|(scheme, _)| scheme.to_ascii_lowercase()) {
                    Some(s) if s == "https" => {
                        if config.is_none() {
                            config = Some(tls.client_config(a)?);
                        }
                        endpoint
                            .tls_config(config.clone().expect("made above"))
                            .map_err(|e| ClientError::Tls(format!("{a}: {}", root_cause(&e))))?
                    }
                    Some(s) if s == "http" => endpoint,
                    _ => return Err(ClientError::BadAddress(a.into())),
                };
                Ok((Arc::from(a), endpoint))
            })
            .collect()
    }

    fn new(controllers: Vec<(Arc<str>, Channel)>, current: usize, token: &str) -> Self {
        Self {
            controllers: controllers.into(),
            current: Arc::new(AtomicUsize::new(current)),
            authorization: format!("Bearer {}", token.trim()).parse().ok(),
        }
    }

    /// Connects to the first controller that answers (the others connect when needed).
    async fn connect(addresses: &str, token: &str, tls: &Tls) -> Result<Self, ClientError> {
        let endpoints = Self::endpoints(addresses, tls)?;
        let mut failure = None;
        for (i, (address, endpoint)) in endpoints.iter().enumerate() {
            match endpoint.connect().await {
                Ok(channel) => {
                    let channels = endpoints
                        .iter()
                        .enumerate()
                        .map(|(j, (a, e))| {
                            (a.clone(), if i == j { channel.clone() } else { e.connect_lazy() })
                        })
                        .collect();
                    return Ok(Self::new(channels, i, token));
                }
                Err(e) => failure = Some(connect_error(address, &e)),
            }
        }
        Err(failure.expect("at least one address"))
    }

    fn lazy(addresses: &str, token: &str, tls: &Tls) -> Result<Self, ClientError> {
        let channels =
            Self::endpoints(addresses, tls)?.into_iter().map(|(a, e)| (a, e.connect_lazy())).collect();
        Ok(Self::new(channels, 0, token))
    }

    fn index(&self) -> usize {
        self.current.load(Ordering::Relaxed) % self.controllers.len()
    }

    fn channel(&self) -> Channel {
        self.controllers[self.index()].1.clone()
    }

    fn address(&self) -> &str {
        &self.controllers[self.index()].0
    }

    fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = Request::new(msg);
        if let Some(v) = &self.authorization {
            r.metadata_mut().insert("authorization", v.clone());
        }
        r
    }

    /// Takes note of a failed call: a controller that does not answer is left for the next.
    fn note(&self, s: &Status) {
        if s.code() == Code::Unavailable && self.controllers.len() > 1 {
            let i = self.current.load(Ordering::Relaxed);
            let _ = self.current.compare_exchange(i, i + 1, Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// A job as the controller sent it, in domain terms.
    fn job(&self, job: v1::Job) -> Result<JobView, ClientError> {
        JobView::try_from(job)
            .map_err(|message| ClientError::Failed { address: self.address().into(), message })
    }

    fn fail(&self, s: Status) -> ClientError {
        let error = ClientError::from_status(self.address(), s.clone());
        self.note(&s);
        error
    }
}

/// The id of the node called `name`: the one not gone, else the only one.
fn pick_by_name(nodes: &[NodeInfo], name: &str) -> Result<String, ClientError> {
    let named: Vec<&NodeInfo> = nodes.iter().filter(|n| n.name == name).collect();
    let here: Vec<&NodeInfo> = named.iter().copied().filter(|n| n.state != NodeState::Gone).collect();
    let refused = |message: String| ClientError::Refused { code: Code::NotFound, message };
    match (here.as_slice(), named.as_slice()) {
        ([one], _) | ([], [one]) => Ok(one.id.clone()),
        ([], []) => Err(refused(format!("no node has the id or name `{name}` (`vmafx nodes` lists them)"))),
        (several, _) if !several.is_empty() => Err(ClientError::Refused {
            code: Code::InvalidArgument,
            message: format!(
                "{} nodes are called `{name}`: give one's id ({})",
                several.len(),
                several.iter().map(|n| n.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
        (_, several) => Err(ClientError::Refused {
            code: Code::InvalidArgument,
            message: format!(
                "{} gone nodes are called `{name}`: give one's id ({})",
                several.len(),
                several.iter().map(|n| n.id.as_str()).collect::<Vec<_>>().join(", ")
            ),
        }),
    }
}

/// The innermost message of an error chain (tonic nests "tcp connect error" several deep).
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

/// A job the controller accepted, and whether this call created it (`false`: its
/// idempotency key was used before, for the same job).
#[derive(Debug, Clone)]
pub struct Submitted {
    pub job: JobView,
    pub created: bool,
}

/// What a watch reports while a job runs.
#[derive(Debug, Clone)]
pub enum JobEvent {
    /// Frames scored so far (of `total_frames`; 0 when the length is unknown).
    Progress { frames_done: u64, total_frames: u64 },
    /// One more segment finished.
    Segment { index: u32 },
    /// The job ended (succeeded, failed or cancelled), as it ended, with its scores when it
    /// succeeded.
    Finished(Box<JobView>),
}

/// A stream of [`JobEvent`]s for one job.
pub struct Watch {
    stream: tonic::Streaming<v1::JobEvent>,
    conn: Connection,
}

impl Watch {
    /// The next event; `None` when the controller closed the stream before the job ended.
    pub async fn next(&mut self) -> Result<Option<JobEvent>, ClientError> {
        loop {
            let Some(event) = self.stream.message().await.map_err(|s| self.conn.fail(s))? else {
                return Ok(None);
            };
            return Ok(Some(match event.event {
                Some(job_event::Event::Progress(p)) => {
                    JobEvent::Progress { frames_done: p.frames_done, total_frames: p.total_frames }
                }
                Some(job_event::Event::Segment(s)) => JobEvent::Segment { index: s.index },
                Some(job_event::Event::Finished(j)) => JobEvent::Finished(Box::new(self.conn.job(j)?)),
                None => continue,
            }));
        }
    }
}

/// The job API.
#[derive(Clone)]
pub struct JobClient {
    conn: Connection,
}

impl JobClient {
    /// Connects now: an unreachable controller is an error here rather than at the first call.
    pub async fn connect(address: &str, token: &str, tls: &Tls) -> Result<Self, ClientError> {
        Ok(Self::with(Connection::connect(address, token, tls).await?))
    }

    /// Connects at the first call (the controller may start after this client).
    pub fn connect_lazy(address: &str, token: &str, tls: &Tls) -> Result<Self, ClientError> {
        Ok(Self::with(Connection::lazy(address, token, tls)?))
    }

    fn with(conn: Connection) -> Self {
        Self { conn }
    }

    /// The job API on the controller calls go to now.
    fn api(&self) -> JobServiceClient<Channel> {
        JobServiceClient::new(self.conn.channel()).max_decoding_message_size(vmafx_proto::MAX_JOB_BYTES)
    }

    /// The controller calls go to now.
    pub fn address(&self) -> &str {
        self.conn.address()
    }

    /// Submits a job; the same `idempotency_key` with the same spec gives the first job.
    pub async fn submit(
        &self,
        spec: &ScoreJobSpec,
        priority: i32,
        idempotency_key: Option<&str>,
    ) -> Result<Submitted, ClientError> {
        let req = v1::SubmitJobRequest {
            score: Some(spec.into()),
            priority,
            idempotency_key: idempotency_key.unwrap_or_default().to_string(),
        };
        // Backpressure: wait as the controller says (between 0.1 and 30 s) and try again, for
        // up to SUBMIT_PATIENCE. A refused submission recorded nothing, so this is safe.
        let started = std::time::Instant::now();
        let resp = loop {
            let sent = self.api().submit_job(self.conn.request(req.clone())).await;
            match sent.map_err(|s| self.conn.fail(s)) {
                Err(ClientError::Overloaded { retry_after, .. }) if started.elapsed() < SUBMIT_PATIENCE => {
                    tokio::time::sleep(
                        retry_after.clamp(Duration::from_millis(100), Duration::from_secs(30)),
                    )
                    .await;
                }
                other => break other?,
            }
        };
        let resp = resp.into_inner();
        let job = resp.job.ok_or_else(|| ClientError::Failed {
            address: self.address().into(),
            message: "the controller answered a submission without a job".into(),
        })?;
        Ok(Submitted { job: self.conn.job(job)?, created: resp.created })
    }

    /// One job; with `scores`, its per-frame scores once it has succeeded.
    pub async fn get(&self, id: &str, scores: bool) -> Result<JobView, ClientError> {
        let req = v1::GetJobRequest { id: id.into(), include_scores: scores };
        let job = self.api().get_job(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        self.conn.job(job.into_inner())
    }

    /// Jobs (in `state`, if given), newest first (or oldest first), up to `limit` of them
    /// (`None`: all), reading as many pages as that takes.
    pub async fn list(
        &self,
        state: Option<JobState>,
        limit: Option<usize>,
        oldest_first: bool,
    ) -> Result<Vec<JobView>, ClientError> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let wanted = limit.map_or(500, |l| l.saturating_sub(all.len()).min(500)) as u32;
            if wanted == 0 {
                return Ok(all);
            }
            let (jobs, next) = self.list_page(state, wanted, &token, oldest_first).await?;
            all.extend(jobs);
            if next.is_empty() {
                return Ok(all);
            }
            token = next;
        }
    }

    /// One page of jobs, newest first (or oldest first), and the token of the next page
    /// (empty: the last).
    pub async fn list_page(
        &self,
        state: Option<JobState>,
        page_size: u32,
        page_token: &str,
        oldest_first: bool,
    ) -> Result<(Vec<JobView>, String), ClientError> {
        let state = state.map_or(v1::JobState::Unspecified, v1::JobState::from);
        let req = v1::ListJobsRequest {
            state: state as i32,
            page_size,
            page_token: page_token.into(),
            oldest_first,
        };
        let page = self.api().list_jobs(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        let page = page.into_inner();
        let jobs = page.jobs.into_iter().map(|j| self.conn.job(j)).collect::<Result<_, _>>()?;
        Ok((jobs, page.next_page_token))
    }

    /// Cancels a job that has not ended (an ended one comes back as it is).
    pub async fn cancel(&self, id: &str) -> Result<JobView, ClientError> {
        let req = v1::CancelJobRequest { id: id.into() };
        let job = self.api().cancel_job(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        self.conn.job(job.into_inner())
    }

    /// Follows a job: progress, segments, then its end.
    pub async fn watch(&self, id: &str) -> Result<Watch, ClientError> {
        let req = v1::WatchJobRequest { id: id.into() };
        let stream =
            self.api().watch_job(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?.into_inner();
        Ok(Watch { stream, conn: self.conn.clone() })
    }

    /// Watches a job until it ends, calling `on_progress(frames_done, total_frames)`; returns
    /// it as it ended, with its scores when it succeeded.
    pub async fn wait(
        &self,
        id: &str,
        mut on_progress: impl FnMut(u64, u64),
    ) -> Result<JobView, ClientError> {
        // With several controllers, a watch that breaks (its controller went away) is taken
        // up again on another, for up to FAILOVER_PATIENCE.
        let failover = self.conn.controllers.len() > 1;
        let started = std::time::Instant::now();
        let mut watch = self.watch(id).await;
        loop {
            let event = match &mut watch {
                Ok(w) => w.next().await,
                Err(e) => Err(e.clone()),
            };
            let broken = match event {
                Ok(Some(JobEvent::Progress { frames_done, total_frames })) => {
                    on_progress(frames_done, total_frames);
                    continue;
                }
                Ok(Some(JobEvent::Segment { .. })) => continue,
                // The controller sends the finished job with its scores when it succeeded.
                Ok(Some(JobEvent::Finished(job))) => return Ok(*job),
                Ok(None) => ClientError::Unreachable {
                    address: self.address().into(),
                    message: format!("the watch of job {id} ended before the job did"),
                },
                Err(e) => e,
            };
            if !(failover && broken.is_transient() && started.elapsed() < FAILOVER_PATIENCE) {
                return Err(broken);
            }
            tracing::warn!(job_id = id, error = %broken, "watch broken; taking it up on another controller");
            tokio::time::sleep(Duration::from_millis(300)).await;
            watch = self.watch(id).await;
        }
    }

    /// The registered nodes, live, draining or gone.
    pub async fn nodes(&self) -> Result<Vec<NodeInfo>, ClientError> {
        let req = v1::ListNodesRequest {};
        let nodes = self.api().list_nodes(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(nodes.into_inner().nodes.into_iter().map(NodeInfo::from).collect())
    }

    /// The built-in models and the versions in the controller's model registry; the reason
    /// when that registry cannot be read.
    pub async fn models(&self) -> Result<(Vec<vmafx_core::catalog::ModelInfo>, Option<String>), ClientError> {
        let req = v1::ListModelsRequest {};
        let answer = self.api().list_models(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        let answer = answer.into_inner();
        let problem = Some(answer.registry_problem).filter(|p| !p.is_empty());
        Ok((answer.models.into_iter().map(Into::into).collect(), problem))
    }

    /// Work items queued or running per node pool (`""`: jobs that name no pool).
    pub async fn queue(&self) -> Result<Vec<PoolQueue>, ClientError> {
        let req = v1::GetQueueRequest {};
        let queue = self.api().get_queue(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(queue.into_inner().pools.into_iter().map(PoolQueue::from).collect())
    }

    /// Asks a node to drain: it takes no new work, finishes what it runs, then exits. `node`
    /// is its id, or its name (as `vmafx nodes` lists it) when one node that is not gone has it.
    pub async fn drain(&self, node: &str) -> Result<NodeInfo, ClientError> {
        let nodes = self.nodes().await?;
        let id = match nodes.iter().find(|n| n.id == node) {
            Some(n) => n.id.clone(),
            None => pick_by_name(&nodes, node)?,
        };
        let req = v1::DrainNodeRequest { id };
        let drained = self.api().drain_node(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(drained.into_inner().into())
    }

    /// Removes a node (a name or an id): its credential is revoked and it is forgotten.
    pub async fn remove_node(&self, node: &str) -> Result<String, ClientError> {
        let nodes = self.nodes().await?;
        let id = match nodes.iter().find(|n| n.id == node) {
            Some(n) => n.id.clone(),
            None => pick_by_name(&nodes, node)?,
        };
        let req = v1::RemoveNodeRequest { id: id.clone() };
        self.api().remove_node(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(id)
    }

    /// Makes a token with `role` (read, submit, admin) called `name`; returns its secret,
    /// which is shown only now.
    pub async fn create_token(&self, role: &str, name: &str) -> Result<(String, v1::TokenInfo), ClientError> {
        let req = v1::CreateTokenRequest { role: role.into(), name: name.into() };
        let resp = self.api().create_token(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        let resp = resp.into_inner();
        Ok((resp.token, resp.info.unwrap_or_default()))
    }

    /// The tokens, revoked ones included (and nodes' credentials with `include_nodes`).
    pub async fn tokens(&self, include_nodes: bool) -> Result<Vec<v1::TokenInfo>, ClientError> {
        let req = v1::ListTokensRequest { include_nodes };
        let resp = self.api().list_tokens(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(resp.into_inner().tokens)
    }

    /// Revokes the tokens called `name`; how many.
    pub async fn revoke_token(&self, name: &str) -> Result<u32, ClientError> {
        let req = v1::RevokeTokenRequest { name: name.into() };
        let resp = self.api().revoke_token(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(resp.into_inner().revoked)
    }

    /// Replaces the join token; returns the new one.
    pub async fn rotate_join_token(&self) -> Result<String, ClientError> {
        let req = v1::RotateJoinTokenRequest {};
        let resp =
            self.api().rotate_join_token(self.conn.request(req)).await.map_err(|s| self.conn.fail(s))?;
        Ok(resp.into_inner().token)
    }
}

/// The node API, as a worker uses it. Calls return the controller's status unchanged: the
/// worker decides what to retry.
///
/// `token` is the join token: it registers the node, which gets its own credential back; every
/// later call (and a later registration under the same id) carries that credential.
#[derive(Clone)]
pub struct NodeClient {
    conn: Connection,
    credential: Arc<std::sync::RwLock<Option<MetadataValue<tonic::metadata::Ascii>>>>,
}

impl NodeClient {
    /// Connects at the first call (nodes may start before their controller).
    pub fn connect_lazy(address: &str, token: &str, tls: &Tls) -> Result<Self, ClientError> {
        Ok(Self { conn: Connection::lazy(address, token, tls)?, credential: Arc::default() })
    }

    /// `msg` with this node's credential, or the join token before it has one.
    fn request<T>(&self, msg: T) -> Request<T> {
        let mut r = self.conn.request(msg);
        if let Some(v) = self.credential.read().unwrap_or_else(|p| p.into_inner()).as_ref() {
            r.metadata_mut().insert("authorization", v.clone());
        }
        r
    }

    /// The node API on the controller calls go to now.
    fn api(&self) -> NodeServiceClient<Channel> {
        NodeServiceClient::new(self.conn.channel()).max_encoding_message_size(vmafx_proto::MAX_REPORT_BYTES)
    }

    /// The controller calls go to now.
    pub fn address(&self) -> &str {
        self.conn.address()
    }

    /// Registers (or rejoins, with the credential it has); keeps the credential it is given.
    pub async fn register(&self, req: v1::RegisterNodeRequest) -> Result<v1::RegisterNodeResponse, Status> {
        let resp = self
            .api()
            .register_node(self.request(req))
            .await
            .inspect_err(|s| self.conn.note(s))?
            .into_inner();
        if !resp.credential.is_empty() {
            let value = format!("Bearer {}", resp.credential)
                .parse()
                .map_err(|_| Status::internal("the controller sent a credential that is not ASCII"))?;
            *self.credential.write().unwrap_or_else(|p| p.into_inner()) = Some(value);
        }
        Ok(resp)
    }

    pub async fn pull(&self, req: v1::PullWorkRequest) -> Result<v1::PullWorkResponse, Status> {
        Ok(self.api().pull_work(self.request(req)).await.inspect_err(|s| self.conn.note(s))?.into_inner())
    }

    pub async fn heartbeat(&self, req: v1::HeartbeatRequest) -> Result<v1::HeartbeatResponse, Status> {
        Ok(self.api().heartbeat(self.request(req)).await.inspect_err(|s| self.conn.note(s))?.into_inner())
    }

    pub async fn progress(
        &self,
        req: v1::ReportProgressRequest,
    ) -> Result<v1::ReportProgressResponse, Status> {
        Ok(self
            .api()
            .report_progress(self.request(req))
            .await
            .inspect_err(|s| self.conn.note(s))?
            .into_inner())
    }

    pub async fn report(&self, req: v1::ReportResultRequest) -> Result<v1::ReportResultResponse, Status> {
        Ok(self.api().report_result(self.request(req)).await.inspect_err(|s| self.conn.note(s))?.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_become_errors_a_caller_can_act_on() {
        let e =
            ClientError::from_status("http://x:1", Status::invalid_argument("score.model: unknown model"));
        assert!(e.is_caller_mistake() && !e.is_transient());
        assert_eq!(e.to_string(), "score.model: unknown model");
        let e =
            ClientError::from_status("http://x:1", Status::already_exists("idempotency key `k` was used"));
        assert!(e.is_caller_mistake());
        let mut busy = Status::resource_exhausted("the queue is full");
        busy.metadata_mut().insert(vmafx_proto::RETRY_AFTER_MS, "2500".parse().unwrap());
        let e = ClientError::from_status("http://x:1", busy);
        assert!(
            matches!(e, ClientError::Overloaded { retry_after, .. } if retry_after == Duration::from_millis(2500))
        );
        assert!(e.is_transient() && !e.is_caller_mistake());
        let e = ClientError::from_status("http://x:1", Status::unavailable("connection refused"));
        assert!(e.is_transient());
        assert!(e.to_string().starts_with("cannot reach the controller at http://x:1: connection refused ("));
        assert!(e.to_string().contains("VMAFX_CONTROLLER"), "says what to do: {e}");
        assert!(matches!(
            JobClient::connect_lazy("not a url", "t", &Tls::default()),
            Err(ClientError::BadAddress(_))
        ));
    }

    #[test]
    fn a_node_is_drained_by_name_when_the_name_says_which() {
        let node = |id: &str, name: &str, state| NodeInfo {
            id: id.into(),
            name: name.into(),
            state,
            capabilities: Default::default(),
            registered_ms: 0,
            last_seen_ms: 0,
        };
        let nodes = [
            node("n1", "gpu-a", NodeState::Gone),
            node("n2", "gpu-a", NodeState::Live),
            node("n3", "gpu-b", NodeState::Live),
            node("n4", "gpu-b", NodeState::Draining),
            node("n5", "old", NodeState::Gone),
        ];
        assert_eq!(pick_by_name(&nodes, "gpu-a").unwrap(), "n2", "the one not gone");
        assert_eq!(pick_by_name(&nodes, "old").unwrap(), "n5", "the only one");
        let e = pick_by_name(&nodes, "gpu-b").unwrap_err();
        assert!(e.is_caller_mistake() && e.to_string().contains("n3, n4"), "{e}");
        let e = pick_by_name(&nodes, "nope").unwrap_err().to_string();
        assert!(e.contains("`nope`") && e.contains("vmafx nodes"), "{e}");
    }

    #[tokio::test]
    async fn an_unreachable_controller_says_where_and_why_once() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let err = JobClient::connect(&format!("http://127.0.0.1:{port}"), "t", &Tls::default())
            .await
            .err()
            .unwrap();
        let text = err.to_string();
        assert!(
            text.starts_with(&format!("cannot reach the controller at http://127.0.0.1:{port}: ")),
            "{text}"
        );
        assert_eq!(text.matches("tcp connect error").count(), 0, "one cause, not the whole chain: {text}");
    }
}
