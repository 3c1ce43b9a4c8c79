//! A run beside the full-size one (a quality model's inputs) gives exactly the numbers of a
//! separate run on downscaled frames, leaves the full run's numbers alone, and follows a
//! segment as the full run does; and a centre crop beside the full run equals a run on the
//! crop and libvmaf on the same window cut by ffmpeg's crop filter.

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

// On frames of a few hundred pixels: on a 50x32 crop libvmaf's ADM scale-1 numbers were seen
// to differ between two runs on identical pixels (VIF equal), which is below any size a model
// is used at and was not chased further.
#[test]
fn a_centre_crop_beside_equals_a_run_on_the_crop_and_keeps_full_size_detail() {
    let dir = tempfile::tempdir().unwrap();
    let (r, d) = (dir.path().join("r.y4m"), dir.path().join("d.y4m"));
    let (rc, dc) = (dir.path().join("rc.y4m"), dir.path().join("dc.y4m"));
    // 4:2:0: the window is even-aligned, 202x134 at (100, 66).
    vmafx_media::y4m::write_pattern(&r, 404, 268, 8, 0).unwrap();
    vmafx_media::y4m::write_pattern(&d, 404, 268, 8, 40).unwrap();
    let half = Shrink { crop: 2, factor: 1 };
    assert_eq!(half.window(404, 268), (100, 66, 202, 134));
    let with = run(&r, &d, |q| q.beside = Some(half));
    let cropped = run(&r, &d, |q| q.shrink = half);
    assert_eq!((cropped.report.info.width, cropped.report.info.height), (202, 134));

    // The same window cut by ffmpeg's crop filter scores the same: the crop is a plain copy.
    for (src, out) in [(&r, &rc), (&d, &dc)] {
        let st = std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-loglevel", "error", "-i"])
            .arg(src)
            .args(["-vf", "crop=202:134:100:66", "-pix_fmt", "yuv420p", "-f", "yuv4mpegpipe", "-y"])
            .arg(out)
            .status()
            .unwrap();
        assert!(st.success());
    }
    let by_ffmpeg = run(&rc, &dc, |_| {});
    assert_eq!(bits(&by_ffmpeg.report.scores), bits(&cropped.report.scores));
    let beside = with.beside.unwrap();
    assert_eq!(bits(&beside), bits(&cropped.report.scores), "beside = a run on the centre crop");

    // Crop and downscale together: the crop first, then the box filter.
    let both = Shrink { crop: 2, factor: 2 };
    let with = run(&r, &d, |q| q.beside = Some(both));
    let small = run(&r, &d, |q| q.shrink = both);
    assert_eq!((small.report.info.width, small.report.info.height), (101, 67));
    assert_eq!(bits(&with.beside.unwrap()), bits(&small.report.scores));
}
