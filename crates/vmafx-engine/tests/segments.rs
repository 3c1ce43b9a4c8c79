//! A job split into planned segments, each scored on its own, assembles into exactly the
//! whole run's scores: the engine half of the cluster's split-and-assemble path.

use std::path::Path;

use vmafx_core::{plan_segments, ScoreJobSpec, Scores};
use vmafx_engine::{score_files, ScoreRequest};
use vmafx_media::DecodeOptions;

const W: usize = 96;
const H: usize = 64;

/// Writes a moving gradient; `noise` perturbs it deterministically.
fn write_y4m(path: &Path, frames: usize, noise: u32) {
    vmafx_media::y4m::write_pattern(path, W, H, frames, noise).unwrap();
}

#[test]
fn planned_segments_assemble_into_the_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = (dir.path().join("r.y4m"), dir.path().join("d.y4m"));
    write_y4m(&r, 23, 0);
    write_y4m(&d, 23, 24);
    let spec = ScoreJobSpec {
        reference: r.display().to_string(),
        distorted: d.display().to_string(),
        model: "vmaf_v0.6.1".into(),
        model_path: None,
        features: vec!["psnr".into(), "float_ssim".into()],
        subsample: 1,
        segment_frames: Some(5),
        encode: None,
        pictures: None,
        requirements: Default::default(),
        inputs: Default::default(),
        versions: Default::default(),
        estimate: None,
    };
    let whole = {
        let mut req = ScoreRequest::new(&r, &d);
        req.features = spec.features.clone();
        req.threads = 2;
        score_files(&req, &mut |_| {}).unwrap().report.scores
    };
    let segments = plan_segments(23, spec.segment_frames);
    assert_eq!(segments.len(), 5);
    let parts = segments.iter().map(|&seg| {
        let req = ScoreRequest::for_job(&spec, seg, 2, DecodeOptions::default()).unwrap();
        score_files(&req, &mut |_| {}).unwrap().report.scores
    });
    let assembled = Scores::assemble(parts).unwrap();
    assert_eq!(assembled.metrics, whole.metrics);
    assert_eq!(assembled.frames.len(), 23);
    for (a, b) in assembled.frames.iter().zip(&whole.frames) {
        assert_eq!(a.frame_num, b.frame_num);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.values), bits(&b.values), "frame {}", a.frame_num);
    }
}
