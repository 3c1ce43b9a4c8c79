//! What a segment's result must be before it is recorded: exactly the segment's frames (every
//! `subsample`-th, numbered as in the whole video) with the job's metrics. A node that reports
//! anything else (a bug, a stream that decoded short, a result for another segment) fails its
//! attempt with the reason, and the item is retried, instead of leaving a hole or an overlap
//! in the job's scores.

use vmafx_core::{catalog, FramePicture, PictureSpec, ScoreJobSpec, SegmentSpec};

/// The problem with a result (its `metrics`, and its frames' numbers in order) as the result
/// of `segment` of a job, if any. `total_frames` 0 means the job's length was unknown at
/// submission (one item covering whatever decodes).
pub fn result_problem(
    spec: &ScoreJobSpec,
    total_frames: u64,
    segment: SegmentSpec,
    metrics: &[String],
    frames: impl Iterator<Item = u64>,
) -> Option<String> {
    if let Some(e) = spec.estimate.as_ref().filter(|_| spec.is_no_reference()) {
        // The model's estimate alone, named ID@VERSION (the node's version of ID).
        let (id, version) = e.parse().unwrap_or((e.model.as_str(), None));
        let named = |m: &String| match version {
            Some(v) => *m == format!("{id}@{v}"),
            None => {
                m.strip_prefix(id).and_then(|v| v.strip_prefix('@')).is_some_and(|v| v.parse::<u32>().is_ok())
            }
        };
        if !(metrics.len() == 1 && named(&metrics[0])) {
            return Some(format!(
                "a job without a reference gives one metric, the estimate of `{}`; the result has {}",
                e.model,
                metrics.join(", ")
            ));
        }
    } else {
        let mut wanted: Vec<&str> = vec!["vmaf"];
        for f in &spec.features {
            wanted.extend(catalog::feature(f).map_or(&[][..], |f| f.outputs));
        }
        if let Some(missing) = wanted.iter().find(|m| !metrics.iter().any(|have| have == *m)) {
            return Some(format!("the result lacks the metric `{missing}` the job asks for"));
        }
    }
    let step = u64::from(spec.subsample.max(1));
    let mut numbers = frames.peekable();
    if total_frames == 0 {
        // Unknown length: frames from 0, in order, none missing.
        if numbers.peek().is_none() {
            return Some("the result has no frames".into());
        }
        return numbers
            .zip((0..).step_by(step as usize))
            .find(|(got, want)| got != want)
            .map(|(got, want)| format!("frame {want} is missing from the result (found frame {got})"));
    }
    let mut expected = (segment.start..segment.start + segment.frames).filter(|n| n % step == 0);
    let mut got = numbers;
    loop {
        match (expected.next(), got.next()) {
            (None, None) => return None,
            (Some(want), Some(have)) if want == have => {}
            (Some(want), Some(have)) => {
                return Some(format!(
                    "segment {}..{} result has frame {have} where frame {want} belongs",
                    segment.start,
                    segment.start + segment.frames
                ))
            }
            (Some(want), None) => {
                return Some(format!(
                    "segment {}..{} result stops before frame {want}",
                    segment.start,
                    segment.start + segment.frames
                ))
            }
            (None, Some(have)) => {
                return Some(format!(
                    "segment {}..{} result has frame {have}, outside the segment",
                    segment.start,
                    segment.start + segment.frames
                ))
            }
        }
    }
}

/// The problem with the pictures a node made for a job asking for `asked`, if any: one
/// pair per frame asked, in order, each a PNG of bounded size.
pub fn pictures_problem(asked: &PictureSpec, got: &[FramePicture]) -> Option<String> {
    if got.len() != asked.frames.len() {
        return Some(format!(
            "the result has {} pictures for {} frames asked",
            got.len(),
            asked.frames.len()
        ));
    }
    for (want, p) in asked.frames.iter().zip(got) {
        if p.frame_num != *want {
            return Some(format!(
                "the result has a picture of frame {} where frame {want} belongs",
                p.frame_num
            ));
        }
        for (side, png) in [("reference", &p.reference_png), ("distorted", &p.distorted_png)] {
            if !png.starts_with(PNG_SIGNATURE) {
                return Some(format!("the {side} picture of frame {want} is not a PNG"));
            }
            if png.len() > PictureSpec::MAX_PNG_BYTES {
                return Some(format!(
                    "the {side} picture of frame {want} has {} bytes, more than {}",
                    png.len(),
                    PictureSpec::MAX_PNG_BYTES
                ));
            }
        }
    }
    None
}

/// The first bytes of every PNG file.
pub const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[cfg(test)]
mod tests {
    use super::*;
    use vmafx_core::{FrameScore, Scores};

    /// The check on a whole result, as the controller makes it from the wire message.
    fn result_problem(spec: &ScoreJobSpec, total: u64, segment: SegmentSpec, s: &Scores) -> Option<String> {
        super::result_problem(spec, total, segment, &s.metrics, s.frames.iter().map(|f| f.frame_num))
    }

    fn spec(features: &[&str], subsample: u32) -> ScoreJobSpec {
        ScoreJobSpec {
            reference: "r".into(),
            distorted: "d".into(),
            model: "vmaf_v0.6.1".into(),
            model_path: None,
            features: features.iter().map(|f| f.to_string()).collect(),
            subsample,
            segment_frames: Some(4),
            encode: None,
            pictures: None,
            requirements: Default::default(),
            inputs: Default::default(),
            versions: Default::default(),
            estimate: None,
        }
    }

