//! `vmafx-trainer serve`: the training sidecar beside a node. Triples arrive on a Unix socket
//! (one JSON object per line, from the node's capture) into a bounded replay buffer; at each
//! checkpoint (a minimum interval since the last AND a minimum of new triples) a model is
//! fitted on the buffer and goes through [`fit_and_publish`]'s gates — its ONNX export run
//! in ONNX Runtime must match the trainer, and it must beat the current version on a holdout
//! of whole jobs — before it is published, atomically, as the next version. Nodes reading the
//! registry pick it up at their next item.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;
use vmafx_ai::triple::{Triple, MAX_LINE};
use vmafx_media::downscale::Shrink;

use crate::train::FitOptions;
use crate::{fit_and_publish, FitReport, FitRequest};

/// What a serving trainer fits, when, and from what.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub registry: PathBuf,
    pub socket: PathBuf,
    pub id: String,
    /// Features, crop and downscale of a first version; later versions keep the current one's.
    pub features: Vec<String>,
    pub shrink: Shrink,
    pub holdout_percent: u32,
    /// A checkpoint waits this long after the last one ...
    pub min_interval: Duration,
    /// ... and for this many triples received since.
    pub min_new: u64,
    /// Triples kept (older ones are replaced at random as new ones come: a uniform sample of
    /// everything received).
    pub replay: usize,
    /// The first fit's options; later fits continue its weights for `warm_epochs`.
    pub fit: FitOptions,
    pub warm_epochs: usize,
}

/// What the trainer has done so far (`GET /status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Status {
    pub model: String,
    /// The version nodes are served now (the newest in the registry).
    pub current: Option<String>,
    pub received: u64,
    /// Lines that were not triples, or triples of another crop or downscale.
    pub rejected: u64,
    pub buffered: usize,
    pub new_since_checkpoint: u64,
    pub checkpoints: u64,
    /// Adam steps taken over every checkpoint (training continues from one to the next).
    pub steps: u64,
    pub published: Vec<String>,
    pub refused: u64,
    pub last_report: Option<FitReport>,
    pub last_error: Option<String>,
}

/// The replay buffer: every triple while it fits, then a uniform sample (reservoir
/// sampling, seeded: the same stream keeps the same triples).
struct Replay {
    items: Vec<Triple>,
    capacity: usize,
    seen: u64,
    state: u64,
}

impl Replay {
    fn new(capacity: usize) -> Self {
        Self { items: Vec::new(), capacity: capacity.max(1), seen: 0, state: 0x2545_f491_4f6c_dd1d }
    }

    fn push(&mut self, t: Triple) {
        self.seen += 1;
        if self.items.len() < self.capacity {
            self.items.push(t);
            return;
        }
        // xorshift64*: a slot in 0..seen; kept when it falls in the buffer.
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) % self.seen;
        if let Some(slot) = self.items.get_mut(r as usize) {
            *slot = t;
        }
    }
}

struct Shared {
    replay: Mutex<Replay>,
    status: Mutex<Status>,
}

/// The running trainer's state, for the HTTP endpoints.
#[derive(Clone)]
pub struct Trainer {
    shared: Arc<Shared>,
}

impl Trainer {
    pub fn status(&self) -> Status {
        let mut s = self.shared.status.lock().unwrap_or_else(|e| e.into_inner()).clone();
        s.buffered = self.shared.replay.lock().unwrap_or_else(|e| e.into_inner()).items.len();
        s
    }

    /// Prometheus text.
    pub fn metrics(&self) -> String {
        use vmafx_core::metrics::single;
        let s = self.status();
        let mut out = String::new();
        single(
            &mut out,
            "vmafx_trainer_triples_received_total",
            "counter",
            "Triples received from nodes.",
            s.received,
        );
        single(
            &mut out,
            "vmafx_trainer_triples_rejected_total",
            "counter",
            "Lines that were not triples of this model's scale.",
            s.rejected,
        );
        single(
            &mut out,
            "vmafx_trainer_replay_triples",
            "gauge",
            "Triples in the replay buffer.",
            s.buffered,
        );
        single(&mut out, "vmafx_trainer_checkpoints_total", "counter", "Models fitted.", s.checkpoints);
        single(
            &mut out,
            "vmafx_trainer_published_total",
            "counter",
            "Versions published.",
            s.published.len(),
        );
        single(
            &mut out,
            "vmafx_trainer_refused_total",
            "counter",
            "Fitted models not published (not better on the holdout, or the export differed).",
            s.refused,
        );
        let rmse = s.last_report.as_ref().map_or(f64::NAN, |r| r.holdout.rmse);
        single(
            &mut out,
            "vmafx_trainer_last_holdout_rmse",
            "gauge",
            "Holdout RMSE of the last model fitted, VMAF points.",
            rmse,
        );
        out
    }
}

