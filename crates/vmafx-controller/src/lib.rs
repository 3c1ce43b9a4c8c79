//! The controller's logic: accepting jobs, handing work items to nodes under leases, taking
//! results back and assembling them. It sees only domain types and the [`Store`]; the gRPC
//! and HTTP adapters that will sit in front of it translate and nothing more.

mod access;
pub mod admission;
pub mod auth;
mod batch;
mod dispatch;
mod error;
pub mod fuzzing;
pub mod grpc_adapter;
pub mod http_adapter;
mod inputs;
pub mod metrics;
pub mod result_check;
pub mod scheduling;
pub mod server;
mod submit;
pub mod ui;
/// TLS for the listeners (its own crate: vmafx-mcp serves with it too).
pub use vmafx_tls as tls;
mod views;

pub use dispatch::{Expired, NodeRegistration, NodeView};
pub use error::ControllerError;
pub use scheduling::RetryPolicy;
pub use submit::JobRequest;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use batch::Batcher;
use metrics::Metrics;
use tokio::sync::Notify;
use vmafx_media::Tools;
use vmafx_store::{Completion, ItemResult, JobRecord, Lease, Millis, NewJob, Pull, Store};

/// Settings of a controller.
#[derive(Debug, Clone)]
pub struct ControllerConfig {
    /// How long a lease lives without a heartbeat.
    pub lease_ttl_ms: Millis,
    /// How often nodes should heartbeat (a fraction of the lease).
    pub heartbeat_interval_ms: Millis,
    pub retry: RetryPolicy,
    /// Probe inputs at submission (needs the controller to see the files the nodes see);
    /// off, the first node to fail on an unreadable input fails the job with the reason.
    pub probe_inputs: bool,
    /// The programs that probe inputs. A controller runs ffprobe (`Decoder::Ffmpeg`, the
    /// default here), never libav in its own process: a file a client names must not be able
    /// to crash or stall the controller, and a subprocess is killed past its time limit.
    pub tools: Tools,
    /// Delete jobs this long after they ended, and nodes this long after they were last seen
    /// (`None`: keep them).
    pub retain: Option<std::time::Duration>,
    /// Refuse submissions (429 / RESOURCE_EXHAUSTED) while this many work items wait for a node.
    pub max_pending_items: Option<u64>,
    /// Refuse submissions beyond this many per second (a token bucket holding one second's worth).
    pub max_submit_rate: Option<f64>,
    /// The directories jobs may read local files from (inputs and model files); none: no
    /// local path is accepted.
    pub input_roots: vmafx_media::AllowedRoots,
    /// Which remote inputs (object stores, web servers) jobs may name, with this controller's
    /// credentials for them; none by default.
    pub remote_inputs: Arc<vmafx_storage::Resolver>,
    /// How long the URLs signed into a lease stay valid (past the longest work item).
    pub url_ttl: std::time::Duration,
    /// The model registry listed beside the built-in models (the one the nodes serve).
    pub model_registry: Option<std::path::PathBuf>,
}

impl Default for ControllerConfig {
    fn default() -> Self {
        Self {
            lease_ttl_ms: 15_000,
            heartbeat_interval_ms: 5_000,
            retry: RetryPolicy::default(),
            probe_inputs: true,
            tools: Tools::default().decoding_with(vmafx_media::Decoder::Ffmpeg),
            retain: None,
            max_pending_items: None,
            max_submit_rate: None,
            input_roots: vmafx_media::AllowedRoots::none(),
            remote_inputs: Arc::default(),
            url_ttl: vmafx_storage::DEFAULT_URL_TTL,
            model_registry: None,
        }
    }
}

