//! What a node measures as it works, served as Prometheus text on `/metrics` (with
//! `--http-listen`): items by outcome, frames scored, where the time went (waiting for
//! decoded frames, or in libvmaf), ffmpeg failures, busy slots.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use vmafx_core::metrics::{family, label_value, single, Histogram};
use vmafx_engine::{EngineError, ScoreOutcome};
use vmafx_media::MediaError;

/// Items take a fraction of a second (a short segment) to an hour (a long encode).
const ITEM_BOUNDS: &[f64] = &[0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0];

/// How an item ended on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemEnd {
    Scored,
    Failed,
    /// Cancelled or reassigned by the controller.
    Stopped,
}

impl ItemEnd {
    const ALL: [ItemEnd; 3] = [ItemEnd::Scored, ItemEnd::Failed, ItemEnd::Stopped];

    fn label(self) -> &'static str {
        match self {
            ItemEnd::Scored => "scored",
            ItemEnd::Failed => "failed",
            ItemEnd::Stopped => "stopped",
        }
    }
}

/// The node's counters since it started.
#[derive(Debug)]
pub struct NodeMetrics {
    /// Registered with a controller (ready for work unless draining).
    pub registered: AtomicBool,
    busy: AtomicU64,
    items: [AtomicU64; 3],
    frames: AtomicU64,
    decode_wait_us: AtomicU64,
    libvmaf_us: AtomicU64,
    ffmpeg_failures: AtomicU64,
    item_seconds: Histogram,
    /// The triples sent to the trainer (`--trainer`), once capture starts.
    pub capture: std::sync::OnceLock<vmafx_ai::capture::Capture>,
}

impl Default for NodeMetrics {
    fn default() -> Self {
        Self {
            registered: AtomicBool::new(false),
            busy: AtomicU64::new(0),
            items: Default::default(),
            frames: AtomicU64::new(0),
            decode_wait_us: AtomicU64::new(0),
            libvmaf_us: AtomicU64::new(0),
            ffmpeg_failures: AtomicU64::new(0),
            item_seconds: Histogram::new(ITEM_BOUNDS),
            capture: std::sync::OnceLock::new(),
        }
    }
}

/// An item being worked on: counted busy until dropped.
pub struct Busy<'a>(&'a NodeMetrics);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

impl NodeMetrics {
    /// Ready for work: registered and not `draining` (`/readyz`).
    pub fn ready(&self, draining: bool) -> bool {
        self.registered.load(Ordering::Relaxed) && !draining
    }