/// Listens on the socket and checkpoints until the process ends.
pub fn start(opts: ServeOptions) -> anyhow::Result<Trainer> {
    std::fs::create_dir_all(&opts.registry)
        .map_err(|e| anyhow::anyhow!("model registry {}: {e}", opts.registry.display()))?;
    vmafx_ai::registry::check_id(&opts.id).map_err(anyhow::Error::msg)?;
    let current = vmafx_ai::Registry::open(&opts.registry)?.latest(&opts.id).cloned();
    // A socket left by a trainer that died is in the way; anything else there is not ours.
    if let Ok(meta) = std::fs::symlink_metadata(&opts.socket) {
        use std::os::unix::fs::FileTypeExt;
        anyhow::ensure!(
            meta.file_type().is_socket(),
            "--socket {}: something other than a socket is there",
            opts.socket.display()
        );
        if UnixStream::connect(&opts.socket).is_ok() {
            anyhow::bail!("--socket {}: another trainer listens there", opts.socket.display());
        }
        std::fs::remove_file(&opts.socket)?;
    }
    let listener = UnixListener::bind(&opts.socket)
        .map_err(|e| anyhow::anyhow!("--socket {}: cannot listen there: {e}", opts.socket.display()))?;
    // Triples train the models every node will serve: only this user and its group may send.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opts.socket, std::fs::Permissions::from_mode(0o660))?;
    }
    let shared = Arc::new(Shared {
        replay: Mutex::new(Replay::new(opts.replay)),
        status: Mutex::new(Status {
            model: opts.id.clone(),
            current: current.as_ref().map(vmafx_ai::ModelEntry::label),
            ..Status::default()
        }),
    });
    // The current version fixes what is fitted: its features, at its scale.
    let (features, shrink) = match &current {
        Some(c) => (c.features.clone(), crate::entry_shrink(c)),
        None => (opts.features.clone(), opts.shrink),
    };
    tracing::info!(model = %opts.id, current = ?current.as_ref().map(|c| c.label()), crop = shrink.crop, downscale = shrink.factor, socket = %opts.socket.display(), "training from triples");
    let accepting = Arc::clone(&shared);
    let wanted = features.clone();
    std::thread::Builder::new().name("accept".into()).spawn(move || {
        let open = Arc::new(AtomicUsize::new(0));
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            // One connection per node process; a flood of them is refused, not served.
            if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                open.fetch_sub(1, Ordering::SeqCst);
                tracing::warn!("refused a connection: {MAX_CONNECTIONS} are open");
                continue;
            }
            let (shared, open, wanted) = (Arc::clone(&accepting), Arc::clone(&open), wanted.clone());
            let spawned = std::thread::Builder::new().name("triples".into()).spawn(move || {
                receive(conn, &shared, shrink, &wanted);
                open.fetch_sub(1, Ordering::SeqCst);
            });
            if spawned.is_err() {
                tracing::warn!("cannot start a thread for a connection");
            }
        }
    })?;
    let checkpointing = Arc::clone(&shared);
    let req = FitRequest {
        registry: opts.registry.clone(),
        id: opts.id.clone(),
        kind: vmafx_ai::Kind::Fr,
        features,
        shrink,
        holdout_percent: opts.holdout_percent,
        fit: opts.fit,
        now: String::new(),
    };
    std::thread::Builder::new()
        .name("checkpoint".into())
        .spawn(move || checkpoints(&checkpointing, req, opts.warm_epochs, opts.min_interval, opts.min_new))?;
    Ok(Trainer { shared })
}

/// Connections taken at once (a node keeps one).
const MAX_CONNECTIONS: usize = 64;

