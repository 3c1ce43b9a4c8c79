//! The worker: registers with the controller, pulls work items under leases, scores each
//! segment with the engine, keeps its leases alive with heartbeats (which also carry stop
//! orders), and reports results with the lease's fencing token.
//!
//! Each slot runs one item at a time. A stop order (the job was cancelled, or the lease went
//! to another node) sets the item's cancel flag: the engine stops its decoders, which kills
//! their ffmpeg, within a frame or two. SIGTERM, or a drain request in a heartbeat's answer,
//! drains: no more pulls, running items finish and report, then the process exits.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::path::Path;

use tracing::Instrument;
use vmafx_client::NodeClient;

mod backoff;
pub mod learning;
pub mod metrics;
pub use backoff::{with_retry, Backoff};
use metrics::ItemEnd;
use vmafx_core::{Capabilities, EncodeSpec, ScoreJobSpec, SegmentSpec};
use vmafx_engine::{score_files, EngineError, Progress, ScoreRequest};
use vmafx_media::tool::output_within;
use vmafx_media::{DecodeOptions, MediaError};
use vmafx_proto::v1::{self, report_result_request::Outcome};

/// How a node runs.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub controller: String,
    /// How the controller's certificate is checked, and this node's own, if it has one.
    pub tls: vmafx_client::Tls,
    pub token: String,
    pub name: String,
    pub slots: u32,
    /// libvmaf threads per slot.
    pub threads: u32,
    pub decode: DecodeOptions,
    /// What this node offers the scheduler (see [`detect_capabilities`]).
    pub capabilities: Capabilities,
    /// Stop retrying the controller after it has been unreachable this long (`None`: never).
    pub give_up_after: Option<Duration>,
    /// Fail an item's attempt when its frame count has not moved for this long.
    pub stall_timeout: Duration,
    /// The directories jobs may read local files from; a job naming another fails for good.
    pub input_roots: vmafx_media::AllowedRoots,
    /// Counters for `/metrics` (`--http-listen`), shared with whoever serves them.
    pub metrics: Arc<metrics::NodeMetrics>,
    /// How this node reads `rclone:` inputs: its own rclone.conf, `rclone serve http` on
    /// loopback or `rclone mount` per remote, stopped (unmounted) when the node stops.
    pub rclone: Arc<vmafx_storage::Rclone>,
    /// The model registry jobs' estimates come from, and the trainer triples go to.
    pub learning: Option<learning::Learning>,
}

/// What this machine offers: cores, the ffmpeg encoders it has, and its GPU (from
/// `nvidia-smi`, else the PCI vendor of /sys/class/drm cards). `gpu` overrides the detected
/// (vendor, model); `labels` are the operator's.
pub fn detect_capabilities(
    tools: &vmafx_media::Tools,
    slots: u32,
    gpu: Option<(String, String)>,
    labels: std::collections::BTreeMap<String, String>,
) -> Capabilities {
    let (gpu_vendor, gpu_model) = gpu.or_else(detect_gpu).unwrap_or_default();
    let encoders = ffmpeg_encoders(tools);
    Capabilities {
        cores: std::thread::available_parallelism().map(|n| n.get() as u32).unwrap_or(1),
        slots,
        gpu_vendor,
        gpu_model,
        onnx_providers: vec![],
        encoder_options: describe_encoders(tools, &encoders),
        encoders,
        labels,
        ffmpeg_version: vmafx_media::tool::ffmpeg_version_line(&tools.ffmpeg)
            .and_then(|l| vmafx_media::tool::version_of_line(&l))
            .unwrap_or_default(),
    }
}

/// What this ffmpeg says of each encoder encode jobs can use that it has (one
/// `ffmpeg -h encoder=NAME` each, all at once): the controller checks encode specs against it.
fn describe_encoders(tools: &vmafx_media::Tools, have: &[String]) -> Vec<vmafx_core::EncoderDescription> {
    std::thread::scope(|s| {
        let asked: Vec<_> = vmafx_core::encode::ENCODERS
            .iter()
            .filter(|e| have.iter().any(|h| h == e.name))
            .map(|e| s.spawn(move || vmafx_media::describe_encoder(tools, e.name, TOOL_TIMEOUT)))
            .collect();
        asked.into_iter().filter_map(|h| h.join().ok().flatten()).collect()
    })
}

