//! The controller's own measurements, kept in memory since the process started and written
//! out as Prometheus histograms by `/metrics` (queue gauges come from the store instead).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use vmafx_core::JobState;

/// A Prometheus histogram with fixed upper bounds, in seconds. Lock-free: one counter per
/// bucket plus the sum in microseconds.
#[derive(Debug)]
pub struct Histogram {
    bounds: &'static [f64],
    /// Observations per bucket (not cumulative); the last is `+Inf`.
    counts: Vec<AtomicU64>,
    sum_us: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        Self {
            bounds,
            counts: (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect(),
            sum_us: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, seconds: f64) {
        let seconds = seconds.max(0.0);
        let bucket = self.bounds.iter().position(|&b| seconds <= b).unwrap_or(self.bounds.len());
        self.counts[bucket].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add((seconds * 1e6).round() as u64, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    /// Writes the `_bucket`, `_sum` and `_count` lines; `labels` is empty or `k="v",`.
    fn write(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cumulative += c.load(Ordering::Relaxed);
            let le = self.bounds.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(out, "{name}_bucket{{{labels}le=\"{le}\"}} {cumulative}");
        }
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let braces =
            if labels.is_empty() { String::new() } else { format!("{{{}}}", labels.trim_end_matches(',')) };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// Dispatch happens in milliseconds on an idle cluster and in minutes on a busy one.
const DISPATCH_BOUNDS: &[f64] =
    &[0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0];
/// Jobs take seconds (a short clip) to hours (a feature film on one node).
const JOB_BOUNDS: &[f64] =
    &[1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, 21600.0];

/// What the controller measures as it runs.
#[derive(Debug)]
pub struct Metrics {
    /// From a work item becoming available (submitted, or its backoff over) to its lease.
    pub dispatch_latency: Histogram,
    /// From submission to the end, per terminal state.
    job_duration: [(JobState, Histogram); 3],
}

impl Default for Metrics {
    fn default() -> Self {
        Self {
            dispatch_latency: Histogram::new(DISPATCH_BOUNDS),
            job_duration: [JobState::Succeeded, JobState::Failed, JobState::Cancelled]
                .map(|s| (s, Histogram::new(JOB_BOUNDS))),
        }
    }
}

impl Metrics {
    /// Records a job that reached `state` after `seconds`; ignores non-terminal states.
    pub fn job_finished(&self, state: JobState, seconds: f64) {
        if let Some((_, h)) = self.job_duration.iter().find(|(s, _)| *s == state) {
            h.observe(seconds);
        }
    }

    /// The histograms in Prometheus text exposition.
    pub fn write(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP vmafx_dispatch_latency_seconds Time from a work item becoming available to its lease.\n\
             # TYPE vmafx_dispatch_latency_seconds histogram"
        );
        self.dispatch_latency.write(out, "vmafx_dispatch_latency_seconds", "");
        let _ = writeln!(
            out,
            "# HELP vmafx_job_duration_seconds Time from submission to the end of a job, by final state.\n\
             # TYPE vmafx_job_duration_seconds histogram"
        );
        for (state, h) in &self.job_duration {
            h.write(out, "vmafx_job_duration_seconds", &format!("state=\"{state}\","));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_sum_counts() {
        static B: &[f64] = &[0.1, 1.0];
        let h = Histogram::new(B);
        for s in [0.05, 0.1, 0.5, 3.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.write(&mut out, "x", "");
        assert_eq!(
            out,
            "x_bucket{le=\"0.1\"} 2\nx_bucket{le=\"1\"} 3\nx_bucket{le=\"+Inf\"} 4\nx_sum 3.65\nx_count 4\n"
        );
        let mut labelled = String::new();
        h.write(&mut labelled, "x", "state=\"failed\",");
        assert!(labelled.contains("x_bucket{state=\"failed\",le=\"+Inf\"} 4\n"));
        assert!(labelled.contains("x_count{state=\"failed\"} 4\n"));
    }

    #[test]
    fn only_terminal_states_are_timed() {
        let m = Metrics::default();
        m.job_finished(JobState::Running, 1.0);
        m.job_finished(JobState::Succeeded, 2.0);
        let mut out = String::new();
        m.write(&mut out);
        assert!(out.contains("vmafx_job_duration_seconds_count{state=\"succeeded\"} 1\n"));
        assert!(out.contains("vmafx_job_duration_seconds_count{state=\"failed\"} 0\n"));
    }
}
