//! The controller's own measurements, kept in memory since the process started and written
//! out as Prometheus histograms by `/metrics` (queue gauges come from the store instead).

use vmafx_core::metrics::{family, Histogram};
use vmafx_core::JobState;

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
        family(
            out,
            "vmafx_dispatch_latency_seconds",
            "histogram",
            "Time from a work item becoming available to its lease.",
        );
        self.dispatch_latency.write(out, "vmafx_dispatch_latency_seconds", "");
        family(
            out,
            "vmafx_job_duration_seconds",
            "histogram",
            "Time from submission to the end of a job, by final state.",
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