/// The controller over a store. Cheap to clone; clones share the store and wake-ups.
pub struct Controller<S> {
    store: Arc<S>,
    config: ControllerConfig,
    /// Woken when work may have become available (submission, requeue), for long polls.
    work: Arc<Notify>,
    metrics: Arc<Metrics>,
    /// Frames done of running items, as nodes report them (kept in memory only: it is
    /// advisory, and a restarted controller hears it again within a second).
    progress: Arc<Mutex<HashMap<i64, u64>>>,
    /// What judging a result needs, for the leases this controller granted (item id → the
    /// item as leased, with its job's spec): a result for one of them costs no store read.
    granted: Arc<Mutex<HashMap<i64, vmafx_store::ReportContext>>>,
    /// What each node offers, for matching job requirements (from the store after a restart).
    capabilities: Arc<Mutex<HashMap<String, vmafx_core::Capabilities>>>,
    /// Requirement keys of the jobs submitted, so that a pull need not ask the store (keys
    /// of finished jobs stay: matching against them is harmless).
    requirement_keys: Arc<Mutex<RequirementKeys>>,
    /// Woken when an item finishes or fails, or a job is cancelled: for watches.
    changes: Arc<Notify>,
    /// Submissions per second, when limited.
    submit_rate: Option<Arc<Mutex<admission::RateLimit>>>,
    /// Group commit of the hot paths: pulls, results and submissions that arrive together
    /// share one store transaction.
    leases: Arc<Batcher<Pull, Option<Lease>>>,
    completions: Arc<Batcher<ItemResult, Completion>>,
    submissions: Arc<Batcher<NewJob, (JobRecord, bool)>>,
    /// When each node was last marked seen, and its draining flag then: a node pulling many
    /// times a second costs the store one read per [`TOUCH_EVERY_MS`].
    touched: Arc<Mutex<HashMap<String, (Millis, bool)>>>,
}

/// How long a node's draining flag is taken from memory before the store is read again (and
/// its last-seen time written). A drain asked of this controller is seen at once (it clears
/// the node's entry); one asked of another controller within a second. Liveness is judged
/// over three heartbeats (seconds); at 200 nodes pulling five times a second, touching every
/// 250 ms was a tenth of PostgreSQL's round trips.
pub const TOUCH_EVERY_MS: Millis = 1000;

impl<S> Clone for Controller<S> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            config: self.config.clone(),
            work: Arc::clone(&self.work),
            metrics: Arc::clone(&self.metrics),
            progress: Arc::clone(&self.progress),
            granted: Arc::clone(&self.granted),
            capabilities: Arc::clone(&self.capabilities),
            requirement_keys: Arc::clone(&self.requirement_keys),
            changes: Arc::clone(&self.changes),
            submit_rate: self.submit_rate.clone(),
            leases: Arc::clone(&self.leases),
            completions: Arc::clone(&self.completions),
            submissions: Arc::clone(&self.submissions),
            touched: Arc::clone(&self.touched),
        }
    }
}

impl<S: Store> Controller<S> {
    pub fn new(store: S, mut config: ControllerConfig) -> Self {
        // Inputs probed at submission are remembered by path, size and modification time.
        if config.tools.probes.is_none() {
            config.tools = config.tools.remembering_probes();
        }
        let store = Arc::new(store);
        let ttl = config.lease_ttl_ms;
        let workers = store.concurrent_batches();
        let s = Arc::clone(&store);
        let leases = Batcher::new(workers, move |pulls: Vec<Pull>| {
            let s = Arc::clone(&s);
            async move { s.lease_many(&pulls, now_ms(), ttl).await }
        });
        let s = Arc::clone(&store);
        let completions = Batcher::new(workers, move |reports: Vec<ItemResult>| {
            let s = Arc::clone(&s);
            async move { s.complete_many(&reports, now_ms()).await }
        });
        let s = Arc::clone(&store);
        let submissions = Batcher::new(workers, move |jobs: Vec<NewJob>| {
            let s = Arc::clone(&s);
            async move { s.submit_many(jobs, now_ms()).await }
        });
        Self {
            leases: Arc::new(leases),
            completions: Arc::new(completions),
            submissions: Arc::new(submissions),
            touched: Arc::default(),
            store,
            work: Arc::new(Notify::new()),
            metrics: Arc::default(),
            progress: Arc::default(),
            granted: Arc::default(),
            capabilities: Arc::default(),
            requirement_keys: Arc::default(),
            changes: Arc::default(),
            submit_rate: config.max_submit_rate.map(|r| Arc::new(Mutex::new(admission::RateLimit::new(r)))),
            config,
        }
    }

