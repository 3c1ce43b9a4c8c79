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
    /// What the run did to its inputs and what to beware of (the same for every segment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<crate::Note>,
}

/// What a node reports for one work item: its frames' scores and, for an encode job, what
/// the encode produced.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SegmentResult {
    pub scores: Scores,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encode: Option<EncodeOutcome>,
    /// For a job with a [`crate::PictureSpec`]: the pictures, in the order asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pictures: Vec<FramePicture>,
}

/// One frame's pictures: the reference and the distorted as libvmaf sees them, PNG.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FramePicture {
    pub frame_num: u64,
    pub reference_png: Vec<u8>,
    pub distorted_png: Vec<u8>,
}

impl std::fmt::Debug for FramePicture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FramePicture")
            .field("frame_num", &self.frame_num)
            .field("reference_png", &format_args!("{} bytes", self.reference_png.len()))
            .field("distorted_png", &format_args!("{} bytes", self.distorted_png.len()))
            .finish()
    }
}

/// The size and time of an encode a node ran for a job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct EncodeOutcome {
    pub bytes: u64,
    pub encode_seconds: f64,
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

/// Why per-segment scores could not be put together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssembleError {
    #[error("segment {index} reports metrics {found:?}, the first segment {expected:?}")]
    Metrics { index: usize, expected: Vec<String>, found: Vec<String> },
    #[error("segment {index} starts at frame {found}, expected frame {expected} or later")]
    Overlap { index: usize, expected: u64, found: u64 },
}

impl Scores {
    /// Concatenates the scores of consecutive segments (in order) into one sequence, checking
    /// that they report the same metrics and that frame numbers only increase.
    pub fn assemble(segments: impl IntoIterator<Item = Scores>) -> Result<Scores, AssembleError> {
        let mut out = Scores::default();
        let mut next = 0u64;
        for (index, seg) in segments.into_iter().enumerate() {
            if index == 0 {
                out.metrics = seg.metrics;
            } else if seg.metrics != out.metrics {
                return Err(AssembleError::Metrics { index, expected: out.metrics, found: seg.metrics });
            }
            for note in seg.notes {
                if !out.notes.contains(&note) {
                    out.notes.push(note);
                }
            }
            for f in seg.frames {
                if f.frame_num < next {
                    return Err(AssembleError::Overlap { index, expected: next, found: f.frame_num });
                }
                next = f.frame_num + 1;
                out.frames.push(f);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(metrics: &[&str], nums: &[u64]) -> Scores {
        Scores {
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            frames: nums
                .iter()
                .map(|&n| FrameScore { frame_num: n, values: vec![n as f64; metrics.len()] })
                .collect(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn assembles_segments_in_order() {
        let all = Scores::assemble([seg(&["vmaf"], &[0, 1]), seg(&["vmaf"], &[2, 3]), seg(&["vmaf"], &[4])])
            .unwrap();
        assert_eq!(all, seg(&["vmaf"], &[0, 1, 2, 3, 4]));
        // Every segment says the same of the inputs: the job says it once.
        let noted =
            |nums: &[u64]| Scores { notes: vec![crate::Note::info("scaled")], ..seg(&["vmaf"], nums) };
        let all = Scores::assemble([noted(&[0]), noted(&[1])]).unwrap();
        assert_eq!(all.notes, [crate::Note::info("scaled")]);
        let err = Scores::assemble([seg(&["vmaf"], &[0]), seg(&["psnr_y"], &[1])]).unwrap_err();
        assert!(matches!(err, AssembleError::Metrics { index: 1, .. }));
        let err = Scores::assemble([seg(&["vmaf"], &[0, 1]), seg(&["vmaf"], &[1])]).unwrap_err();
        assert_eq!(err, AssembleError::Overlap { index: 1, expected: 2, found: 1 });
    }

    #[test]
    fn column_skips_missing_values() {
        let s = Scores {
            metrics: vec!["a".into(), "vmaf".into()],
            frames: vec![
                FrameScore { frame_num: 0, values: vec![1.0, f64::NAN] },
                FrameScore { frame_num: 1, values: vec![2.0, 90.0] },
            ],
            notes: Vec::new(),
        };
        assert_eq!(s.column("vmaf").unwrap(), vec![90.0]);
        assert_eq!(s.column("a").unwrap(), vec![1.0, 2.0]);
        assert_eq!(s.value(0, "vmaf"), None);
        assert_eq!(s.value(1, "a"), Some(2.0));
        assert!(s.column("nope").is_none());
    }
}