/// How long `ffmpeg -encoders` and `nvidia-smi` may take (a wedged GPU driver can hang the
/// latter): past it the node starts without what they would have told.
const TOOL_TIMEOUT: Duration = Duration::from_secs(30);

/// Video encoders in `ffmpeg -encoders` (lines like ` V....D libx264  ...`).
fn ffmpeg_encoders(tools: &vmafx_media::Tools) -> Vec<String> {
    let mut cmd = std::process::Command::new(&tools.ffmpeg);
    cmd.args(["-hide_banner", "-encoders"]);
    let Ok(out) = output_within(&mut cmd, TOOL_TIMEOUT) else {
        return vec![];
    };
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let flags = parts.next()?;
            let name = parts.next()?;
            (flags.len() == 6 && flags.starts_with('V') && name != "=").then(|| name.to_string())
        })
        .collect()
}

fn detect_gpu() -> Option<(String, String)> {
    let mut smi = std::process::Command::new("nvidia-smi");
    smi.args(["--query-gpu=name", "--format=csv,noheader"]);
    if let Ok(out) = output_within(&mut smi, TOOL_TIMEOUT) {
        let text = String::from_utf8_lossy(&out.stdout);
        if let Some(model) =
            text.lines().map(str::trim).find(|l| !l.is_empty()).filter(|_| out.status.success())
        {
            return Some(("nvidia".into(), model.to_string()));
        }
    }
    let cards = std::fs::read_dir("/sys/class/drm").ok()?;
    for card in cards.flatten() {
        let vendor = std::fs::read_to_string(card.path().join("device/vendor")).unwrap_or_default();
        let name = match vendor.trim() {
            "0x10de" => "nvidia",
            "0x1002" => "amd",
            "0x8086" => "intel",
            _ => continue,
        };
        return Some((name.into(), String::new()));
    }
    None
}

/// Items this node holds: id → (fencing token, cancel flag).
type Held = Arc<Mutex<HashMap<i64, (i64, Arc<AtomicBool>)>>>;

/// Runs the node until `drain` is set and its running items are done.
pub async fn run(cfg: NodeConfig, drain: Arc<AtomicBool>) -> anyhow::Result<()> {
    let client = NodeClient::connect_lazy(&cfg.controller, &cfg.token, &cfg.tls)?;
    let caps = &cfg.capabilities;
    let reg = v1::RegisterNodeRequest {
        name: cfg.name.clone(),
        capabilities: Some(v1::Capabilities { slots: cfg.slots, ..caps.into() }),
        node_id: String::new(),
    };
    let registered = with_retry("register", cfg.give_up_after, || client.register(reg.clone()))
        .await
        .map_err(|s| refused("register", &s))?;
    let node_id = registered.node_id;
    cfg.metrics.registered.store(true, Ordering::Relaxed);
    println!("vmafx-node: registered as {node_id} with {} slot(s)", cfg.slots);
    tracing::info!(node_id = %node_id, name = %cfg.name, slots = cfg.slots, "registered");

    let held: Held = Arc::default();
    let heartbeat = tokio::spawn(heartbeats(
        client.clone(),
        node_id.clone(),
        held.clone(),
        drain.clone(),
        Duration::from_millis(registered.heartbeat_interval_ms.max(100) as u64),
    ));
    let slots: Vec<_> = (0..cfg.slots.max(1))
        .map(|_| {
            tokio::spawn(slot(client.clone(), node_id.clone(), cfg.clone(), held.clone(), drain.clone()))
        })
        .collect();
    for s in slots {
        s.await??;
    }
    heartbeat.abort();
    // The rclone servers and mounts this node started serve no more items.
    cfg.rclone.stop_all();
    // Say goodbye, so that `vmafx nodes` lists this node as gone at once; a controller that
    // does not hear it counts the node gone after three missed heartbeats anyway.
    let goodbye = v1::HeartbeatRequest { node_id: node_id.clone(), leases: vec![], leaving: true };
    let _ = tokio::time::timeout(Duration::from_secs(2), client.heartbeat(goodbye)).await;
    println!("vmafx-node: drained, exiting");
    tracing::info!(node_id = %node_id, "drained, exiting");
    Ok(())
}