    pub fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::Relaxed);
        Busy(self)
    }

    /// A scoring run finished: its frames and where its time went.
    pub fn scored(&self, outcome: &ScoreOutcome) {
        let us = |d: Duration| d.as_micros() as u64;
        self.frames.fetch_add(outcome.report.scores.frames.len() as u64, Ordering::Relaxed);
        self.decode_wait_us.fetch_add(us(outcome.timing.decode_wait), Ordering::Relaxed);
        self.libvmaf_us.fetch_add(us(outcome.timing.libvmaf), Ordering::Relaxed);
    }

    /// An item ended after `seconds`; a failure ffmpeg caused is counted as such.
    pub fn item_ended(&self, end: ItemEnd, seconds: f64, error: Option<&EngineError>) {
        self.items[end as usize].fetch_add(1, Ordering::Relaxed);
        self.item_seconds.observe(seconds);
        if error.is_some_and(ffmpeg_failed) {
            self.ffmpeg_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Prometheus text exposition; `name` and `ffmpeg` label the info line.
    pub fn render(&self, name: &str, ffmpeg: &str, slots: u32, draining: bool) -> String {
        let mut out = String::new();
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let secs = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e6;
        family(&mut out, "vmafx_node_info", "gauge", "This node: its name and its ffmpeg's version.");
        let _ = writeln!(
            out,
            "vmafx_node_info{{name=\"{}\",ffmpeg_version=\"{}\"}} 1",
            label_value(name),
            label_value(ffmpeg)
        );
        let ready = u8::from(self.ready(draining));
        single(
            &mut out,
            "vmafx_node_ready",
            "gauge",
            "1 when registered with a controller and not draining.",
            ready,
        );
        single(&mut out, "vmafx_node_slots", "gauge", "Work items this node runs at once.", slots);
        single(&mut out, "vmafx_node_busy_slots", "gauge", "Work items running now.", load(&self.busy));
        family(
            &mut out,
            "vmafx_node_items_total",
            "counter",
            "Work items ended, by outcome (stopped: cancelled or reassigned).",
        );
        for end in ItemEnd::ALL {
            let n = load(&self.items[end as usize]);
            let _ = writeln!(out, "vmafx_node_items_total{{outcome=\"{}\"}} {n}", end.label());
        }
        single(&mut out, "vmafx_node_frames_total", "counter", "Frames scored.", load(&self.frames));
        if let Some(c) = self.capture.get().map(|c| c.counts()) {
            single(
                &mut out,
                "vmafx_node_triples_sent_total",
                "counter",
                "Training triples sent to the trainer.",
                c.sent,
            );
            single(
                &mut out,
                "vmafx_node_triples_dropped_total",
                "counter",
                "Training triples dropped (the queue was full: the trainer slow or absent).",
                c.dropped,
            );
            single(
                &mut out,
                "vmafx_node_triples_queued",
                "gauge",
                "Training triples waiting to be sent.",
                c.queued,
            );
            single(
                &mut out,
                "vmafx_node_trainer_connected",
                "gauge",
                "1 while connected to the trainer's socket.",
                u8::from(c.connected),
            );
        }
        single(
            &mut out,
            "vmafx_node_decode_wait_seconds_total",
            "counter",
            "Time spent waiting for decoded frames.",
            secs(&self.decode_wait_us),
        );
        single(
            &mut out,
            "vmafx_node_libvmaf_seconds_total",
            "counter",
            "Time spent in libvmaf (feature extraction and scores).",
            secs(&self.libvmaf_us),
        );
        single(
            &mut out,
            "vmafx_node_ffmpeg_failures_total",
            "counter",
            "Items failed by ffmpeg (a decoder error, crash, timeout or failed encode).",
            load(&self.ffmpeg_failures),
        );
        family(
            &mut out,
            "vmafx_node_item_duration_seconds",
            "histogram",
            "Time from pulling a work item to its end.",
        );
        self.item_seconds.write(&mut out, "vmafx_node_item_duration_seconds", "");
        out
    }
}

/// A failure whose cause is the ffmpeg process: it could not run, crashed, timed out,
/// reported a corrupt stream, or an encode failed.
fn ffmpeg_failed(e: &EngineError) -> bool {
    match e {
        EngineError::Input { source, .. } | EngineError::Encode(source) => matches!(
            source,
            MediaError::Tool { .. }
                | MediaError::ToolTimeout { .. }
                | MediaError::ToolKilled { .. }
                | MediaError::Corrupt { .. }
                | MediaError::EncodeFailed { .. }
        ),
        _ => false,
    }
}

/// What `--http-listen` serves: `/healthz` (the process is up), `/readyz` (registered and not
/// draining: 503 otherwise) and `/metrics`, without a token (they carry no secrets; bind
/// the address accordingly).
pub async fn serve_http(
    listener: tokio::net::TcpListener,
    metrics: std::sync::Arc<NodeMetrics>,
    drain: std::sync::Arc<AtomicBool>,
    (name, ffmpeg, slots): (String, String, u32),
) -> std::io::Result<()> {
    use axum::http::{header, StatusCode};
    use axum::routing::get;
    let ready = {
        let (metrics, drain) = (metrics.clone(), drain.clone());
        move || {
            let ok = metrics.ready(drain.load(Ordering::Relaxed));
            async move {
                match ok {
                    true => (StatusCode::OK, "ready\n"),
                    false => {
                        (StatusCode::SERVICE_UNAVAILABLE, "not ready: not registered yet, or draining\n")
                    }
                }
            }
        }
    };
    let scrape = move || {
        let text = metrics.render(&name, &ffmpeg, slots, drain.load(Ordering::Relaxed));
        async move { ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text) }
    };
    let app = axum::Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(scrape));
    axum::serve(listener, app).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmafx_engine::Role;

    #[test]
    fn outcomes_and_ffmpeg_failures_are_counted() {
        let m = NodeMetrics::default();
        assert!(!m.ready(false));
        m.registered.store(true, Ordering::Relaxed);
        assert!(m.ready(false) && !m.ready(true));
        {
            let _busy = m.busy();
            assert!(m.render("a", "7.1", 2, false).contains("vmafx_node_busy_slots 1\n"));
        }
        let killed = EngineError::Input {
            role: Role::Distorted,
            source: MediaError::ToolKilled { input: "d.mp4".into(), frame: 3, signal: "SIGKILL".into() },
        };
        m.item_ended(ItemEnd::Failed, 0.3, Some(&killed));
        m.item_ended(ItemEnd::Failed, 0.3, Some(&EngineError::InvalidOption("x".into())));
        m.item_ended(ItemEnd::Scored, 2.0, None);
        let text = m.render("node \"a\"", "n9.0.2", 2, true);
        for line in [
            "vmafx_node_info{name=\"node \\\"a\\\"\",ffmpeg_version=\"n9.0.2\"} 1\n",
            "vmafx_node_busy_slots 0\n",
            "vmafx_node_items_total{outcome=\"failed\"} 2\n",
            "vmafx_node_items_total{outcome=\"scored\"} 1\n",
            "vmafx_node_items_total{outcome=\"stopped\"} 0\n",
            "vmafx_node_ffmpeg_failures_total 1\n",
            "vmafx_node_item_duration_seconds_count 3\n",
            "vmafx_node_slots 2\n",
            "vmafx_node_ready 0\n",
        ] {
            assert!(text.contains(line), "`{line}` not in:\n{text}");
        }
    }
}