    pub fn store(&self) -> &S {
        &self.store
    }

    /// The built-in models, then every version in the model registry (read now: a version
    /// published a moment ago is listed), with the reason when the registry cannot be read.
    pub async fn models(&self) -> (Vec<vmafx_core::catalog::ModelInfo>, Option<String>) {
        let mut list = vmafx_core::catalog::builtin_infos();
        let Some(dir) = self.config.model_registry.clone() else { return (list, None) };
        match tokio::task::spawn_blocking(move || vmafx_ai::serve::model_infos(&dir)).await {
            Ok(Ok(found)) => {
                list.extend(found);
                (list, None)
            }
            Ok(Err(e)) => (list, Some(e.to_string())),
            Err(e) => (list, Some(e.to_string())),
        }
    }

    pub fn config(&self) -> &ControllerConfig {
        &self.config
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Resolves at the next finished or failed item or cancelled job.
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changes.notified()
    }

    /// Takes in a change another controller made on the shared store: new work wakes pulls
    /// (and its requirement key is matched from now on), item changes wake watches.
    pub fn heard(&self, event: &vmafx_store::StoreEvent) {
        match event {
            vmafx_store::StoreEvent::Work { requirement } => {
                if let Some(key) = requirement {
                    self.requirement_keys.lock().unwrap_or_else(|p| p.into_inner()).keys.insert(key.clone());
                }
                self.work.notify_waiters();
            }
            vmafx_store::StoreEvent::Changed { .. } => self.changes.notify_waiters(),
        }
    }

    /// Some changes of other controllers went unheard (the relay fell behind): read the
    /// pending requirement keys again at the next pull, and wake every pull and watch.
    pub fn missed_changes(&self) {
        self.requirement_keys.lock().unwrap_or_else(|p| p.into_inner()).loaded = false;
        self.work.notify_waiters();
        self.changes.notify_waiters();
    }

    /// Times a job that has just ended (its duration goes to `/metrics`).
    async fn job_ended(&self, id: &str) {
        if let Ok(Some(job)) = self.store.job(id).await {
            if let Some(end) = job.finished_ms.filter(|_| job.state.is_terminal()) {
                let seconds = (end - job.submitted_ms).max(0) as f64 / 1000.0;
                self.metrics.job_finished(job.state, seconds);
                match &job.error {
                    Some(error) => {
                        tracing::warn!(job_id = %job.id, state = %job.state, seconds, %error, "job ended")
                    }
                    None => tracing::info!(job_id = %job.id, state = %job.state, seconds, "job ended"),
                }
                if job.state == vmafx_core::JobState::Succeeded && job.vmaf.is_none() {
                    // Off the completing node's call: it reads every segment's scores.
                    let controller = self.clone();
                    tokio::spawn(async move { controller.record_vmaf(&job.id).await });
                }
            }
        }
    }
}

/// The requirement keys pulls match against: those remembered at submission, plus, once
/// loaded, those of the work pending in the store when the controller started.
#[derive(Debug, Default, Clone)]
pub(crate) struct RequirementKeys {
    pub(crate) loaded: bool,
    pub(crate) keys: std::collections::BTreeSet<String>,
}

/// The wall clock in Unix milliseconds.
pub fn now_ms() -> Millis {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as Millis).unwrap_or(0)
}

/// A fresh id, `PREFIX-<ms timestamp>-<random>`: time-ordered, and unique without
/// coordination.
pub(crate) fn fresh_id(prefix: &str) -> String {
    let mut random = [0u8; 6];
    // /dev/urandom is always there on the Linux machines vmafx runs on; the fallback mixes the
    // pid and a process-wide counter into the clock.
    if std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut random))
        .is_err()
    {
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n =
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed) ^ ((std::process::id() as u64) << 20);
        random.copy_from_slice(&n.to_le_bytes()[..6]);
    }
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}-{:011x}-{hex}", now_ms())
}