/// Keeps the held leases alive, cancels the items the controller says to stop, and starts
/// draining when the controller asks.
async fn heartbeats(
    client: NodeClient,
    node_id: String,
    held: Held,
    drain: Arc<AtomicBool>,
    every: Duration,
) {
    loop {
        tokio::time::sleep(every).await;
        let leases: Vec<v1::HeldLease> = {
            let h = held.lock().unwrap_or_else(|p| p.into_inner());
            h.iter().map(|(&item_id, (fence, _))| v1::HeldLease { item_id, fence: *fence }).collect()
        };
        match client
            .heartbeat(v1::HeartbeatRequest { node_id: node_id.clone(), leases, leaving: false })
            .await
        {
            Ok(resp) => {
                if resp.drain && !drain.swap(true, Ordering::Relaxed) {
                    tracing::info!(node_id = %node_id, "the controller asked this node to drain: finishing running items, pulling no more");
                }
                let h = held.lock().unwrap_or_else(|p| p.into_inner());
                for item in resp.stop_items {
                    if let Some((_, cancel)) = h.get(&item) {
                        tracing::warn!(node_id = %node_id, item_id = item, "item {item} was cancelled or reassigned; stopping it");
                        cancel.store(true, Ordering::Relaxed);
                    }
                }
            }
            Err(e) => tracing::warn!(node_id = %node_id, error = e.message(), "heartbeat failed"),
        }
    }
}

/// A call the controller refused for good, in words: a removed node or a revoked token is
/// told how to come back.
fn refused(what: &str, s: &tonic::Status) -> anyhow::Error {
    use tonic::Code;
    match s.code() {
        Code::Unauthenticated | Code::PermissionDenied | Code::FailedPrecondition => anyhow::anyhow!(
            "{what}: the controller refused this node: {} (a removed node, or a revoked token: start it again \
             with a valid join token to join as a new node)",
            s.message()
        ),
        _ => anyhow::anyhow!("{what}: {}", s.message()),
    }
}

/// One slot: pull, score, report, until drained.
async fn slot(
    client: NodeClient,
    node_id: String,
    cfg: NodeConfig,
    held: Held,
    drain: Arc<AtomicBool>,
) -> anyhow::Result<()> {
    while !drain.load(Ordering::Relaxed) {
        let pull = v1::PullWorkRequest { node_id: node_id.clone(), wait_ms: 2_000 };
        let item = with_retry("pull", cfg.give_up_after, || client.pull(pull.clone()))
            .await
            .map_err(|s| refused("pull", &s))?
            .item;
        let Some(item) = item else { continue };
        // Every line of this item's life on this node carries its job, item and node ids.
        let ids =
            tracing::info_span!("item", job_id = %item.job_id, item_id = item.item_id, node_id = %node_id);
        tracing::info!(parent: &ids, start = item.start, frames = item.frames, fence = item.fence, "item started");
        let started = std::time::Instant::now();
        let busy = cfg.metrics.busy();
        let cancel = Arc::new(AtomicBool::new(false));
        held.lock().unwrap_or_else(|p| p.into_inner()).insert(item.item_id, (item.fence, cancel.clone()));
        let frames_done = Arc::new(AtomicU64::new(0));
        let reporter = tokio::spawn(report_progress(
            client.clone(),
            node_id.clone(),
            (item.item_id, item.fence),
            frames_done.clone(),
            cancel.clone(),
        ));
        let stalled = Arc::new(AtomicBool::new(false));
        // An encode job counts no frames while it encodes: its encoder is watched instead (its
        // output must keep growing, see vmafx_media::encode).
        // Pictures count no frames either (a few frames, read or sought to).
        let encodes = item.score.as_ref().is_some_and(|s| s.encode.is_some() || s.pictures.is_some());
        let watchdog = (!encodes).then(|| {
            let watch =
                watch_for_stall(frames_done.clone(), cancel.clone(), stalled.clone(), cfg.stall_timeout);
            tokio::spawn(watch.instrument(ids.clone()))
        });
        let outcome = score(&cfg, &item, cancel, frames_done).await;
        reporter.abort();
        if let Some(w) = watchdog {
            w.abort();
        }
        held.lock().unwrap_or_else(|p| p.into_inner()).remove(&item.item_id);
        drop(busy);
        let seconds = started.elapsed().as_secs_f64();
        match &outcome {
            Ok(_) => cfg.metrics.item_ended(ItemEnd::Scored, seconds, None),
            Err(EngineError::Cancelled) if !stalled.load(Ordering::Relaxed) => {
                cfg.metrics.item_ended(ItemEnd::Stopped, seconds, None)
            }
            Err(e) => cfg.metrics.item_ended(ItemEnd::Failed, seconds, Some(e)),
        }
        let outcome = match outcome {
            Ok(scores) => Outcome::Scores(scores),
            // Stopped by the watchdog: this attempt failed, another may not stall.
            Err(EngineError::Cancelled) if stalled.load(Ordering::Relaxed) => Outcome::Failure(v1::Failure {
                message: format!(
                    "no progress for {} s (--stall-timeout): the decode or scoring stopped advancing",
                    cfg.stall_timeout.as_secs()
                ),
                permanent: false,
            }),
            Err(EngineError::Cancelled) => {
                tracing::info!(parent: &ids, "item stopped: cancelled or reassigned");
                continue;
            }
            Err(e) => Outcome::Failure(v1::Failure { message: e.to_string(), permanent: e.is_bad_input() }),
        };
        match &outcome {
            Outcome::Scores(s) => tracing::info!(
                parent: &ids, frames = s.frames.len(), seconds = started.elapsed().as_secs_f64(), "item scored"
            ),
            Outcome::Failure(f) => {
                tracing::warn!(parent: &ids, permanent = f.permanent, reason = %f.message, "item failed")
            }
        }
        let report = v1::ReportResultRequest {
            node_id: node_id.clone(),
            item_id: item.item_id,
            fence: item.fence,
            outcome: Some(outcome),
        };
        let reported = with_retry("report", cfg.give_up_after, || client.report(report.clone()));
        match reported.instrument(ids.clone()).await {
            Ok(r) if r.accepted => {}
            Ok(_) => tracing::warn!(
                parent: &ids,
                "the controller refused the result of item {} (its lease moved on)",
                item.item_id
            ),
            // A result the controller judged wrong fails this attempt only: keep working.
            Err(s) if s.code() == tonic::Code::InvalidArgument => {
                tracing::warn!(
                    parent: &ids,
                    "the controller refused the result of item {}: {}",
                    item.item_id,
                    s.message()
                )
            }
            Err(s) => return Err(s.into()),
        }
    }
    Ok(())
}

