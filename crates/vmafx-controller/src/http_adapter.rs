//! The HTTP face of the controller: health checks and Prometheus metrics, without a token
//! (probes and scrapers carry none).

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use vmafx_core::JobState;
use vmafx_store::Store;

use crate::{now_ms, Controller};

pub fn router<S: Store>(controller: Controller<S>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics::<S>))
        .with_state(controller)
}

/// Ready when the store answers.
async fn readyz<S: Store>(State(c): State<Controller<S>>) -> impl IntoResponse {
    match c.store().stats().await {
        Ok(_) => (StatusCode::OK, "ready\n".to_string()),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, format!("store unavailable: {e}\n")),
    }
}

/// Prometheus text exposition (version 0.0.4).
async fn metrics<S: Store>(State(c): State<Controller<S>>) -> impl IntoResponse {
    let (stats, nodes) = match (c.store().stats().await, c.store().nodes().await) {
        (Ok(s), Ok(n)) => (s, n),
        (Err(e), _) | (_, Err(e)) => {
            return (StatusCode::SERVICE_UNAVAILABLE, [(header::CONTENT_TYPE, "text/plain")], e.to_string())
        }
    };
    let now = now_ms();
    let mut out = String::new();
    let _ = writeln!(out, "# HELP vmafx_jobs Jobs by state.\n# TYPE vmafx_jobs gauge");
    for state in JobState::ALL {
        let n = stats.jobs.iter().find(|(s, _)| s == state).map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "vmafx_jobs{{state=\"{state}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP vmafx_queue_depth Work items waiting for a node.\n# TYPE vmafx_queue_depth gauge"
    );
    let _ = writeln!(out, "vmafx_queue_depth {}", stats.pending_items);
    let _ = writeln!(
        out,
        "# HELP vmafx_oldest_pending_age_seconds Age of the oldest job with a waiting work item.\n\
         # TYPE vmafx_oldest_pending_age_seconds gauge"
    );
    let age = stats.oldest_pending_ms.map_or(0.0, |t| (now - t).max(0) as f64 / 1000.0);
    let _ = writeln!(out, "vmafx_oldest_pending_age_seconds {age}");
    let live_after = now - 3 * c.config().heartbeat_interval_ms;
    let live = nodes.iter().filter(|n| n.last_seen_ms >= live_after).count();
    let _ = writeln!(out, "# HELP vmafx_nodes Registered nodes, live or gone.\n# TYPE vmafx_nodes gauge");
    let _ = writeln!(out, "vmafx_nodes{{state=\"live\"}} {live}");
    let _ = writeln!(out, "vmafx_nodes{{state=\"gone\"}} {}", nodes.len() - live);
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