/// Reads one node's triples until it hangs up. A triple is kept with only the features the
/// model takes (so the replay buffer stays small); one of another crop or downscale, or
/// lacking one of them, is rejected.
fn receive(conn: UnixStream, shared: &Shared, shrink: Shrink, wanted: &[String]) {
    let mut lines = BufReader::new(conn);
    let mut line = String::new();
    loop {
        line.clear();
        // A line longer than a triple can be is cut off and rejected, not buffered whole.
        match lines.by_ref().take(MAX_LINE as u64 + 1).read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let triple = (line.len() <= MAX_LINE)
            .then(|| serde_json::from_str::<Triple>(line.trim_end()).ok())
            .flatten()
            .filter(|t| crate::shrink_of(&t.meta) == shrink)
            .map(|mut t| {
                t.features.retain(|k, _| wanted.contains(k));
                t
            })
            .filter(|t| t.features.len() == wanted.len());
        let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
        status.received += 1;
        match triple {
            Some(t) => {
                status.new_since_checkpoint += 1;
                drop(status);
                shared.replay.lock().unwrap_or_else(|e| e.into_inner()).push(t);
            }
            None => status.rejected += 1,
        }
        if !line.ends_with('\n') && line.len() > MAX_LINE {
            return; // a runaway line: hang up rather than resynchronise
        }
    }
}

fn checkpoints(shared: &Shared, req: FitRequest, warm_epochs: usize, min_interval: Duration, min_new: u64) {
    let mut last = Instant::now();
    // The training state carried from checkpoint to checkpoint (published or not): each
    // continues the last one's weights, and their moving average, on the replay buffer.
    let mut warm: Option<crate::Warm> = None;
    loop {
        std::thread::sleep(Duration::from_millis(200));
        {
            let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() < min_interval || status.new_since_checkpoint < min_new.max(1) {
                continue;
            }
            status.new_since_checkpoint = 0;
        }
        last = Instant::now();
        let triples = shared.replay.lock().unwrap_or_else(|e| e.into_inner()).items.clone();
        let fit = FitRequest {
            fit: FitOptions { epochs: if warm.is_some() { warm_epochs } else { req.fit.epochs }, ..req.fit },
            now: crate::now_rfc3339(),
            ..req.clone()
        };
        let outcome = fit_and_publish(&triples, &fit, warm.as_ref());
        let mut status = shared.status.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok((report, carried)) => {
                status.checkpoints += 1;
                status.steps = carried.online.steps;
                warm = Some(carried);
                match &report.published {
                    Some(label) => {
                        tracing::info!(model = %label, rmse = report.holdout.rmse, triples = triples.len(), "published");
                        status.published.push(label.clone());
                        status.current = Some(label.clone());
                    }
                    None => {
                        tracing::info!(
                            reason = report.refused.as_deref().unwrap_or(""),
                            triples = triples.len(),
                            "not published"
                        );
                        status.refused += 1;
                    }
                }
                status.last_report = Some(report);
                status.last_error = None;
            }
            Err(e) => {
                // Too few jobs for a holdout yet, most often: the next checkpoint has more.
                tracing::info!(error = %e, triples = triples.len(), "no model fitted");
                status.last_error = Some(format!("{e:#}"));
            }
        }
    }
}

/// Serves `/healthz`, `/status` (JSON) and `/metrics` (Prometheus) on `listener`.
pub async fn serve_http(listener: tokio::net::TcpListener, trainer: Trainer) -> std::io::Result<()> {
    use axum::http::header;
    use axum::routing::get;
    let (a, b) = (trainer.clone(), trainer);
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/status", get(move || async move { axum::Json(a.status()) }))
        .route(
            "/metrics",
            get(move || async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], b.metrics()) }),
        );
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_buffer_keeps_everything_then_a_sample_of_it() {
        let mut r = Replay::new(100);
        let t = |frame| Triple {
            features: Default::default(),
            vmaf: 1.0,
            meta: vmafx_ai::triple::Meta { frame, ..Default::default() },
        };
        (0..100).for_each(|i| r.push(t(i)));
        assert_eq!(r.items.iter().map(|t| t.meta.frame).sum::<u64>(), (0..100).sum::<u64>());
        (100..10_000).for_each(|i| r.push(t(i)));
        assert_eq!(r.items.len(), 100);
        // A uniform sample of 0..10000: about a hundredth of it is from the first hundred.
        let early = r.items.iter().filter(|t| t.meta.frame < 5000).count();
        assert!((30..70).contains(&early), "{early} of 100 from the first half");
    }
}