/// Stops an item whose frame count has not moved for `limit` (a decode stuck on a dead mount,
/// a wedged decoder), marking it `stalled` so that the attempt is reported as failed.
async fn watch_for_stall(
    frames_done: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
    stalled: Arc<AtomicBool>,
    limit: Duration,
) {
    let tick = (limit / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
    let (mut seen, mut since) = (frames_done.load(Ordering::Relaxed), tokio::time::Instant::now());
    loop {
        tokio::time::sleep(tick).await;
        let now = frames_done.load(Ordering::Relaxed);
        if now != seen {
            (seen, since) = (now, tokio::time::Instant::now());
        } else if since.elapsed() >= limit {
            tracing::warn!("no progress for {} s; stopping the item", limit.as_secs());
            stalled.store(true, Ordering::Relaxed);
            cancel.store(true, Ordering::Relaxed);
            return;
        }
    }
}

/// Tells the controller how far an item is, twice a second while it changes (for `vmafx jobs
/// watch` and `submit --wait` progress bars); stops the item when the answer says so.
async fn report_progress(
    client: NodeClient,
    node_id: String,
    (item_id, fence): (i64, i64),
    frames_done: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
) {
    let mut reported = 0;
    loop {
        tokio::time::sleep(PROGRESS_INTERVAL).await;
        let done = frames_done.load(Ordering::Relaxed);
        if done == reported {
            continue;
        }
        let req = v1::ReportProgressRequest { node_id: node_id.clone(), item_id, fence, frames_done: done };
        // Progress is advisory: a lost report is made good by the next one.
        if let Ok(resp) = client.progress(req).await {
            reported = done;
            if resp.stop {
                cancel.store(true, Ordering::Relaxed);
            }
        }
    }
}

/// How long an item may go without a new frame before its attempt fails.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(120);

/// How often a running item's progress goes to the controller.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);

/// Scores one work item on the blocking pool, counting frames into `frames_done`.
async fn score(
    cfg: &NodeConfig,
    item: &v1::WorkItem,
    cancel: Arc<AtomicBool>,
    frames_done: Arc<AtomicU64>,
) -> Result<v1::Scores, EngineError> {
    let spec: ScoreJobSpec = item.score.clone().unwrap_or_default().into();
    // Starting an rclone server blocks for a moment: off the async workers.
    let (roots, rclone) = (cfg.input_roots.clone(), cfg.rclone.clone());
    let spec = tokio::task::spawn_blocking(move || {
        let mut spec = spec;
        allowed_inputs(&mut spec, &roots, &rclone).map(|()| spec)
    })
    .await
    .map_err(|e| EngineError::Internal(format!("checking the inputs failed: {e}")))??;
    if let Some(encode) = spec.encode.clone() {
        return encode_and_score(cfg, item, spec, encode, cancel, frames_done).await;
    }
    if let Some(asked) = spec.pictures.clone() {
        // Pictures of a few frames (the dashboard's worst frames), made as scoring would see them.
        let req = ScoreRequest::for_job(
            &spec,
            SegmentSpec { start: 0, frames: 0 },
            cfg.threads,
            cfg.decode.clone(),
        )?;
        let pictures = tokio::task::spawn_blocking(move || vmafx_engine::pictures(&req, &asked))
            .await
            .map_err(|e| EngineError::Internal(format!("making pictures failed: {e}")))??;
        tracing::info!(job_id = %item.job_id, item_id = item.item_id, pictures = pictures.len(), "pictures made");
        let result = vmafx_core::SegmentResult { pictures, ..Default::default() };
        return Ok(v1::Scores::from(&result));
    }
    let segment = SegmentSpec { start: item.start, frames: item.frames };
    let mut req = ScoreRequest::for_job(&spec, segment, cfg.threads, cfg.decode.clone())?;
    req.cancel = Some(cancel);
    // The model is chosen (and checked) before anything is decoded; the item keeps it to the
    // end, whatever is published meanwhile.
    let no_reference = spec.is_no_reference();
    if no_reference {
        // No libvmaf run: the decoder may have its cores.
        req.decode.threads = req.decode.threads.max(cfg.threads);
    }
    let model = match &spec.estimate {
        Some(e) => {
            let model = learning::model_for(cfg.learning.as_ref(), e, no_reference)?;
            req.beside = learning::beside_shrink(&model.0);
            Some((model, !e.no_capture))
        }
        None => None,
    };
    let capture = cfg.learning.as_ref().and_then(|l| l.capture.clone());
    let job_id = item.job_id.clone();
    let mut on_progress = move |p: Progress| {
        if let Progress::Frames { done } = p {
            frames_done.store(done, Ordering::Relaxed);
        }
    };
    let metrics = cfg.metrics.clone();
    tokio::task::spawn_blocking(move || {
        if let (true, Some((model, _))) = (no_reference, &model) {
            let measured = vmafx_engine::nr::measure_file(&req, &mut on_progress)?;
            let started = std::time::Instant::now();
            let report = learning::nr_estimate(measured, model)?;
            tracing::info!(
                job_id = %job_id,
                model = %model.0.label(),
                frames = report.scores.frames.len(),
                inference_seconds = started.elapsed().as_secs_f64(),
                "estimated without a reference"
            );
            return Ok(wire_result(report));
        }
        let mut outcome = score_files(&req, &mut on_progress)?;
        metrics.scored(&outcome);
        if let Some((model, capturing)) = &model {
            let capturing = *capturing && capture.is_some();
            let done = learning::add_estimate(
                &mut outcome.report,
                outcome.beside.as_ref(),
                model,
                &spec,
                &job_id,
                capturing,
            )?;
            tracing::info!(
                job_id = %job_id,
                model = %model.0.label(),
                frames = outcome.report.scores.frames.len(),
                inference_seconds = done.inference.as_secs_f64(),
                "estimated"
            );
            if let (Some(c), true) = (&capture, capturing) {
                c.offer(&done.triples);
            }
        }
        Ok(wire_result(outcome.report))
    })
    .await
    .map_err(|e| EngineError::Internal(format!("scoring task failed: {e}")))?
}

/// Checks the job's local paths against this node's roots (whatever the controller checked:
/// this machine's files are this node's to guard) and opens what they resolve to. A URL is
/// what the controller signed for this lease from a remote input its policy allowed: it is
/// read as it is (ffmpeg limited to http/https, ranged reads for Y4M).
fn allowed_inputs(
    spec: &mut ScoreJobSpec,
    roots: &vmafx_media::AllowedRoots,
    rclone: &vmafx_storage::Rclone,
) -> Result<(), EngineError> {
    let encode = spec.encode.is_some();
    let no_reference = spec.is_no_reference();
    let paths = [
        ("reference", Some(&mut spec.reference).filter(|_| !no_reference)),
        ("distorted", Some(&mut spec.distorted).filter(|_| !encode)),
        ("model_path", spec.model_path.as_mut().filter(|p| !p.is_empty())),
    ];
    for (field, path) in paths {
        let Some(p) = path else { continue };
        if field != "model_path" && vmafx_media::location::is_url(Path::new(p.as_str())) {
            continue;
        }
        if field != "model_path" && p.starts_with("rclone:") {
            // A remote of this node's rclone.conf, which the controller's policy allowed.
            let Ok(vmafx_core::InputUri::Rclone { remote, path }) = vmafx_core::InputUri::parse(p) else {
                return Err(EngineError::NotAllowed(format!("{field} `{p}`: not an rclone input")));
            };
            *p = rclone.locate(&remote, &path).map_err(|e| match e.is_bad_input() {
                true => EngineError::NotAllowed(format!("{field} {e}")),
                false => EngineError::Internal(format!("{field} {e}")),
            })?;
            continue;
        }
        *p = roots.check(field, p).map_err(EngineError::NotAllowed)?.display().to_string();
    }
    Ok(())
}

/// A run's scores with its notes, as the controller takes them.
fn wire_result(report: vmafx_core::Report) -> v1::Scores {
    let mut scores = report.scores;
    scores.notes = report.info.notes;
    v1::Scores::from(&scores)
}

/// An encode job: encodes the reference as the spec says into a temporary file, scores that
/// encode against the reference, and reports the scores with the encode's size and time.
async fn encode_and_score(
    cfg: &NodeConfig,
    item: &v1::WorkItem,
    spec: ScoreJobSpec,
    encode: EncodeSpec,
    cancel: Arc<AtomicBool>,
    frames_done: Arc<AtomicU64>,
) -> Result<v1::Scores, EngineError> {
    // A private directory (mode 0700, a random name): no other user can plant a file or a
    // link where the encode is written. Removed with everything in it when the item ends.
    let workdir = tempfile::Builder::new()
        .prefix(&format!("vmafx-encode-{}-", item.item_id))
        .tempdir()
        .map_err(|e| EngineError::Internal(format!("cannot make a directory for the encode: {e}")))?;
    let out = workdir.path().join("encode.mkv");
    // Checked again here, against this node's own ffmpeg: what the controller accepted was
    // checked against what some node reported, and this machine is this node's to guard.
    let described = cfg.capabilities.encoder_options.iter().find(|d| d.encoder == encode.encoder);
    let checked =
        vmafx_core::encode::check(&encode, described).map_err(|e| match encode.encoder.is_empty() {
            true => EngineError::NotAllowed(format!(
                "{e}: a job queued before encodes were typed; submit it again"
            )),
            false => EngineError::NotAllowed(e.to_string()),
        })?;
    let (tools, threads, decode, stall, metrics) =
        (cfg.decode.tools.clone(), cfg.threads, cfg.decode.clone(), cfg.stall_timeout, cfg.metrics.clone());
    tokio::task::spawn_blocking(move || {
        let result = (|| {
            let encoded = vmafx_media::encode(
                &tools,
                Path::new(&spec.reference),
                &checked,
                &out,
                Some(&cancel),
                Some(stall),
            )
            .map_err(|e| match e {
                MediaError::Cancelled => EngineError::Cancelled,
                e => EngineError::Encode(e),
            })?;
            let mut req = ScoreRequest::for_job(&spec, SegmentSpec { start: 0, frames: 0 }, threads, decode)?;
            req.distorted = out.clone();
            req.segment = None;
            req.skip_reference = encode.start;
            req.max_frames = Some(encode.frames).filter(|&n| n > 0);
            req.cancel = Some(cancel);
            let mut on_progress = |p: Progress| {
                if let Progress::Frames { done } = p {
                    frames_done.store(done, Ordering::Relaxed);
                }
            };
            let outcome = score_files(&req, &mut on_progress)?;
            metrics.scored(&outcome);
            let mut scores = wire_result(outcome.report);
            scores.encode = Some(v1::EncodeResult { bytes: encoded.bytes, encode_seconds: encoded.seconds });
            Ok(scores)
        })();
        drop(workdir);
        result
    })
    .await
    .map_err(|e| EngineError::Internal(format!("encoding task failed: {e}")))?
}