    fn scores(metrics: &[&str], frames: impl IntoIterator<Item = u64>) -> Scores {
        Scores {
            metrics: metrics.iter().map(|m| m.to_string()).collect(),
            frames: frames
                .into_iter()
                .map(|n| FrameScore { frame_num: n, values: vec![1.0; metrics.len()] })
                .collect(),
            notes: Vec::new(),
        }
    }

    const SEG: SegmentSpec = SegmentSpec { start: 4, frames: 4 };

    #[test]
    fn a_result_covers_exactly_its_segment() {
        let s = spec(&[], 1);
        assert_eq!(result_problem(&s, 12, SEG, &scores(&["vmaf"], 4..8)), None);
        let p = result_problem(&s, 12, SEG, &scores(&["vmaf"], 4..7)).unwrap();
        assert_eq!(p, "segment 4..8 result stops before frame 7");
        let p = result_problem(&s, 12, SEG, &scores(&["vmaf"], 4..9)).unwrap();
        assert!(p.contains("frame 8, outside the segment"), "{p}");
        let p = result_problem(&s, 12, SEG, &scores(&["vmaf"], [4, 5, 7, 8])).unwrap();
        assert!(p.contains("frame 7 where frame 6 belongs"), "{p}");
    }

    #[test]
    fn subsampled_jobs_report_every_nth_frame_by_its_whole_video_number() {
        let s = spec(&[], 3);
        assert_eq!(result_problem(&s, 12, SEG, &scores(&["vmaf"], [6])), None);
        assert!(result_problem(&s, 12, SEG, &scores(&["vmaf"], [4, 5, 6, 7])).is_some());
    }

    #[test]
    fn a_job_without_a_reference_gives_its_estimate_alone() {
        let s = ScoreJobSpec {
            reference: String::new(),
            estimate: Some(vmafx_core::EstimateSpec { model: "nr-luma".into(), no_capture: false }),
            ..spec(&[], 1)
        };
        let whole = SegmentSpec { start: 0, frames: 0 };
        assert_eq!(result_problem(&s, 0, whole, &scores(&["nr-luma@3"], 0..5)), None);
        for wrong in [&["vmaf"][..], &["nr-luma@3", "vmaf"], &["nr-lumax@3"], &["nr-luma@x"]] {
            let p = result_problem(&s, 0, whole, &scores(wrong, 0..5)).expect("refused");
            assert!(p.contains("one metric, the estimate of `nr-luma`"), "{p}");
        }
        let pinned = ScoreJobSpec {
            estimate: Some(vmafx_core::EstimateSpec { model: "nr-luma@2".into(), no_capture: false }),
            ..s
        };
        assert!(result_problem(&pinned, 0, whole, &scores(&["nr-luma@3"], 0..5)).is_some());
        assert_eq!(result_problem(&pinned, 0, whole, &scores(&["nr-luma@2"], 0..5)), None);
    }

    #[test]
    fn a_result_carries_the_job_s_metrics() {
        let s = spec(&["psnr"], 1);
        let p = result_problem(&s, 12, SEG, &scores(&["vmaf", "psnr_y"], 4..8)).unwrap();
        assert_eq!(p, "the result lacks the metric `psnr_cb` the job asks for");
        assert_eq!(
            result_problem(&s, 12, SEG, &scores(&["psnr_y", "psnr_cb", "psnr_cr", "vmaf"], 4..8)),
            None
        );
    }

    #[test]
    fn unknown_length_needs_frames_from_zero_without_holes() {
        let s = spec(&[], 1);
        let whole = SegmentSpec { start: 0, frames: 1 };
        assert_eq!(result_problem(&s, 0, whole, &scores(&["vmaf"], 0..30)), None);
        assert!(result_problem(&s, 0, whole, &scores(&["vmaf"], [0, 2]))
            .unwrap()
            .contains("frame 1 is missing"));
        assert!(result_problem(&s, 0, whole, &scores(&["vmaf"], [])).is_some());
    }

    #[test]
    fn pictures_come_one_pair_per_frame_asked_as_png() {
        let asked = PictureSpec { frames: vec![34, 0], max_width: 960 };
        let png = |extra: usize| [PNG_SIGNATURE, &vec![0; extra]].concat();
        let pair = |frame| FramePicture { frame_num: frame, reference_png: png(10), distorted_png: png(10) };
        assert_eq!(pictures_problem(&asked, &[pair(34), pair(0)]), None);
        assert!(pictures_problem(&asked, &[pair(34)]).unwrap().contains("1 pictures for 2 frames"));
        assert!(pictures_problem(&asked, &[pair(0), pair(34)]).unwrap().contains("frame 0 where frame 34"));
        let mut not_png = pair(0);
        not_png.distorted_png = b"GIF89a".to_vec();
        assert!(pictures_problem(&asked, &[pair(34), not_png])
            .unwrap()
            .contains("distorted picture of frame 0 is not a PNG"));
        let mut huge = pair(0);
        huge.reference_png = png(PictureSpec::MAX_PNG_BYTES);
        assert!(pictures_problem(&asked, &[pair(34), huge]).unwrap().contains("more than"));
    }
}
