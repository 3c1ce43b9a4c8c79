//! A run beside the full-size one (a quality model's inputs) gives exactly the numbers of a
//! separate run on downscaled frames, leaves the full run's numbers alone, and follows a
//! segment as the full run does. (Centre crops: tests/centre_crop.rs, a process of its own.)

use std::path::Path;

use vmafx_core::Scores;
use vmafx_engine::{score_files, ScoreRequest, Segment};
use vmafx_media::Shrink;

fn bits(s: &Scores) -> Vec<(u64, Vec<u64>)> {
    s.frames.iter().map(|f| (f.frame_num, f.values.iter().map(|v| v.to_bits()).collect())).collect()
}

fn run(r: &Path, d: &Path, edit: impl FnOnce(&mut ScoreRequest)) -> vmafx_engine::ScoreOutcome {
    let mut req = ScoreRequest::new(r, d);
    req.threads = 2;
    edit(&mut req);
    score_files(&req, &mut |_| {}).unwrap()
}

#[test]
fn a_run_beside_equals_a_downscaled_run_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = (dir.path().join("r.y4m"), dir.path().join("d.y4m"));
    // Odd sizes: the box filter's edge blocks are partial, in luma and chroma (libvmaf's
    // pictures round odd chroma sizes down, so its edge blocks are cut there).
    vmafx_media::y4m::write_pattern(&r, 403, 269, 12, 0).unwrap();
    vmafx_media::y4m::write_pattern(&d, 403, 269, 12, 40).unwrap();

    let plain = run(&r, &d, |_| {});
    assert!(plain.beside.is_none());
    let quarter = Shrink { crop: 1, factor: 4 };
    let with = run(&r, &d, |q| q.beside = Some(quarter));
    let small = run(&r, &d, |q| q.shrink = quarter);
    assert_eq!(bits(&with.report.scores), bits(&plain.report.scores), "the full run is unchanged");
    let beside = with.beside.unwrap();
    assert_eq!(beside.metrics, small.report.scores.metrics);
    assert!(beside.metrics.iter().any(|m| m == "integer_vif_scale0"), "{:?}", beside.metrics);
    assert_eq!(bits(&beside), bits(&small.report.scores), "beside = a run on frames 4x smaller");
    assert_ne!(bits(&beside), bits(&plain.report.scores));

    // A segment: frames 5..9 of the whole run's, beside as in full.
    let seg = run(&r, &d, |q| {
        q.beside = Some(quarter);
        q.segment = Some(Segment { start: 5, frames: 4 });
    });
    let part = seg.beside.unwrap();
    assert_eq!(part.frames.iter().map(|f| f.frame_num).collect::<Vec<_>>(), vec![5, 6, 7, 8]);
    assert_eq!(bits(&part), bits(&small.report.scores)[5..9].to_vec());

    // Both kinds of smaller frames at once is refused with the reason.
    let mut req = ScoreRequest::new(&r, &d);
    (req.beside, req.shrink) = (Some(quarter), Shrink { crop: 1, factor: 2 });
    let e = score_files(&req, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("give one of the two"), "{e}");
}
