//! Per-frame scores in a column layout: one list of metric names, one row of values per frame.
//!
//! The layout keeps the metric order libvmaf prints (model features, extra features, then the
//! model score) and costs one `f64` per metric and frame, whatever the clip length.

use serde::{Deserialize, Serialize};

/// The scores of one frame, aligned with [`Scores::metrics`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameScore {
    /// Index of the frame in the scored sequence (after any skipped leading frames).
    pub frame_num: u64,
    /// One value per metric; `NaN` where libvmaf has no value for that frame.
    pub values: Vec<f64>,
}

/// Per-frame scores of a clip pair.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Metric names as libvmaf prints them (`integer_adm2`, `psnr_y`, `vmaf`, ...).
    pub metrics: Vec<String>,
    /// Scored frames in frame order.
    pub frames: Vec<FrameScore>,
}

impl Scores {
    /// Position of `metric` in [`Scores::metrics`].
    pub fn index_of(&self, metric: &str) -> Option<usize> {
        self.metrics.iter().position(|m| m == metric)
    }

    /// Every value of `metric` in frame order, skipping frames that lack it.
    pub fn column(&self, metric: &str) -> Option<Vec<f64>> {
        let i = self.index_of(metric)?;
        Some(self.frames.iter().map(|f| f.values[i]).filter(|v| !v.is_nan()).collect())
    }

    /// The value of `metric` at frame position `frame` (an index into [`Scores::frames`]).
    pub fn value(&self, frame: usize, metric: &str) -> Option<f64> {
        let i = self.index_of(metric)?;
        self.frames.get(frame).map(|f| f.values[i]).filter(|v| !v.is_nan())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_skips_missing_values() {
        let s = Scores {
            metrics: vec!["a".into(), "vmaf".into()],
            frames: vec![
                FrameScore { frame_num: 0, values: vec![1.0, f64::NAN] },
                FrameScore { frame_num: 1, values: vec![2.0, 90.0] },
            ],
        };
        assert_eq!(s.column("vmaf").unwrap(), vec![90.0]);
        assert_eq!(s.column("a").unwrap(), vec![1.0, 2.0]);
        assert_eq!(s.value(0, "vmaf"), None);
        assert_eq!(s.value(1, "a"), Some(2.0));
        assert!(s.column("nope").is_none());
    }
}
