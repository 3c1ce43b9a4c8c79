//! Prometheus text exposition, written into a `String`: the histogram type and label
//! escaping the controller's and the nodes' `/metrics` share.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

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
    pub fn write(&self, out: &mut String, name: &str, labels: &str) {
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

/// Writes a metric family's `# HELP` and `# TYPE` lines (`kind`: gauge, counter, histogram).
pub fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// Writes a family of one unlabelled sample: its header and `name value`.
pub fn single(out: &mut String, name: &str, kind: &str, help: &str, value: impl std::fmt::Display) {
    family(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

/// `v` as a Prometheus label value (backslash, quote and newline escaped).
pub fn label_value(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
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
    fn a_family_has_its_help_and_type() {
        let mut out = String::new();
        single(&mut out, "x_total", "counter", "Things.", 3);
        assert_eq!(out, "# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\n");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
